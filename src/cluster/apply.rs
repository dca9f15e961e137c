//! `regcred apply`: the pull Secret by server-side apply (field manager `regcred`), and the
//! ServiceAccount's `imagePullSecrets` appended to, never replaced. Before anything is written the
//! API server's own dry run says what will change; the plan names keys and registries, never a
//! value.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;

use super::connect::Cluster;
use super::refusal::{Action, ClusterError};
use crate::pull_secret::{KubectlStyle, SecretRequest, render_secret};

/// regcred's field manager for server-side apply.
pub(crate) const FIELD_MANAGER: &str = "regcred";

/// How many times the ServiceAccount patch is tried when someone else changes the account between
/// regcred's read and its write.
const SERVICE_ACCOUNT_TRIES: usize = 5;

/// What to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRequest {
    /// The Secret (its namespace is replaced by the cluster's).
    pub secret: SecretRequest,
    /// Also add the Secret to this ServiceAccount's `imagePullSecrets`.
    pub service_account: Option<String>,
    /// Only ask the server what would change (`--dry-run=server`).
    pub dry_run: bool,
    /// Take fields another manager owns (`--force-conflicts`).
    pub force_conflicts: bool,
}

/// What changes in one data key of the Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// The key (`.dockerconfigjson`).
    pub key: String,
    /// `added`, `changed` or `removed`.
    pub change: &'static str,
    /// Inside a Docker config: registries `added`, `changed` (credential) or `removed`, by key.
    pub registries: BTreeMap<String, &'static str>,
}

/// What happens to the Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum SecretChange {
    /// It does not exist yet.
    Create {
        /// Its data keys.
        keys: Vec<String>,
        /// The registries it holds.
        registries: Vec<String>,
    },
    /// It exists and changes.
    Update {
        /// Data keys that change.
        keys: Vec<KeyChange>,
        /// Other changes (`type`, labels, annotations) in words.
        other: Vec<String>,
    },
    /// It exists with exactly this content.
    Unchanged,
}

/// What happens to the ServiceAccount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAccountChange {
    /// Its name.
    pub name: String,
    /// Whether the Secret is added (false: it is already listed).
    pub adds: bool,
    /// The pull Secrets it already lists, kept.
    pub keeps: Vec<String>,
}

/// The plan, and whether it was carried out.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyPlan {
    /// The kubeconfig context.
    pub context: String,
    /// The API server.
    pub server: String,
    /// The namespace.
    pub namespace: String,
    /// The Secret's name.
    pub secret: String,
    /// The Secret's type.
    pub secret_type: String,
    /// What happens to it.
    pub secret_change: SecretChange,
    /// What happens to the ServiceAccount, when one was named.
    pub service_account: Option<ServiceAccountChange>,
    /// Only a server dry run: nothing was written.
    pub dry_run: bool,
    /// Whether anything was written.
    pub applied: bool,
}

impl ApplyPlan {
    /// The plan in lines for people (no values).
    pub fn lines(&self) -> Vec<String> {
        let ns = &self.namespace;
        let mut lines = vec![format!("Cluster: context {}, namespace {ns} ({})", self.context, self.server)];
        let secret = format!("Secret {ns}/{}", self.secret);
        lines.push(match &self.secret_change {
            SecretChange::Create { keys, registries } => format!(
                "{secret}: create ({}, key {} with {})",
                self.secret_type,
                keys.join(", "),
                registries.join(", ")
            ),
            SecretChange::Update { keys, other } => {
                let mut parts: Vec<String> = keys.iter().map(KeyChange::describe).collect();
                parts.extend(other.iter().cloned());
                format!("{secret}: update {}", parts.join("; "))
            }
            SecretChange::Unchanged => format!("{secret}: unchanged"),
        });
        if let Some(account) = &self.service_account {
            let keeps =
                if account.keeps.is_empty() { String::new() } else { format!(" (keeps {})", account.keeps.join(", ")) };
            lines.push(if account.adds {
                format!("ServiceAccount {ns}/{}: add {} to imagePullSecrets{keeps}", account.name, self.secret)
            } else {
                format!("ServiceAccount {ns}/{}: unchanged ({} is listed)", account.name, self.secret)
            });
        }
        lines
    }

    /// Whether applying changes anything.
    pub fn changes_anything(&self) -> bool {
        self.secret_change != SecretChange::Unchanged || self.service_account.as_ref().is_some_and(|sa| sa.adds)
    }
}

impl KeyChange {
    fn describe(&self) -> String {
        let mut text = format!("{} {}", self.key, self.change);
        if !self.registries.is_empty() {
            let registries: Vec<String> =
                self.registries.iter().map(|(registry, change)| format!("{registry} {change}")).collect();
            text.push_str(" (");
            text.push_str(&registries.join(", "));
            text.push(')');
        }
        text
    }
}

