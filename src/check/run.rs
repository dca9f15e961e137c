//! Running a check: each workload's credentials as the kubelet builds them, one test pull per
//! distinct (image, credential list) in parallel — every matching credential tried in order, as
//! the kubelet does — and the verdict of every container.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::manifests::{Container, Lookup, PodSecrets, PullPolicy, SecretsFrom, Workload};
use crate::image_ref::ImageRef;
use crate::keychain::Credential;
use crate::kubelet::{
    CredentialOrigin, Keyring, KeyringCredential, UnionKeyring, aggregate_error, failed_to_retrieve_image_pull_secret,
    make_docker_keyring,
};
use crate::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller};

/// The verdict of a pull the deadline stopped.
pub const UNFINISHED: &str = "not finished within the deadline";

/// How a check runs.
#[derive(Debug, Default)]
pub struct CheckOptions {
    /// The test pulls' options (quick mode, platform, runtime, CAs).
    pub pull: PullOptions,
    /// The node's own Docker config, as the kubelet reads it, when given.
    pub node: Option<Keyring>,
    /// The user's local credentials, standing in for Secrets missing from the manifests
    /// (`--local`).
    pub local: Option<Keyring>,
    /// When the run began (for `regcred check`, the process's start): the summary's time and the
    /// deadline count from it. None: from the call.
    pub started: Option<Instant>,
    /// How long the run may take, counted from `started`: pulls not finished by then end as
    /// [`Verdict::Unfinished`]. None: no deadline.
    pub deadline: Option<Duration>,
    /// Where the objects come from, for the words about what is missing.
    pub origin: Origin,
}

/// Where a check's objects come from.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Manifests: what is not in them may still be in the cluster.
    #[default]
    Manifests,
    /// A cluster's live objects (`check --cluster`, `verify`): a Secret not among them does not
    /// exist in the cluster when `secrets_read`, else it could not be read.
    Cluster {
        /// Whether the pull Secrets could be read (else `local` stands in for them).
        secrets_read: bool,
    },
}

/// How a container fares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The node would pull the image.
    Pulls,
    /// The pod would end in `ErrImagePull`, then `ImagePullBackOff`.
    Fails,
    /// Not pulled (`imagePullPolicy: Never`).
    Skipped,
    /// The test pull did not finish within the run's deadline: nothing is known.
    Unfinished,
}

/// The credential a pull used or tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsedCredential {
    /// The pull Secret's name (none for the node's config or local credentials).
    pub secret: Option<String>,
    /// The registry key that matched.
    pub key: String,
    /// Where it came from, in words (`Secret shop/regcred (.dockerconfigjson)`).
    pub(crate) origin: String,
}

impl UsedCredential {
    fn of(credential: &KeyringCredential) -> Self {
        let (secret, origin) = match &credential.origin {
            CredentialOrigin::PodSecret { namespace, name, data_key } => {
                (Some(name.clone()), format!("Secret {namespace}/{name} ({data_key})"))
            }
            CredentialOrigin::NodeConfig { path } => (None, path.clone()),
        };
        Self { secret, key: credential.key.clone(), origin }
    }

    /// `Secret shop/regcred (.dockerconfigjson), key registry.example.com`.
    pub fn describe(&self) -> String {
        format!("{}, key {}", self.origin, self.key)
    }

    /// The credential an attempt used, in words for every face: [`UsedCredential::describe`],
    /// or `no credential (anonymous)`.
    pub fn describe_used(credential: Option<&Self>) -> String {
        credential.map_or_else(|| ANONYMOUS.to_owned(), Self::describe)
    }
}

/// How the faces name an attempt with no credential.
const ANONYMOUS: &str = "no credential (anonymous)";

/// One failed attempt with one credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The credential (none: anonymous).
    pub credential: Option<UsedCredential>,
    /// The runtime's error text, as the kubelet aggregates it.
    pub error: String,
}

/// One container's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The pod's namespace.
    pub namespace: String,
    /// `Kind/name`.
    pub workload: String,
    /// The container's name.
    pub container: String,
    /// The image as written.
    pub image: String,
    /// `pulls`, `fails` or `skipped`.
    pub verdict: Verdict,
    /// The credential that pulled (for a failure, the last one tried); none: anonymous.
    pub credential: Option<UsedCredential>,
    /// For a failure, the kubelet's event text (`Failed to pull image …`).
    pub kubelet: Option<String>,
    /// For a failure, the pod's reason (`ErrImagePull`, `InvalidImageName` …).
    pub reason: Option<String>,
    /// For a failure, the one-line cause.
    pub cause: Option<String>,
    /// For a failure, what to do.
    pub what_to_do: Option<String>,
    /// The credentials that failed before (or instead of) the one that pulled.
    pub tried: Vec<Attempt>,
    /// The manifest digest the image resolved to, when it pulls.
    pub digest: Option<String>,
    /// When the credential used stops working, if within a day (RFC 3339).
    pub expires_at: Option<String>,
    /// What else the cluster would say (a missing Secret's event, a `ServiceAccount` not in the
    /// manifests, the pull policy).
    pub notes: Vec<String>,
    /// Where the workload was read (`file`, document number).
    pub source: String,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Every container, in reading order.
    pub results: Vec<CheckResult>,
    /// Counts and timing.
    pub summary: Summary,
    /// Documents that could not be read (`file #n: why`).
    pub errors: Vec<String>,
    /// What was read but deserves a word (an object named twice).
    pub warnings: Vec<String>,
}

