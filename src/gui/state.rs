//! What the window remembers between runs (eframe storage). Never a secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The YAML preview's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum YamlTab {
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

/// Persisted window state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The file last shown.
    pub last_file: Option<std::path::PathBuf>,
    /// The list filter.
    pub filter: String,
    /// The YAML tab.
    pub yaml_tab: YamlTab,
    /// Secret name for the preview.
    pub secret_name: String,
    /// Namespace for the preview (empty: none).
    pub namespace: String,
    /// ServiceAccount for the patch.
    pub service_account: String,
    /// The Pod's pull policy (`Always`, `IfNotPresent`, `Never`).
    pub pull_policy: String,
    /// Test-pull image per registry key.
    pub images: BTreeMap<String, String>,
    /// Full test pulls.
    pub full_pull: bool,
    /// The node platform for test pulls.
    pub platform: String,
    /// Omit `creationTimestamp` (kubectl 1.34+).
    pub kubectl_134: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            last_file: None,
            filter: String::new(),
            yaml_tab: YamlTab::Secret,
            secret_name: "regcred".to_owned(),
            namespace: String::new(),
            service_account: "default".to_owned(),
            pull_policy: "Always".to_owned(),
            images: BTreeMap::new(),
            full_pull: false,
            platform: "linux/amd64".to_owned(),
            kubectl_134: false,
        }
    }
}
