//! `regcred verify`: the Kubernetes docs' `private-image-test-1` procedure, made safe. A Pod with a
//! unique name pulls the image with the Secret (`imagePullPolicy: Always`, `echo SUCCESS`); its
//! status and Events are followed live until the node pulled the image or said why not; the
//! node's Event is shown beside regcred's own prediction for the same image and credentials; the
//! Pod is always deleted (at the end, on cancel, on the deadline).

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::{Event, Node, Pod, Secret};
use kube::Api;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use serde::Serialize;

use super::connect::Cluster;
use super::nodes::{kubelet_event_as_node_shows, runtime_of};
use super::refusal::{Action, ClusterError};
use crate::check::{CheckOptions, CheckResult, Inputs, Manifests, Verdict, check};
use crate::registry::{Platform, PullOptions, Runtime};

/// The labels of every test Pod (how a Pod left by a crashed run is found).
pub const CLEANUP_SELECTOR: &str = "app.kubernetes.io/managed-by=regcred,app.kubernetes.io/name=private-image-test";

/// How long the follow waits, once the image is pulled, for the container to print `SUCCESS`.
const AFTER_PULL: Duration = Duration::from_secs(20);

/// How long a pull failure seen in the Pod's status waits for the kubelet's Event.
const EVENT_GRACE: Duration = Duration::from_secs(5);

/// What to verify.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// The image.
    pub image: String,
    /// The pull Secret the Pod names (none: the Pod names none, as a Pod without one).
    pub secret: Option<String>,
    /// Give up (and delete the Pod) after this long.
    pub timeout: Duration,
    /// The prediction's pull options (CAs, insecure hosts); runtime and platform come from the
    /// node unless `runtime` / `platform` are set.
    pub pull: PullOptions,
    /// The runtime whose words the prediction uses, instead of the node's.
    pub runtime: Option<Runtime>,
    /// The platform the prediction pulls for, instead of the node's.
    pub platform: Option<Platform>,
    /// Your local credentials, read (only) for the prediction when the Secret cannot be.
    pub local: Option<super::LocalCredentials>,
}

/// What the follow saw, as it happens (for the window's progress and the CLI's lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The Pod was created.
    Created(String),
    /// The Pod was bound to a node.
    Scheduled(String),
    /// An Event about the Pod: type, reason, message.
    Event(String, String, String),
    /// regcred's own test pull is running.
    Predicting,
    /// The Pod is being deleted.
    Deleting,
}

/// How the verification ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyOutcome {
    /// The node pulled the image.
    Pulled,
    /// The node could not pull it.
    Failed,
    /// Neither within the deadline.
    TimedOut,
    /// Cancelled by the user.
    Cancelled,
}

/// The result of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The kubeconfig context and namespace, in words.
    pub cluster: String,
    /// The image.
    pub image: String,
    /// The test Pod's name.
    pub pod: String,
    /// The node it ran on.
    pub node: Option<String>,
    /// How it ended.
    pub outcome: VerifyOutcome,
    /// The node's pull-failure Event (`Failed to pull image …`, or the InvalidImageName one).
    pub node_event: Option<String>,
    /// The node's `Pulled` Event (`Successfully pulled image …`), when it pulled.
    pub node_pulled: Option<String>,
    /// The container's waiting reason (`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`).
    pub reason: Option<String>,
    /// What the container printed (`SUCCESS`), when it ran.
    pub log: Option<String>,
    /// regcred's own test pull for the same image and credentials, from this machine.
    pub prediction: Option<CheckResult>,
    /// The prediction's event as this node's kubelet writes it.
    pub predicted_event: Option<String>,
    /// Whether the node and the prediction agree (the same Event text, or both pulled).
    pub matches: Option<bool>,
    /// Whose words the prediction uses, and why (`containerd-1.6, the node's containerd://1.6.20`).
    pub runtime: String,
    /// Every Event about the Pod, in order (`Warning Failed: …`).
    pub events: Vec<String>,
    /// What else to know (a missing Secret, credentials read locally, a container that could not
    /// start).
    pub notes: Vec<String>,
    /// Whether the Pod was deleted.
    pub deleted: bool,
}

/// A name no other run will pick: `private-image-test-` and 8 base-36 characters.
fn pod_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    #[allow(clippy::cast_possible_truncation, reason = "the low bits are the ones that change")]
    let nanos = nanos as u64;
    let mut seed = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    let mut id = String::new();
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        id.push(char::from_digit((seed % 36) as u32, 36).unwrap_or('x'));
    }
    format!("private-image-test-{id}")
}

