//! Kubernetes YAML for private registries, from typed values, exactly as kubectl writes it.
//!
//! The four ways the Kubernetes docs give to hand nodes registry credentials:
//! * a pull Secret ([`render_secret`]): `kubernetes.io/dockerconfigjson` byte-identical to
//!   `kubectl create secret docker-registry … --dry-run=client -o yaml|json`, or the legacy
//!   `kubernetes.io/dockercfg`;
//! * a Pod that pulls an image through `imagePullSecrets` ([`render_pod`]);
//! * the ServiceAccount patch that attaches the Secret to every Pod of an account
//!   ([`render_service_account_patch`]);
//! * the per-node `config.json`/`.dockercfg` recipe ([`render_node_recipe`]).
//!
//! Pure code: every value is validated as the API server would (`validate`) and serialized
//! from typed objects (JSON through [`crate::go_json`], YAML through `yaml`).

mod render;
pub(crate) mod validate;
pub(crate) mod yaml;

use std::fmt;

pub use render::{
    NodeFileFormat, NodeRecipe, PodRequest, ServiceAccountPatch, docker_config_json, pod_check_commands,
    render_node_recipe, render_pod, render_secret, render_service_account_patch,
};
pub use validate::FieldError;

use crate::keychain::Credential;
use crate::secret::Secret;

/// One registry's credential for a pull secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The key under `auths` (kubectl's `--docker-server`), used as given.
    pub server: String,
    /// The user name and password (or token).
    pub credential: Credential,
    /// The email, omitted when empty (as kubectl does).
    pub email: Option<String>,
}

impl RegistryAuth {
    /// The entry for `server` with this user name, password and email.
    pub fn new(
        server: impl Into<String>,
        username: impl Into<String>,
        password: Secret,
        email: Option<String>,
    ) -> Self {
        Self { server: server.into(), credential: Credential { username: username.into(), secret: password }, email }
    }
}

/// What the user should know about a Secret's credentials before using it — an identity token
/// the kubelet cannot use, a credential that has expired or will (with the usual fix for its
/// registry) — in the same words in every face (`regcred yaml` prints each as a warning, the
/// window shows them above the YAML).
pub fn warnings(registries: &[&RegistryAuth], now: std::time::SystemTime) -> Vec<String> {
    let mut out = Vec::new();
    for registry in registries {
        let Credential { username, secret } = &registry.credential;
        if username == crate::keychain::IDENTITY_TOKEN_USERNAME {
            out.push(format!(
                "the credential for {} is an identity (refresh) token, not a password: the kubelet would send it as Basic credentials with user \"<token>\", which registries refuse; use a password or an access token for the Secret.",
                registry.server
            ));
        }
        if let Some(expiry) = crate::expiry::expiry_of(username, secret, &registry.server, now) {
            let consequence =
                if expiry.at <= now { "this Secret would not work" } else { "this Secret stops working then" };
            out.push(format!(
                "the credential for {} {} ({}): {consequence}. {}",
                registry.server,
                crate::expiry::describe(&expiry, now),
                crate::expiry::rfc3339(expiry.at),
                crate::expiry::renewal_advice(&expiry)
            ));
        }
    }
    out
}

/// The Secret's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretType {
    /// `kubernetes.io/dockerconfigjson`, data key `.dockerconfigjson`, `{"auths": {…}}`.
    #[default]
    DockerConfigJson,
    /// `kubernetes.io/dockercfg`, data key `.dockercfg`, the legacy `{server: {…}}` map.
    DockerCfg,
}

impl SecretType {
    /// The `type` field.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::DockerConfigJson => "kubernetes.io/dockerconfigjson",
            Self::DockerCfg => "kubernetes.io/dockercfg",
        }
    }

    /// The data key.
    pub fn data_key(self) -> &'static str {
        match self {
            Self::DockerConfigJson => ".dockerconfigjson",
            Self::DockerCfg => ".dockercfg",
        }
    }
}

/// Which kubectl's output to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KubectlStyle {
    /// kubectl up to 1.33: `metadata.creationTimestamp: null`.
    #[default]
    WithCreationTimestamp,
    /// kubectl 1.34 and later: no `creationTimestamp`.
    WithoutCreationTimestamp,
}

/// `imagePullPolicy`: in the manifests `regcred check` reads, and in the Pod it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PullPolicy {
    /// Pull every time the container starts (the docs' verification pod).
    #[default]
    Always,
    /// Pull only when the image is not on the node.
    IfNotPresent,
    /// Never pull.
    Never,
}

impl PullPolicy {
    /// Every policy, in the API's order.
    pub const ALL: [Self; 3] = [Self::Always, Self::IfNotPresent, Self::Never];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }

    /// The API server's default for an image (`SetDefaults_Container`): `Always` for `:latest`
    /// (written or implied), else `IfNotPresent`.
    pub fn default_for_image(image: &str) -> Self {
        match crate::image_ref::ImageRef::parse(image) {
            Ok(parsed) if parsed.tag() == Some("latest") => Self::Always,
            _ => Self::IfNotPresent,
        }
    }
}

impl std::str::FromStr for PullPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "Always" => Ok(Self::Always),
            "IfNotPresent" => Ok(Self::IfNotPresent),
            "Never" => Ok(Self::Never),
            other => Err(format!("unknown pull policy {other:?}: use Always, IfNotPresent or Never")),
        }
    }
}

/// What to render as a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRequest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, only written when given.
    pub namespace: Option<String>,
    /// The Secret's type.
    pub secret_type: SecretType,
    /// The registries it holds (one or more).
    pub registries: Vec<RegistryAuth>,
    /// Which kubectl to match.
    pub style: KubectlStyle,
}

/// A rendered Kubernetes object, as YAML and as JSON (both as kubectl prints them). Holds
/// credentials (base64 is not encryption), so `Debug` shows only sizes.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `-o yaml`.
    pub yaml: String,
    /// `-o json`.
    pub json: String,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rendered {{ yaml: <{} bytes>, json: <{} bytes> }}", self.yaml.len(), self.json.len())
    }
}

/// Why nothing was rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullSecretError {
    /// A value the API server would refuse.
    #[error("{0}")]
    Invalid(FieldError),
    /// No registry selected.
    #[error("select at least one registry for the pull secret")]
    NoRegistries,
    /// A registry without a user name or password.
    #[error("the registry {server:?} has no {missing}")]
    Incomplete {
        /// The registry's key.
        server: String,
        /// `user name` or `password`.
        missing: &'static str,
    },
    /// The same server key twice.
    #[error("the registry {0:?} is selected twice")]
    DuplicateServer(String),
    /// The image of the test Pod does not parse.
    #[error("spec.containers[0].image: {0}")]
    InvalidImage(#[from] crate::image_ref::ImageRefError),
}

impl From<FieldError> for PullSecretError {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error)
    }
}
