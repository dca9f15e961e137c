//! Rendering of the Secret, Pod, ServiceAccount patch and node recipe.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::validate::{self, FieldError};
use super::yaml::to_yaml;
use super::{KubectlStyle, PullPolicy, PullSecretError, RegistryAuth, Rendered, SecretRequest, SecretType};
use crate::auth_files::encode_auth;
use crate::go_json;
use crate::image_ref::ImageRef;

/// One entry of the inner JSON, in kubectl's field order (`DockerConfigEntry`).
#[derive(Serialize)]
struct InnerEntry<'a> {
    username: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    auth: &'a str,
}

fn inner_entries(registries: &[RegistryAuth]) -> Result<Map<String, Value>, PullSecretError> {
    let mut sorted: Vec<&RegistryAuth> = registries.iter().collect();
    // kubectl marshals a Go map: keys in byte order.
    sorted.sort_by(|a, b| a.server.cmp(&b.server));
    let mut map = Map::new();
    for registry in sorted {
        if registry.credential.username.is_empty() {
            return Err(PullSecretError::Incomplete { server: registry.server.clone(), missing: "user name" });
        }
        if registry.credential.secret.is_empty() {
            return Err(PullSecretError::Incomplete { server: registry.server.clone(), missing: "password" });
        }
        let auth = Zeroizing::new(encode_auth(&registry.credential.username, &registry.credential.secret));
        let entry = InnerEntry {
            username: &registry.credential.username,
            password: registry.credential.secret.expose(),
            email: registry.email.as_deref().filter(|e| !e.is_empty()),
            auth: &auth,
        };
        let value = serde_json::to_value(&entry).map_err(|_| PullSecretError::NoRegistries)?;
        if map.insert(registry.server.clone(), value).is_some() {
            return Err(PullSecretError::DuplicateServer(registry.server.clone()));
        }
    }
    Ok(map)
}

/// The `.dockerconfigjson` content: `{"auths":{…}}`, compact, as kubectl marshals it.
pub fn docker_config_json(registries: &[RegistryAuth]) -> Result<Zeroizing<Vec<u8>>, PullSecretError> {
    let mut outer = Map::new();
    outer.insert("auths".to_owned(), Value::Object(inner_entries(registries)?));
    Ok(Zeroizing::new(go_json::to_vec_compact(&outer)))
}

/// The `.dockercfg` content: the legacy `{server: {…}}` map, compact.
pub(crate) fn dockercfg_json(registries: &[RegistryAuth]) -> Result<Zeroizing<Vec<u8>>, PullSecretError> {
    Ok(Zeroizing::new(go_json::to_vec_compact(&inner_entries(registries)?)))
}

fn metadata(name: &str, namespace: Option<&str>, style: Option<KubectlStyle>) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".to_owned(), name.into());
    if let Some(namespace) = namespace {
        metadata.insert("namespace".to_owned(), namespace.into());
    }
    if style == Some(KubectlStyle::WithCreationTimestamp) {
        metadata.insert("creationTimestamp".to_owned(), Value::Null);
    }
    Value::Object(metadata)
}

fn validate_meta(name: &str, namespace: Option<&str>) -> Result<(), FieldError> {
    validate::subdomain("metadata.name", name)?;
    if let Some(namespace) = namespace {
        validate::label("metadata.namespace", namespace)?;
    }
    Ok(())
}

fn rendered(object: &Value) -> Rendered {
    let mut json = String::from_utf8_lossy(&go_json::to_vec_indented(object, b"    ")).into_owned();
    json.push('\n');
    Rendered { yaml: to_yaml(object), json }
}