/// The test Pod. Small requests and limits, so a namespace whose `ResourceQuota` demands them takes
/// it; `hardened`: the restricted Pod Security Standard's settings, running as user 65534 (for a
/// namespace that enforces it; `echo` runs as any user).
fn test_pod(name: &str, namespace: &str, image: &str, secret: Option<&str>, hardened: bool) -> serde_json::Value {
    let mut container = serde_json::json!({
        "name": "test",
        "image": image,
        "imagePullPolicy": "Always",
        "command": ["echo", "SUCCESS"],
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "64Mi"},
        },
    });
    if hardened {
        container["securityContext"] = serde_json::json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": true,
            "runAsUser": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        });
    }
    let mut spec = serde_json::json!({
        "containers": [container],
        "restartPolicy": "Never",
        "automountServiceAccountToken": false,
        "terminationGracePeriodSeconds": 0,
    });
    if let Some(secret) = secret {
        spec["imagePullSecrets"] = serde_json::json!([{ "name": secret }]);
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "regcred",
                "app.kubernetes.io/name": "private-image-test",
            },
        },
        "spec": spec,
    })
}

/// Creates the test Pod; where the namespace enforces the restricted Pod Security Standard, again
/// with its settings. The Pod as the API server made it (with the ServiceAccount's pull Secrets
/// when it names none).
async fn create_test_pod(
    pods: &Api<Pod>,
    name: &str,
    ns: &str,
    request: &VerifyRequest,
    notes: &mut Vec<String>,
) -> Result<Pod, ClusterError> {
    let refused =
        |error| ClusterError::from_kube(error, Action { verb: "create", resource: "pods", namespace: Some(ns) });
    let mut hardened = false;
    loop {
        let manifest = test_pod(name, ns, &request.image, request.secret.as_deref(), hardened);
        let pod: Pod = serde_json::from_value(manifest).map_err(|error| ClusterError::Unexpected(error.to_string()))?;
        match pods.create(&PostParams::default(), &pod).await {
            Ok(created) => {
                if hardened {
                    notes.push(
                        "the namespace enforces the restricted Pod Security Standard: the test Pod ran as user 65534 \
                         without privileges"
                            .to_owned(),
                    );
                }
                return Ok(created);
            }
            Err(kube::Error::Api(status))
                if !hardened && status.code == 403 && status.message.contains("PodSecurity") =>
            {
                hardened = true;
            }
            Err(error) => return Err(refused(error)),
        }
    }
}

/// Runs the verification: creates the Pod, follows it until the node pulled the image or said why
/// not (or `timeout`, or `cancel`), predicts, and deletes the Pod. `progress` hears each step.
pub async fn verify(
    cluster: &Cluster,
    request: &VerifyRequest,
    progress: &(dyn Fn(Progress) + Send + Sync),
    cancel: impl Future<Output = ()>,
) -> Result<VerifyReport, ClusterError> {
    let ns = cluster.namespace.as_str();
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    let name = pod_name();
    let mut seen = Seen::default();
    let created = create_test_pod(&pods, &name, ns, request, &mut seen.notes).await?;
    progress(Progress::Created(name.clone()));
    let deadline = Instant::now() + request.timeout;
    let outcome = {
        let follow = follow(
            cluster,
            &name,
            created.metadata.resource_version.as_deref().unwrap_or("0"),
            deadline,
            &mut seen,
            progress,
        );
        tokio::pin!(follow);
        tokio::pin!(cancel);
        tokio::select! {
            outcome = &mut follow => outcome,
            () = &mut cancel => VerifyOutcome::Cancelled,
        }
    };
    if outcome == VerifyOutcome::TimedOut
        && let Some(why) = seen.unscheduled.take()
    {
        seen.notes.push(format!(
            "no node took the test Pod ({why}): the image was never tried; free room or fix the taints and \
             node selectors the scheduler names"
        ));
    }
    if outcome == VerifyOutcome::Pulled && seen.log.is_none() {
        seen.log =
            pods.logs(&name, &LogParams { container: Some("test".to_owned()), ..LogParams::default() }).await.ok();
    }
    progress(Progress::Deleting);
    let deleted = match pods.delete(&name, &DeleteParams::default()).await {
        Ok(_) => true,
        Err(kube::Error::Api(status)) if status.code == 404 => true,
        Err(error) => {
            seen.notes.push(format!(
                "the test Pod {ns}/{name} could not be deleted ({}): remove it with `regcred verify --cleanup` or \
                 `kubectl delete pod {name} -n {ns}`",
                ClusterError::from_kube(error, Action { verb: "delete", resource: "pods", namespace: Some(ns) })
            ));
            false
        }
    };
    let mut report = VerifyReport {
        cluster: cluster.describe(),
        image: request.image.clone(),
        pod: name,
        node: seen.node.clone(),
        outcome,
        node_event: seen.failure.clone(),
        node_pulled: seen.pulled_message.clone(),
        reason: seen.reason.clone(),
        log: seen.log.take().map(|log| crate::untrusted::inert(log.trim_end(), 400)),
        prediction: None,
        predicted_event: None,
        matches: None,
        runtime: String::new(),
        events: seen.events.clone(),
        notes: std::mem::take(&mut seen.notes),
        deleted,
    };
    if outcome != VerifyOutcome::Cancelled {
        progress(Progress::Predicting);
        predict(cluster, request, &created, &mut report).await;
    }
    Ok(report)
}

