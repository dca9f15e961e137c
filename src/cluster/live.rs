//! `regcred check --cluster`: the Pods that cannot pull now (`ErrImagePull`, `ImagePullBackOff`,
//! `InvalidImageName`), each with the kubelet's last Event, the pull Secrets it really names and
//! its ServiceAccount's, and regcred's diagnosis; and the same check over the live workloads'
//! templates, so a bad Secret is found before the next rollout.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, Pod, Secret, ServiceAccount};
use kube::api::ListParams;
use kube::{Api, Resource};
use serde::Serialize;

use super::connect::Cluster;
use super::nodes::kubelet_event_as_node_shows;
use super::refusal::{Action, ClusterError};
use crate::check::{CheckOptions, CheckReport, Inputs, Manifests, check, read_documents};

/// The waiting reasons of a container that cannot pull.
const PULL_FAILURES: [&str; 3] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];

/// How `check --cluster` runs.
#[derive(Debug, Default)]
pub struct LiveOptions {
    /// Every namespace (`-A`) instead of the cluster's namespace.
    pub all_namespaces: bool,
    /// The check's options (pull options, deadline); its `local` is used only when Secrets cannot
    /// be read.
    pub check: CheckOptions,
    /// Your local credentials, read (only) when `list secrets` is forbidden, to stand in for them.
    pub local: Option<super::LocalCredentials>,
    /// Use the nodes' runtime (from their status) for the words, when they all run one kind.
    pub runtime_from_nodes: bool,
}

/// Where the pull Secrets' credentials came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", content = "why", rename_all = "lowercase")]
pub enum SecretsRead {
    /// Read through the API.
    Cluster,
    /// `get secrets` is forbidden: your local credentials were used instead (why).
    Local(String),
    /// Neither: pulls were tried without the Secrets (why).
    None(String),
}

/// A Pod that cannot pull now.
#[derive(Debug, Clone, Serialize)]
pub struct FailingPod {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub pod: String,
    /// The container that cannot pull.
    pub container: String,
    /// Its image.
    pub image: String,
    /// `ErrImagePull`, `ImagePullBackOff` or `InvalidImageName`.
    pub reason: String,
    /// The node it is on.
    pub node: Option<String>,
    /// The kubelet's last pull-failure Event.
    pub node_event: Option<String>,
    /// The pull Secrets the Pod names (what the kubelet uses).
    pub pull_secrets: Vec<String>,
    /// Its ServiceAccount.
    pub service_account: String,
    /// The pull Secrets its ServiceAccount lists now (none: the `ServiceAccounts` could not be read).
    pub service_account_secrets: Option<Vec<String>>,
    /// regcred's event for the same image and credentials, as the node's kubelet writes it.
    pub predicted_event: Option<String>,
    /// Whether the node's Event and the prediction are the same text.
    pub matches: Option<bool>,
    /// What else to know.
    pub notes: Vec<String>,
}

/// The whole live check.
#[derive(Debug, Clone, Serialize)]
pub struct LiveCheck {
    /// The context and namespace (or `all namespaces`), in words.
    pub cluster: String,
    /// Where the Secrets' credentials came from.
    pub secrets: SecretsRead,
    /// The Pods that cannot pull now.
    pub failing: Vec<FailingPod>,
    /// The check of those Pods and of every workload's template.
    pub report: CheckReport,
    /// What could not be read, in words.
    pub notes: Vec<String>,
    /// The workload kinds that could not be listed (not checked), by resource name.
    pub not_listed: Vec<String>,
    /// The API server's words for the first of them.
    pub not_listed_why: Option<String>,
}

/// A namespaced kind the live check lists.
trait Listed:
    Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
}

impl<K> Listed for K where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
{
}

