//! Reading beyond Kubernetes' own workloads: custom resources that run pods (fixtures written from
//! each project's documented examples), any other object shaped like a workload, kinds that are
//! not read (counted), and a `List` inside a `List` — to any depth the parser takes, never with a
//! stack overflow.

use regcred::check::{ManifestError, Manifests, WorkloadKind, read_documents};

const ARGO: &str = include_str!("../fixtures/manifests/custom/argo-rollouts.yaml");
const KRUISE: &str = include_str!("../fixtures/manifests/custom/openkruise.yaml");
const KNATIVE: &str = include_str!("../fixtures/manifests/custom/knative-service.yaml");
const KEDA: &str = include_str!("../fixtures/manifests/custom/keda-scaledjob.yaml");
const STRIMZI: &str = include_str!("../fixtures/manifests/custom/strimzi-podset.yaml");
const TEKTON: &str = include_str!("../fixtures/manifests/custom/tekton-runs.yaml");

fn read(name: &str, text: &str) -> Manifests {
    let manifests = read_documents(name, text, "default");
    assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
    manifests
}

/// A workload as these tests compare it: kind name, name, and (container, image) pairs.
type Shape = (String, String, Vec<(String, String)>);

/// Every workload's [`Shape`].
fn shapes(manifests: &Manifests) -> Vec<Shape> {
    manifests
        .workloads
        .iter()
        .map(|w| {
            let containers = w.containers.iter().map(|c| (c.name.clone(), c.image.clone())).collect();
            (w.kind_name.clone(), w.name.clone(), containers)
        })
        .collect()
}

fn one(kind: &str, name: &str, containers: &[(&str, &str)]) -> Shape {
    let containers = containers.iter().map(|(c, i)| ((*c).to_owned(), (*i).to_owned())).collect();
    (kind.to_owned(), name.to_owned(), containers)
}

#[test]
fn argo_rollouts_with_a_template_and_with_a_workload_ref() {
    let manifests = read("argo.yaml", ARGO);
    assert_eq!(
        shapes(&manifests),
        [one("Rollout.argoproj.io", "rollouts-demo", &[("rollouts-demo", "argoproj/rollouts-demo:blue")])]
    );
    assert_eq!(manifests.workloads[0].kind, WorkloadKind::Rollout);
    assert!(
        manifests.not_read.is_empty(),
        "a workloadRef Rollout's pods are its Deployment's: {:?}",
        manifests.not_read
    );
}

#[test]
fn openkruise_cloneset_and_advanced_statefulset_and_daemonset() {
    let manifests = read("kruise.yaml", KRUISE);
    assert_eq!(
        shapes(&manifests),
        [
            one("CloneSet.apps.kruise.io", "sample", &[("nginx", "nginx:alpine")]),
            one("StatefulSet.apps.kruise.io", "sample", &[("main", "nginx:alpine")]),
            one("DaemonSet.apps.kruise.io", "sample-ds", &[("main", "nginx:alpine")]),
        ]
    );
    let kinds: Vec<WorkloadKind> = manifests.workloads.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WorkloadKind::CloneSet, WorkloadKind::AdvancedStatefulSet, WorkloadKind::AdvancedDaemonSet]);
}

#[test]
fn a_knative_service_is_a_workload_and_a_core_service_is_not() {
    let manifests = read("knative.yaml", KNATIVE);
    assert_eq!(
        shapes(&manifests),
        [one("Service.serving.knative.dev", "hello", &[("user-container", "ghcr.io/knative/helloworld-go:latest")])]
    );
    assert_eq!(manifests.not_read.get("Service"), Some(&1));
}

#[test]
fn a_keda_scaled_job() {
    let manifests = read("keda.yaml", KEDA);
    assert_eq!(
        shapes(&manifests),
        [one(
            "ScaledJob.keda.sh",
            "rabbitmq-consumer",
            &[("rabbitmq-client", "ghcr.io/kedacore/rabbitmq-client:v1.0")]
        )]
    );
}

#[test]
fn a_strimzi_pod_set_is_one_workload_per_pod() {
    let manifests = read("strimzi.yaml", STRIMZI);
    let image = "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0";
    assert_eq!(
        shapes(&manifests),
        [
            one("StrimziPodSet.core.strimzi.io", "my-cluster-kafka/my-cluster-kafka-0", &[("kafka", image)]),
            one("StrimziPodSet.core.strimzi.io", "my-cluster-kafka/my-cluster-kafka-1", &[("kafka", image)]),
        ]
    );
    let broker = &manifests.workloads[1];
    assert_eq!(broker.namespace, "kafka", "a pod without a namespace is in its pod set's");
    assert_eq!(
        (broker.image_pull_secrets.as_slice(), broker.service_account_name.as_str()),
        (&["quay-pull".to_owned()][..], "my-cluster-kafka")
    );
}

