//! The catalogue of `PULL-FAILURES.md`: for each failure class, the verdict, the runtime message
//! the kubelet would show (containerd's wording, inside its wrappers) and what to do.

use super::report::{FailureClass, Stage};

/// What a failure means, in three lines.
pub struct Explanation {
    /// The verdict.
    pub verdict: String,
    /// The `kubectl describe pod` event.
    pub kubelet_event: String,
    /// `ErrImagePull` or `InvalidImageName`.
    pub kubelet_reason: &'static str,
    /// What to do.
    pub what_to_do: String,
}

/// Facts about the failed pull that the wording needs.
pub struct Context<'a> {
    /// The image as written in the Pod.
    pub image: &'a str,
    /// The normalized reference containerd resolves.
    pub reference: &'a str,
    /// `host[:port]`.
    pub host: &'a str,
    /// The failing URL.
    pub url: &'a str,
    /// The HTTP method of the failing request.
    pub method: &'a str,
    /// The stage.
    pub stage: Stage,
    /// The underlying error text (for connection-level failures).
    pub cause: &'a str,
    /// The registry's first error message.
    pub registry_message: &'a str,
    /// The status line (`401 Unauthorized`).
    pub status_line: &'a str,
    /// The token realm, for token failures.
    pub realm: &'a str,
}