/// The counts of a check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Workloads read.
    pub workloads: usize,
    /// Containers checked.
    pub containers: usize,
    /// Distinct (image, credentials) pulls made.
    pub pulls_made: usize,
    /// Containers that pull.
    pub pulls: usize,
    /// Containers that fail.
    pub fails: usize,
    /// Containers skipped.
    pub skipped: usize,
    /// Containers whose pull did not finish within the deadline.
    pub unfinished: usize,
    /// Requests sent, per registry host (token services counted with their registry).
    pub requests: BTreeMap<String, usize>,
    /// Registry hosts that could not be reached at all (once each: every pull to one shares its
    /// failure).
    pub unreachable: Vec<UnreachableHost>,
    /// Wall time of the run, in seconds (for `regcred check`, since the process started).
    pub seconds: f64,
    /// Objects of kinds regcred does not read, counted by kind (`ConfigMap`,
    /// `Certificate.cert-manager.io`).
    pub not_read: BTreeMap<String, usize>,
}

impl Summary {
    /// The objects of kinds regcred does not read, in words (`3 objects of kinds regcred does not
    /// read: ConfigMap ×2, Service`); none when every object was read.
    pub fn not_read_words(&self) -> Option<String> {
        if self.not_read.is_empty() {
            return None;
        }
        let count: usize = self.not_read.values().sum();
        let kinds: Vec<String> = self
            .not_read
            .iter()
            .map(|(kind, n)| if *n == 1 { kind.clone() } else { format!("{kind} \u{d7}{n}") })
            .collect();
        Some(format!(
            "{count} object{} of kinds regcred does not read: {}",
            if count == 1 { "" } else { "s" },
            kinds.join(", ")
        ))
    }
}

/// A registry host no pull could reach (its name, a connection, TLS), said once for all its
/// images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreachableHost {
    /// The registry host (`host[:port]`).
    pub host: String,
    /// The verdict in plain words.
    pub cause: String,
    /// What failed, in the runtime's words (`lookup HOST on 10.0.0.2:53: i/o timeout`).
    pub detail: String,
    /// What to do.
    pub what_to_do: String,
    /// Distinct pulls that ended with it.
    pub pulls: usize,
}

impl CheckReport {
    /// Whether every container would pull (or is skipped): none fails, none is unfinished.
    pub fn all_pull(&self) -> bool {
        self.summary.fails == 0 && self.summary.unfinished == 0
    }
}

/// One container to decide, before any pull: small, as a check holds one per container (its
/// report is made from it when asked, see [`Verdicts`]).
struct Pending<'m> {
    workload: &'m Workload,
    container: &'m Container,
    /// What its workload's containers share.
    shared: std::sync::Arc<Shared>,
    plan: Plan,
}

/// What the cluster would say about a workload's pull Secrets, shared by its containers.
struct Shared {
    notes: Vec<String>,
    /// What to do first if the pull fails, when the manifests themselves explain it.
    hint: Option<String>,
    /// Neither the pod nor a `ServiceAccount` that could name any names a pull Secret.
    names_no_secret: bool,
    /// Pull Secrets the pod uses were found in the manifests.
    secrets_found: bool,
}

/// What a container needs.
enum Plan {
    /// Nothing to pull (`imagePullPolicy: Never`).
    Skip,
    /// The kubelet fails before any pull (a broken Secret, an invalid image name).
    FailEarly(Box<FailEarly>),
    /// Job number `n`.
    Pull(usize),
}

/// How the kubelet fails before any pull.
struct FailEarly {
    reason: &'static str,
    event: String,
    what_to_do: String,
}

/// A distinct pull: the image (as written, and parsed once) and the credentials to try in order.
struct Job {
    image: String,
    reference: ImageRef,
    credentials: Vec<KeyringCredential>,
}