/// A body that holds a secret: serialized as is, never shown by `Debug`.
struct Sealed(serde_json::Value);

impl Serialize for Sealed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<Secret body>")
    }
}

/// Plans the change with the API server's dry run, then (unless `dry_run`, and only when something
/// changes) applies the Secret and patches the ServiceAccount.
pub async fn apply(cluster: &Cluster, request: &ApplyRequest) -> Result<ApplyPlan, ClusterError> {
    let ns = cluster.namespace.as_str();
    let name = request.secret.name.as_str();
    let rendered = render_secret(&SecretRequest {
        namespace: Some(ns.to_owned()),
        style: KubectlStyle::WithoutCreationTimestamp,
        ..request.secret.clone()
    })
    .map_err(|error| ClusterError::Config(error.to_string()))?;
    let body: serde_json::Value =
        serde_json::from_str(&rendered.json).map_err(|error| ClusterError::Unexpected(error.to_string()))?;
    let body = Sealed(body);
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
    let action = |verb| Action { verb, resource: "secrets", namespace: Some(ns) };
    let existing = secrets.get_opt(name).await.map_err(|error| ClusterError::from_kube(error, action("get")))?;
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = request.force_conflicts;
    let would_be = secrets
        .patch(name, &params.clone().dry_run(), &Patch::Apply(&body))
        .await
        .map_err(|error| ClusterError::from_kube(error, action("patch")))?;
    let secret_change = change_of(existing.as_ref(), &would_be);
    let service_account = match &request.service_account {
        Some(account) => Some(plan_service_account(cluster, account, name).await?),
        None => None,
    };
    let mut plan = ApplyPlan {
        context: cluster.context.clone(),
        server: cluster.server.clone(),
        namespace: ns.to_owned(),
        secret: name.to_owned(),
        secret_type: request.secret.secret_type.type_name().to_owned(),
        secret_change,
        service_account,
        dry_run: request.dry_run,
        applied: false,
    };
    if request.dry_run || !plan.changes_anything() {
        return Ok(plan);
    }
    if plan.secret_change != SecretChange::Unchanged {
        secrets
            .patch(name, &params, &Patch::Apply(&body))
            .await
            .map_err(|error| ClusterError::from_kube(error, action("patch")))?;
    }
    if let Some(account) = &plan.service_account
        && account.adds
    {
        add_pull_secret(cluster, &account.name, name).await?;
    }
    plan.applied = true;
    Ok(plan)
}

/// The Secret's change from `existing` to what the server's dry run returned.
fn change_of(existing: Option<&Secret>, would_be: &Secret) -> SecretChange {
    let empty = BTreeMap::new();
    let new_data = would_be.data.as_ref().unwrap_or(&empty);
    let Some(existing) = existing else {
        let registries = new_data.values().flat_map(|value| registries_in(value).into_keys()).collect();
        return SecretChange::Create { keys: new_data.keys().cloned().collect(), registries };
    };
    let old_data = existing.data.as_ref().unwrap_or(&empty);
    let mut keys = Vec::new();
    for (key, value) in new_data {
        match old_data.get(key) {
            None => keys.push(KeyChange { key: key.clone(), change: "added", registries: BTreeMap::new() }),
            Some(old) if old != value => {
                keys.push(KeyChange { key: key.clone(), change: "changed", registries: registry_changes(old, value) });
            }
            Some(_) => {}
        }
    }
    for key in old_data.keys().filter(|key| !new_data.contains_key(*key)) {
        keys.push(KeyChange { key: key.clone(), change: "removed", registries: BTreeMap::new() });
    }
    let mut other = Vec::new();
    if existing.type_ != would_be.type_ {
        other.push(format!(
            "type {} → {}",
            existing.type_.as_deref().unwrap_or("Opaque"),
            would_be.type_.as_deref().unwrap_or("Opaque")
        ));
    }
    if existing.metadata.labels != would_be.metadata.labels {
        other.push("labels".to_owned());
    }
    if existing.metadata.annotations != would_be.metadata.annotations {
        other.push("annotations".to_owned());
    }
    if keys.is_empty() && other.is_empty() { SecretChange::Unchanged } else { SecretChange::Update { keys, other } }
}

/// The registry keys of a Docker config (`{"auths": {...}}` or the legacy top-level map) and their
/// entries; empty when the value is not one.
fn registries_in(value: &ByteString) -> BTreeMap<String, serde_json::Value> {
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(&value.0) else {
        return BTreeMap::new();
    };
    let map = match object.remove("auths") {
        Some(serde_json::Value::Object(auths)) => auths,
        _ => object,
    };
    map.into_iter().collect()
}