/// Renders the pull Secret. For one `dockerconfigjson` registry the result is byte-identical
/// to `kubectl create secret docker-registry NAME --docker-server=S --docker-username=U
/// --docker-password=P [--docker-email=E] [-n NS] --dry-run=client -o yaml` (and `-o json`).
pub fn render_secret(request: &SecretRequest) -> Result<Rendered, PullSecretError> {
    validate_meta(&request.name, request.namespace.as_deref())?;
    if request.registries.is_empty() {
        return Err(PullSecretError::NoRegistries);
    }
    let data_key = request.secret_type.data_key();
    validate::data_key("data", data_key)?;
    let inner = match request.secret_type {
        SecretType::DockerConfigJson => docker_config_json(&request.registries)?,
        SecretType::DockerCfg => dockercfg_json(&request.registries)?,
    };
    validate::data_size("data", data_key.len() + inner.len())?;
    let encoded = Zeroizing::new(STANDARD.encode(inner.as_slice()));
    let object = json!({
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": metadata(&request.name, request.namespace.as_deref(), Some(request.style)),
        "data": { data_key: encoded.as_str() },
        "type": request.secret_type.type_name(),
    });
    Ok(rendered(&object))
}

/// A Pod that pulls an image through `imagePullSecrets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRequest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// The image, as it will appear in the Pod spec.
    pub image: String,
    /// `imagePullPolicy`.
    pub pull_policy: PullPolicy,
    /// The pull Secret's name.
    pub secret_name: String,
}

impl PodRequest {
    /// The Kubernetes docs' verification pod: `private-image-test-1`, `echo SUCCESS`, `Always`.
    pub fn verification(image: &str, secret_name: &str) -> Self {
        Self {
            name: "private-image-test-1".to_owned(),
            namespace: None,
            image: image.to_owned(),
            pull_policy: PullPolicy::Always,
            secret_name: secret_name.to_owned(),
        }
    }
}

/// Renders the Pod.
pub fn render_pod(request: &PodRequest) -> Result<Rendered, PullSecretError> {
    validate_meta(&request.name, request.namespace.as_deref())?;
    validate::subdomain("spec.imagePullSecrets[0].name", &request.secret_name)?;
    ImageRef::parse(&request.image)?;
    let object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(&request.name, request.namespace.as_deref(), None),
        "spec": {
            "containers": [{
                "name": "uses-private-image",
                "image": request.image,
                "imagePullPolicy": request.pull_policy.as_str(),
                "command": ["echo", "SUCCESS"],
            }],
            "imagePullSecrets": [{ "name": request.secret_name }],
        },
    });
    Ok(rendered(&object))
}

fn namespace_flag(namespace: Option<&str>) -> String {
    namespace.map(|ns| format!(" -n {ns}")).unwrap_or_default()
}

/// The commands that check the Pod: create it, read its log (`SUCCESS`), look for failures.
pub fn pod_check_commands(request: &PodRequest, file_name: &str) -> Vec<String> {
    let ns = namespace_flag(request.namespace.as_deref());
    vec![
        format!("kubectl create{ns} -f {file_name}"),
        format!("kubectl logs{ns} {}    # prints SUCCESS once the image was pulled", request.name),
        format!("kubectl describe{ns} pods/{} | grep Failed    # shows why a pull failed", request.name),
    ]
}

/// The ServiceAccount patch, as YAML and as `kubectl patch` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountPatch {
    /// The strategic-merge patch as YAML and JSON.
    pub patch: Rendered,
    /// `kubectl patch serviceaccount … -p '…'`, as in the Kubernetes docs (replaces the list).
    pub command: String,
    /// A JSON-patch variant that appends to an existing `imagePullSecrets` list instead.
    pub append_command: String,
}

/// Renders the patch that makes every Pod of `account` use the Secret.
pub fn render_service_account_patch(
    account: &str,
    namespace: Option<&str>,
    secret_name: &str,
) -> Result<ServiceAccountPatch, PullSecretError> {
    validate::subdomain("serviceaccount", account)?;
    validate::subdomain("imagePullSecrets[0].name", secret_name)?;
    if let Some(namespace) = namespace {
        validate::label("metadata.namespace", namespace)?;
    }
    let patch = json!({ "imagePullSecrets": [{ "name": secret_name }] });
    let ns = namespace_flag(namespace);
    Ok(ServiceAccountPatch {
        patch: rendered(&patch),
        command: format!(
            "kubectl patch serviceaccount {account}{ns} -p '{{\"imagePullSecrets\": [{{\"name\": \"{secret_name}\"}}]}}'"
        ),
        append_command: format!(
            "kubectl patch serviceaccount {account}{ns} --type=json -p '[{{\"op\": \"add\", \"path\": \"/imagePullSecrets/-\", \"value\": {{\"name\": \"{secret_name}\"}}}}]'"
        ),
    })
}