/// What the follow has seen so far.
#[derive(Default)]
struct Seen {
    node: Option<String>,
    pulled: bool,
    ended: bool,
    failure: Option<String>,
    reason: Option<String>,
    failed_at: Option<Instant>,
    pulled_at: Option<Instant>,
    pulled_message: Option<String>,
    log: Option<String>,
    events: Vec<String>,
    event_keys: Vec<(String, i32)>,
    notes: Vec<String>,
    /// Why the scheduler has not placed the Pod (its `PodScheduled` condition), while it has not.
    unscheduled: Option<String>,
}

impl Seen {
    fn pod(&mut self, pod: &Pod, progress: &(dyn Fn(Progress) + Send + Sync)) {
        if let Some(node) = pod.spec.as_ref().and_then(|spec| spec.node_name.clone())
            && self.node.as_ref() != Some(&node)
        {
            progress(Progress::Scheduled(node.clone()));
            self.node = Some(node);
        }
        let Some(status) = &pod.status else { return };
        self.unscheduled = status
            .conditions
            .iter()
            .flatten()
            .find(|condition| condition.type_ == "PodScheduled" && condition.status == "False")
            .map(|condition| {
                let reason = condition.reason.as_deref().unwrap_or("not scheduled");
                let message = condition.message.as_deref().unwrap_or_default();
                crate::untrusted::inert(&format!("{reason}: {message}"), 2000)
            });
        for container in status.container_statuses.iter().flatten() {
            let Some(state) = &container.state else { continue };
            if let Some(waiting) = &state.waiting
                && let Some(reason) = &waiting.reason
                && matches!(reason.as_str(), "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName")
            {
                self.reason = Some(reason.clone());
                self.failed_at.get_or_insert_with(Instant::now);
            }
            if state.running.is_some() {
                self.pulled = true;
                self.pulled_at.get_or_insert_with(Instant::now);
            }
            if let Some(terminated) = &state.terminated {
                self.pulled = true;
                self.ended = true;
                if terminated.reason.as_deref() == Some("StartError") || terminated.exit_code != 0 {
                    let message = terminated.message.as_deref().unwrap_or_default();
                    self.notes.push(format!(
                        "the node pulled the image, but the test container could not run `echo SUCCESS` (exit code {}{}): \
                         the pull is what counts",
                        terminated.exit_code,
                        if message.is_empty() { String::new() } else { format!(": {}", crate::untrusted::inert(message, 400)) }
                    ));
                }
            }
        }
        if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
            self.ended = true;
        }
    }

    fn event(&mut self, event: &Event, progress: &(dyn Fn(Progress) + Send + Sync)) {
        let key = (event.metadata.uid.clone().unwrap_or_default(), event.count.unwrap_or(1));
        if self.event_keys.contains(&key) {
            return;
        }
        self.event_keys.push(key);
        let kind = crate::untrusted::inert(event.type_.as_deref().unwrap_or_default(), 40);
        let reason = crate::untrusted::inert(event.reason.as_deref().unwrap_or_default(), 200);
        let message = event.message.clone().unwrap_or_default();
        self.events.push(crate::untrusted::inert(&format!("{kind} {reason}: {message}"), 2000));
        progress(Progress::Event(kind, reason.clone(), crate::untrusted::inert(&message, 2000)));
        match reason.as_str() {
            "Failed" if message.starts_with("Failed to pull image") => {
                self.failure.get_or_insert(message);
                self.failed_at.get_or_insert_with(Instant::now);
            }
            "InspectFailed" => {
                self.failure.get_or_insert(message);
                self.reason.get_or_insert_with(|| "InvalidImageName".to_owned());
                self.failed_at.get_or_insert_with(Instant::now);
            }
            "Pulled" => {
                self.pulled_message.get_or_insert_with(|| crate::untrusted::inert(&message, 2000));
                self.pulled = true;
                self.pulled_at.get_or_insert_with(Instant::now);
            }
            "FailedToRetrieveImagePullSecret" => self.notes.push(crate::untrusted::inert(&message, 2000)),
            _ => {}
        }
    }

    /// The outcome, once there is one, or the deadline's.
    fn settled(&self, deadline: Instant) -> Option<VerifyOutcome> {
        let now = Instant::now();
        self.outcome(now).or_else(|| (now >= deadline).then_some(VerifyOutcome::TimedOut))
    }

    /// The outcome, once there is one.
    fn outcome(&self, now: Instant) -> Option<VerifyOutcome> {
        if self.pulled {
            let waited = self.pulled_at.is_some_and(|at| now.duration_since(at) >= AFTER_PULL);
            return (self.ended || waited).then_some(VerifyOutcome::Pulled);
        }
        if self.failure.is_some() && self.reason.is_some() {
            return Some(VerifyOutcome::Failed);
        }
        let waited = self.failed_at.is_some_and(|at| now.duration_since(at) >= EVENT_GRACE);
        (waited || self.ended).then_some(VerifyOutcome::Failed)
    }
}