/// How a job ended.
#[derive(Default)]
struct JobOutcome {
    /// The attempt that pulled: its credential index and report.
    pulled: Option<(Option<usize>, PullReport)>,
    /// Each failed attempt: credential index (none: anonymous), report.
    failed: Vec<(Option<usize>, PullReport)>,
    /// It did not end within the deadline (which then names it).
    unfinished: Option<Duration>,
}

/// Checks every container of what [`super::manifests::read_inputs`] read. The report's `errors`
/// are the input errors, in one order for every face: each path that could not be read, each
/// document that could not be parsed, and "no workloads" when nothing was found to check.
pub async fn check(inputs: &super::manifests::Inputs, options: &CheckOptions) -> CheckReport {
    verdicts(inputs, options).await.into_report()
}

/// A check whose results are made one at a time when asked: what [`check`] does, without holding
/// every container's [`CheckResult`] at once (`regcred check` writes them out one by one).
pub struct Verdicts<'m> {
    pending: Vec<Pending<'m>>,
    jobs: Vec<Job>,
    outcomes: Vec<JobOutcome>,
    /// Counts and timing.
    pub summary: Summary,
    /// As [`CheckReport::errors`].
    pub errors: Vec<String>,
    /// As [`CheckReport::warnings`].
    pub warnings: Vec<String>,
}

impl Verdicts<'_> {
    /// How many containers (results) there are.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The result of container `index` (in reading order), as [`CheckReport::results`] holds it.
    pub fn result(&self, index: usize) -> CheckResult {
        verdict_of(&self.pending[index], &self.jobs, &self.outcomes)
    }

    /// Whether every container would pull (or is skipped), as [`CheckReport::all_pull`].
    pub fn all_pull(&self) -> bool {
        self.summary.fails == 0 && self.summary.unfinished == 0
    }

    /// The report without its results, made inert ([`CheckReport::inert`]): the summary, errors
    /// and warnings as the text faces show them.
    pub fn inert_head(&self) -> CheckReport {
        CheckReport {
            results: Vec::new(),
            summary: self.summary.clone(),
            errors: self.errors.clone(),
            warnings: self.warnings.clone(),
        }
        .inert()
    }

    /// The whole report, every result made.
    pub fn into_report(self) -> CheckReport {
        let results = (0..self.len()).map(|index| self.result(index)).collect();
        CheckReport { results, summary: self.summary, errors: self.errors, warnings: self.warnings }
    }
}

/// The same JSON as [`CheckReport`]'s, each result made as it is written.
impl Serialize for Verdicts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeSeq as _, SerializeStruct as _};
        struct Results<'v, 'm>(&'v Verdicts<'m>);
        impl Serialize for Results<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
                for index in 0..self.0.len() {
                    seq.serialize_element(&self.0.result(index))?;
                }
                seq.end()
            }
        }
        let mut report = serializer.serialize_struct("CheckReport", 4)?;
        report.serialize_field("results", &Results(self))?;
        report.serialize_field("summary", &self.summary)?;
        report.serialize_field("errors", &self.errors)?;
        report.serialize_field("warnings", &self.warnings)?;
        report.end()
    }
}

/// [`check`], its results made when asked.
pub async fn verdicts<'m>(inputs: &'m super::manifests::Inputs, options: &CheckOptions) -> Verdicts<'m> {
    let manifests = &inputs.manifests;
    let mut jobs = Jobs::default();
    let mut pending = Vec::new();
    let (kept, warnings) = manifests.repeats();
    let workloads = kept.len();
    let lookup = manifests.lookup();
    // Most workloads share the same nothing to say: one copy each.
    let nothing_to_say = [false, true].map(|names_no_secret| {
        [false, true].map(|secrets_found| {
            std::sync::Arc::new(Shared { notes: Vec::new(), hint: None, names_no_secret, secrets_found })
        })
    });
    for workload in kept.into_iter().map(|index| &manifests.workloads[index]) {
        // The pod's pull Secrets as the cluster would build them, once per workload.
        let secrets = lookup.pod_pull_secrets(workload);
        let (keyring, notes, hint) = workload_keyring(&lookup, &secrets, workload, options);
        let names_no_secret = names_no_secret(&secrets);
        let secrets_found = !secrets.found.is_empty();
        let shared = if notes.is_empty() && hint.is_none() {
            nothing_to_say[usize::from(names_no_secret)][usize::from(secrets_found)].clone()
        } else {
            std::sync::Arc::new(Shared { notes, hint, names_no_secret, secrets_found })
        };
        for container in &workload.containers {
            let plan = plan_container(container, keyring.as_ref(), &mut jobs);
            pending.push(Pending { workload, container, shared: shared.clone(), plan });
        }
    }
    let jobs = jobs.list;
    let started = options.started.unwrap_or_else(Instant::now);
    let deadline = options.deadline.map(|limit| (tokio::time::Instant::from_std(started + limit), limit));
    let outcomes = run_jobs(&jobs, &options.pull, deadline).await;
    let mut summary =
        Summary { workloads, pulls_made: jobs.len(), not_read: manifests.not_read.clone(), ..Summary::default() };
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        let sent: usize = outcome.failed.iter().chain(&outcome.pulled).map(|(_, report)| report.requests.len()).sum();
        *summary.requests.entry(host_of(job)).or_default() += sent;
    }
    summary.unreachable = unreachable_hosts(&jobs, &outcomes);
    summary.containers = pending.len();
    for result in pending.iter().map(|p| verdict_of(p, &jobs, &outcomes)) {
        match result.verdict {
            Verdict::Pulls => summary.pulls += 1,
            Verdict::Fails => summary.fails += 1,
            Verdict::Skipped => summary.skipped += 1,
            Verdict::Unfinished => summary.unfinished += 1,
        }
    }
    let mut errors: Vec<String> = inputs.unreadable.clone();
    errors.extend(manifests.errors.iter().map(ToString::to_string));
    if manifests.workloads.is_empty() {
        let not_read = summary.not_read_words().map(|words| format!(" ({words})")).unwrap_or_default();
        errors.push(format!(
            "no workloads (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, or a custom resource with a pod template …) in the manifests{not_read}"
        ));
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Verdicts { pending, jobs, outcomes, summary, errors, warnings }
}

