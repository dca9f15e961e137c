//! Reading what people deploy: Kubernetes manifests (kubectl's YAML or JSON, `kind: List`,
//! `helm template` and `kustomize build` output) into the workloads, `ServiceAccounts` and Secrets
//! that decide a pod's image-pull credentials, and each pod's pull-secret list as the cluster
//! would build it.
//!
//! This module owns parsing and the API server's part (defaults, the `ServiceAccount` admission
//! plugin); the kubelet's part is [`crate::kubelet`]. Sources, Kubernetes v1.33-era:
//! - `imagePullPolicy` defaults: `SetDefaults_Container` in `pkg/apis/core/v1/defaults.go`
//!   (`Always` when `parsers.ParseImageName` gives the tag `latest`, which it also gives an image
//!   with neither tag nor digest; `IfNotPresent` otherwise, so for a digest-only image, and for an
//!   image that does not parse; `:latest@sha256:…` is `Always`);
//! - `serviceAccount` as the old name of `serviceAccountName` (`Convert_v1_PodSpec_To_core_PodSpec`
//!   in `pkg/apis/core/v1/conversion.go`: used when `serviceAccountName` is empty), `default`
//!   when both are empty, and the pod's `imagePullSecrets` taken from its `ServiceAccount` only
//!   when the pod names none (`Plugin.Admit` in `plugin/pkg/admission/serviceaccount/admission.go`);
//! - Secrets: `data` is base64 as `encoding/json` decodes `[]byte` (padded, newlines ignored),
//!   `stringData` overrides `data` key by key (`pkg/apis/core/v1/conversion.go`), a missing type is
//!   `Opaque`, and the `kubernetes.io/dockerconfigjson` / `dockercfg` types require their key
//!   (`ValidateSecret` in `pkg/apis/core/validation/validation.go`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::kubelet::PullSecretData;
use crate::secret::Secret;

mod custom;
mod json_list;
mod lookup;
mod objects;
mod read;
mod split;
mod stream;

pub(crate) use lookup::Lookup;

/// Why a document could not be read. No variant quotes a value from the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The YAML does not parse.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// The JSON does not parse.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The document (or a list item) is not a mapping.
    #[error("expected a mapping (an object with apiVersion and kind), found {0}")]
    NotAMapping(&'static str),
    /// A required field is absent.
    #[error("{0} is missing")]
    Missing(String),
    /// A field has the wrong type.
    #[error("{path} must be {expected}, not {found}")]
    WrongType {
        /// The field, as kubectl writes paths (`spec.template.spec.containers[0].image`).
        path: String,
        /// The type the API wants.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// A workload's pod template has no containers.
    #[error("{0} is empty: a pod needs at least one container")]
    NoContainers(String),
    /// An `imagePullPolicy` the API refuses.
    #[error("{path}: unsupported value {value:?}: supported values: \"Always\", \"IfNotPresent\", \"Never\"")]
    PullPolicy {
        /// The field.
        path: String,
        /// The value written.
        value: String,
    },
    /// A Secret's `data` value is not base64.
    #[error("{path}: illegal base64 data at input byte {offset}")]
    Base64 {
        /// The field (`data[.dockerconfigjson]`).
        path: String,
        /// Where Go's decoder stops.
        offset: usize,
    },
}

/// Where a value was read: file, 1-based document and line, and the item of a `List` (of a `List`
/// inside a `List` …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSource {
    /// The file's display name (one copy shared by every source of the file).
    pub file: Arc<str>,
    /// 1-based document number in the file.
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    /// The 0-based index in `items` for an object read from a `List` (the innermost one).
    pub item: Option<usize>,
    /// For a `List` inside a `List`: the indexes of the enclosing items, outermost first, at most
    /// [`SHOWN_NESTING`] of them (shared by every item of one `List`).
    pub(crate) outer_items: Arc<[usize]>,
    /// How many `List`s enclose the innermost one (more than `outer_items` holds when deeper than
    /// [`SHOWN_NESTING`]).
    pub(crate) nesting: usize,
}