#[test]
fn tekton_runs_name_their_steps_and_take_the_pod_template_secrets() {
    let manifests = read("tekton.yaml", TEKTON);
    assert_eq!(
        shapes(&manifests),
        [
            one(
                "TaskRun.tekton.dev",
                "mytaskrun",
                &[
                    ("step-echo", "ubuntu"),
                    ("step-unnamed-1", "gcr.io/kaniko-project/executor:v1.23.2"),
                    ("sidecar-docker", "docker:dind")
                ]
            ),
            one("PipelineRun.tekton.dev", "pipelinerun-echo-greetings/echo-good-morning", &[("step-echo", "ubuntu")]),
            one(
                "PipelineRun.tekton.dev",
                "pipelinerun-echo-greetings/notify",
                &[("step-send", "curlimages/curl:8.8.0")]
            ),
        ]
    );
    let task_run = &manifests.workloads[0];
    assert_eq!(
        (task_run.image_pull_secrets.as_slice(), task_run.service_account_name.as_str()),
        (&["my-registry".to_owned()][..], "default")
    );
    let pipeline_task = &manifests.workloads[1];
    assert_eq!(pipeline_task.image_pull_secrets, ["my-registry"]);
    assert_eq!(pipeline_task.service_account_name, "build-bot", "v1: taskRunTemplate.serviceAccountName");
    let not_read: Vec<(&str, usize)> = manifests.not_read.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(not_read, [("PipelineRun.tekton.dev task with taskRef", 1), ("TaskRun.tekton.dev with taskRef", 1)]);
}

#[test]
fn any_object_shaped_like_a_workload_is_read_and_named() {
    let text = "apiVersion: apps.example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: widget:1}]\n---\n\
                apiVersion: batch.example.com/v1\nkind: Timer\nmetadata: {name: t}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: j, image: timer:1}]\n---\n\
                apiVersion: apps.example.com/v1\nkind: Deployment\nmetadata: {name: d}\nspec: 7\n";
    let manifests = read("shapes.yaml", text);
    assert_eq!(
        shapes(&manifests),
        [
            one("Widget.apps.example.com", "w", &[("c", "widget:1")]),
            one("Timer.batch.example.com", "t", &[("j", "timer:1")])
        ]
    );
    assert!(manifests.workloads.iter().all(|w| w.kind == WorkloadKind::Other));
    assert_eq!(manifests.not_read.get("Deployment.apps.example.com"), Some(&1), "same kind, someone else's group");
}

#[test]
fn kinds_not_read_are_counted_by_kind() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n\
                apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n---\n\
                apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {secretName: tls}\n";
    let manifests = read("other.yaml", text);
    let counted: Vec<(&str, usize)> = manifests.not_read.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(counted, [("Certificate.cert-manager.io", 1), ("ConfigMap", 2), ("Ingress", 1)]);
    let mut merged = Manifests::default();
    merged.merge(manifests.clone());
    merged.merge(manifests);
    assert_eq!(merged.not_read.get("ConfigMap"), Some(&4));
}

#[test]
fn a_list_inside_a_list_is_read() {
    let text = "apiVersion: v1\nkind: List\nitems:\n\
                - apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c}\n\
                - apiVersion: v1\n  kind: List\n  items:\n\
                \x20 - apiVersion: v1\n    kind: PodList\n    items:\n\
                \x20   - metadata: {name: deep}\n      spec:\n        containers: [{name: c, image: busybox}]\n\
                \x20 - apiVersion: v1\n    kind: Secret\n    metadata: {name: s}\n    type: Opaque\n";
    let manifests = read("nested.yaml", text);
    let [deep] = manifests.workloads.as_slice() else { panic!("{:?}", manifests.workloads) };
    assert_eq!((deep.kind, deep.name.as_str()), (WorkloadKind::Pod, "deep"), "a PodList lends its kind, nested too");
    assert_eq!(deep.source.to_string(), "nested.yaml: document 1 (line 1), items[1].items[0].items[0]");
    assert_eq!(manifests.secrets[0].source.to_string(), "nested.yaml: document 1 (line 1), items[1].items[1]");
}

/// `depth` `List`s, each inside the one before, the innermost holding a Pod, as JSON.
fn nested_lists(depth: usize) -> String {
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#;
    let mut text = String::new();
    for _ in 0..depth {
        text.push_str(r#"{"apiVersion":"v1","kind":"List","items":["#);
    }
    text.push_str(pod);
    text.push_str(&"]}".repeat(depth));
    text
}

#[test]
fn lists_nest_as_deep_as_the_parser_reads_and_a_hostile_depth_is_an_error_not_a_crash() {
    // 60 Lists: each is two levels of the document (the object, its items), within the parsers'
    // limit of 128.
    for text in [nested_lists(60), nested_lists(60).replace(',', ", ")] {
        let manifests = read("deep.json", &text);
        assert_eq!(manifests.workloads.len(), 1);
        let shown = manifests.workloads[0].source.to_string();
        assert!(shown.ends_with(".…(51 more Lists).items[0]"), "{shown}");
    }
    // A YAML flow version of the same, then hostile depths: an error each, no stack overflow.
    let yaml = format!("# YAML\n{}", nested_lists(60));
    assert_eq!(read("deep.yaml", &yaml).workloads.len(), 1);
    for hostile in [nested_lists(5_000), format!("# YAML\n{}", nested_lists(5_000)), "[".repeat(20_000)] {
        let manifests = read_documents("hostile", &hostile, "default");
        assert!(manifests.workloads.is_empty());
        assert_eq!(manifests.errors.len(), 1, "{:?}", manifests.errors);
        assert!(
            matches!(&manifests.errors[0].error, ManifestError::Yaml(e) | ManifestError::Json(e) if e.contains("recursion limit")),
            "{}",
            manifests.errors[0]
        );
    }
}