/// The registry host of a job's image.
fn host_of(job: &Job) -> String {
    job.reference.registry_host().to_owned()
}

/// The hosts no pull could reach, once each, with the failure their pulls share.
fn unreachable_hosts(jobs: &[Job], outcomes: &[JobOutcome]) -> Vec<UnreachableHost> {
    let mut hosts: BTreeMap<String, UnreachableHost> = BTreeMap::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        let Some(failure) = outcome.failed.last().and_then(|(_, report)| match &report.outcome {
            Outcome::Failure(failure) if failure.class.is_reaching_the_host() && failure.status.is_none() => {
                Some(failure)
            }
            _ => None,
        }) else {
            continue;
        };
        let host = host_of(job);
        hosts
            .entry(host.clone())
            .or_insert_with(|| UnreachableHost {
                host,
                cause: failure.verdict.clone(),
                detail: failure.detail.clone(),
                what_to_do: failure.what_to_do.clone(),
                pulls: 0,
            })
            .pulls += 1;
    }
    hosts.into_values().collect()
}

/// The pod's keyring as the kubelet builds it, and what the cluster would say about its Secrets.
/// Whether nothing names a pull Secret for `workload`: not its pod, not its `ServiceAccount` (the
/// `default` one, when it is not in the manifests, names none in most clusters).
fn names_no_secret(secrets: &PodSecrets<'_>) -> bool {
    secrets.found.is_empty()
        && secrets.missing.is_empty()
        && match &secrets.from {
            SecretsFrom::Pod | SecretsFrom::ServiceAccount { .. } => true,
            SecretsFrom::UnknownServiceAccount { name } => name == "default",
        }
}