/// How many enclosing `List` items a source names before it elides the rest.
pub(crate) const SHOWN_NESTING: usize = 8;

impl DocumentSource {
    /// The source of a whole document.
    pub fn document(file: &str, document: usize, line: usize) -> Self {
        Self::in_file(Arc::from(file), document, line)
    }

    /// The source of a whole document of `file`.
    pub(crate) fn in_file(file: Arc<str>, document: usize, line: usize) -> Self {
        Self { file, document, line, item: None, outer_items: Arc::from([]), nesting: 0 }
    }
}

impl fmt::Display for DocumentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {} (line {})", self.file, self.document, self.line)?;
        let Some(item) = self.item else { return Ok(()) };
        f.write_str(", ")?;
        for outer in self.outer_items.iter() {
            write!(f, "items[{outer}].")?;
        }
        if self.nesting > self.outer_items.len() {
            write!(f, "…({} more Lists).", self.nesting - self.outer_items.len())?;
        }
        write!(f, "items[{item}]")
    }
}

/// A document that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    /// Where.
    pub source: DocumentSource,
    /// Why.
    pub error: ManifestError,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.error)
    }
}

/// The kinds whose pod template this module reads: Kubernetes' own, the custom resources of
/// well-known projects that embed pods, and any other object shaped like a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    /// `v1 Pod` (`spec`).
    Pod,
    /// `apps/v1 Deployment` (`spec.template.spec`).
    Deployment,
    /// `apps/v1 ReplicaSet` (`spec.template.spec`).
    ReplicaSet,
    /// `apps/v1 StatefulSet` (`spec.template.spec`).
    StatefulSet,
    /// `apps/v1 DaemonSet` (`spec.template.spec`).
    DaemonSet,
    /// `batch/v1 Job` (`spec.template.spec`).
    Job,
    /// `batch/v1 CronJob` (`spec.jobTemplate.spec.template.spec`).
    CronJob,
    /// `v1 ReplicationController` (`spec.template.spec`).
    ReplicationController,
    /// `v1 PodTemplate` (`template.spec`).
    PodTemplate,
    /// Argo Rollouts `argoproj.io Rollout` (`spec.template.spec`).
    Rollout,
    /// `OpenKruise` `apps.kruise.io CloneSet` (`spec.template.spec`).
    CloneSet,
    /// `OpenKruise` Advanced `StatefulSet` (`apps.kruise.io`, `spec.template.spec`).
    AdvancedStatefulSet,
    /// `OpenKruise` Advanced `DaemonSet` (`apps.kruise.io`, `spec.template.spec`).
    AdvancedDaemonSet,
    /// Knative `serving.knative.dev Service` or `Configuration` (`spec.template.spec`; container
    /// names optional).
    KnativeService,
    /// KEDA `keda.sh ScaledJob` (`spec.jobTargetRef.template.spec`).
    ScaledJob,
    /// Strimzi `core.strimzi.io StrimziPodSet`: one workload per Pod of `spec.pods`.
    StrimziPodSet,
    /// Tekton `tekton.dev TaskRun`: `spec.taskSpec.steps` (and `sidecars`) as containers,
    /// `spec.podTemplate.imagePullSecrets`.
    TaskRun,
    /// Tekton `tekton.dev PipelineRun`: one workload per task of `spec.pipelineSpec` (`tasks` and
    /// `finally`), its `taskSpec.steps` as containers.
    PipelineRun,
    /// Another kind with a `spec.template.spec.containers` or `spec.jobTemplate` shape.
    Other,
}