impl LiveCheck {
    /// A copy whose every text from the cluster (names, images, Events, notes) is made inert, for
    /// the terminal and the window; `--json` keeps the exact strings.
    #[must_use]
    pub fn inert(&self) -> Self {
        let shown = |text: &str| crate::untrusted::inert(text, crate::untrusted::TEXT_CAP * 2);
        let all = |texts: &[String]| texts.iter().map(|text| shown(text)).collect::<Vec<_>>();
        let failing = self
            .failing
            .iter()
            .map(|pod| FailingPod {
                namespace: shown(&pod.namespace),
                pod: shown(&pod.pod),
                container: shown(&pod.container),
                image: shown(&pod.image),
                reason: shown(&pod.reason),
                node: pod.node.as_deref().map(shown),
                node_event: pod.node_event.as_deref().map(shown),
                pull_secrets: all(&pod.pull_secrets),
                service_account: shown(&pod.service_account),
                service_account_secrets: pod.service_account_secrets.as_deref().map(all),
                predicted_event: pod.predicted_event.as_deref().map(shown),
                matches: pod.matches,
                notes: all(&pod.notes),
            })
            .collect();
        Self {
            cluster: self.cluster.clone(),
            secrets: self.secrets.clone(),
            failing,
            report: self.report.inert(),
            notes: all(&self.notes),
            not_listed: all(&self.not_listed),
            not_listed_why: self.not_listed_why.as_deref().map(shown),
        }
    }
}

/// Lists in the scope: one namespace or all.
struct Scope<'a> {
    cluster: &'a Cluster,
    all: bool,
}

impl Scope<'_> {
    fn api<K: Listed>(&self) -> Api<K> {
        if self.all {
            Api::all(self.cluster.client.clone())
        } else {
            Api::namespaced(self.cluster.client.clone(), &self.cluster.namespace)
        }
    }

    fn action<'s>(&'s self, resource: &'s str) -> Action<'s> {
        Action { verb: "list", resource, namespace: (!self.all).then_some(self.cluster.namespace.as_str()) }
    }

    async fn list<K: Listed>(&self, resource: &str, params: &ListParams) -> Result<Vec<K>, ClusterError> {
        let mut items = Vec::new();
        let mut params = params.clone().limit(500);
        loop {
            let page = self
                .api::<K>()
                .list(&params)
                .await
                .map_err(|error| ClusterError::from_kube(error, self.action(resource)))?;
            items.extend(page.items);
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(items),
            }
        }
    }
}

/// An object as one manifest document named `Kind ns/name`, without what the check does not read.
pub(super) fn document<K: Resource + Serialize>(
    object: &K,
    kind: &str,
    manifests: &mut Manifests,
    default_namespace: &str,
) {
    let Ok(mut value) = serde_json::to_value(object) else { return };
    if let Some(metadata) = value.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    if let Some(object) = value.as_object_mut() {
        object.remove("status");
    }
    let meta = object.meta();
    let name = format!(
        "{kind} {}/{}",
        meta.namespace.as_deref().unwrap_or(default_namespace),
        meta.name.as_deref().unwrap_or_default()
    );
    manifests.merge(read_documents(&name, &value.to_string(), default_namespace));
}

/// What the Nodes say about themselves: each one's kubelet version, and whether they could be read.
struct Nodes {
    kubelets: BTreeMap<String, String>,
    runtimes: std::collections::BTreeSet<String>,
    refused: Option<String>,
}

impl Nodes {
    async fn read(cluster: &Cluster) -> Self {
        match Api::<Node>::all(cluster.client.clone()).list(&ListParams::default()).await {
            Ok(list) => {
                let infos: Vec<(String, k8s_openapi::api::core::v1::NodeSystemInfo)> = list
                    .items
                    .into_iter()
                    .filter_map(|node| Some((node.metadata.name?, node.status?.node_info?)))
                    .collect();
                Self {
                    kubelets: infos.iter().map(|(name, info)| (name.clone(), info.kubelet_version.clone())).collect(),
                    runtimes: infos.into_iter().map(|(_, info)| info.container_runtime_version).collect(),
                    refused: None,
                }
            }
            Err(error) => Self {
                kubelets: BTreeMap::new(),
                runtimes: std::collections::BTreeSet::new(),
                refused: Some(
                    ClusterError::from_kube(error, Action { verb: "list", resource: "nodes", namespace: None })
                        .to_string(),
                ),
            },
        }
    }

