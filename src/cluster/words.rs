//! The cluster results in words, shared by the CLI and the window (the faces add only their
//! glyphs and colours): the apply's outcome, the verification's headline and agreement, each
//! progress step, a failing Pod's pull Secrets, where the credentials came from.

use super::apply::ApplyPlan;
use super::live::{FailingPod, SecretsRead};
use super::verify::{Progress, VerifyOutcome, VerifyReport};

impl ApplyPlan {
    /// What happened, without a glyph: a dry run, applied, or nothing to change.
    pub fn outcome_words(&self) -> &'static str {
        if self.dry_run {
            "dry run (--dry-run=server): the API server accepted it; nothing was written"
        } else if self.applied && self.service_account.as_ref().is_some_and(|account| account.adds) {
            "applied (the Secret by server-side apply, field manager regcred; the ServiceAccount by a JSON patch)"
        } else if self.applied {
            "applied (server-side apply, field manager regcred)"
        } else {
            "nothing to change"
        }
    }
}

impl Progress {
    /// The step in words (`Created Pod …`, `on node …`, `Warning Failed: …`).
    pub fn words(&self) -> String {
        match self {
            Self::Created(pod) => format!("Created Pod {pod}; following its status and Events…"),
            Self::Scheduled(node) => format!("on node {node}"),
            Self::Event(kind, reason, message) => format!("{kind} {reason}: {message}"),
            Self::Predicting => "Test-pulling the same image from here (regcred's prediction)…".to_owned(),
            Self::Deleting => "Deleting the test Pod.".to_owned(),
        }
    }
}

impl VerifyReport {
    /// The headline without a glyph: `the cluster pulled IMAGE on node N`, `the cluster could not
    /// pull IMAGE on node N (ErrImagePull)` …
    pub fn headline(&self) -> String {
        let image = &self.image;
        let on = self.node.as_ref().map(|node| format!(" on node {node}")).unwrap_or_default();
        match self.outcome {
            VerifyOutcome::Pulled => format!("the cluster pulled {image}{on}"),
            VerifyOutcome::Failed => format!(
                "the cluster could not pull {image}{on}{}",
                self.reason.as_ref().map(|reason| format!(" ({reason})")).unwrap_or_default()
            ),
            VerifyOutcome::TimedOut => format!("no answer from the node within the deadline for {image}{on}"),
            VerifyOutcome::Cancelled => "cancelled before the node answered".to_owned(),
        }
    }

    /// regcred's prediction in one line: the Event it expects, or that the image would pull.
    pub fn predicted_words(&self) -> Option<String> {
        let prediction = self.prediction.as_ref()?;
        Some(self.predicted_event.clone().unwrap_or_else(|| format!("{} would pull", prediction.image)))
    }

    /// What the node said: its pull-failure Event, or its `Pulled` one.
    pub fn node_words(&self) -> Option<&str> {
        self.node_event.as_deref().or(self.node_pulled.as_deref())
    }

    /// Whether the node and regcred agree, in words, without a glyph.
    pub fn agreement(&self) -> Option<&'static str> {
        match self.matches {
            Some(true) if self.outcome == VerifyOutcome::Pulled => Some("the node pulled it, as regcred predicted"),
            Some(true) => Some("same text: regcred predicted exactly what the node said"),
            Some(false) => Some(
                "the node and regcred differ: the node may reach the registry differently (network, mirror, node \
                 credentials), or have the image cached",
            ),
            None => None,
        }
    }

    /// Whether the test Pod is gone.
    pub fn deleted_words(&self) -> String {
        if self.deleted {
            format!("the test Pod {} was deleted", self.pod)
        } else {
            format!("the test Pod {} was NOT deleted", self.pod)
        }
    }
}

impl FailingPod {
    /// `pull Secrets: A, B (ServiceAccount default: C)`.
    pub fn secrets_words(&self) -> String {
        let names = |names: &[String]| if names.is_empty() { "none".to_owned() } else { names.join(", ") };
        let listed: Vec<String> = self.pull_secrets.iter().filter(|name| !name.is_empty()).cloned().collect();
        format!(
            "pull Secrets: {} (ServiceAccount {}: {})",
            names(&listed),
            self.service_account,
            self.service_account_secrets.as_deref().map_or_else(|| "not read".to_owned(), names)
        )
    }
}

impl super::live::LiveCheck {
    /// The workload kinds not checked, and why: `not checked: deployments, jobs (the API server
    /// refused to list them: …)`.
    pub fn not_listed_words(&self) -> Option<String> {
        if self.not_listed.is_empty() {
            return None;
        }
        let why = self.not_listed_why.as_deref().map(|why| format!(" (the API server refused to list them: {why})"));
        Some(format!("not checked: {}{}", self.not_listed.join(", "), why.unwrap_or_default()))
    }
}

impl SecretsRead {
    /// Where the credentials came from (`why` made safe to show by `inert`).
    pub fn words(&self, inert: impl Fn(&str) -> String) -> String {
        match self {
            Self::Cluster => "the pull Secrets, read through the API".to_owned(),
            Self::Local(why) => {
                format!("⚠ your local credentials, not the cluster's Secrets ({})", inert(why))
            }
            Self::None(why) => format!("none (the Secrets cannot be read: {})", inert(why)),
        }
    }
}
