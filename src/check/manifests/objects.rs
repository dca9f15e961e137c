//! Turning one parsed document (or `List` item) into typed values: workloads with their
//! containers, `ServiceAccounts`, Secrets. Each failure names the field as kubectl paths do.

use serde_json::{Map, Value};

use super::{
    Container, ContainerList, DocumentError, DocumentSource, ManifestError, Manifests, PullPolicy, PullSecret,
    ServiceAccount, Workload, WorkloadKind,
};
use crate::kubelet::golang::{decode_base64, json_kind};
use crate::kubelet::secrets::{DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_KEY, DOCKERCFG_TYPE};
use crate::secret::Secret;

/// Reads one document into `manifests`, recording an error instead when it is malformed.
pub(super) fn read_object(manifests: &mut Manifests, value: &Value, source: DocumentSource, namespace: &str) {
    let result = match value {
        Value::Object(object) if is_list(object) => read_list(manifests, object, &source, namespace),
        Value::Object(object) => read_single(manifests, object, None, &source, namespace),
        other => Err(ManifestError::NotAMapping(article(json_kind(other)))),
    };
    if let Err(error) = result {
        manifests.errors.push(DocumentError { source, error });
    }
}

fn is_list(object: &Map<String, Value>) -> bool {
    object.get("kind").and_then(Value::as_str).is_some_and(|kind| kind.ends_with("List"))
        && object.contains_key("items")
}

/// `kind: List` and typed lists (`PodList`…): each item on its own, items without a `kind` taking
/// the list's kind less `List`.
fn read_list(
    manifests: &mut Manifests,
    list: &Map<String, Value>,
    source: &DocumentSource,
    namespace: &str,
) -> Result<(), ManifestError> {
    let items = seq(list, "items", "items")?.map_or(&[][..], Vec::as_slice);
    let list_kind = list.get("kind").and_then(Value::as_str).unwrap_or_default();
    let item_kind = list_kind.strip_suffix("List").filter(|kind| !kind.is_empty());
    for (index, item) in items.iter().enumerate() {
        let source = DocumentSource { item: Some(index), ..source.clone() };
        let result = match item {
            Value::Object(object) => read_single(manifests, object, item_kind, &source, namespace),
            Value::Null => Ok(()),
            other => Err(ManifestError::NotAMapping(article(json_kind(other)))),
        };
        if let Err(error) = result {
            manifests.errors.push(DocumentError { source, error });
        }
    }
    Ok(())
}

/// One object: a workload, a `ServiceAccount`, a Secret, or something this module ignores.
fn read_single(
    manifests: &mut Manifests,
    object: &Map<String, Value>,
    implied_kind: Option<&str>,
    source: &DocumentSource,
    namespace: &str,
) -> Result<(), ManifestError> {
    let kind = match string(object, "kind", "kind")? {
        Some(kind) if !kind.is_empty() => kind,
        _ => implied_kind.ok_or_else(|| ManifestError::Missing("kind".to_owned()))?,
    };
    let group = match string(object, "apiVersion", "apiVersion")? {
        Some(api_version) => api_version.split_once('/').map_or("", |(group, _)| group),
        None => "",
    };
    if kind == "ServiceAccount" && group.is_empty() {
        manifests.service_accounts.push(read_service_account(object, source, namespace)?);
    } else if kind == "Secret" && group.is_empty() {
        match read_secret(object, source, namespace) {
            Ok(secret) => manifests.secrets.push(secret),
            Err(error) => {
                // Named, so that a pod that uses it is told the Secret is broken, not absent.
                if let Ok(named) = name_and_namespace(object, namespace) {
                    manifests.broken_secrets.push(named);
                }
                return Err(error);
            }
        }
    } else if let Some(kind) = workload_kind(kind, group) {
        manifests.workloads.push(read_workload(object, kind, source, namespace)?);
    }
    Ok(())
}