    /// The runtime every node runs; an explanation when that cannot be said.
    fn runtime(&self) -> Result<Option<crate::registry::Runtime>, String> {
        if let Some(why) = &self.refused {
            return Err(format!(
                "the Nodes could not be read ({why}): the words are containerd 2's and a kubelet 1.28+'s; pass --runtime to choose"
            ));
        }
        let runtimes: std::collections::BTreeSet<_> =
            self.runtimes.iter().filter_map(|version| super::nodes::runtime_of(version)).collect();
        match runtimes.len() {
            0 | 1 => Ok(runtimes.into_iter().next()),
            _ => Err(format!(
                "the nodes run different runtimes ({}): the words are containerd 2's; pass --runtime to choose",
                self.runtimes.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// The kubelet version every node runs, when they all run one.
    fn one_kubelet(&self) -> Option<&str> {
        let mut versions = self.kubelets.values();
        let first = versions.next()?;
        versions.all(|version| version == first).then_some(first.as_str())
    }
}

/// A live Pod as the check must read it: it went through the ServiceAccount admission plugin when
/// it was created, so its pull-Secret list is final. An empty name stands for "names none" without
/// letting the check add the account's Secrets again (the kubelet skips empty names).
pub(super) fn admitted(pod: &Pod) -> Pod {
    let mut pod = pod.clone();
    if let Some(spec) = pod.spec.as_mut()
        && spec.image_pull_secrets.as_ref().is_none_or(Vec::is_empty)
    {
        spec.image_pull_secrets = Some(vec![k8s_openapi::api::core::v1::LocalObjectReference { name: String::new() }]);
    }
    pod
}

/// Runs the live check.
pub async fn check_cluster(cluster: &Cluster, options: LiveOptions) -> Result<LiveCheck, ClusterError> {
    let scope = Scope { cluster, all: options.all_namespaces };
    let ns = cluster.namespace.as_str();
    let mut notes = Vec::new();
    if !options.all_namespaces {
        // Listing a namespace that does not exist answers an empty list: a typo would pass.
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client.clone());
        if let Err(kube::Error::Api(status)) = namespaces.get(ns).await
            && status.code == 404
        {
            return Err(ClusterError::from_kube(
                kube::Error::Api(status),
                Action { verb: "get", resource: "namespaces", namespace: Some(ns) },
            ));
        }
    }
    let pods: Vec<Pod> = scope.list("pods", &ListParams::default()).await?;
    let failing_pods: Vec<&Pod> = pods.iter().filter(|pod| !failing_containers(pod).is_empty()).collect();
    let mut manifests = Manifests::default();
    for pod in &failing_pods {
        document(&admitted(pod), "Pod", &mut manifests, ns);
    }
    let mut not_listed = Vec::new();
    let mut refusal = None;
    macro_rules! workloads {
        ($kind:ty, $name:literal, $resource:literal) => {
            match scope.list::<$kind>($resource, &ListParams::default()).await {
                Ok(items) => {
                    for item in items.iter().filter(|item| !owned(item.meta())) {
                        document(item, $name, &mut manifests, ns);
                    }
                }
                Err(error) => {
                    not_listed.push($resource.to_owned());
                    refusal.get_or_insert(error);
                }
            }
        };
    }
    workloads!(Deployment, "Deployment", "deployments");
    workloads!(StatefulSet, "StatefulSet", "statefulsets");
    workloads!(DaemonSet, "DaemonSet", "daemonsets");
    workloads!(Job, "Job", "jobs");
    workloads!(CronJob, "CronJob", "cronjobs");
    // One reason for every kind refused (the same RBAC words each time).
    let not_listed_why =
        refusal.map(|error| error.refusal().map_or_else(|| error.to_string(), |refusal| refusal.message.clone()));
    let accounts: Option<Vec<ServiceAccount>> = match scope.list("serviceaccounts", &ListParams::default()).await {
        Ok(accounts) => Some(accounts),
        Err(error) => {
            notes.push(format!(
                "ServiceAccounts not read ({error}): templates that name no pull Secret are checked without theirs"
            ));
            None
        }
    };
    for account in accounts.iter().flatten() {
        document(account, "ServiceAccount", &mut manifests, ns);
    }
    let mut check_options = options.check;
    let facts = Nodes::read(cluster).await;
    if options.runtime_from_nodes {
        match facts.runtime() {
            Ok(Some(runtime)) => check_options.pull.runtime = runtime,
            Ok(None) => {}
            Err(why) => notes.push(why),
        }
    }
    let secrets = read_pull_secrets(&scope, &mut manifests, options.local, &mut check_options).await;
    check_options.origin = crate::check::Origin::Cluster { secrets_read: secrets == SecretsRead::Cluster };
    let nothing = manifests.workloads.is_empty();
    let inputs = Inputs { manifests, unreadable: Vec::new() };
    let mut report = check(&inputs, &check_options).await;
    if nothing {
        // An empty namespace is a finding, not an input error.
        report.errors.clear();
    }
    // The kubelet's words too, when every node runs one version (before 1.28 it keeps
    // `rpc error: code = Unknown desc =`): the same text as the Pods' own Events.
    if let Some(kubelet) = facts.one_kubelet() {
        for result in &mut report.results {
            if let Some(event) = &result.kubelet {
                result.kubelet = Some(kubelet_event_as_node_shows(event, &result.image, kubelet));
            }
        }
    }
    let mut failing = Vec::new();
    for pod in failing_pods {
        let node_name = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        let kubelet_version = node_name.as_ref().and_then(|node| facts.kubelets.get(node)).map(String::as_str);
        let events = pod_events(cluster, pod).await;
        let seen = Seen { events: &events, report: &report, accounts: accounts.as_deref(), kubelet_version };
        failing.extend(failing_containers(pod).into_iter().map(|failure| seen.failing_pod(pod, failure, ns)));
    }
    let scope_words = if options.all_namespaces { "all namespaces".to_owned() } else { format!("namespace {ns}") };
    Ok(LiveCheck {
        cluster: format!("context {}, {scope_words} ({})", cluster.context, cluster.server),
        secrets,
        failing,
        report,
        notes,
        not_listed,
        not_listed_why,
    })
}

/// What is known about one failing Pod.
struct Seen<'a> {
    events: &'a Result<Vec<Event>, ClusterError>,
    report: &'a CheckReport,
    accounts: Option<&'a [ServiceAccount]>,
    kubelet_version: Option<&'a str>,
}

impl Seen<'_> {
    fn failing_pod(&self, pod: &Pod, (container, image, reason): (String, String, String), ns: &str) -> FailingPod {
        let node_name = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        let pod_ns = pod.metadata.namespace.clone().unwrap_or_else(|| ns.to_owned());
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let node_event = match self.events {
            Ok(events) => last_failure(events, &image),
            Err(_) => None,
        };
        let result = self.report.results.iter().find(|result| {
            result.namespace == pod_ns && result.workload == format!("Pod/{pod_name}") && result.container == container
        });
        let predicted = result.and_then(|result| result.kubelet.as_ref());
        let predicted_event =
            predicted.map(|event| kubelet_event_as_node_shows(event, &image, self.kubelet_version.unwrap_or_default()));
        let matches = match (&node_event, &predicted_event) {
            // The node's kubelet version unknown: its Event may or may not keep the gRPC status.
            (Some(node), Some(predicted)) if self.kubelet_version.is_none() => {
                Some(node == predicted || *node == kubelet_event_as_node_shows(predicted, &image, "v1.27"))
            }
            (Some(node), Some(predicted)) => Some(node == predicted),
            (Some(_), None) => Some(false),
            _ => None,
        };
        let spec = pod.spec.as_ref();
        let pull_secrets: Vec<String> = spec
            .and_then(|spec| spec.image_pull_secrets.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.name)
            .collect();
        let service_account =
            spec.and_then(|spec| spec.service_account_name.clone()).unwrap_or_else(|| "default".to_owned());
        let service_account_secrets: Option<Vec<String>> = self.accounts.map(|accounts| {
            accounts
                .iter()
                .find(|account| {
                    account.metadata.namespace.as_deref() == Some(&pod_ns)
                        && account.metadata.name.as_deref() == Some(&service_account)
                })
                .and_then(|account| account.image_pull_secrets.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.name)
                .collect()
        });
        let mut notes = Vec::new();
        if let Err(error) = self.events {
            notes.push(format!("its Events could not be read: {error}"));
        }
        // A Pod gets its ServiceAccount's pull Secrets once, when it is created, and only when it
        // names none: one that names none while its account lists some was made before they were.
        let names_none = pull_secrets.iter().all(String::is_empty);
        if names_none && let Some(listed) = service_account_secrets.as_ref().filter(|listed| !listed.is_empty()) {
            let again = if owned(&pod.metadata) {
                "delete it: its controller makes a new one that has them"
            } else {
                "create it again"
            };
            notes.push(format!(
                "its ServiceAccount {service_account} lists {} now, but the Pod was created before it did (a Pod takes its \
                 ServiceAccount's pull Secrets only when it is created): {again}",
                listed.join(", ")
            ));
        }
        FailingPod {
            namespace: pod_ns,
            pod: pod_name,
            container,
            image,
            reason,
            node: node_name,
            node_event,
            pull_secrets,
            service_account,
            service_account_secrets,
            predicted_event,
            matches,
            notes,
        }
    }
}

/// Whether a controller owns the object (its owner's template is checked instead).
fn owned(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> bool {
    meta.owner_references.as_ref().is_some_and(|owners| owners.iter().any(|owner| owner.controller == Some(true)))
}

/// `(container, image, reason)` of each container waiting on a pull failure.
fn failing_containers(pod: &Pod) -> Vec<(String, String, String)> {
    let Some(status) = &pod.status else { return Vec::new() };
    let statuses = status.init_container_statuses.iter().flatten().chain(status.container_statuses.iter().flatten());
    statuses
        .filter_map(|container| {
            let reason = container.state.as_ref()?.waiting.as_ref()?.reason.clone()?;
            let image = pod
                .spec
                .as_ref()
                .and_then(|spec| {
                    spec.containers
                        .iter()
                        .chain(spec.init_containers.iter().flatten())
                        .find(|c| c.name == container.name)
                        .and_then(|c| c.image.clone())
                })
                .unwrap_or_else(|| container.image.clone());
            PULL_FAILURES.contains(&reason.as_str()).then(|| (container.name.clone(), image, reason))
        })
        .collect()
}

async fn pod_events(cluster: &Cluster, pod: &Pod) -> Result<Vec<Event>, ClusterError> {
    let ns = pod.metadata.namespace.clone().unwrap_or_else(|| cluster.namespace.clone());
    let name = pod.metadata.name.clone().unwrap_or_default();
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), &ns);
    let fields = format!("involvedObject.name={name},involvedObject.kind=Pod");
    events.list(&ListParams::default().fields(&fields)).await.map(|list| list.items).map_err(|error| {
        ClusterError::from_kube(error, Action { verb: "list", resource: "events", namespace: Some(&ns) })
    })
}

