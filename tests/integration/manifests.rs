//! Reading real manifests: kubectl's `--dry-run=client -o yaml` output (generated with kubectl
//! v1.32 and kept under tests/fixtures/), the documentation's Pod, `kind: List`, helm and
//! kustomize shapes, JSON, broken documents; then each pod's pull Secrets and the kubelet's
//! credentials for its images.

use regcred::check::{
    ContainerList, ManifestError, Manifests, PullPolicy, SecretsFrom, Workload, WorkloadKind, read_documents,
};
use regcred::kubelet::{self, Keyring};

const DEPLOYMENT_WEB: &str = include_str!("../fixtures/manifests/deployment-web.yaml");
const DEPLOYMENT_WEB_JSON: &str = include_str!("../fixtures/manifests/deployment-web.json");
const DEPLOYMENT_MULTI: &str = include_str!("../fixtures/manifests/deployment-multi.yaml");
const SECRET_REGCRED: &str = include_str!("../fixtures/manifests/secret-regcred.yaml");
const CRONJOB: &str = include_str!("../fixtures/manifests/cronjob-nightly.yaml");
const JOB: &str = include_str!("../fixtures/manifests/job-migrate.yaml");
const SERVICE_ACCOUNT: &str = include_str!("../fixtures/manifests/serviceaccount-builder.yaml");
const LIST: &str = include_str!("../fixtures/manifests/list-from-kubectl-get.yaml");
const DOCS_POD: &str = include_str!("../fixtures/manifests/pod-private-image-test-1.yaml");
const HELM: &str = include_str!("../fixtures/manifests/helm-template.yaml");

fn read(name: &str, text: &str) -> Manifests {
    read_documents(name, text, "default")
}

fn only_workload(manifests: &Manifests) -> &Workload {
    assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
    assert_eq!(manifests.workloads.len(), 1);
    &manifests.workloads[0]
}

#[test]
fn kubectl_create_deployment() {
    let manifests = read("deployment-web.yaml", DEPLOYMENT_WEB);
    let web = only_workload(&manifests);
    assert_eq!((web.kind, web.name.as_str(), web.namespace.as_str()), (WorkloadKind::Deployment, "web", "default"));
    assert_eq!(web.service_account_name, "default");
    assert!(web.image_pull_secrets.is_empty());
    let container = &web.containers[0];
    assert_eq!(container.image, "registry.example.com:5000/team/web:1.4.2");
    assert_eq!((container.image_pull_policy, container.pull_policy_defaulted), (PullPolicy::IfNotPresent, true));
    assert_eq!(web.source.to_string(), "deployment-web.yaml: document 1 (line 1)");
}

#[test]
fn json_reads_like_yaml() {
    let yaml = read("web.yaml", DEPLOYMENT_WEB);
    let json = read("web.json", DEPLOYMENT_WEB_JSON);
    assert_eq!(only_workload(&json).containers, only_workload(&yaml).containers);
    assert_eq!(only_workload(&json).name, "web");
}

#[test]
fn default_pull_policies() {
    let manifests = read("deployment-multi.yaml", DEPLOYMENT_MULTI);
    let policies: Vec<_> = only_workload(&manifests).containers.iter().map(|c| c.image_pull_policy).collect();
    assert_eq!(policies, [PullPolicy::Always, PullPolicy::IfNotPresent], "nginx has no tag; the sidecar only a digest");
    let digest = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let cases = [
        ("nginx", PullPolicy::Always),
        ("nginx:latest", PullPolicy::Always),
        ("nginx:1.25", PullPolicy::IfNotPresent),
        (&format!("nginx{digest}"), PullPolicy::IfNotPresent),
        (&format!("nginx:latest{digest}"), PullPolicy::Always),
        (&format!("nginx:1.25{digest}"), PullPolicy::IfNotPresent),
        ("$PRIVATE_IMAGE_NAME", PullPolicy::IfNotPresent),
    ];
    for (image, expected) in cases {
        assert_eq!(PullPolicy::default_for_image(image), expected, "{image}");
    }
}