fn workload_keyring(
    lookup: &Lookup<'_>,
    secrets: &PodSecrets<'_>,
    workload: &Workload,
    options: &CheckOptions,
) -> (Result<UnionKeyring, crate::kubelet::KeyringError>, Vec<String>, Option<String>) {
    let mut notes = Vec::new();
    let mut hint = None;
    for secret in &secrets.found {
        if secret.kubelet_data().kubelet_config().is_none() {
            notes.push(format!(
                "the Secret {}/{} has type {} (or no data under its key): the kubelet reads only kubernetes.io/dockerconfigjson (.dockerconfigjson) and kubernetes.io/dockercfg (.dockercfg) Secrets, and ignores it",
                secret.namespace, secret.name, secret.secret_type
            ));
            hint = Some(format!(
                "Make the Secret {} a kubernetes.io/dockerconfigjson Secret (kubectl create secret docker-registry, or regcred yaml).",
                secret.name
            ));
        }
    }
    // A Secret in another namespace is as good as missing: pods read only their own namespace's.
    let elsewhere: Vec<String> = secrets
        .missing
        .iter()
        .filter_map(|name| {
            let other = lookup.secret_elsewhere(name, &workload.namespace)?;
            Some(format!("{name} (it is in namespace {other}, not {})", workload.namespace))
        })
        .collect();
    if !elsewhere.is_empty() {
        notes.push(format!("a pod reads pull Secrets only from its own namespace: {}", elsewhere.join(", ")));
        hint = Some(format!(
            "Create the Secret in namespace {} too (pods cannot use another namespace's Secrets).",
            workload.namespace
        ));
    }
    if let SecretsFrom::ServiceAccount { name } = &secrets.from {
        notes.push(format!(
            "the pod names no imagePullSecrets: they come from its ServiceAccount {}/{name}",
            workload.namespace
        ));
    }
    if let SecretsFrom::UnknownServiceAccount { name } = &secrets.from
        && name != "default"
    {
        notes.push(match options.origin {
            Origin::Manifests => format!(
                "the ServiceAccount {}/{name} is not in the manifests: in the cluster, its imagePullSecrets would be added to the pod",
                workload.namespace
            ),
            Origin::Cluster { .. } => format!(
                "the ServiceAccount {}/{name} could not be read: its imagePullSecrets (if any) are not in this check",
                workload.namespace
            ),
        });
    }
    let node = options.node.clone().unwrap_or_default();
    let mut local = None;
    if !secrets.missing.is_empty() {
        let (s, are) = if secrets.missing.len() == 1 { ("", "is") } else { ("s", "are") };
        match &options.local {
            // --local stands in for Secrets that are nowhere, not for a namespace mistake.
            Some(keyring) if elsewhere.is_empty() => {
                notes.push(match options.origin {
                    Origin::Manifests => format!(
                        "the Secret{s} {} {are} not in the manifests: checked with your local credentials instead (--local)",
                        secrets.missing.join(", ")
                    ),
                    Origin::Cluster { .. } => format!(
                        "the Secret{s} {} could not be read from the cluster: checked with your local credentials instead",
                        secrets.missing.join(", ")
                    ),
                });
                local = Some(keyring.clone());
            }
            _ => {
                notes.push(format!(
                    "{}: {}",
                    crate::kubelet::FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET,
                    failed_to_retrieve_image_pull_secret(&secrets.missing)
                ));
                let broken: Vec<&str> = secrets
                    .missing
                    .iter()
                    .filter(|name| lookup.is_broken_secret(name, &workload.namespace))
                    .map(String::as_str)
                    .collect();
                if hint.is_none() && !broken.is_empty() {
                    hint = Some(format!(
                        "The Secret {} is in these manifests but cannot be read (see the input error): the API server would refuse it, so the kubelet finds none. Fix it (regcred yaml writes a correct one).",
                        broken.join(", ")
                    ));
                }
                if hint.is_none() {
                    hint = Some(missing_secrets_hint(options.origin, &secrets.missing, &workload.namespace));
                }
            }
        }
    }
    // The pod's Secrets first, then (with --local) the local credentials in the missing ones'
    // place, then the node's own config: MakeDockerKeyring's order.
    let keyring = match local {
        None => make_docker_keyring(&secrets.kubelet_data(), node),
        Some(local) => crate::kubelet::secrets_keyring(&secrets.kubelet_data())
            .map(|pod| UnionKeyring::new(pod.into_iter().chain([local, node]).collect())),
    };
    (keyring, notes, hint)
}

/// What to do about pull Secrets a pod names that are not there, by where the objects came from.
fn missing_secrets_hint(origin: Origin, missing: &[String], namespace: &str) -> String {
    let (s, are, them, subject) =
        if missing.len() == 1 { ("", "is", "it", "it") } else { ("s", "are", "them", "they") };
    let names = missing.join(", ");
    match origin {
        Origin::Manifests => format!(
            "The Secret{s} {names} {are} not in these manifests: add {them}, apply {them} first, or check with your own logins (`regcred check --local`; in the window, the box \"with my own credentials\")."
        ),
        Origin::Cluster { secrets_read: true } => format!(
            "The Secret{s} {names} {} not exist in namespace {namespace}: create {them} (`regcred apply`, or Apply to cluster… in the window's Kubernetes tab), or name the right one in imagePullSecrets.",
            if s.is_empty() { "does" } else { "do" }
        ),
        Origin::Cluster { secrets_read: false } => format!(
            "The Secret{s} {names} could not be read from the cluster, so this check cannot say whether {subject} {are} right; ask for `get secrets` in namespace {namespace}, or check with your own logins."
        ),
    }
}

/// The distinct pulls, indexed by image so that finding a container's job costs the same for the
/// 100,000th container as for the first.
#[derive(Default)]
struct Jobs {
    list: Vec<Job>,
    by_image: HashMap<String, Vec<usize>>,
}

impl Jobs {
    /// The job of this image and credential list, made if there is none yet.
    fn index_of(&mut self, image: &str, reference: ImageRef, credentials: Vec<KeyringCredential>) -> usize {
        let same = self.by_image.entry(image.to_owned()).or_default();
        if let Some(&index) = same.iter().find(|&&index| self.list[index].credentials == credentials) {
            return index;
        }
        same.push(self.list.len());
        self.list.push(Job { image: image.to_owned(), reference, credentials });
        self.list.len() - 1
    }
}