impl WorkloadKind {
    /// The `kind` as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::Deployment => "Deployment",
            Self::ReplicaSet => "ReplicaSet",
            // OpenKruise's Advanced kinds keep the names of the kinds they replace.
            Self::StatefulSet | Self::AdvancedStatefulSet => "StatefulSet",
            Self::DaemonSet | Self::AdvancedDaemonSet => "DaemonSet",
            Self::Job => "Job",
            Self::CronJob => "CronJob",
            Self::ReplicationController => "ReplicationController",
            Self::PodTemplate => "PodTemplate",
            Self::Rollout => "Rollout",
            Self::CloneSet => "CloneSet",
            Self::KnativeService => "Service",
            Self::ScaledJob => "ScaledJob",
            Self::StrimziPodSet => "StrimziPodSet",
            Self::TaskRun => "TaskRun",
            Self::PipelineRun => "PipelineRun",
            Self::Other => "Other",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerList {
    /// `containers`.
    Containers,
    /// `initContainers`.
    InitContainers,
    /// `ephemeralContainers`.
    EphemeralContainers,
}

impl ContainerList {
    /// The field name in the pod spec.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Self::Containers => "containers",
            Self::InitContainers => "initContainers",
            Self::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// `imagePullPolicy` (one type for the manifests read and the Pod written).
pub use crate::pull_secret::PullPolicy;

/// A container of a pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The container's name.
    pub name: String,
    /// The image as written.
    pub image: String,
    /// Which list it is in.
    pub list: ContainerList,
    /// The pull policy, explicit or defaulted.
    pub image_pull_policy: PullPolicy,
    /// Whether the policy is the API server's default rather than written in the manifest.
    pub pull_policy_defaulted: bool,
}

/// A workload with a pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its kind as reports name it: `Deployment`, or `Kind.group` outside Kubernetes' own API
    /// groups (`Rollout.argoproj.io`, `StatefulSet.apps.kruise.io`), as kubectl names resources.
    pub kind_name: String,
    /// `metadata.name` (or `metadata.generateName` when there is no name).
    pub name: String,
    /// `metadata.namespace`, or the default namespace given to the reader.
    pub namespace: String,
    /// Containers of all three lists, in the order `containers`, `initContainers`,
    /// `ephemeralContainers`.
    pub containers: Vec<Container>,
    /// The pod's own `imagePullSecrets` names, as written (empty names included; the kubelet
    /// skips them, but they count for the admission plugin).
    pub image_pull_secrets: Vec<String>,
    /// `serviceAccountName`, else `serviceAccount`, else `default`.
    pub service_account_name: String,
    /// Where it was read.
    pub source: DocumentSource,
}

/// A `ServiceAccount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its `imagePullSecrets` names, as written.
    pub image_pull_secrets: Vec<String>,
    /// Where it was read.
    pub source: DocumentSource,
}

/// A Secret of any type; of its data, only the two keys the kubelet reads are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSecret {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its `type` (`Opaque` when absent).
    pub secret_type: String,
    /// `.dockerconfigjson` (from `stringData`, else decoded from `data`).
    pub docker_config_json: Option<Secret>,
    /// `.dockercfg` (from `stringData`, else decoded from `data`).
    pub dockercfg: Option<Secret>,
    /// Where it was read.
    pub source: DocumentSource,
}

impl PullSecret {
    /// The Secret as the kubelet's keyring reads it.
    pub fn kubelet_data(&self) -> PullSecretData<'_> {
        PullSecretData {
            namespace: &self.namespace,
            name: &self.name,
            secret_type: &self.secret_type,
            docker_config_json: self.docker_config_json.as_ref(),
            dockercfg: self.dockercfg.as_ref(),
        }
    }
}