fn registry_changes(old: &ByteString, new: &ByteString) -> BTreeMap<String, &'static str> {
    let (old, new) = (registries_in(old), registries_in(new));
    let mut changes = BTreeMap::new();
    for (key, entry) in &new {
        match old.get(key) {
            None => {
                changes.insert(key.clone(), "added");
            }
            Some(before) if before != entry => {
                changes.insert(key.clone(), "changed");
            }
            Some(_) => {}
        }
    }
    for key in old.keys().filter(|key| !new.contains_key(*key)) {
        changes.insert(key.clone(), "removed");
    }
    changes
}

async fn plan_service_account(
    cluster: &Cluster,
    account: &str,
    secret: &str,
) -> Result<ServiceAccountChange, ClusterError> {
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let current = accounts.get(account).await.map_err(|error| {
        ClusterError::from_kube(
            error,
            Action { verb: "get", resource: "serviceaccounts", namespace: Some(&cluster.namespace) },
        )
    })?;
    let listed = pull_secret_names(&current);
    Ok(ServiceAccountChange {
        name: account.to_owned(),
        adds: !listed.iter().any(|name| name == secret),
        keeps: listed.into_iter().filter(|name| name != secret).collect(),
    })
}

fn pull_secret_names(account: &ServiceAccount) -> Vec<String> {
    account.image_pull_secrets.iter().flatten().map(|reference| reference.name.clone()).collect()
}

/// Appends `secret` to the account's `imagePullSecrets` with a JSON patch that first tests the
/// resourceVersion it read: a concurrent change fails the test (422) and the account is read again.
/// A strategic-merge patch would replace the whole list (it has no merge key).
async fn add_pull_secret(cluster: &Cluster, account: &str, secret: &str) -> Result<(), ClusterError> {
    let ns = cluster.namespace.as_str();
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), ns);
    let action = |verb| Action { verb, resource: "serviceaccounts", namespace: Some(ns) };
    let mut last = None;
    for _ in 0..SERVICE_ACCOUNT_TRIES {
        let current = accounts.get(account).await.map_err(|error| ClusterError::from_kube(error, action("get")))?;
        if pull_secret_names(&current).iter().any(|name| name == secret) {
            return Ok(());
        }
        let version = current.metadata.resource_version.clone().unwrap_or_default();
        let reference = serde_json::json!({ "name": secret });
        let add = if current.image_pull_secrets.is_some() {
            serde_json::json!({"op": "add", "path": "/imagePullSecrets/-", "value": reference})
        } else {
            serde_json::json!({"op": "add", "path": "/imagePullSecrets", "value": [reference]})
        };
        let operations = serde_json::json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": version},
            add,
        ]);
        let patch = serde_json::from_value(operations).map_err(|error| ClusterError::Unexpected(error.to_string()))?;
        match accounts.patch(account, &PatchParams::default(), &Patch::Json::<()>(patch)).await {
            Ok(_) => return Ok(()),
            // The test failed: someone changed the account since it was read.
            Err(kube::Error::Api(status)) if status.code == 422 || status.code == 409 => {
                last = Some(kube::Error::Api(status));
            }
            Err(error) => return Err(ClusterError::from_kube(error, action("patch"))),
        }
    }
    Err(last.map_or_else(
        || ClusterError::Unexpected("the ServiceAccount kept changing".to_owned()),
        |error| ClusterError::from_kube(error, action("patch")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(data: &[(&str, &str)]) -> Secret {
        Secret {
            data: Some(data.iter().map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec()))).collect()),
            type_: Some("kubernetes.io/dockerconfigjson".to_owned()),
            ..Secret::default()
        }
    }

    #[test]
    fn create_names_keys_and_registries() {
        let new = secret(&[(".dockerconfigjson", r#"{"auths":{"b.io":{"auth":"x"},"a.io":{"auth":"y"}}}"#)]);
        assert_eq!(
            change_of(None, &new),
            SecretChange::Create {
                keys: vec![".dockerconfigjson".to_owned()],
                registries: vec!["a.io".to_owned(), "b.io".to_owned()]
            }
        );
    }

    #[test]
    fn update_says_which_registries_change_without_values() {
        let old = secret(&[(".dockerconfigjson", r#"{"auths":{"a.io":{"auth":"x"},"gone.io":{"auth":"z"}}}"#)]);
        let new = secret(&[(".dockerconfigjson", r#"{"auths":{"a.io":{"auth":"SECRET"},"b.io":{"auth":"y"}}}"#)]);
        let change = change_of(Some(&old), &new);
        let SecretChange::Update { keys, other } = &change else { panic!("{change:?}") };
        assert!(other.is_empty());
        assert_eq!(keys[0].describe(), ".dockerconfigjson changed (a.io changed, b.io added, gone.io removed)");
        assert!(!format!("{change:?}").contains("SECRET"));
        assert_eq!(change_of(Some(&new), &new), SecretChange::Unchanged);
    }
}