/// What a container needs: nothing (Never), an early failure, or a job (shared by every container
/// with the same image and credentials). In the kubelet's order: the image name first
/// (`InvalidImageName` whatever the pull policy), then the policy, then the pull Secrets.
fn plan_container(
    container: &Container,
    keyring: Result<&UnionKeyring, &crate::kubelet::KeyringError>,
    jobs: &mut Jobs,
) -> Plan {
    let reference = match crate::kubelet::keyring::parse_image(&container.image) {
        Ok(reference) => reference,
        Err(error) => return invalid_image_name(container, &error),
    };
    if container.image_pull_policy == PullPolicy::Never {
        return Plan::Skip;
    }
    let keyring = match keyring {
        Ok(keyring) => keyring,
        Err(error) => {
            let what_to_do = match error.secret() {
                Some((namespace, name, key)) => format!(
                    "Fix the pull Secret {namespace}/{name}: its {key} is not a Docker config the kubelet can read ({error})."
                ),
                None => "Fix the pod's pull Secrets: one is not a Docker config the kubelet can read.".to_owned(),
            };
            return Plan::FailEarly(Box::new(FailEarly {
                reason: "ErrImagePull",
                event: format!("Failed to pull image \"{}\": {error}", container.image),
                what_to_do,
            }));
        }
    };
    let found = keyring.lookup_ref(&reference).into_iter().cloned().collect();
    Plan::Pull(jobs.index_of(&container.image, reference, found))
}

/// The kubelet's `InvalidImageName`: the name does not parse, so nothing else is looked at.
fn invalid_image_name(container: &Container, error: &crate::kubelet::KeyringError) -> Plan {
    Plan::FailEarly(Box::new(FailEarly {
        reason: "InvalidImageName",
        event: format!("Failed to apply default image tag \"{}\": {error}", container.image),
        what_to_do: "Fix the image reference in the manifest.".to_owned(),
    }))
}

/// Runs every job at once on one puller (one ping per registry, tokens and connections shared;
/// its limiter bounds the pulls per registry host and in all).
async fn run_jobs(
    jobs: &[Job],
    options: &PullOptions,
    deadline: Option<(tokio::time::Instant, Duration)>,
) -> Vec<JobOutcome> {
    let puller = Puller::for_a_run(options.timeouts);
    let runs = jobs.iter().map(|job| {
        let puller = &puller;
        async move {
            let work = run_job(puller, job, options);
            let Some((at, limit)) = deadline else { return work.await };
            tokio::time::timeout_at(at, work)
                .await
                .unwrap_or_else(|_| JobOutcome { unfinished: Some(limit), ..JobOutcome::default() })
        }
    });
    futures_util::future::join_all(runs.collect::<Vec<_>>()).await
}

/// One image through the kubelet's credential loop ([`crate::kubelet::pull_image`]): anonymous
/// when nothing matches; else each credential in order until one pulls.
async fn run_job(puller: &Puller, job: &Job, options: &PullOptions) -> JobOutcome {
    let indices: Vec<usize> = (0..job.credentials.len()).collect();
    let attempts = crate::kubelet::pull_image(&indices, |index| async move {
        let index = index.copied();
        let credential = index.map(|i| job.credentials[i].credential.clone());
        let source = UsedCredential::describe_used(index.map(|i| UsedCredential::of(&job.credentials[i])).as_ref());
        let report = puller.pull_parsed(&job.image, &job.reference, credential.as_ref(), &source, options).await;
        if matches!(report.outcome, Outcome::Success(_)) { Ok(report) } else { Err(report) }
    })
    .await;
    let index = |credential: Option<&usize>| credential.copied();
    JobOutcome {
        pulled: attempts.pulled.map(|(credential, report)| (index(credential), report)),
        failed: attempts.failed.into_iter().map(|(credential, report)| (index(credential), report)).collect(),
        unfinished: None,
    }
}

/// The runtime's error text inside a kubelet event (`Failed to pull image "X": TEXT`).
fn runtime_error(event: &str, image: &str) -> String {
    event.strip_prefix(&format!("Failed to pull image \"{image}\": ")).unwrap_or(event).to_owned()
}