/// Everything read from one or more files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifests {
    /// Workloads, in reading order.
    pub workloads: Vec<Workload>,
    /// `ServiceAccounts`, in reading order.
    pub service_accounts: Vec<ServiceAccount>,
    /// Secrets, in reading order.
    pub secrets: Vec<PullSecret>,
    /// Documents that could not be read.
    pub errors: Vec<DocumentError>,
    /// Secrets (name, namespace) whose document could not be read: the API server would refuse
    /// them, so in the cluster they do not exist.
    pub broken_secrets: Vec<(String, String)>,
    /// Objects of kinds this module does not read, counted by kind (`ConfigMap`,
    /// `Certificate.cert-manager.io`).
    pub not_read: BTreeMap<String, usize>,
}

/// Where a pod's pull-secret names come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsFrom {
    /// The pod names its own `imagePullSecrets`.
    Pod,
    /// The pod names none; its `ServiceAccount` (found in the manifests) supplies them.
    ServiceAccount {
        /// The `ServiceAccount`'s name.
        name: String,
    },
    /// The pod names none and its `ServiceAccount` is not among the manifests: in the cluster,
    /// the admission plugin would copy that `ServiceAccount`'s secrets, which are unknown here.
    UnknownServiceAccount {
        /// The `ServiceAccount`'s name.
        name: String,
    },
}

/// A pod's pull Secrets as the cluster would resolve them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSecrets<'a> {
    /// Where the names come from.
    pub from: SecretsFrom,
    /// The names the kubelet fetches, in order (empty names dropped, duplicates kept).
    pub names: Vec<String>,
    /// The Secrets found among the manifests, in the order of `names`.
    pub found: Vec<&'a PullSecret>,
    /// The names with no Secret in the manifests, in order (what the
    /// `FailedToRetrieveImagePullSecret` event would list).
    pub missing: Vec<String>,
}

impl PodSecrets<'_> {
    /// The found Secrets as the kubelet's keyring reads them.
    pub fn kubelet_data(&self) -> Vec<PullSecretData<'_>> {
        self.found.iter().map(|secret| secret.kubelet_data()).collect()
    }
}

/// Reads one file's text (`name` is shown in errors; `default_namespace` applies to objects
/// without `metadata.namespace`). Unknown kinds are skipped; broken documents become
/// `DocumentError`s and the others are still read.
pub fn read_documents(name: &str, text: &str, default_namespace: &str) -> Manifests {
    let name: Arc<str> = Arc::from(name);
    // One large JSON object that is a `List` (`kubectl get -o json`): read item by item.
    if text.len() >= stream::STREAMED_FROM && text.trim_start().starts_with('{') {
        let leading = text.len() - text.trim_start().len();
        let line = 1 + text[..leading].matches('\n').count();
        let source = DocumentSource::in_file(name.clone(), 1, line);
        if let Some(read) = json_list::read_list(text, &source, default_namespace) {
            return read;
        }
    }
    let mut manifests = Manifests::default();
    split::documents(text, |document| read_document(&mut manifests, &name, document, default_namespace));
    manifests
}

/// Reads one document into `manifests`: its tree is made, read, and dropped. A large YAML
/// document that is a `List` is read item by item (see [`stream`]).
fn read_document(manifests: &mut Manifests, name: &Arc<str>, document: split::Document<'_>, default_namespace: &str) {
    let source = DocumentSource::in_file(name.clone(), document.number, document.line);
    let value = match document.body {
        split::Body::Empty => return,
        split::Body::Parsed(value) => value,
        split::Body::Yaml(text) => {
            if text.len() >= stream::STREAMED_FROM
                && let Some(read) = stream::read_list(text, document.explicit, &source, default_namespace)
            {
                manifests.merge(read);
                return;
            }
            split::parse_yaml(text, document.line)
        }
    };
    match value {
        Ok(value) => read::read_object(manifests, &value, source, default_namespace),
        Err(error) => manifests.errors.push(DocumentError { source, error }),
    }
}

