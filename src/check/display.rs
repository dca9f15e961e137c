//! The report as every text face shows it (terminal, `JUnit`, the window): each string that came
//! from manifests, credential files or registries made inert — control characters and escape
//! sequences shown as escapes, lengths capped — by [`crate::untrusted::inert`]. `--json` prints
//! the report itself: JSON escaping is the boundary there, and scripts get the exact strings.

use super::run::{Attempt, CheckReport, CheckResult, UsedCredential};
use crate::untrusted::{TEXT_CAP, inert};

/// The longest name shown (namespace, workload, container, image, Secret, key, kind), in
/// characters: above Kubernetes' own limits (253 for names) and an image reference's usual length.
pub const NAME_CAP: usize = 512;

fn name(text: &str) -> String {
    inert(text, NAME_CAP)
}

fn long(text: &str) -> String {
    inert(text, TEXT_CAP)
}

fn optional(text: Option<&String>) -> Option<String> {
    text.map(|text| long(text))
}

impl UsedCredential {
    /// This credential with its names made inert.
    fn inert(&self) -> Self {
        Self { secret: self.secret.as_deref().map(name), key: name(&self.key), origin: long(&self.origin) }
    }
}

impl CheckResult {
    /// This result with every text made inert (see the module's documentation).
    #[must_use]
    pub fn inert(&self) -> Self {
        Self {
            namespace: name(&self.namespace),
            workload: name(&self.workload),
            container: name(&self.container),
            image: name(&self.image),
            verdict: self.verdict,
            credential: self.credential.as_ref().map(UsedCredential::inert),
            kubelet: optional(self.kubelet.as_ref()),
            reason: self.reason.as_deref().map(name),
            cause: optional(self.cause.as_ref()),
            what_to_do: optional(self.what_to_do.as_ref()),
            tried: self
                .tried
                .iter()
                .map(|attempt| Attempt {
                    credential: attempt.credential.as_ref().map(UsedCredential::inert),
                    error: long(&attempt.error),
                })
                .collect(),
            digest: self.digest.as_deref().map(name),
            expires_at: self.expires_at.clone(),
            notes: self.notes.iter().map(|note| long(note)).collect(),
            source: long(&self.source),
        }
    }
}

impl CheckReport {
    /// The report as text faces show it: every string from the manifests, the credential files
    /// and the registries made inert (see the module's documentation).
    #[must_use]
    pub fn inert(&self) -> Self {
        let mut summary = self.summary.clone();
        summary.requests = summary.requests.into_iter().map(|(host, count)| (name(&host), count)).collect();
        summary.not_read = summary.not_read.into_iter().map(|(kind, count)| (name(&kind), count)).collect();
        Self {
            results: self.results.iter().map(CheckResult::inert).collect(),
            summary,
            errors: self.errors.iter().map(|error| long(error)).collect(),
            warnings: self.warnings.iter().map(|warning| long(warning)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::run::{CheckReport, CheckResult, Summary, Verdict};

    const HOSTILE: &str = "a\u{1b}]0;title\u{7}b\u{1b}[2Jc\u{1b}[31m";

    #[test]
    fn every_text_of_a_report_is_inert_and_capped() {
        let result = CheckResult {
            namespace: HOSTILE.to_owned(),
            workload: format!("Pod/{HOSTILE}"),
            container: HOSTILE.to_owned(),
            image: HOSTILE.to_owned(),
            verdict: Verdict::Fails,
            credential: None,
            kubelet: Some(HOSTILE.to_owned()),
            reason: Some("InvalidImageName".to_owned()),
            cause: Some(HOSTILE.to_owned()),
            what_to_do: Some("x".repeat(5000)),
            tried: Vec::new(),
            digest: None,
            expires_at: None,
            notes: vec![HOSTILE.to_owned()],
            source: HOSTILE.to_owned(),
        };
        let mut summary = Summary::default();
        summary.not_read.insert(HOSTILE.to_owned(), 1);
        let report = CheckReport { results: vec![result], summary, errors: vec![HOSTILE.to_owned()], warnings: vec![] };
        let shown = serde_json::to_string(&report.inert()).unwrap();
        let raw = serde_json::to_string(&report).unwrap();
        assert!(raw.contains("\\u001b"), "the report itself keeps the exact text");
        assert!(!shown.contains("\\u001b") && !shown.contains("\\u0007"), "{shown}");
        assert!(shown.contains("a\\\\x1b]0;title\\\\x07b\\\\x1b[2Jc\\\\x1b[31m"), "{shown}");
        let what = report.inert().results[0].what_to_do.clone().unwrap();
        assert_eq!(what.chars().count(), crate::untrusted::TEXT_CAP + 1, "capped, then …");
    }
}