#[test]
fn cronjob_and_job() {
    let manifests = read("cron.yaml", &format!("{CRONJOB}---\n{JOB}"));
    assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
    let [cron, job] = manifests.workloads.as_slice() else { panic!("{:?}", manifests.workloads) };
    assert_eq!((cron.kind, cron.name.as_str()), (WorkloadKind::CronJob, "nightly"));
    assert_eq!(cron.containers[0].image_pull_policy, PullPolicy::Always);
    assert_eq!(
        (job.kind, job.containers[0].image.as_str()),
        (WorkloadKind::Job, "registry.example.com:5000/team/migrate")
    );
    assert_eq!(job.containers[0].image_pull_policy, PullPolicy::Always);
    assert_eq!(job.source.document, 2);
}

#[test]
fn the_documentation_pod() {
    let manifests = read("pod.yaml", DOCS_POD);
    let pod = only_workload(&manifests);
    assert_eq!((pod.kind, pod.name.as_str()), (WorkloadKind::Pod, "private-image-test-1"));
    let container = &pod.containers[0];
    assert_eq!((container.name.as_str(), container.image.as_str()), ("uses-private-image", "$PRIVATE_IMAGE_NAME"));
    assert_eq!((container.image_pull_policy, container.pull_policy_defaulted), (PullPolicy::Always, false));
    let error = Keyring::new().lookup(&container.image).unwrap_err();
    assert_eq!(
        error.to_string(),
        "couldn't parse image name \"$PRIVATE_IMAGE_NAME\": invalid reference format: repository name must be lowercase"
    );
}

#[test]
fn kind_list_as_kubectl_get_prints_it() {
    let manifests = read_documents("list.yaml", LIST, "ignored");
    let web = only_workload(&manifests);
    assert_eq!((web.namespace.as_str(), web.source.item), ("shop", Some(0)));
    assert_eq!(web.source.to_string(), "list.yaml: document 1 (line 1), items[0]");
    assert_eq!(manifests.secrets[0].name, "regcred");
    assert_eq!(manifests.secrets[0].source.item, Some(1));
    let secrets = manifests.pod_pull_secrets(web);
    assert_eq!((secrets.found.len(), secrets.missing.len()), (1, 0));
}

#[test]
fn typed_lists_lend_their_kind_to_items() {
    let text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n  spec:\n    containers: [{name: c, image: busybox}]\n";
    let manifests = read("pods.json", text);
    assert_eq!(only_workload(&manifests).kind, WorkloadKind::Pod);
}

#[test]
fn helm_template_output() {
    let manifests = read("helm.yaml", HELM);
    let shop = only_workload(&manifests);
    assert_eq!(shop.source.document, 4, "the comment-only document still counts");
    assert_eq!(shop.source.line, 22);
    assert_eq!(shop.service_account_name, "shop");
    let lists: Vec<_> = shop.containers.iter().map(|c| (c.list, c.name.as_str(), c.image_pull_policy)).collect();
    assert_eq!(
        lists,
        [
            (ContainerList::Containers, "shop", PullPolicy::Always),
            (ContainerList::InitContainers, "migrate", PullPolicy::IfNotPresent)
        ]
    );
    let secrets = manifests.pod_pull_secrets(shop);
    assert_eq!(secrets.from, SecretsFrom::ServiceAccount { name: "shop".to_owned() });
    assert_eq!(secrets.missing, ["shop-pull"]);
    assert_eq!(
        kubelet::failed_to_retrieve_image_pull_secret(&secrets.missing),
        "Unable to retrieve some image pull secrets (shop-pull); attempting to pull the image may not succeed."
    );
}

#[test]
fn kustomize_build_output() {
    let text = format!("{SERVICE_ACCOUNT}---\n{SECRET_REGCRED}---\n{DEPLOYMENT_WEB}");
    let manifests = read_documents("kustomize", &text, "shop");
    assert!(manifests.errors.is_empty());
    assert_eq!(manifests.service_accounts[0].name, "builder");
    assert_eq!(manifests.secrets[0].namespace, "shop");
    assert_eq!(manifests.workloads[0].namespace, "shop");
}