/// The kubelet's latest pull-failure Event for `image`.
fn last_failure(events: &[Event], image: &str) -> Option<String> {
    let pull = format!("Failed to pull image \"{image}\"");
    let inspect = format!("Failed to apply default image tag \"{image}\"");
    events
        .iter()
        .filter(|event| {
            event.message.as_deref().is_some_and(|message| message.starts_with(&pull) || message.starts_with(&inspect))
        })
        .max_by_key(|event| (event.last_timestamp.clone().map(|time| time.0), event.count))
        .and_then(|event| event.message.clone())
}

/// The pull Secrets into `manifests`; when they cannot be read, `local` stands in for them.
async fn read_pull_secrets(
    scope: &Scope<'_>,
    manifests: &mut Manifests,
    local: Option<super::LocalCredentials>,
    options: &mut CheckOptions,
) -> SecretsRead {
    match pull_secrets(scope).await {
        Ok(found) => {
            for secret in &found {
                document(secret, "Secret", manifests, &scope.cluster.namespace);
            }
            SecretsRead::Cluster
        }
        Err(error) => {
            let why = error.to_string();
            let mine = match local {
                Some(credentials) => credentials.read().await,
                None => None,
            };
            match mine {
                Some(local) => {
                    options.local = Some(local);
                    SecretsRead::Local(why)
                }
                None => SecretsRead::None(why),
            }
        }
    }
}

async fn pull_secrets(scope: &Scope<'_>) -> Result<Vec<Secret>, ClusterError> {
    let mut found = Vec::new();
    for kind in ["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"] {
        found.extend(scope.list::<Secret>("secrets", &ListParams::default().fields(&format!("type={kind}"))).await?);
    }
    Ok(found)
}