impl Manifests {
    /// Appends what another file gave.
    pub fn merge(&mut self, other: Manifests) {
        /// `to` then `from`: `from` itself when `to` is empty (no second copy of a large list).
        fn append<T>(to: &mut Vec<T>, from: Vec<T>) {
            if to.is_empty() {
                *to = from;
            } else {
                to.extend(from);
            }
        }
        append(&mut self.workloads, other.workloads);
        append(&mut self.service_accounts, other.service_accounts);
        append(&mut self.secrets, other.secrets);
        append(&mut self.errors, other.errors);
        append(&mut self.broken_secrets, other.broken_secrets);
        for (kind, count) in other.not_read {
            *self.not_read.entry(kind).or_default() += count;
        }
    }

    /// Objects of one kind, namespace and name read more than once: the cluster keeps one (the
    /// last applied). Returns the indexes of the workloads to check (the last of each name, and
    /// every `generateName` one: each is its own object) and a warning per repeated name,
    /// Secrets included.
    pub(crate) fn repeats(&self) -> (Vec<usize>, Vec<String>) {
        // Indexes sorted by name (stable: reading order within one name), not a map of copied
        // names: 100,000 workloads cost 100,000 indexes here, and sources are written out only
        // for the names read more than once.
        let key = |index: &usize| {
            let workload = &self.workloads[*index];
            (workload.kind_name.as_str(), workload.namespace.as_str(), workload.name.as_str())
        };
        // A name that ends in `-` can only be a generateName: every copy is a new object.
        let mut named: Vec<usize> =
            (0..self.workloads.len()).filter(|index| !self.workloads[*index].name.ends_with('-')).collect();
        named.sort_by(|a, b| key(a).cmp(&key(b)));
        let mut dropped = vec![false; self.workloads.len()];
        let mut warnings = Vec::new();
        for copies in named.chunk_by(|a, b| key(a) == key(b)) {
            if let [earlier @ .., last] = copies
                && !earlier.is_empty()
            {
                let (kind, namespace, name) = key(last);
                let sources: Vec<String> =
                    earlier.iter().map(|index| self.workloads[*index].source.to_string()).collect();
                for index in earlier {
                    dropped[*index] = true;
                }
                warnings.push(format!(
                    "{kind}/{name} (namespace {namespace}) is in the manifests {} times: the last one ({}) is checked, as the cluster keeps the last one applied (also in {})",
                    copies.len(),
                    self.workloads[*last].source,
                    sources.join("; ")
                ));
            }
        }
        let secret_key = |index: &usize| (self.secrets[*index].namespace.as_str(), self.secrets[*index].name.as_str());
        let mut secrets: Vec<usize> = (0..self.secrets.len()).collect();
        secrets.sort_by(|a, b| secret_key(a).cmp(&secret_key(b)));
        for copies in secrets.chunk_by(|a, b| secret_key(a) == secret_key(b)).filter(|copies| copies.len() > 1) {
            let (namespace, name) = secret_key(&copies[0]);
            let sources: Vec<String> = copies.iter().map(|index| self.secrets[*index].source.to_string()).collect();
            warnings.push(format!(
                "the Secret {name} (namespace {namespace}) is in the manifests {} times: the last one is used ({})",
                sources.len(),
                sources.join("; ")
            ));
        }
        let kept = (0..self.workloads.len()).filter(|index| !dropped[*index]).collect();
        (kept, warnings)
    }

    /// The `ServiceAccount` of that namespace and name (the last one read, as a later
    /// `kubectl apply` replaces an earlier one).
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&ServiceAccount> {
        self.service_accounts.iter().rev().find(|sa| sa.namespace == namespace && sa.name == name)
    }

    /// The Secret of that namespace and name (the last one read).
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&PullSecret> {
        self.secrets.iter().rev().find(|secret| secret.namespace == namespace && secret.name == name)
    }