#[test]
fn a_broken_document_does_not_hide_the_others() {
    let text = format!(
        "{DEPLOYMENT_WEB}---\nkind: Deployment\nspec: [unclosed\n---\n- just\n- a list\n---\n{SECRET_REGCRED}---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: empty}}\nspec:\n  template:\n    spec:\n      containers: []\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: typo}}\nspec:\n  containers:\n  - name: c\n    image: 42\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {{name: policy}}\nspec:\n  containers:\n  - {{name: c, image: x, imagePullPolicy: Sometimes}}\n---\n{JOB}"
    );
    let manifests = read("mixed.yaml", &text);
    assert_eq!(manifests.workloads.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["web", "migrate"]);
    assert_eq!(manifests.secrets.len(), 1);
    let errors: Vec<(usize, String)> =
        manifests.errors.iter().map(|e| (e.source.document, e.error.to_string())).collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert!(matches!(manifests.errors[0].error, ManifestError::Yaml(_)));
    assert_eq!(errors[0].0, 2);
    assert!(errors[0].1.contains("line 2"), "positions count from the top of the file: {}", errors[0].1);
    assert_eq!(errors[1], (3, "expected a mapping (an object with apiVersion and kind), found a list".to_owned()));
    assert_eq!(errors[2], (5, "spec.template.spec.containers is empty: a pod needs at least one container".to_owned()));
    assert_eq!(errors[3], (6, "spec.containers[0].image must be a string, not a number".to_owned()));
    assert_eq!(
        errors[4].1,
        "spec.containers[0].imagePullPolicy: unsupported value \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\""
    );
    assert!(manifests.errors[3].to_string().starts_with("mixed.yaml: document 6 (line "));
}

#[test]
fn unknown_kinds_and_foreign_groups_are_ignored() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n\
                apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: d}\nspec: 7\n";
    let manifests = read("other.yaml", text);
    let counted =
        std::collections::BTreeMap::from([("ConfigMap".to_owned(), 1), ("Deployment.example.com".to_owned(), 1)]);
    assert_eq!(manifests, Manifests { not_read: counted, ..Manifests::default() });
}

#[test]
fn secret_data_and_string_data() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\ntype: kubernetes.io/dockerconfigjson\n\
                data:\n  .dockerconfigjson: eyJhdXRocyI6e319\n  other: aGk=\n\
                stringData:\n  .dockerconfigjson: '{\"auths\":{\"r.io\":{\"username\":\"from-string-data\"}}}'\n";
    let manifests = read("s.yaml", text);
    assert!(manifests.errors.is_empty(), "{:?}", manifests.errors);
    let secret = &manifests.secrets[0];
    assert_eq!(secret.secret_type, "kubernetes.io/dockerconfigjson");
    assert!(secret.docker_config_json.as_ref().is_some_and(|c| c.expose().contains("from-string-data")));

    let data_only = text.split("stringData").next().unwrap_or_default();
    let manifests = read("s.yaml", data_only);
    assert_eq!(
        manifests.secrets[0].docker_config_json.as_ref().map(regcred::secret::Secret::expose),
        Some("{\"auths\":{}}")
    );

    let bad = data_only.replace("aGk=", "a Gk=");
    let manifests = read("bad.yaml", &bad);
    assert!(manifests.secrets.is_empty());
    assert_eq!(manifests.errors[0].error.to_string(), "data[other]: illegal base64 data at input byte 1");

    let missing = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/dockercfg\n";
    assert_eq!(read("m.yaml", missing).errors[0].error.to_string(), "data[.dockercfg] is missing");
    let opaque = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n";
    assert_eq!(read("o.yaml", opaque).secrets[0].secret_type, "Opaque");
}

