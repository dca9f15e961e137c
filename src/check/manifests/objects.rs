//! The readers of one object (a document or a `List` item) into typed values: workloads with
//! their containers, `ServiceAccounts`, Secrets, and the field access they share. Each failure
//! names the field as kubectl paths do. Which reader an object goes to is `read`'s.

use serde_json::{Map, Value};

use super::{
    Container, ContainerList, DocumentSource, ManifestError, PullPolicy, PullSecret, ServiceAccount, Workload,
    WorkloadKind,
};
use crate::kubelet::golang::{decode_base64, json_kind};
use crate::kubelet::secrets::{DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_KEY, DOCKERCFG_TYPE};
use crate::secret::Secret;

/// What a document that is not an object is called in errors.
pub(super) fn not_a_mapping(value: &Value) -> ManifestError {
    ManifestError::NotAMapping(article(json_kind(value)))
}

/// `kind: List` and typed lists (`PodList` …): a kind ending in `List`, with `items`.
pub(super) fn is_list(object: &Map<String, Value>) -> bool {
    object.get("kind").and_then(Value::as_str).is_some_and(|kind| kind.ends_with("List"))
        && object.contains_key("items")
}

/// A kind as reports name it: bare in Kubernetes' own API groups (no dot, or `*.k8s.io`), else
/// `Kind.group` as kubectl names resources (`Rollout.argoproj.io`).
pub(super) fn kind_name(kind: &str, group: &str) -> String {
    if group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io") {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    }
}

/// The workload kinds, in their API groups (`extensions` and the beta `apps` versions included,
/// for old manifests); the same kind in another group is someone else's resource.
pub(super) fn workload_kind(kind: &str, group: &str) -> Option<WorkloadKind> {
    let (kind, groups): (WorkloadKind, &[&str]) = match kind {
        "Pod" => (WorkloadKind::Pod, &[""]),
        "ReplicationController" => (WorkloadKind::ReplicationController, &[""]),
        "PodTemplate" => (WorkloadKind::PodTemplate, &[""]),
        "Deployment" => (WorkloadKind::Deployment, &["apps", "extensions"]),
        "ReplicaSet" => (WorkloadKind::ReplicaSet, &["apps", "extensions"]),
        "DaemonSet" => (WorkloadKind::DaemonSet, &["apps", "extensions"]),
        "StatefulSet" => (WorkloadKind::StatefulSet, &["apps"]),
        "Job" => (WorkloadKind::Job, &["batch"]),
        "CronJob" => (WorkloadKind::CronJob, &["batch"]),
        _ => return None,
    };
    groups.contains(&group).then_some(kind)
}

/// Where each kind keeps its pod spec.
pub(super) fn pod_spec_path(kind: WorkloadKind) -> &'static [&'static str] {
    match kind {
        WorkloadKind::Pod => &["spec"],
        WorkloadKind::PodTemplate => &["template", "spec"],
        WorkloadKind::CronJob => &["spec", "jobTemplate", "spec", "template", "spec"],
        WorkloadKind::ScaledJob => &["spec", "jobTargetRef", "template", "spec"],
        _ => &["spec", "template", "spec"],
    }
}

/// What a workload is and where its pod spec is.
pub(super) struct Template {
    pub(crate) kind: WorkloadKind,
    pub(crate) kind_name: String,
    pub(crate) path: &'static [&'static str],
}

/// A pod spec's parts that decide its pulls.
pub(super) struct PodParts {
    pub(crate) containers: Vec<Container>,
    pub(crate) image_pull_secrets: Vec<String>,
    pub(crate) service_account_name: String,
}

pub(super) fn read_workload(
    object: &Map<String, Value>,
    template: Template,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<Workload, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let (spec, path) = descend(object, template.path, "")?;
    let parts = read_pod_spec(spec, &path, template.kind == WorkloadKind::KnativeService)?;
    Ok(Workload {
        kind: template.kind,
        kind_name: template.kind_name,
        name,
        namespace,
        containers: parts.containers,
        image_pull_secrets: parts.image_pull_secrets,
        service_account_name: parts.service_account_name,
        source: source.clone(),
    })
}

/// The mapping at `fields` under `object` (each one required), and its path after `prefix`.
pub(super) fn descend<'v>(
    mut object: &'v Map<String, Value>,
    fields: &[&str],
    prefix: &str,
) -> Result<(&'v Map<String, Value>, String), ManifestError> {
    let mut path = prefix.to_owned();
    for field in fields {
        path = if path.is_empty() { (*field).to_owned() } else { format!("{path}.{field}") };
        object = map(object, field, &path)?.ok_or_else(|| ManifestError::Missing(path.clone()))?;
    }
    Ok((object, path))
}

