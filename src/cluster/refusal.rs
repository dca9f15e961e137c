//! The API server's refusals in its own words, each with what to do.

use kube::core::Status;

/// Text from the API server is shown at most this long.
const SHOWN: usize = 2000;

/// Why a cluster action did not happen. No variant holds a secret: the API server never echoes
/// Secret values (it writes `<secret contents redacted>`), and regcred never puts one in.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("{0}")]
    Config(String),
    /// The API server could not be reached or authenticated with (connection, TLS, exec plugin).
    #[error("cannot reach the API server: {0}")]
    Unreachable(String),
    /// The API server answered with a refusal.
    #[error("{0}")]
    Refused(Refusal),
    /// The API server's answer is not what Kubernetes answers.
    #[error("the API server's answer cannot be read: {0}")]
    Unexpected(String),
}

impl ClusterError {
    /// What to do, when regcred knows.
    pub fn what_to_do(&self) -> Option<&str> {
        match self {
            Self::Refused(refusal) => Some(&refusal.what_to_do),
            Self::Unreachable(_) => Some(
                "check the context's server address and that you are on the network (VPN) it needs; \
                 `kubectl cluster-info` shows the same",
            ),
            Self::Config(_) | Self::Unexpected(_) => None,
        }
    }

    /// The refusal, when the API server refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// A kube error met while doing `action` (`patch`, `create` …) on `resource` (`secrets` …) in
    /// `namespace`.
    pub(crate) fn from_kube(error: kube::Error, action: Action<'_>) -> Self {
        match error {
            kube::Error::Api(status) => Self::Refused(Refusal::of(&status, action)),
            kube::Error::SerdeError(error) => Self::Unexpected(shown(&error.to_string())),
            other => Self::Unreachable(shown(&error_chain(&other))),
        }
    }
}

/// The API server's text as it may be shown: an echoed `Authorization` header's credential cut
/// out, escape sequences made visible, the length capped.
fn shown(text: &str) -> String {
    crate::untrusted::inert(&crate::untrusted::scrub_authorization(text), SHOWN)
}

/// An error and its causes, as `{:#}` prints them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        source = cause.source();
    }
    text
}

/// What was being done when the API refused, for the advice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Action<'a> {
    /// The RBAC verb (`get`, `list`, `watch`, `create`, `patch`, `delete`).
    pub(crate) verb: &'a str,
    /// The resource (`secrets`, `serviceaccounts`, `pods`, `events`).
    pub(crate) resource: &'a str,
    /// The namespace (none: cluster-wide).
    pub(crate) namespace: Option<&'a str>,
}

/// A refusal from the API server: its HTTP code, reason and message, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    /// The HTTP status code (`403`).
    pub code: u16,
    /// The Status reason (`Forbidden`, `NotFound`, `Conflict`, `Invalid` …).
    pub reason: String,
    /// The API server's message, as it wrote it.
    pub message: String,
    /// What to do.
    pub what_to_do: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = if self.reason.is_empty() { String::new() } else { format!(" {}", self.reason) };
        write!(f, "the API server refused ({}{reason}): {}", self.code, self.message)
    }
}

impl Refusal {
    fn of(status: &Status, action: Action<'_>) -> Self {
        let message = shown(&status.message);
        let what_to_do = advice(status, &message, action);
        Self { code: status.code, reason: status.reason.clone(), message, what_to_do }
    }

    /// Whether this is a conflict with another field manager (server-side apply).
    pub fn is_field_conflict(&self) -> bool {
        self.code == 409 && self.reason == "Conflict" && self.message.contains("conflict")
    }
}

fn advice(status: &Status, message: &str, action: Action<'_>) -> String {
    let Action { verb, resource, namespace } = action;
    let ns_flag = namespace.map_or_else(|| " -A".to_owned(), |ns| format!(" -n {ns}"));
    let causes = || status.details.iter().flat_map(|details| details.causes.iter());
    if message.contains("admission webhook") {
        return "an admission webhook of the cluster refused it (its words are above): change what it objects to, \
                or ask the people who run the webhook"
            .to_owned();
    }
    match (status.code, status.reason.as_str()) {
        (401, _) => "the cluster does not accept your credentials: log in again (refresh the token, or run the \
                     provider's login: `aws eks update-kubeconfig`, `gcloud container clusters get-credentials`, \
                     `az aks get-credentials`) and check with `kubectl get ns`"
            .to_owned(),
        (403, _) if message.contains("exceeded quota") => {
            format!("a ResourceQuota forbids it: see `kubectl describe quota{ns_flag}`, free some room or ask for more")
        }
        (403, _) => format!(
            "your user may not {verb} {resource}{}: ask a cluster admin for a Role (and RoleBinding) that allows \
             it; `kubectl auth can-i {verb} {resource}{ns_flag}` checks",
            namespace.map(|ns| format!(" in namespace {ns}")).unwrap_or_default()
        ),
        (404, _) if status.details.as_ref().is_some_and(|details| details.kind == "namespaces") => {
            let ns = namespace.unwrap_or("NAMESPACE");
            format!(
                "the namespace {ns} does not exist: create it (`kubectl create namespace {ns}`) or choose another namespace"
            )
        }
        (404, _) => format!("it does not exist: check the name and the namespace ({})", namespace.unwrap_or("all")),
        (409, "Conflict") if causes().any(|cause| cause.reason == "FieldManagerConflict") => {
            "another tool manages these fields (named above): apply again with --force-conflicts to take them \
             over (that tool's next apply will then conflict with regcred)"
                .to_owned()
        }
        (409, "AlreadyExists") => "an object of that name exists: choose another name or delete it first".to_owned(),
        (409, _) => "someone changed it at the same time: run the command again".to_owned(),
        (422, _) if message.contains("field is immutable") => format!(
            "an object of that name exists with another type, which cannot change: choose another --name, or \
             delete it first (`kubectl delete {resource} NAME{ns_flag}`)"
        ),
        (422, _) => "the API server found the object invalid (its words are above)".to_owned(),
        (429, _) => "the API server is overloaded (rate limited): wait a moment and run the command again".to_owned(),
        (code, _) if code >= 500 => {
            "the API server failed (its words are above): try again; if it persists, its administrators need to know"
                .to_owned()
        }
        _ => "see the API server's words above".to_owned(),
    }
}