/// The workload kinds, in their API groups (`extensions` and the beta `apps` versions included,
/// for old manifests); the same kind in another group is someone else's resource.
fn workload_kind(kind: &str, group: &str) -> Option<WorkloadKind> {
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
fn pod_spec_path(kind: WorkloadKind) -> &'static [&'static str] {
    match kind {
        WorkloadKind::Pod => &["spec"],
        WorkloadKind::PodTemplate => &["template", "spec"],
        WorkloadKind::CronJob => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &["spec", "template", "spec"],
    }
}

fn read_workload(
    object: &Map<String, Value>,
    kind: WorkloadKind,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<Workload, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let mut spec = object;
    let mut path = String::new();
    for field in pod_spec_path(kind) {
        path = if path.is_empty() { (*field).to_owned() } else { format!("{path}.{field}") };
        spec = map(spec, field, &path)?.ok_or_else(|| ManifestError::Missing(path.clone()))?;
    }
    let containers = read_containers(spec, &path)?;
    let image_pull_secrets = reference_names(spec, "imagePullSecrets", &format!("{path}.imagePullSecrets"))?;
    let account = string(spec, "serviceAccountName", &format!("{path}.serviceAccountName"))?.unwrap_or_default();
    let deprecated = string(spec, "serviceAccount", &format!("{path}.serviceAccount"))?.unwrap_or_default();
    let service_account_name = [account, deprecated, "default"].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
    Ok(Workload {
        kind,
        name,
        namespace,
        containers,
        image_pull_secrets,
        service_account_name: service_account_name.to_owned(),
        source: source.clone(),
    })
}

/// The three container lists; `containers` must have at least one.
fn read_containers(spec: &Map<String, Value>, path: &str) -> Result<Vec<Container>, ManifestError> {
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
            containers.push(read_container(container, list, &item_path)?);
        }
    }
    Ok(containers)
}

fn read_container(container: &Map<String, Value>, list: ContainerList, path: &str) -> Result<Container, ManifestError> {
    let required = |field: &str| -> Result<String, ManifestError> {
        let field_path = format!("{path}.{field}");
        match string(container, field, &field_path)? {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            _ => Err(ManifestError::Missing(field_path)),
        }
    };
    let name = required("name")?;
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

fn read_service_account(
    object: &Map<String, Value>,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<ServiceAccount, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let image_pull_secrets = reference_names(object, "imagePullSecrets", "imagePullSecrets")?;
    Ok(ServiceAccount { namespace, name, image_pull_secrets, source: source.clone() })
}

fn read_secret(
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
fn name_and_namespace(object: &Map<String, Value>, default_namespace: &str) -> Result<(String, String), ManifestError> {
    let empty = Map::new();
    let metadata = map(object, "metadata", "metadata")?.unwrap_or(&empty);
    let name = string(metadata, "name", "metadata.name")?.filter(|name| !name.is_empty());
    let generate_name = string(metadata, "generateName", "metadata.generateName")?.filter(|name| !name.is_empty());
    let name = name.or(generate_name).ok_or_else(|| ManifestError::Missing("metadata.name".to_owned()))?;
    let namespace = string(metadata, "namespace", "metadata.namespace")?.filter(|ns| !ns.is_empty());
    Ok((name.to_owned(), namespace.unwrap_or(default_namespace).to_owned()))
}

/// A list of `LocalObjectReference`s (`[{name: …}]`): the names, empty ones included.
fn reference_names(object: &Map<String, Value>, field: &str, path: &str) -> Result<Vec<String>, ManifestError> {
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
fn string<'v>(object: &'v Map<String, Value>, field: &str, path: &str) -> Result<Option<&'v str>, ManifestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(path.to_owned(), "a string", other)),
    }
}

/// An optional mapping field.
fn map<'v>(
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
fn seq<'v>(object: &'v Map<String, Value>, field: &str, path: &str) -> Result<Option<&'v Vec<Value>>, ManifestError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(wrong_type(path.to_owned(), "a list", other)),
    }
}

fn wrong_type(path: String, expected: &'static str, found: &Value) -> ManifestError {
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