/// A container's result before its verdict: names, where it was read, its workload's notes (and
/// for `imagePullPolicy: Never`, what that means).
fn result_of(workload: &Workload, container: &Container, notes: &[String], plan: &Plan) -> CheckResult {
    let mut notes = notes.to_vec();
    if let Plan::Skip = plan {
        notes.push(format!(
            "imagePullPolicy: Never: the image must be pre-pulled on every node (the kubelet never pulls it); not checked. On a node without it the container does not start: ErrImageNeverPull, Container image \"{}\" is not present with pull policy of Never",
            container.image
        ));
    }
    CheckResult {
        namespace: workload.namespace.clone(),
        workload: format!("{}/{}", workload.kind_name, workload.name),
        container: container.name.clone(),
        image: container.image.clone(),
        verdict: Verdict::Skipped,
        credential: None,
        kubelet: None,
        reason: None,
        cause: None,
        what_to_do: None,
        tried: Vec::new(),
        digest: None,
        expires_at: None,
        notes,
        source: workload.source.to_string(),
    }
}

fn verdict_of(pending: &Pending<'_>, jobs: &[Job], outcomes: &[JobOutcome]) -> CheckResult {
    let Pending { workload, container, shared, plan } = pending;
    let (workload, container) = (*workload, *container);
    let (hint, names_no_secret) = (shared.hint.clone(), shared.names_no_secret);
    let mut result = result_of(workload, container, &shared.notes, plan);
    let index = match plan {
        Plan::Skip => return result,
        Plan::FailEarly(early) => {
            let FailEarly { reason, event, what_to_do } = &**early;
            let (reason, event) = (*reason, event.clone());
            result.verdict = Verdict::Fails;
            if reason != "InvalidImageName" && written_if_not_present(container) {
                result.notes.push(IF_NOT_PRESENT.to_owned());
            }
            result.cause = Some(event.clone());
            result.kubelet = Some(event);
            result.reason = Some(reason.to_owned());
            result.what_to_do = Some(hint.map_or(what_to_do.clone(), |hint| format!("{hint} {what_to_do}")));
            return result;
        }
        Plan::Pull(index) => *index,
    };
    let (job, outcome) = (&jobs[index], &outcomes[index]);
    if let (Some(tag), Some(_)) = (job.reference.tag(), job.reference.digest()) {
        result.notes.push(format!(
            "the tag {tag} is not checked: an image named with a digest is pulled by its digest, on the nodes too (the tag may name another image by now)"
        ));
    }
    if let Some(limit) = outcome.unfinished {
        result.verdict = Verdict::Unfinished;
        result.cause = Some(format!("{UNFINISHED} ({})", humantime::format_duration(limit)));
        result.what_to_do = Some(
            "Run the check again with a longer --timeout, or look into the registry that is slow (the requests per host in the summary).".to_owned(),
        );
        return result;
    }
    let used = |i: &Option<usize>| i.map(|i| UsedCredential::of(&job.credentials[i]));
    result.tried = outcome
        .failed
        .iter()
        .map(|(i, report)| Attempt { credential: used(i), error: failure_text(report, &job.image) })
        .collect();
    if let Some((i, report)) = &outcome.pulled {
        result.verdict = Verdict::Pulls;
        result.credential = used(i);
        if let Outcome::Success(success) = &report.outcome {
            result.digest = Some(success.digest.clone());
        }
        if let Some(credential) = i.map(|i| &job.credentials[i]) {
            let now = SystemTime::now();
            let Credential { username, secret } = &credential.credential;
            let expiry = crate::expiry::expiry_of(username, secret, &credential.key, now);
            if let Some(expiry) = expiry.filter(|e| crate::expiry::within(e, now, Duration::from_hours(24))) {
                result.expires_at = Some(crate::expiry::rfc3339(expiry.at));
                result.notes.push(format!(
                    "the credential {}. {}",
                    crate::expiry::describe(&expiry, now),
                    crate::expiry::renewal_advice(&expiry)
                ));
            }
        }
        return result;
    }
    result.verdict = Verdict::Fails;
    if written_if_not_present(container) {
        result.notes.push(IF_NOT_PRESENT.to_owned());
    }
    result.credential = outcome.failed.last().and_then(|(i, _)| used(i));
    let errors: Vec<String> = result.tried.iter().map(|a| a.error.clone()).collect();
    let last = outcome.failed.last().and_then(|(_, report)| match &report.outcome {
        Outcome::Failure(failure) => Some(failure),
        Outcome::Success(_) => None,
    });
    result.kubelet = Some(format!("Failed to pull image \"{}\": {}", job.image, aggregate_error(&errors)));
    result.reason = last.map(|f| f.kubelet_reason.to_owned());
    result.cause = last.map(cause_of);
    // An anonymous pull refused, from a workload that names no pull Secret at all: the fix is in
    // the workload (its pod template), whatever login this machine has.
    let anonymous_refusal = last.is_some_and(|f| {
        matches!(f.class, FailureClass::NoCredentials | FailureClass::Denied | FailureClass::RepositoryUnknown)
    }) && result.credential.is_none();
    // Its pull Secrets were found, and none has an entry for the image's registry.
    let no_entry = shared.secrets_found && anonymous_refusal && job.credentials.is_empty();
    let hint = hint
        .or_else(|| {
            (names_no_secret && anonymous_refusal).then(|| {
                format!(
                    "The {} {} names no imagePullSecrets: add one to its pod template (regcred yaml makes the Secret), or to its ServiceAccount.",
                    workload.kind_name,
                    workload.name
                )
            })
        })
        .or_else(|| {
            no_entry.then(|| {
                let registry = job.reference.domain();
                format!(
                    "The pull Secrets the {} {} uses have no entry that matches {registry}: add one for it (regcred yaml {registry} … makes it), or check the registry in the image name.",
                    workload.kind_name, workload.name
                )
            })
        });
    result.what_to_do = last.map(|f| what_to_do(f, hint.as_deref(), result.credential.as_ref()));
    result
}

