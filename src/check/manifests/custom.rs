//! Custom resources that run pods: the well-known projects' kinds (Argo Rollouts, `OpenKruise`,
//! Knative Serving, KEDA, Strimzi, Tekton), each where its project keeps the pod, and any other
//! object shaped like a workload (`spec.template.spec.containers`, or a `CronJob`'s
//! `spec.jobTemplate`).
//!
//! Where the project names containers itself, the name shown is the container's name in the pod
//! it makes: Tekton's `step-NAME` (`step-unnamed-N` for an unnamed step) and `sidecar-NAME`,
//! Knative's `user-container` for an unnamed container.

use serde_json::{Map, Value};

use super::objects::{
    Template, descend, map, name_and_namespace, read_container, read_workload, reference_names, seq, string, wrong_type,
};
use super::{Container, ContainerList, DocumentSource, ManifestError, Manifests, Workload, WorkloadKind};

/// Reads `object` when it is a custom resource with pods. `Ok(false)`: a kind not read (to be
/// counted as such).
pub(super) fn read(
    manifests: &mut Manifests,
    object: &Map<String, Value>,
    kind_name: String,
    group: &str,
    source: &DocumentSource,
    namespace: &str,
) -> Result<bool, ManifestError> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default();
    let Some(workload_kind) = known_kind(kind, group).or_else(|| generic_shape(object)) else {
        return Ok(false);
    };
    match workload_kind {
        WorkloadKind::StrimziPodSet => manifests.workloads.extend(strimzi_pods(object, &kind_name, source, namespace)?),
        WorkloadKind::TaskRun => match task_run(object, kind_name.clone(), source, namespace)? {
            Some(workload) => manifests.workloads.push(workload),
            None => *manifests.not_read.entry(format!("{kind_name} with taskRef")).or_default() += 1,
        },
        WorkloadKind::PipelineRun => pipeline_run(manifests, object, &kind_name, source, namespace)?,
        // A Rollout that points at a Deployment (`workloadRef`) has no template: its pods are the
        // Deployment's, read on its own.
        WorkloadKind::Rollout if !has(object, &["spec", "template"]) && has(object, &["spec", "workloadRef"]) => {}
        kind => {
            let path = template_path(object, kind);
            manifests.workloads.push(read_workload(object, Template { kind, kind_name, path }, source, namespace)?);
        }
    }
    Ok(true)
}

/// The well-known custom resources, by API group and kind.
fn known_kind(kind: &str, group: &str) -> Option<WorkloadKind> {
    Some(match (group, kind) {
        ("argoproj.io", "Rollout") => WorkloadKind::Rollout,
        ("apps.kruise.io", "CloneSet") => WorkloadKind::CloneSet,
        ("apps.kruise.io", "StatefulSet") => WorkloadKind::AdvancedStatefulSet,
        ("apps.kruise.io", "DaemonSet") => WorkloadKind::AdvancedDaemonSet,
        ("serving.knative.dev", "Service" | "Configuration") => WorkloadKind::KnativeService,
        ("keda.sh", "ScaledJob") => WorkloadKind::ScaledJob,
        ("core.strimzi.io", "StrimziPodSet") => WorkloadKind::StrimziPodSet,
        ("tekton.dev", "TaskRun") => WorkloadKind::TaskRun,
        ("tekton.dev", "PipelineRun") => WorkloadKind::PipelineRun,
        _ => return None,
    })
}

/// Any other kind with a workload's shape: `spec.template.spec.containers` as a list, or a
/// `spec.jobTemplate.spec.template.spec` mapping.
fn generic_shape(object: &Map<String, Value>) -> Option<WorkloadKind> {
    let containers = walk(object, &["spec", "template", "spec"]).and_then(|spec| spec.get("containers"));
    let job = walk(object, &["spec", "jobTemplate", "spec", "template", "spec"]);
    (matches!(containers, Some(Value::Array(_))) || job.is_some()).then_some(WorkloadKind::Other)
}

/// Where a template kind keeps its pod spec (for [`WorkloadKind::Other`], the shape it has).
fn template_path(object: &Map<String, Value>, kind: WorkloadKind) -> &'static [&'static str] {
    const JOB: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];
    match kind {
        WorkloadKind::Other if !has(object, &["spec", "template"]) && has(object, JOB) => JOB,
        kind => super::objects::pod_spec_path(kind),
    }
}