/// Follows the Pod and its Events with two watches (opened again when the server ends one) until
/// there is an outcome or the deadline passes.
async fn follow(
    cluster: &Cluster,
    name: &str,
    pod_version: &str,
    deadline: Instant,
    seen: &mut Seen,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> VerifyOutcome {
    let ns = cluster.namespace.as_str();
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), ns);
    let pod_fields = format!("metadata.name={name}");
    let event_fields = format!("involvedObject.name={name},involvedObject.kind=Pod");
    let mut pod_version = pod_version.to_owned();
    let mut event_version = "0".to_owned();
    let mut events_refused = false;
    loop {
        if let Some(outcome) = seen.settled(deadline) {
            return outcome;
        }
        let now = Instant::now();
        let left = u32::try_from(deadline.duration_since(now).as_secs().max(1)).unwrap_or(u32::MAX);
        let pod_params = WatchParams::default().fields(&pod_fields).timeout(left.min(290));
        let Ok(pod_stream) = pods.watch(&pod_params, &pod_version).await else {
            // Watching may be forbidden or cut: read the Pod once a second instead.
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok(pod) = pods.get(name).await {
                seen.pod(&pod, progress);
            }
            if !events_refused {
                events_refused = poll_events(&events, &event_fields, seen, progress).await.is_err();
            }
            continue;
        };
        let pod_stream = pod_stream.boxed();
        let event_stream = if events_refused {
            futures_util::stream::pending().boxed()
        } else {
            let event_params = WatchParams::default().fields(&event_fields).timeout(left.min(290));
            if let Ok(stream) = events.watch(&event_params, &event_version).await {
                stream.boxed()
            } else {
                events_refused = true;
                seen.notes.push("the Pod's Events could not be watched: only its status was followed".to_owned());
                futures_util::stream::pending().boxed()
            }
        };
        let mut pod_stream = pod_stream;
        let mut event_stream = event_stream;
        loop {
            if let Some(outcome) = seen.settled(deadline) {
                return outcome;
            }
            // Wake at least once a second so the grace periods end on time.
            let tick = tokio::time::sleep(Duration::from_secs(1));
            tokio::select! {
                next = pod_stream.next() => match next {
                    Some(Ok(WatchEvent::Added(pod) | WatchEvent::Modified(pod))) => {
                        if let Some(version) = &pod.metadata.resource_version { pod_version.clone_from(version); }
                        seen.pod(&pod, progress);
                    }
                    Some(Ok(WatchEvent::Deleted(_))) => {
                        seen.notes.push("someone else deleted the test Pod".to_owned());
                        seen.ended = true;
                    }
                    Some(Ok(WatchEvent::Bookmark(_))) => {}
                    // Expired (410 Gone) or cut: read the Pod and watch from there.
                    Some(Ok(WatchEvent::Error(_)) | Err(_)) | None => {
                        if let Ok(pod) = pods.get(name).await {
                            pod.metadata.resource_version.clone_into_opt(&mut pod_version);
                            seen.pod(&pod, progress);
                        }
                        break;
                    }
                },
                next = event_stream.next() => match next {
                    Some(Ok(WatchEvent::Added(event) | WatchEvent::Modified(event))) => {
                        if let Some(version) = &event.metadata.resource_version { event_version.clone_from(version); }
                        seen.event(&event, progress);
                    }
                    Some(Ok(WatchEvent::Deleted(_) | WatchEvent::Bookmark(_))) => {}
                    Some(Ok(WatchEvent::Error(_)) | Err(_)) | None => {
                        "0".clone_into(&mut event_version);
                        break;
                    }
                },
                () = tick => {}
            }
        }
    }
}

