//! What the window remembers between runs (eframe storage). Never a secret: test results are kept
//! as their one-line verdict and time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::registry::Runtime;

/// The YAML preview's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) enum YamlTab {
    /// `kubernetes.io/dockerconfigjson`.
    #[default]
    Secret,
    /// `kubernetes.io/dockercfg`.
    Dockercfg,
    /// The verification Pod.
    Pod,
    /// The ServiceAccount patch.
    ServiceAccount,
    /// The per-node recipe.
    Nodes,
}

/// How a remembered test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestVerdict {
    /// The image would pull.
    Pulls,
    /// No image was remembered: the login check (`GET /v2/` through the challenge) passed.
    LoginWorks,
    /// It would not: the one-line reason.
    Fails(String),
}

/// The last test of a registry, remembered with its time (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    /// When it finished, seconds since the Unix epoch.
    pub at: u64,
    /// The image tested (none for a login check).
    pub image: Option<String>,
    /// How it ended.
    pub verdict: TestVerdict,
    /// The file whose entry was tested: the same registry in another file has its own
    /// credential, and its own answer (none: remembered before files were told apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
}

/// Where a registry's answer is kept: its key in one file (`KEY @ PATH`) — the same registry in
/// two files is two entries, each with its credential and its own answer.
pub(super) fn slot(key: &str, file: Option<&std::path::Path>) -> String {
    match file {
        Some(file) => format!("{key} @ {}", file.display()),
        None => key.to_owned(),
    }
}

/// `key`'s remembered test in the file `shown`, or one remembered before files were told apart.
pub(super) fn record_for<'a>(
    results: &'a BTreeMap<String, TestRecord>,
    key: &str,
    shown: Option<&std::path::Path>,
) -> Option<&'a TestRecord> {
    results.get(&slot(key, shown)).or_else(|| results.get(key).filter(|record| record.file.is_none()))
}

/// Persisted window state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The file last shown.
    pub(crate) last_file: Option<PathBuf>,
    /// Files opened with Open file…, most recent first.
    pub recent_files: Vec<PathBuf>,
    /// The list filter.
    pub filter: String,
    /// The YAML tab.
    pub(crate) yaml_tab: YamlTab,
    /// Secret name for the preview.
    pub(crate) secret_name: String,
    /// Namespace for the preview (empty: none).
    pub namespace: String,
    /// ServiceAccount for the patch.
    pub service_account: String,
    /// The Pod's pull policy (remembered as its API spelling, `Always`, `IfNotPresent`, `Never`).
    #[serde(with = "policy_text")]
    pub pull_policy: crate::pull_secret::PullPolicy,
    /// Test-pull image per registry key (only registries that exist in a file).
    pub images: BTreeMap<String, String>,
    /// Registries whose test pulls download every blob (Full); the others are Quick.
    pub(crate) full_pulls: std::collections::BTreeSet<String>,
    /// The node platform for test pulls.
    pub platform: String,
    /// Whose words the kubelet line uses.
    pub runtime: Runtime,
    /// Omit `creationTimestamp` (kubectl 1.34+).
    pub(crate) kubectl_134: bool,
    /// The last test of each registry, per file ([`slot`]).
    pub results: BTreeMap<String, TestRecord>,
    /// The table's share of the window's width (the rest is the detail pane).
    pub(crate) table_share: f32,
    /// Compact rows for long lists.
    pub(crate) compact: bool,
    /// System, light or dark.
    pub theme: super::theme::ThemeChoice,
}

impl Default for State {
    fn default() -> Self {
        Self {
            last_file: None,
            recent_files: Vec::new(),
            filter: String::new(),
            yaml_tab: YamlTab::Secret,
            secret_name: "regcred".to_owned(),
            namespace: String::new(),
            service_account: "default".to_owned(),
            pull_policy: crate::pull_secret::PullPolicy::Always,
            images: BTreeMap::new(),
            full_pulls: std::collections::BTreeSet::new(),
            platform: "linux/amd64".to_owned(),
            runtime: Runtime::default(),
            kubectl_134: false,
            results: BTreeMap::new(),
            table_share: DEFAULT_TABLE_SHARE,
            compact: false,
            theme: super::theme::ThemeChoice::System,
        }
    }
}

/// The table's share of the width on a first start.
pub(super) const DEFAULT_TABLE_SHARE: f32 = 0.52;
/// The table's share is kept within these, whatever was remembered.
pub(super) const TABLE_SHARES: std::ops::RangeInclusive<f32> = 0.3..=0.72;

impl State {
    /// The table's share, sane whatever the preferences file held.
    pub(crate) fn table_share(&self) -> f32 {
        if self.table_share.is_finite() {
            self.table_share.clamp(*TABLE_SHARES.start(), *TABLE_SHARES.end())
        } else {
            DEFAULT_TABLE_SHARE
        }
    }

    /// The options of a pull from the window for this user: the node's platform and runtime
    /// chosen here, Quick or Full as chosen for `key`'s registry (none: Quick) — for a Test
    /// pull, a row's Test, Test all and Check manifests alike.
    pub(crate) fn pull_options(
        &self,
        home: Option<&std::path::Path>,
        key: Option<&str>,
    ) -> crate::registry::PullOptions {
        let mut options = crate::registry::PullOptions::for_user(home);
        options.full = key.is_some_and(|key| self.full_pull(key));
        options.runtime = self.runtime;
        if let Ok(platform) = self.platform.parse() {
            options.platform = platform;
        }
        options
    }

    /// Whether `key`'s test pulls download every blob.
    pub(crate) fn full_pull(&self, key: &str) -> bool {
        self.full_pulls.contains(key)
    }

    /// Puts `path` first among the recent files (eight at most).
    pub(crate) fn remember_file(&mut self, path: PathBuf) {
        self.recent_files.retain(|p| *p != path);
        self.recent_files.insert(0, path);
        self.recent_files.truncate(8);
    }
}

/// A pull policy remembered as its API spelling; one not understood reads as the default.
mod policy_text {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::pull_secret::PullPolicy;

    #[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's `with` passes a reference")]
    pub(super) fn serialize<S: Serializer>(policy: &PullPolicy, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(policy.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PullPolicy, D::Error> {
        Ok(String::deserialize(deserializer)?.parse().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::State;
    use crate::pull_secret::PullPolicy;

    #[test]
    fn the_pull_policy_is_remembered_as_its_api_spelling() {
        let state = State { pull_policy: PullPolicy::Never, ..State::default() };
        let text = serde_json::to_string(&state).unwrap();
        assert!(text.contains(r#""pull_policy":"Never""#), "{text}");
        let back: State = serde_json::from_str(r#"{"pull_policy": "IfNotPresent"}"#).unwrap();
        assert_eq!(back.pull_policy, PullPolicy::IfNotPresent);
        let odd: State = serde_json::from_str(r#"{"pull_policy": "Sometimes"}"#).unwrap();
        assert_eq!(odd.pull_policy, PullPolicy::Always, "one not understood reads as the default");
    }
}