/// The mapping at `fields`, when every step is a mapping.
fn walk<'v>(mut object: &'v Map<String, Value>, fields: &[&str]) -> Option<&'v Map<String, Value>> {
    for field in fields {
        object = object.get(*field)?.as_object()?;
    }
    Some(object)
}

fn has(object: &Map<String, Value>, fields: &[&str]) -> bool {
    walk(object, fields).is_some()
}

/// `StrimziPodSet`: `spec.pods` are whole Pods; each is a workload named `PODSET/POD`.
fn strimzi_pods(
    object: &Map<String, Value>,
    kind_name: &str,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<Vec<Workload>, ManifestError> {
    let (set_name, set_namespace) = name_and_namespace(object, default_namespace)?;
    let (spec, _) = descend(object, &["spec"], "")?;
    let mut workloads = Vec::new();
    for (index, pod) in seq(spec, "pods", "spec.pods")?.into_iter().flatten().enumerate() {
        let path = format!("spec.pods[{index}]");
        let Value::Object(pod) = pod else { return Err(wrong_type(path, "an object", pod)) };
        let template = Template { kind: WorkloadKind::StrimziPodSet, kind_name: kind_name.to_owned(), path: &["spec"] };
        let mut workload = read_workload(pod, template, source, &set_namespace).map_err(|e| under(&path, e))?;
        workload.name = format!("{set_name}/{}", workload.name);
        workloads.push(workload);
    }
    Ok(workloads)
}

/// An error of a nested object, its paths from the top of the document.
fn under(prefix: &str, error: ManifestError) -> ManifestError {
    match error {
        ManifestError::Missing(path) => ManifestError::Missing(format!("{prefix}.{path}")),
        ManifestError::WrongType { path, expected, found } => {
            ManifestError::WrongType { path: format!("{prefix}.{path}"), expected, found }
        }
        ManifestError::NoContainers(path) => ManifestError::NoContainers(format!("{prefix}.{path}")),
        ManifestError::PullPolicy { path, value } => {
            ManifestError::PullPolicy { path: format!("{prefix}.{path}"), value }
        }
        other => other,
    }
}

/// Tekton `TaskRun`: `spec.taskSpec`'s steps and sidecars, `spec.podTemplate.imagePullSecrets`,
/// `spec.serviceAccountName`. `None` for a `TaskRun` that names its Task (`taskRef`): its images
/// are in that Task.
fn task_run(
    object: &Map<String, Value>,
    kind_name: String,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<Option<Workload>, ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let (spec, _) = descend(object, &["spec"], "")?;
    let Some(task_spec) = map(spec, "taskSpec", "spec.taskSpec")? else { return Ok(None) };
    let containers = tekton_containers(task_spec, "spec.taskSpec")?;
    let pods = PodSettings::of(spec, "spec", &["podTemplate"], &[])?;
    Ok(Some(pods.workload(WorkloadKind::TaskRun, kind_name, name, namespace, containers, source)))
}

/// Tekton `PipelineRun`: one workload per task of `spec.pipelineSpec` (`tasks`, then `finally`)
/// that carries its `taskSpec`, named `RUN/TASK`; the pod template and `ServiceAccount` of
/// `spec.taskRunTemplate` (v1) or of `spec` (v1beta1).
fn pipeline_run(
    manifests: &mut Manifests,
    object: &Map<String, Value>,
    kind_name: &str,
    source: &DocumentSource,
    default_namespace: &str,
) -> Result<(), ManifestError> {
    let (name, namespace) = name_and_namespace(object, default_namespace)?;
    let (spec, _) = descend(object, &["spec"], "")?;
    let Some(pipeline) = map(spec, "pipelineSpec", "spec.pipelineSpec")? else {
        *manifests.not_read.entry(format!("{kind_name} with pipelineRef")).or_default() += 1;
        return Ok(());
    };
    let pods = PodSettings::of(spec, "spec", &["taskRunTemplate", "podTemplate"], &["podTemplate"])?;
    for field in ["tasks", "finally"] {
        let list_path = format!("spec.pipelineSpec.{field}");
        for (index, task) in seq(pipeline, field, &list_path)?.into_iter().flatten().enumerate() {
            let path = format!("{list_path}[{index}]");
            let Value::Object(task) = task else { return Err(wrong_type(path, "an object", task)) };
            let task_name = string(task, "name", &format!("{path}.name"))?.unwrap_or_default();
            let Some(task_spec) = map(task, "taskSpec", &format!("{path}.taskSpec"))? else {
                *manifests.not_read.entry(format!("{kind_name} task with taskRef")).or_default() += 1;
                continue;
            };
            let containers = tekton_containers(task_spec, &format!("{path}.taskSpec"))?;
            let task_name = format!("{name}/{task_name}");
            let kind = WorkloadKind::PipelineRun;
            manifests.workloads.push(pods.workload(
                kind,
                kind_name.to_owned(),
                task_name,
                namespace.clone(),
                containers,
                source,
            ));
        }
    }
    Ok(())
}

/// What a Tekton run gives each of its pods: pull Secrets and `ServiceAccount`.
struct PodSettings {
    image_pull_secrets: Vec<String>,
    service_account_name: String,
}

impl PodSettings {
    /// From the pod template at `template` under `spec` (else at `fallback`), and the
    /// `serviceAccountName` beside it (`taskRunTemplate.serviceAccountName`, else `spec`'s own).
    fn of(spec: &Map<String, Value>, path: &str, template: &[&str], fallback: &[&str]) -> Result<Self, ManifestError> {
        let pod_template =
            walk(spec, template).or_else(|| (!fallback.is_empty()).then(|| walk(spec, fallback)).flatten());
        let image_pull_secrets = match pod_template {
            Some(pod) => reference_names(pod, "imagePullSecrets", &format!("{path}.podTemplate.imagePullSecrets"))?,
            None => Vec::new(),
        };
        let run_template = walk(spec, &["taskRunTemplate"]);
        let account =
            match run_template.map(|t| string(t, "serviceAccountName", "spec.taskRunTemplate.serviceAccountName")) {
                Some(Ok(Some(account))) if !account.is_empty() => account.to_owned(),
                Some(Err(error)) => return Err(error),
                _ => string(spec, "serviceAccountName", &format!("{path}.serviceAccountName"))?
                    .unwrap_or_default()
                    .to_owned(),
            };
        let service_account_name = if account.is_empty() { "default".to_owned() } else { account };
        Ok(Self { image_pull_secrets, service_account_name })
    }

    fn workload(
        &self,
        kind: WorkloadKind,
        kind_name: String,
        name: String,
        namespace: String,
        containers: Vec<Container>,
        source: &DocumentSource,
    ) -> Workload {
        Workload {
            kind,
            kind_name,
            name,
            namespace,
            containers,
            image_pull_secrets: self.image_pull_secrets.clone(),
            service_account_name: self.service_account_name.clone(),
            source: source.clone(),
        }
    }
}

/// A Tekton task's steps (`step-NAME`) and sidecars (`sidecar-NAME`) as the pod's containers. A
/// step that uses a `StepAction` (`ref`) has its image there, and is left out.
fn tekton_containers(task_spec: &Map<String, Value>, path: &str) -> Result<Vec<Container>, ManifestError> {
    let mut containers = Vec::new();
    let mut step_actions = 0;
    for (field, prefix) in [("steps", "step-"), ("sidecars", "sidecar-")] {
        let list_path = format!("{path}.{field}");
        for (index, item) in seq(task_spec, field, &list_path)?.into_iter().flatten().enumerate() {
            let item_path = format!("{list_path}[{index}]");
            let Value::Object(step) = item else { return Err(wrong_type(item_path, "an object", item)) };
            if step.contains_key("ref") && !step.contains_key("image") {
                step_actions += 1;
                continue;
            }
            let name = match string(step, "name", &format!("{item_path}.name"))? {
                Some(name) if !name.is_empty() => format!("{prefix}{name}"),
                _ => format!("{prefix}unnamed-{index}"),
            };
            containers.push(read_container(step, ContainerList::Containers, &item_path, Some(name))?);
        }
    }
    if containers.is_empty() && step_actions == 0 {
        return Err(ManifestError::NoContainers(format!("{path}.steps")));
    }
    Ok(containers)
}