/// A pod spec's containers, pull Secrets and `ServiceAccount` (`names_optional`: Knative names an
/// unnamed container `user-container`).
pub(super) fn read_pod_spec(
    spec: &Map<String, Value>,
    path: &str,
    names_optional: bool,
) -> Result<PodParts, ManifestError> {
    let containers = read_containers(spec, path, names_optional)?;
    let image_pull_secrets = reference_names(spec, "imagePullSecrets", &format!("{path}.imagePullSecrets"))?;
    let account = string(spec, "serviceAccountName", &format!("{path}.serviceAccountName"))?.unwrap_or_default();
    let deprecated = string(spec, "serviceAccount", &format!("{path}.serviceAccount"))?.unwrap_or_default();
    let service_account_name = [account, deprecated, "default"].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
    Ok(PodParts { containers, image_pull_secrets, service_account_name: service_account_name.to_owned() })
}

/// The three container lists; `containers` must have at least one.
fn read_containers(
    spec: &Map<String, Value>,
    path: &str,
    names_optional: bool,
) -> Result<Vec<Container>, ManifestError> {
    let mut containers = Vec::new();
    for list in [ContainerList::Containers, ContainerList::InitContainers, ContainerList::EphemeralContainers] {
        let list_path = format!("{path}.{}", list.field());
        let items = seq(spec, list.field(), &list_path)?.map_or(&[][..], Vec::as_slice);
        if list == ContainerList::Containers && items.is_empty() {
            return Err(ManifestError::NoContainers(list_path));
        }
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{list_path}[{index}]");
            let Value::Object(container) = item else {
                return Err(wrong_type(item_path, "an object", item));
            };
            let unnamed = match string(container, "name", &format!("{item_path}.name"))? {
                None | Some("") if names_optional => {
                    Some(if index == 0 { "user-container".to_owned() } else { format!("user-container-{index}") })
                }
                _ => None,
            };
            containers.push(read_container(container, list, &item_path, unnamed)?);
        }
    }
    Ok(containers)
}

/// One container (`name`: the name to show instead of its own, for projects that name containers
/// themselves).
pub(super) fn read_container(
    container: &Map<String, Value>,
    list: ContainerList,
    path: &str,
    name: Option<String>,
) -> Result<Container, ManifestError> {
    let required = |field: &str| -> Result<String, ManifestError> {
        let field_path = format!("{path}.{field}");
        match string(container, field, &field_path)? {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            _ => Err(ManifestError::Missing(field_path)),
        }
    };
    let name = match name {
        Some(name) => name,
        None => required("name")?,
    };
    let image = required("image")?;
    let policy_path = format!("{path}.imagePullPolicy");
    let (image_pull_policy, pull_policy_defaulted) = match string(container, "imagePullPolicy", &policy_path)? {
        None | Some("") => (PullPolicy::default_for_image(&image), true),
        Some("Always") => (PullPolicy::Always, false),
        Some("IfNotPresent") => (PullPolicy::IfNotPresent, false),
        Some("Never") => (PullPolicy::Never, false),
        Some(other) => return Err(ManifestError::PullPolicy { path: policy_path, value: other.to_owned() }),
    };
    Ok(Container { name, image, list, image_pull_policy, pull_policy_defaulted })
}

pub(super) fn read_service_account(
    object: &Map<String, Value>,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<ServiceAccount, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let image_pull_secrets = reference_names(object, "imagePullSecrets", "imagePullSecrets")?;
    Ok(ServiceAccount { namespace, name, image_pull_secrets, source: source.clone() })
}

pub(super) fn read_secret(
    object: &Map<String, Value>,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<PullSecret, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let secret_type = match string(object, "type", "type")? {
        Some(secret_type) if !secret_type.is_empty() => secret_type.to_owned(),
        _ => "Opaque".to_owned(),
    };
    let mut docker_config_json = None;
    let mut dockercfg = None;
    for (key, value) in secret_data(object)? {
        match key.as_str() {
            DOCKER_CONFIG_JSON_KEY => docker_config_json = Some(value),
            DOCKERCFG_KEY => dockercfg = Some(value),
            _ => {}
        }
    }
    let required = match secret_type.as_str() {
        DOCKER_CONFIG_JSON_TYPE => docker_config_json.is_none().then_some(DOCKER_CONFIG_JSON_KEY),
        DOCKERCFG_TYPE => dockercfg.is_none().then_some(DOCKERCFG_KEY),
        _ => None,
    };
    if let Some(key) = required {
        return Err(ManifestError::Missing(format!("data[{key}]")));
    }
    Ok(PullSecret { namespace, name, secret_type, docker_config_json, dockercfg, source: source.clone() })
}