    /// The workload's pull Secrets as the cluster resolves them (see
    /// `Lookup::pod_pull_secrets`). Each call indexes the manifests: for many workloads, build
    /// one `Lookup` and ask it.
    pub fn pod_pull_secrets(&self, workload: &Workload) -> PodSecrets<'_> {
        self.lookup().pod_pull_secrets(workload)
    }

    /// The manifests indexed by namespace and name, so that resolving every workload's Secrets
    /// costs time linear in the manifests.
    pub fn lookup(&self) -> Lookup<'_> {
        Lookup::new(self)
    }
}

/// The largest manifest file (or standard input) read: 64 MiB.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a manifest file, or every manifest file of a directory (see [`manifest_files`]), as
/// `regcred check -f` and the window's check do.
///
/// # Errors
///
/// When a path cannot be read, is larger than [`MAX_MANIFEST_BYTES`] or is not UTF-8 text (the
/// message names it).
pub(crate) fn read_path(path: &std::path::Path, namespace: &str) -> Result<Manifests, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    if !std::fs::metadata(path).map_err(cannot)?.is_dir() {
        return read_file(path, namespace);
    }
    let files = manifest_files(path).map_err(|e| format!("cannot read the directory {}: {e}", path.display()))?;
    let mut manifests = Manifests::default();
    for file in files {
        manifests.merge(read_file(&file, namespace)?);
    }
    Ok(manifests)
}

/// What `regcred check` and the window's Check read, read one way: text given as is (standard
/// input, the window's paste) as `(name, text)`, then each path (a file, or a directory's
/// manifests). A path that cannot be read is an input error of its own in `unreadable` — never an
/// abort: the rest is still read and checked.
pub fn read_inputs(texts: &[(&str, &str)], paths: &[&std::path::Path], namespace: &str) -> Inputs {
    let mut inputs = Inputs::default();
    for (name, text) in texts {
        inputs.manifests.merge(read_documents(name, text, namespace));
    }
    for path in paths {
        match read_path(path, namespace) {
            Ok(read) => inputs.manifests.merge(read),
            Err(error) => inputs.unreadable.push(error),
        }
    }
    inputs
}

/// What [`read_inputs`] read.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Everything read.
    pub manifests: Manifests,
    /// Each path that could not be read, in words that name it.
    pub unreadable: Vec<String>,
}

fn read_file(path: &std::path::Path, namespace: &str) -> Result<Manifests, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    if std::fs::metadata(path).map_err(cannot)?.len() > MAX_MANIFEST_BYTES {
        return Err(format!("{} is larger than 64 MiB", path.display()));
    }
    // Read as it arrives, document by document: a file of many documents is never held whole.
    let file = std::fs::File::open(path).map_err(cannot)?;
    let name: Arc<str> = Arc::from(path.display().to_string());
    let mut manifests = Manifests::default();
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    // One large JSON object (`kubectl get -o json`): read whole, then its `List` item by item.
    let starts = std::io::BufRead::fill_buf(&mut reader).map_err(cannot)?;
    let starts = starts.strip_prefix("\u{feff}".as_bytes()).unwrap_or(starts);
    let json_object = starts.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if json_object && std::fs::metadata(path).map_err(cannot)?.len() >= stream::STREAMED_FROM as u64 {
        let mut text = String::new();
        return match std::io::Read::read_to_string(&mut reader, &mut text) {
            Ok(_) => Ok(read_documents(&name, &text, namespace)),
            Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                Err(format!("{} is not UTF-8 text", path.display()))
            }
            Err(error) => Err(cannot(error)),
        };
    }
    match split::documents_from_reader(reader, |document| read_document(&mut manifests, &name, document, namespace)) {
        Ok(()) => Ok(manifests),
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
            Err(format!("{} is not UTF-8 text", path.display()))
        }
        Err(error) => Err(cannot(error)),
    }
}

/// A directory's manifest files (`.yaml`, `.yml`, `.json`), recursively and sorted, as
/// `kubectl apply -R -f DIR` reads them.
///
/// # Errors
///
/// When a directory cannot be listed.
pub(crate) fn manifest_files(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    Ok(files)
}