/// A failing container's cause: the pull's verdict, in a check's terms ("none configured" would
/// read as this machine's logins; here it is the credentials the kubelet would use).
fn cause_of(f: &crate::registry::Failure) -> String {
    match f.class {
        FailureClass::NoCredentials => {
            "the registry requires credentials, and none of those the kubelet would use has one for it".to_owned()
        }
        _ => f.verdict.clone(),
    }
}

/// What to do about a failing container: the pull's own advice, with the hint about its Secrets
/// (first, unless the host is out of reach whatever the Secret), or the credential it used.
fn what_to_do(f: &crate::registry::Failure, hint: Option<&str>, credential: Option<&UsedCredential>) -> String {
    match (hint, credential) {
        // The host is out of reach, whatever the Secret: that first, the Secret's fix after.
        (Some(hint), _) if f.class.is_reaching_the_host() => format!("{} Then: {hint}", f.what_to_do),
        // "Log in, then attach the pull secret" would repeat the hint less well.
        (Some(hint), _) if f.class == FailureClass::NoCredentials => hint.to_owned(),
        (Some(hint), _) => format!("{hint} {}", f.what_to_do),
        (None, Some(used)) if used.secret.is_some() => format!("{} Here: {}.", f.what_to_do, used.describe()),
        (None, _) => f.what_to_do.clone(),
    }
}

/// What `IfNotPresent` means for a failing pull: only nodes without the image fail.
const IF_NOT_PRESENT: &str = "imagePullPolicy: IfNotPresent: a node that already has the image starts the container without pulling; a node without it pulls, and fails as shown";

/// Whether the manifest itself asks for `IfNotPresent` (said on a failure, as whoever wrote it
/// may expect it to spare the pull; the API server's default is left unsaid, or every failure
/// would carry it).
fn written_if_not_present(container: &Container) -> bool {
    container.image_pull_policy == PullPolicy::IfNotPresent && !container.pull_policy_defaulted
}

/// An attempt's runtime error text (or its cause when the pull never reached the runtime's words).
fn failure_text(report: &PullReport, image: &str) -> String {
    match &report.outcome {
        Outcome::Failure(failure) if failure.class == FailureClass::Cancelled => "cancelled".to_owned(),
        Outcome::Failure(failure) => runtime_error(&failure.kubelet_event, image),
        Outcome::Success(_) => String::new(),
    }
}

/// The user's own credentials — every entry of the files regcred reads, each secret from wherever
/// it lives — as a keyring, for pull Secrets the manifests lack (`--local`). Entries whose secret
/// cannot be read are left out, with a warning each.
///
/// # Errors
///
/// When the credentials cannot be put in a keyring (a key the kubelet cannot parse is only
/// ignored, as the kubelet does).
pub fn local_keyring(
    sources: &crate::auth_files::Sources,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<(Keyring, Vec<String>), crate::kubelet::KeyringError> {
    let mut auths = serde_json::Map::new();
    let mut warnings = Vec::new();
    for source in &sources.files {
        let Some(file) = source.file() else { continue };
        for entry in file.entries() {
            let Some(server) = entry.server.as_ref() else { continue };
            match crate::resolve::registry_auth(sources, server, open) {
                Ok(auth) => {
                    let value = serde_json::json!({ "username": auth.credential.username, "password": auth.credential.secret.expose() });
                    auths.entry(entry.key.clone()).or_insert(value);
                }
                Err(error) => warnings.push(format!("{}: not used: {error}", entry.key)),
            }
        }
    }
    let json = zeroize::Zeroizing::new(serde_json::json!({ "auths": auths }).to_string());
    let mut keyring = Keyring::new();
    let origin = CredentialOrigin::NodeConfig { path: "your local credentials (--local)".to_owned() };
    keyring.add_docker_config(json.as_bytes(), crate::kubelet::ConfigFormat::DockerConfigJson, &origin)?;
    Ok((keyring, warnings))
}