trait CloneIntoOpt {
    fn clone_into_opt(&self, target: &mut String);
}

impl CloneIntoOpt for Option<String> {
    fn clone_into_opt(&self, target: &mut String) {
        if let Some(value) = self {
            target.clone_from(value);
        }
    }
}

async fn poll_events(
    events: &Api<Event>,
    fields: &str,
    seen: &mut Seen,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(), kube::Error> {
    for event in events.list(&ListParams::default().fields(fields)).await? {
        seen.event(&event, progress);
    }
    Ok(())
}

/// regcred's own test pull of the same image with the Secret's credentials (read through the
/// API), in the words of the node's runtime and kubelet.
async fn predict(cluster: &Cluster, request: &VerifyRequest, pod: &Pod, report: &mut VerifyReport) {
    let ns = cluster.namespace.as_str();
    let node = match &report.node {
        Some(node) => Api::<Node>::all(cluster.client.clone()).get(node).await.ok(),
        None => None,
    };
    let info = node.as_ref().and_then(|node| node.status.as_ref()?.node_info.clone());
    let (runtime, why) = match (request.runtime, &info) {
        (Some(runtime), _) => (runtime, "chosen with --runtime".to_owned()),
        (None, Some(info)) => match runtime_of(&info.container_runtime_version) {
            Some(runtime) => (runtime, format!("the node's {}", info.container_runtime_version)),
            None => {
                (Runtime::default(), format!("the node's {} is not one regcred knows", info.container_runtime_version))
            }
        },
        (None, None) => (Runtime::default(), "the node could not be read".to_owned()),
    };
    report.runtime = format!("{} ({why})", runtime.label());
    let platform = request.platform.clone().or_else(|| {
        info.as_ref().map(|info| Platform {
            os: info.operating_system.clone(),
            architecture: info.architecture.clone(),
            variant: None,
        })
    });
    let mut manifests = Manifests::default();
    super::live::document(&super::live::admitted(pod), "Pod", &mut manifests, ns);
    let mut local: Option<crate::kubelet::Keyring> = None;
    let mut secrets_read = true;
    // The Secrets the Pod names as the API server made it: `--secret`, or its ServiceAccount's.
    let named: Vec<String> = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.image_pull_secrets.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|reference| reference.name)
        .filter(|name| !name.is_empty())
        .collect();
    if request.secret.is_none() && !named.is_empty() {
        report.notes.push(format!("the Pod names no pull Secret: its ServiceAccount gave it {}", named.join(", ")));
    }
    for secret in &named {
        match Api::<Secret>::namespaced(cluster.client.clone(), ns).get(secret).await {
            Ok(found) => super::live::document(&found, "Secret", &mut manifests, ns),
            Err(kube::Error::Api(status)) if status.code == 404 => report.notes.push(format!(
                "the Secret {ns}/{secret} does not exist: the kubelet pulls without it (v1.26 only logs this; newer \
                 kubelets also report FailedToRetrieveImagePullSecret)"
            )),
            Err(error) => {
                secrets_read = false;
                let why =
                    ClusterError::from_kube(error, Action { verb: "get", resource: "secrets", namespace: Some(ns) });
                let mine = match (&local, &request.local) {
                    (Some(read), _) => Some(read.clone()),
                    (None, Some(credentials)) => credentials.read().await,
                    (None, None) => None,
                };
                if let Some(mine) = mine {
                    report.notes.push(format!(
                        "the Secret {secret} could not be read ({why}): predicted with your local credentials"
                    ));
                    local = Some(mine);
                } else {
                    report.notes.push(format!("the Secret {secret} could not be read ({why}): predicted without it"));
                }
            }
        }
    }
    let inputs = Inputs { manifests, unreadable: Vec::new() };
    let options = CheckOptions {
        pull: PullOptions { runtime, platform: platform.unwrap_or_default(), ..request.pull.clone() },
        local,
        origin: crate::check::Origin::Cluster { secrets_read },
        ..CheckOptions::default()
    };
    let checked = check(&inputs, &options).await;
    let Some(result) = checked.results.into_iter().next() else { return };
    let kubelet_version = info.as_ref().map_or("", |info| info.kubelet_version.as_str());
    report.predicted_event =
        result.kubelet.as_ref().map(|event| kubelet_event_as_node_shows(event, &request.image, kubelet_version));
    report.matches = match (report.outcome, result.verdict) {
        (VerifyOutcome::Pulled, Verdict::Pulls) => Some(true),
        (VerifyOutcome::Failed, Verdict::Fails) => {
            Some(report.node_event.is_some() && report.node_event == report.predicted_event)
        }
        (VerifyOutcome::Pulled | VerifyOutcome::Failed, _) => Some(false),
        _ => None,
    };
    report.prediction = Some(result);
}