/// Explains a failure of `class`.
#[expect(clippy::too_many_lines, reason = "one arm per catalogue class keeps the catalogue in one place")]
pub fn explain(class: FailureClass, cx: &Context<'_>) -> Explanation {
    let (verdict, inner, what_to_do): (String, String, String) = match class {
        FailureClass::InvalidReference => {
            return Explanation {
                verdict: format!("\"{}\" is not a valid image reference", cx.image),
                kubelet_event: format!(
                    "Failed to apply default image tag \"{}\": couldn't parse image name \"{}\": {}",
                    cx.image, cx.image, cx.cause
                ),
                kubelet_reason: "InvalidImageName",
                what_to_do: "Fix the image name in the Pod spec (lowercase repository, valid tag or digest).".to_owned(),
            };
        }
        FailureClass::CredentialUnavailable => (
            "regcred could not read the credential for this registry".to_owned(),
            format!("failed to do request: {}", cx.cause),
            "Fix the credential source named above (install the helper, unlock the keychain); the node uses the pull secret you give it, not this machine's keychain.".to_owned(),
        ),
        FailureClass::DnsFailure => (
            format!("the registry host {} does not resolve", cx.host),
            format!("failed to do request: Head \"{}\": dial tcp: lookup {}: no such host", cx.url, host_only(cx.host)),
            "Check the registry host name in the image, and the nodes' DNS.".to_owned(),
        ),
        FailureClass::ConnectionRefused => (
            format!("nothing accepts connections at {}", cx.host),
            format!("failed to do request: Head \"{}\": dial tcp {}: connect: connection refused", cx.url, cx.host),
            "The registry is down, the port is wrong, or a firewall blocks it.".to_owned(),
        ),
        FailureClass::Timeout => (
            format!("{} did not answer in time", cx.host),
            format!("failed to do request: Head \"{}\": dial tcp {}: i/o timeout", cx.url, cx.host),
            "Check that the registry is up and reachable from the nodes (firewall, proxy, routes).".to_owned(),
        ),
        FailureClass::TlsUnknownAuthority => (
            format!("{}'s certificate is signed by an authority this machine does not trust", cx.host),
            format!(
                "failed to do request: Head \"{}\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
                cx.url
            ),
            format!(
                "Install the registry's CA on every node: /etc/containerd/certs.d/{0}/ca.crt (containerd) or /etc/docker/certs.d/{0}/ca.crt (Docker); here, pass --ca-dir or put it in ~/.docker/certs.d/{0}/ca.crt.",
                cx.host
            ),
        ),
        FailureClass::TlsFailure => (
            format!("the TLS connection to {} failed", cx.host),
            format!("failed to do request: Head \"{}\": tls: {}", cx.url, cx.cause),
            "Check the registry's certificate (host name, expiry, chain).".to_owned(),
        ),
        FailureClass::TlsClientCertificate => (
            format!("{} requires a client certificate (mutual TLS), and none it accepts was presented", cx.host),
            format!("failed to do request: Head \"{}\": remote error: tls: certificate required", cx.url),
            format!(
                "Give the nodes the client certificate: /etc/containerd/certs.d/{0}/ (client = [\"client.cert\", \"client.key\"] in hosts.toml) or /etc/docker/certs.d/{0}/client.cert and client.key; here, put them in ~/.docker/certs.d/{0}/ or the --ca-dir directory.",
                cx.host
            ),
        ),
        FailureClass::HttpToHttps => (
            format!("{} speaks plain HTTP, not HTTPS", cx.host),
            format!("failed to do request: Head \"{}\": http: server gave HTTP response to HTTPS client", cx.url),
            "Serve the registry over TLS, or configure it as an insecure (HTTP) registry on every node (containerd hosts.toml / Docker insecure-registries) and here with --insecure.".to_owned(),
        ),
        FailureClass::WrongCredentialsBasic => (
            "the registry refused the user name or password".to_owned(),
            format!("unexpected status from {} request to {}: {}", cx.method, cx.url, cx.status_line),
            "Fix the user name or password (or token) of this registry's entry, and check which source the node's pull secret uses.".to_owned(),
        ),
        FailureClass::WrongCredentialsToken => (
            "the registry's token service refused the user name or password".to_owned(),
            format!("failed to fetch oauth token: unexpected status from {} request to {}: {}", cx.method, cx.realm, cx.status_line),
            "Fix the user name or password (or token) of this registry's entry.".to_owned(),
        ),
        FailureClass::NoCredentials => {
            let inner = format!(
                "pull access denied, repository does not exist or may require authorization: server message: {}",
                if cx.registry_message.is_empty() { "authentication required" } else { cx.registry_message }
            );
            return Explanation {
                verdict: "the registry requires credentials and none are configured for it".to_owned(),
                kubelet_event: wrap(cx, &inner),
                kubelet_reason: "ErrImagePull",
                what_to_do: "Log in to the registry (regcred login), then attach the pull secret to the Pod (imagePullSecrets) or its ServiceAccount.".to_owned(),
            };
        }
        FailureClass::Denied => (
            "the credentials work, but they are not allowed to pull this repository".to_owned(),
            format!(
                "pull access denied, repository does not exist or may require authorization: server message: {}",
                if cx.registry_message.is_empty() { "insufficient_scope: authorization failed" } else { cx.registry_message }
            ),
            "Grant this account pull access to the repository, and check the repository path.".to_owned(),
        ),
        FailureClass::RepositoryUnknown => (
            "the repository does not exist on this registry".to_owned(),
            format!("{}: not found", cx.reference),
            "Check the repository path (Docker Hub images need their namespace, e.g. library/nginx).".to_owned(),
        ),
        FailureClass::TagUnknown => (
            "the repository exists, but not this tag or digest".to_owned(),
            format!("{}: not found", cx.reference),
            "Check the tag (list the repository's tags) or push it.".to_owned(),
        ),
        FailureClass::PlatformMissing => (
            "the image has no manifest for the node's platform".to_owned(),
            "no match for platform in manifest: not found".to_owned(),
            "Build and push the image for that platform, or pick a tag that has it (see the platforms listed).".to_owned(),
        ),
        FailureClass::RateLimited => (
            "the registry is rate limiting pulls".to_owned(),
            format!(
                "toomanyrequests: {}",
                if cx.registry_message.is_empty() { "You have reached your pull rate limit" } else { cx.registry_message }
            ),
            "Authenticate the pulls, use a mirror or cache, or wait.".to_owned(),
        ),
        FailureClass::BlobMissing => {
            let inner = format!("failed to copy: httpReadSeeker: failed open: content at {} not found: not found", cx.url);
            return Explanation {
                verdict: "a layer or config blob is missing from the registry".to_owned(),
                kubelet_event: format!("Failed to pull image \"{}\": failed to pull and unpack image \"{}\": {inner}", cx.image, cx.reference),
                kubelet_reason: "ErrImagePull",
                what_to_do: "The registry lost data: push the image again.".to_owned(),
            };
        }
        FailureClass::BlobCorrupted => {
            return Explanation {
                verdict: "a blob's content does not match its digest".to_owned(),
                kubelet_event: format!(
                    "Failed to pull image \"{}\": failed to pull and unpack image \"{}\": failed commit on ref \"layer\": {}: failed precondition",
                    cx.image, cx.reference, cx.cause
                ),
                kubelet_reason: "ErrImagePull",
                what_to_do: "Push the image again; check proxies or mirrors between nodes and registry.".to_owned(),
            };
        }
        FailureClass::ServerError => (
            "the registry failed with a server error".to_owned(),
            format!("unexpected status from {} request to {}: {}", cx.method, cx.url, cx.status_line),
            "The problem is on the registry's side: retry later or ask its operators.".to_owned(),
        ),
        FailureClass::Refused => (
            format!("regcred stopped for safety: {}", cx.cause),
            "the node will report something like a failed or refused request".to_owned(),
            "Serve the registry and its token service over HTTPS, or mark the registry insecure knowingly (--insecure).".to_owned(),
        ),
        FailureClass::Protocol => (
            "the registry answered something that is not the registry protocol".to_owned(),
            format!("the node will report something like: {}", cx.cause),
            "Check that the host really is a container registry (no proxy or login page in between).".to_owned(),
        ),
        FailureClass::Cancelled => (
            "the test pull was cancelled".to_owned(),
            "(no pull was attempted to the end)".to_owned(),
            "Run it again.".to_owned(),
        ),
    };
    Explanation { verdict, kubelet_event: wrap(cx, &inner), kubelet_reason: "ErrImagePull", what_to_do }
}

/// containerd's wrappers around a resolve-stage error.
fn wrap(cx: &Context<'_>, inner: &str) -> String {
    format!(
        "Failed to pull image \"{}\": failed to pull and unpack image \"{}\": failed to resolve reference \"{}\": {inner}",
        cx.image, cx.reference, cx.reference
    )
}

fn host_only(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| h.trim_start_matches('['));
    }
    host.split(':').next().unwrap_or(host)
}