/// Which file the nodes get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeFileFormat {
    /// `/var/lib/kubelet/config.json` (`{"auths": {…}}`).
    #[default]
    ConfigJson,
    /// `/var/lib/kubelet/.dockercfg` (the legacy map).
    Dockercfg,
}

/// The "configure nodes" recipe: a file for every node, the loop that copies it, the caveats.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeRecipe {
    /// The file's name on the node.
    pub file_name: &'static str,
    /// Its content (Docker's format; holds the credentials).
    pub content: String,
    /// The shell loop that copies it to every node.
    pub(crate) script: String,
    /// What to know before choosing this approach.
    pub(crate) caveats: Vec<&'static str>,
}

impl std::fmt::Debug for NodeRecipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRecipe").field("file_name", &self.file_name).finish_non_exhaustive()
    }
}

impl NodeRecipe {
    /// The whole recipe as text, every line a `#` comment so it can sit in a YAML file.
    pub fn to_commented_text(&self) -> String {
        let mut lines = vec![format!("Node recipe: save this as {} on every node", self.file_name)];
        lines.extend(self.content.lines().map(|l| format!("  {l}")));
        lines.push(String::new());
        lines.push("Copy it to every node:".to_owned());
        lines.extend(self.script.lines().map(|l| format!("  {l}")));
        lines.push(String::new());
        lines.push("Before choosing this approach:".to_owned());
        lines.extend(self.caveats.iter().map(|c| format!("  - {c}")));
        lines.iter().map(|l| if l.is_empty() { "#\n".to_owned() } else { format!("# {l}\n") }).collect()
    }
}

/// Renders the node recipe for `registries`.
pub fn render_node_recipe(registries: &[RegistryAuth], format: NodeFileFormat) -> Result<NodeRecipe, PullSecretError> {
    if registries.is_empty() {
        return Err(PullSecretError::NoRegistries);
    }
    let mut entries = Map::new();
    for registry in registries {
        let mut entry = Map::new();
        entry.insert("auth".to_owned(), encode_auth(&registry.credential.username, &registry.credential.secret).into());
        if let Some(email) = registry.email.as_deref().filter(|e| !e.is_empty()) {
            entry.insert("email".to_owned(), email.into());
        }
        entries.insert(registry.server.clone(), Value::Object(entry));
    }
    let (file_name, document) = match format {
        NodeFileFormat::ConfigJson => ("config.json", json!({ "auths": entries })),
        NodeFileFormat::Dockercfg => (".dockercfg", Value::Object(entries)),
    };
    let content = String::from_utf8_lossy(&go_json::to_vec_indented(&document, b"\t")).into_owned();
    let script = format!(
        "nodes=$(kubectl get nodes -o jsonpath='{{range .items[*].metadata}}{{.name}} {{end}}')\n\
         for n in $nodes; do\n  scp {file_name} root@\"$n\":/var/lib/kubelet/{file_name}\ndone"
    );
    Ok(NodeRecipe {
        file_name,
        content,
        script,
        caveats: vec![
            "every node needs the same file, at /var/lib/kubelet/ (or the kubelet's --root-dir); a node without it cannot pull",
            "nodes added later (autoscaling, replacements) need the file in their image or instance template",
            "not usable where you cannot log in to nodes or change them (GKE, AKS, EKS managed node pools and similar): use a pull Secret there",
            "the file holds the credentials in plaintext on every node, and every Pod on those nodes can use them",
        ],
    })
}