/// How old a test Pod must be to count as left behind: younger ones may belong to a run that is
/// still going (someone else's, or another window's).
pub const LEFTOVER_AGE: Duration = Duration::from_mins(10);

/// The test Pods of earlier runs still in the namespace (a run that crashed or lost the cluster):
/// those older than [`LEFTOVER_AGE`].
pub async fn leftover_pods(cluster: &Cluster) -> Result<Vec<String>, ClusterError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let listed = pods.list(&ListParams::default().labels(CLEANUP_SELECTOR)).await.map_err(|error| {
        ClusterError::from_kube(error, Action { verb: "list", resource: "pods", namespace: Some(&cluster.namespace) })
    })?;
    let now = std::time::SystemTime::now();
    let old = |pod: &Pod| {
        pod.metadata.creation_timestamp.as_ref().is_none_or(|created| {
            let created =
                std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(created.0.as_second()).unwrap_or(0));
            now.duration_since(created).is_ok_and(|age| age >= LEFTOVER_AGE)
        })
    };
    Ok(listed.items.into_iter().filter(old).filter_map(|pod| pod.metadata.name).collect())
}

/// What `cleanup` did.
#[derive(Debug, Clone, Default)]
pub struct Cleanup {
    /// The test Pods deleted (older than [`LEFTOVER_AGE`]).
    pub deleted: Vec<String>,
    /// The younger ones, left alone.
    pub spared: Vec<String>,
}

/// Deletes the test Pods of earlier runs (older than [`LEFTOVER_AGE`]).
pub async fn cleanup(cluster: &Cluster) -> Result<Cleanup, ClusterError> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let action = |verb| Action { verb, resource: "pods", namespace: Some(cluster.namespace.as_str()) };
    let all = pods
        .list(&ListParams::default().labels(CLEANUP_SELECTOR))
        .await
        .map_err(|error| ClusterError::from_kube(error, action("list")))?;
    let deleted = leftover_pods(cluster).await?;
    for name in &deleted {
        match pods.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(ClusterError::from_kube(error, action("delete"))),
        }
    }
    let spared =
        all.items.into_iter().filter_map(|pod| pod.metadata.name).filter(|name| !deleted.contains(name)).collect();
    Ok(Cleanup { deleted, spared })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pods_have_unique_names_and_the_cleanup_labels() {
        let a = pod_name();
        std::thread::sleep(Duration::from_millis(1));
        assert_ne!(a, pod_name());
        assert!(a.starts_with("private-image-test-") && a.len() == "private-image-test-".len() + 8);
        let pod = test_pod(&a, "ns", "r.io/i:1", Some("regcred"), false);
        assert!(pod["spec"]["containers"][0].get("securityContext").is_none());
        let hardened = test_pod(&a, "ns", "r.io/i:1", None, true);
        assert_eq!(hardened["spec"]["containers"][0]["securityContext"]["runAsUser"], 65534);
        assert!(hardened["spec"].get("imagePullSecrets").is_none());
        assert_eq!(pod["metadata"]["labels"]["app.kubernetes.io/managed-by"], "regcred");
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(pod["spec"]["imagePullSecrets"][0]["name"], "regcred");
        let parsed: Pod = serde_json::from_value(pod).expect("a Pod");
        assert_eq!(
            parsed.spec.expect("spec").containers[0].command.as_deref(),
            Some(&["echo".to_owned(), "SUCCESS".to_owned()][..])
        );
    }
}