/// `data` (every value must be base64) merged with `stringData` (which wins), keeping only the
/// keys the kubelet reads.
fn secret_data(object: &Map<String, Value>) -> Result<Vec<(String, Secret)>, ManifestError> {
    let mut kept: Vec<(String, Secret)> = Vec::new();
    for (key, value) in map(object, "data", "data")?.into_iter().flatten() {
        let path = format!("data[{key}]");
        let encoded = match value {
            Value::String(encoded) => encoded.as_str(),
            Value::Null => "",
            other => return Err(wrong_type(path, "a base64 string", other)),
        };
        let decoded = zeroize::Zeroizing::new(
            decode_base64(encoded, true).map_err(|offset| ManifestError::Base64 { path: path.clone(), offset })?,
        );
        if is_docker_key(key) {
            kept.push((key.clone(), Secret::new(String::from_utf8_lossy(&decoded))));
        }
    }
    for (key, value) in map(object, "stringData", "stringData")?.into_iter().flatten() {
        let text = match value {
            Value::String(text) => text.as_str(),
            Value::Null => "",
            other => return Err(wrong_type(format!("stringData[{key}]"), "a string", other)),
        };
        if is_docker_key(key) {
            kept.retain(|(existing, _)| existing != key);
            kept.push((key.clone(), Secret::new(text)));
        }
    }
    Ok(kept)
}

fn is_docker_key(key: &str) -> bool {
    key == DOCKER_CONFIG_JSON_KEY || key == DOCKERCFG_KEY
}

/// `metadata.name` (else `metadata.generateName`) and `metadata.namespace` (else the default).
pub(super) fn name_and_namespace(
    object: &Map<String, Value>,
    default_namespace: &str,
) -> Result<(String, String), ManifestError> {
    let empty = Map::new();
    let metadata = map(object, "metadata", "metadata")?.unwrap_or(&empty);
    let name = string(metadata, "name", "metadata.name")?.filter(|name| !name.is_empty());
    let generate_name = string(metadata, "generateName", "metadata.generateName")?.filter(|name| !name.is_empty());
    let name = name.or(generate_name).ok_or_else(|| ManifestError::Missing("metadata.name".to_owned()))?;
    let namespace = string(metadata, "namespace", "metadata.namespace")?.filter(|ns| !ns.is_empty());
    Ok((name.to_owned(), namespace.unwrap_or(default_namespace).to_owned()))
}

/// A list of `LocalObjectReference`s (`[{name: …}]`): the names, empty ones included.
pub(super) fn reference_names(
    object: &Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Vec<String>, ManifestError> {
    let mut names = Vec::new();
    for (index, item) in seq(object, field, path)?.into_iter().flatten().enumerate() {
        let item_path = format!("{path}[{index}]");
        match item {
            Value::Object(reference) => {
                let name = string(reference, "name", &format!("{item_path}.name"))?;
                names.push(name.unwrap_or_default().to_owned());
            }
            Value::Null => names.push(String::new()),
            other => return Err(wrong_type(item_path, "an object", other)),
        }
    }
    Ok(names)
}

/// An optional string field (`null` counts as absent).
pub(super) fn string<'v>(
    object: &'v Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'v str>, ManifestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(path.to_owned(), "a string", other)),
    }
}

/// An optional mapping field.
pub(super) fn map<'v>(
    object: &'v Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'v Map<String, Value>>, ManifestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(wrong_type(path.to_owned(), "an object", other)),
    }
}

/// An optional sequence field.
pub(super) fn seq<'v>(
    object: &'v Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'v Vec<Value>>, ManifestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(wrong_type(path.to_owned(), "a list", other)),
    }
}

pub(super) fn wrong_type(path: String, expected: &'static str, found: &Value) -> ManifestError {
    ManifestError::WrongType { path, expected, found: article(json_kind(found)) }
}

/// "a string", "an object": the found type, in words.
fn article(kind: &'static str) -> &'static str {
    match kind {
        "null" => "null",
        "bool" => "a boolean",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        _ => "an object",
    }
}