#[test]
fn service_account_secrets_only_when_the_pod_names_none() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: ci}\nimagePullSecrets: [{name: sa-pull}]\n";
    let pod = |extra: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: ci}}\nspec:\n  serviceAccount: builder\n{extra}  containers: [{{name: c, image: r.io/app}}]\n"
        )
    };
    let uses_sa = read_documents("a", &format!("{sa}---\n{}", pod("")), "default");
    let secrets = uses_sa.pod_pull_secrets(&uses_sa.workloads[0]);
    assert_eq!(uses_sa.workloads[0].service_account_name, "builder", "the deprecated field still names it");
    assert_eq!(
        (secrets.from, secrets.missing),
        (SecretsFrom::ServiceAccount { name: "builder".into() }, vec!["sa-pull".into()])
    );

    let own = read_documents("b", &format!("{sa}---\n{}", pod("  imagePullSecrets: [{name: mine}]\n")), "default");
    let secrets = own.pod_pull_secrets(&own.workloads[0]);
    assert_eq!((secrets.from, secrets.names), (SecretsFrom::Pod, vec!["mine".into()]));

    let empty_name = read_documents("c", &format!("{sa}---\n{}", pod("  imagePullSecrets: [{}]\n")), "default");
    let secrets = empty_name.pod_pull_secrets(&empty_name.workloads[0]);
    assert_eq!((secrets.from, secrets.names.len()), (SecretsFrom::Pod, 0), "an empty name still counts as naming one");

    let other_namespace =
        read_documents("d", &format!("{sa}---\n{}", pod("").replace("namespace: ci", "namespace: prod")), "default");
    let secrets = other_namespace.pod_pull_secrets(&other_namespace.workloads[0]);
    assert_eq!(secrets.from, SecretsFrom::UnknownServiceAccount { name: "builder".into() });
}

#[test]
fn merged_files_resolve_across_files_and_the_keyring_finds_the_credential() {
    let deployment = DEPLOYMENT_WEB.replace(
        "      containers:",
        "      imagePullSecrets:\n      - name: regcred\n      - name: gone\n      containers:",
    );
    let mut manifests = read_documents("deploy.yaml", &deployment, "shop");
    manifests.merge(read_documents("secret.yaml", SECRET_REGCRED, "shop"));
    let web = &manifests.workloads[0];
    let secrets = manifests.pod_pull_secrets(web);
    assert_eq!(secrets.missing, ["gone"]);
    let keyring = kubelet::make_docker_keyring(&secrets.kubelet_data(), Keyring::new()).unwrap();
    let credentials = keyring.lookup(&web.containers[0].image).unwrap();
    assert_eq!(credentials.len(), 1);
    let credential = &credentials[0].credential;
    assert_eq!((credential.username.as_str(), credential.secret.expose()), ("deployer", "s3cr3t-canary"));
    assert!(keyring.lookup("nginx").unwrap().is_empty(), "no key matches: the kubelet pulls anonymously");
}

#[test]
fn no_debug_output_shows_a_secret() {
    let mut manifests = read("secret.yaml", SECRET_REGCRED);
    manifests.merge(read("list.yaml", LIST));
    let secrets = manifests.pod_pull_secrets(&manifests.workloads[0]);
    let keyring = kubelet::make_docker_keyring(&secrets.kubelet_data(), Keyring::new()).unwrap();
    let credentials = keyring.lookup("registry.example.com:5000/team/web:1.4.2").unwrap();
    assert_eq!(credentials[0].credential.secret.expose(), "s3cr3t-canary");
    let debug = format!("{manifests:?} {secrets:?} {keyring:?} {credentials:?} {:#?}", secrets.kubelet_data());
    for leak in ["s3cr3t-canary", "czNjcjN0LWNhbmFyeQ", "ZGVwbG95ZXI6czNjcjN0LWNhbmFyeQ", "eyJhdXRocyI6"] {
        assert!(!debug.contains(leak), "{leak} in {debug}");
    }
}
