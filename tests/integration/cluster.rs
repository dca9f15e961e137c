//! The cluster loop through the CLI (`regcred apply`, `regcred verify`, `check --cluster`) against
//! the stand-in API server built from recorded exchanges (`support::kube_api`) and real registries.
//! The client side is real: kube with the kubeconfig's client certificate, tokens and an exec plugin.

use std::path::PathBuf;
use std::process::Output;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::kube_api::{KubeApi, PodCase};
use crate::support::registry::{self, Registry};
use crate::support::{TempHome, component_available};

fn registry_available() -> bool {
    component_available("docker-registry and skopeo", registry::available())
}

/// A user's home with a plaintext login for `host` in `~/.docker/config.json`, and a kubeconfig
/// for the stand-in cluster.
struct Desk {
    home: TempHome,
    api: KubeApi,
    kubeconfig: PathBuf,
}

impl Desk {
    fn new(context: &str) -> Self {
        let home = TempHome::new();
        let api = KubeApi::start();
        let kubeconfig = home.path().join("kubeconfig");
        api.write_kubeconfig(&kubeconfig, context);
        Self { home, api, kubeconfig }
    }

    fn login(&self, host: &str, user: &str, password: &str) {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let config = json!({"auths": {host: {"auth": auth}}});
        self.home.write(&self.home.docker_config(), config.to_string().as_bytes());
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = self.home.regcred(args);
        command.arg("--kubeconfig").arg(&self.kubeconfig);
        let output = command.output().expect("run regcred");
        crate::support::assert_no_panic(&output);
        output
    }
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn docker_config_of(secret: &Value) -> Value {
    let data = secret["data"][".dockerconfigjson"].as_str().expect("data");
    serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(data).expect("base64")).expect("json")
}

#[test]
fn apply_creates_the_secret_appends_to_the_service_account_and_says_what_changes() {
    let desk = Desk::new("admin");
    let host = "registry.example.com:5000";
    desk.login(host, "user", "first-pass");
    desk.api.put(json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "regcred-pods"}, "imagePullSecrets": [{"name": "existing"}]}));
    let args = [host, "--name", "regcred", "-n", "regcred-pods", "--service-account", "builder"];

    // A server dry run first: the plan, nothing written.
    let dry = desk.run(&[&["apply"][..], &args, &["--dry-run=server"]].concat());
    assert!(dry.status.success(), "{}{}", out(&dry), err(&dry));
    assert!(out(&dry).contains(&format!(
        "Secret regcred-pods/regcred: create (kubernetes.io/dockerconfigjson, key .dockerconfigjson with {host})"
    )));
    assert!(
        out(&dry).contains("ServiceAccount regcred-pods/builder: add regcred to imagePullSecrets (keeps existing)")
    );
    assert!(out(&dry).contains("nothing was written"));
    assert!(desk.api.get("/api/v1/namespaces/regcred-pods/secrets/regcred").is_none());

    let applied = desk.run(&[&["apply"][..], &args].concat());
    assert!(applied.status.success(), "{}{}", out(&applied), err(&applied));
    assert!(
        out(&applied).contains(
            "✔ applied (the Secret by server-side apply, field manager regcred; the ServiceAccount by a JSON patch)"
        ),
        "{}",
        out(&applied)
    );
    let secret = desk.api.get("/api/v1/namespaces/regcred-pods/secrets/regcred").expect("the Secret");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(docker_config_of(&secret)["auths"][host]["password"], "first-pass");
    // The same bytes `regcred yaml` prints (kubectl's), so what is applied is what was previewed.
    let yaml = desk.home.run(&["yaml", host, "--name", "regcred", "-n", "regcred-pods", "-o", "json"]);
    let previewed: Value = serde_json::from_slice(&yaml.stdout).expect("yaml -o json");
    assert_eq!(secret["data"], previewed["data"]);
    let account = desk.api.get("/api/v1/namespaces/regcred-pods/serviceaccounts/builder").expect("the account");
    assert_eq!(account["imagePullSecrets"], json!([{"name": "existing"}, {"name": "regcred"}]));
    let requests = desk.api.requests();
    let apply = requests.iter().find(|r| r.method == "PATCH" && r.path.ends_with("/secrets/regcred")).expect("SSA");
    assert_eq!(apply.content_type.as_deref(), Some("application/apply-patch+yaml"));
    assert!(apply.query.contains("fieldManager=regcred"), "{}", apply.query);
    let patch = requests
        .iter()
        .find(|r| r.method == "PATCH" && r.path.ends_with("/serviceaccounts/builder"))
        .expect("SA patch");
    assert_eq!(patch.content_type.as_deref(), Some("application/json-patch+json"));
    assert!(
        patch.body.contains("\"op\":\"test\"") && patch.body.contains("/metadata/resourceVersion"),
        "{}",
        patch.body
    );
    for output in [&dry, &applied] {
        assert!(!out(output).contains("first-pass") && !err(output).contains("first-pass"));
    }

    let again = desk.run(&[&["apply"][..], &args].concat());
    assert!(out(&again).contains("Secret regcred-pods/regcred: unchanged"), "{}", out(&again));
    assert!(out(&again).contains("ServiceAccount regcred-pods/builder: unchanged (regcred is listed)"));
    assert!(out(&again).contains("✔ nothing to change"));

    desk.login(host, "user", "second-pass");
    let changed = desk.run(&[&["apply"][..], &args, &["--json"]].concat());
    let plan: Value = serde_json::from_slice(&changed.stdout).expect("--json");
    assert_eq!(plan["secret_change"]["action"], "update");
    assert_eq!(plan["secret_change"]["keys"][0]["registries"][host], "changed");
    assert_eq!(plan["applied"], true);
    assert!(!out(&changed).contains("second-pass"));
    let secret = desk.api.get("/api/v1/namespaces/regcred-pods/secrets/regcred").expect("the Secret");
    assert_eq!(docker_config_of(&secret)["auths"][host]["password"], "second-pass");
}

#[test]
fn apply_refusals_are_in_the_api_servers_words_with_what_to_do() {
    let desk = Desk::new("admin");
    let host = "registry.example.com";
    desk.login(host, "user", "pass");

    let missing = desk.run(&["apply", host, "--name", "regcred", "-n", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(err(&missing).contains("namespaces \"nope\" not found"), "{}", err(&missing));
    assert!(err(&missing).contains("kubectl create namespace nope"), "{}", err(&missing));

    let forbidden = desk.run(&["apply", host, "--name", "regcred", "--context", "getpods"]);
    assert_eq!(forbidden.status.code(), Some(1));
    assert!(err(&forbidden).contains("(403 Forbidden)"), "{}", err(&forbidden));
    assert!(err(&forbidden).contains("cannot"), "{}", err(&forbidden));
    assert!(err(&forbidden).contains("kubectl auth can-i get secrets -n regcred-pods"), "{}", err(&forbidden));

    let unauthorized = desk.run(&["apply", host, "--name", "regcred", "--context", "bad-token"]);
    assert_eq!(unauthorized.status.code(), Some(1));
    assert!(err(&unauthorized).contains("401"), "{}", err(&unauthorized));
    assert!(err(&unauthorized).contains("log in again"), "{}", err(&unauthorized));

    // A Secret of another type under the same name: the type cannot change.
    desk.api.put(json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "plain", "namespace": "default"}, "data": {"a": "Yg=="}}));
    let other_type = desk.run(&["apply", host, "--name", "plain"]);
    assert_eq!(other_type.status.code(), Some(1));
    assert!(err(&other_type).contains("field is immutable"), "{}", err(&other_type));
    assert!(err(&other_type).contains("another type"), "{}", err(&other_type));

    // Another field manager owns the data: a conflict, then taking it over on request.
    assert!(desk.run(&["apply", host, "--name", "shared"]).status.success());
    let mut theirs = desk.api.get("/api/v1/namespaces/default/secrets/shared").expect("shared");
    theirs["data"][".dockerconfigjson"] = json!(base64::engine::general_purpose::STANDARD.encode(r#"{"auths":{}}"#));
    let manifest = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": "shared", "namespace": "default"}, "data": theirs["data"]});
    let manifest_path = desk.home.path().join("theirs.json");
    std::fs::write(&manifest_path, manifest.to_string()).expect("write");
    let kubectl = std::process::Command::new("/usr/bin/kubectl")
        .arg("--kubeconfig")
        .arg(&desk.kubeconfig)
        .args(["apply", "--server-side", "--force-conflicts", "--validate=false", "-f"])
        .arg(&manifest_path)
        .env("HOME", desk.home.path())
        .output()
        .expect("kubectl");
    assert!(kubectl.status.success(), "{}", err(&kubectl));
    let conflict = desk.run(&["apply", host, "--name", "shared"]);
    assert_eq!(conflict.status.code(), Some(1));
    assert!(err(&conflict).contains("(409 Conflict)") && err(&conflict).contains("kubectl"), "{}", err(&conflict));
    assert!(err(&conflict).contains("--force-conflicts"), "{}", err(&conflict));
    let forced = desk.run(&["apply", host, "--name", "shared", "--force-conflicts"]);
    assert!(forced.status.success(), "{}", err(&forced));
    assert!(out(&forced).contains(&format!(".dockerconfigjson changed ({host} added)")), "{}", out(&forced));
}

#[test]
fn the_kubeconfig_is_found_as_kubectl_finds_it_and_exec_plugins_run() {
    let desk = Desk::new("exec");
    let host = "registry.example.com";
    desk.login(host, "user", "pass");
    // KUBECONFIG with a missing file first (skipped, as kubectl skips it) and then the real one;
    // the exec context's plugin prints the admin token.
    let mut command = desk.home.regcred(&["apply", host, "--name", "via-exec"]);
    let missing = desk.home.path().join("missing-config");
    command.env("KUBECONFIG", std::env::join_paths([&missing, &desk.kubeconfig]).expect("paths"));
    let output = command.output().expect("run");
    assert!(output.status.success(), "{}{}", out(&output), err(&output));
    assert!(out(&output).contains("Cluster: context exec, namespace default"), "{}", out(&output));
    assert!(desk.api.get("/api/v1/namespaces/default/secrets/via-exec").is_some());
    let calls = std::fs::read_to_string(desk.api.dir().join("exec-calls")).expect("exec-calls");
    assert!(!calls.is_empty());
    assert!(desk.api.requests().iter().any(|r| r.path.ends_with("/secrets/via-exec") && r.user == "admin"));

    // ~/.kube/config when KUBECONFIG is not set; a context that does not exist is named.
    desk.home.write(&desk.home.path().join(".kube/config"), &std::fs::read(&desk.kubeconfig).expect("read"));
    let unknown = desk.home.run(&["apply", host, "--name", "x", "--context", "prod"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        err(&unknown).contains("the kubeconfig has no context \"prod\" (it has admin, admin-token"),
        "{}",
        err(&unknown)
    );
}

/// A registry with `private/echo:v1` behind basic auth user/pass, and a cluster holding a pull
/// Secret `regcred` for it with `password`.
fn cluster_with_secret(password: &str) -> Option<(Desk, Registry, String)> {
    if !registry_available() {
        return None;
    }
    let registry = Registry::start(Some(("user", "pass")));
    registry.push_image("private/echo", "v1");
    let desk = Desk::new("admin");
    desk.login(&registry.host, "user", password);
    let applied = desk.run(&["apply", &registry.host, "--name", "regcred", "-n", "regcred-pods"]);
    assert!(applied.status.success(), "{}", err(&applied));
    let image = format!("{}/private/echo:v1", registry.host);
    Some((desk, registry, image))
}

#[test]
fn verify_shows_the_nodes_event_beside_the_prediction_and_they_are_the_same_text() {
    let Some((desk, registry, image)) = cluster_with_secret("WRONG") else { return };
    desk.api.kubelet_plays(&image, PodCase::WrongPassword);
    let output = desk.run(&["verify", &image, "--secret", "regcred", "-n", "regcred-pods"]);
    assert_eq!(output.status.code(), Some(1), "{}{}", out(&output), err(&output));
    let text = out(&output);
    let node = text.lines().find_map(|l| l.trim().strip_prefix("node says:")).expect("node says").trim().to_owned();
    let predicted =
        text.lines().find_map(|l| l.trim().strip_prefix("regcred says:")).expect("regcred says").trim().to_owned();
    // The recorded kubelet v1.26 Event with this registry, and regcred's containerd-1.6 line for
    // the same case (the node's runtime, read from its status), byte for byte.
    assert_eq!(
        node,
        format!(
            "Failed to pull image \"{image}\": rpc error: code = Unknown desc = failed to pull and unpack image \"{image}\": \
             failed to resolve reference \"{image}\": pulling from host {} failed with status code [manifests v1]: 401 Unauthorized",
            registry.host
        )
    );
    assert_eq!(node, predicted);
    assert!(text.contains("✔ same text: regcred predicted exactly what the node said"), "{text}");
    assert!(text.contains("containerd 1.6.0–1.6.24 (the node's containerd://1.6.20)"), "{text}");
    assert!(text.contains("(ErrImagePull)") || text.contains("(ImagePullBackOff)"), "{text}");
    assert!(err(&output).contains("Warning Failed: Failed to pull image"), "{}", err(&output));
    // The Pod is gone, and it was the docs' Pod made safe.
    let pods: Vec<_> =
        desk.api.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/pods")).collect();
    let created: Value = serde_json::from_str(&pods[0].body).expect("pod body");
    let name = created["metadata"]["name"].as_str().expect("name");
    assert!(name.starts_with("private-image-test-"));
    assert_eq!(created["metadata"]["labels"]["app.kubernetes.io/managed-by"], "regcred");
    assert_eq!(created["spec"]["containers"][0]["imagePullPolicy"], "Always");
    assert!(desk.api.get(&format!("/api/v1/namespaces/regcred-pods/pods/{name}")).is_none(), "the Pod is deleted");
    assert!(text.contains(&format!("the test Pod {name} was deleted")));
    assert!(!text.contains("WRONG") && !err(&output).contains("WRONG"));
}

#[test]
fn verify_exits_zero_when_the_node_pulled_and_reads_success() {
    let Some((desk, _registry, image)) = cluster_with_secret("pass") else { return };
    desk.api.kubelet_plays(&image, PodCase::RightPassword);
    let output = desk.run(&["verify", &image, "--secret", "regcred", "-n", "regcred-pods", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}{}", out(&output), err(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("--json");
    assert_eq!(report["outcome"], "pulled", "{report:#}");
    assert_eq!(report["log"], "SUCCESS");
    assert_eq!(report["matches"], true, "{report:#}");
    assert_eq!(report["prediction"]["verdict"], "pulls");
    assert_eq!(report["deleted"], true);
}

#[test]
fn verify_cleans_up_pods_left_by_a_crashed_run() {
    let desk = Desk::new("admin");
    desk.api.put(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "private-image-test-left1234", "namespace": "regcred-pods", "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app.kubernetes.io/managed-by": "regcred", "app.kubernetes.io/name": "private-image-test"}},
        "spec": {"containers": [{"name": "test", "image": "r.example/i:1"}]}}));
    // A test Pod of a run still going (younger than ten minutes) is not a leftover.
    desk.api.put(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "private-image-test-running1", "namespace": "regcred-pods",
            "labels": {"app.kubernetes.io/managed-by": "regcred", "app.kubernetes.io/name": "private-image-test"}},
        "spec": {"containers": [{"name": "test", "image": "r.example/i:1"}]}}));
    let cleaned = desk.run(&["verify", "--cleanup", "-n", "regcred-pods"]);
    assert!(cleaned.status.success(), "{}", err(&cleaned));
    assert!(err(&cleaned).contains("private-image-test-left1234"), "{}", err(&cleaned));
    assert!(desk.api.get("/api/v1/namespaces/regcred-pods/pods/private-image-test-left1234").is_none());
    assert!(desk.api.get("/api/v1/namespaces/regcred-pods/pods/private-image-test-running1").is_some());
}

#[test]
fn check_cluster_explains_a_pod_in_image_pull_back_off_now() {
    let Some((desk, _registry, image)) = cluster_with_secret("WRONG") else { return };
    desk.api.kubelet_plays(&image, PodCase::WrongPassword);
    // A Pod the kubelet is failing now (its status and Events replayed from the recording).
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "regcred-pods"},
        "spec": {"containers": [{"name": "app", "image": image}], "imagePullSecrets": [{"name": "regcred"}]}});
    let pod_path = desk.home.path().join("pod.json");
    std::fs::write(&pod_path, pod.to_string()).expect("write");
    let created = std::process::Command::new("/usr/bin/kubectl")
        .arg("--kubeconfig")
        .arg(&desk.kubeconfig)
        .args(["create", "--validate=false", "-f"])
        .arg(&pod_path)
        .env("HOME", desk.home.path())
        .output()
        .expect("kubectl");
    assert!(created.status.success(), "{}", err(&created));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !desk.api.get("/api/v1/namespaces/regcred-pods/pods/web").is_some_and(|pod| {
        let reason = &pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"];
        reason == "ErrImagePull" || reason == "ImagePullBackOff"
    }) {
        assert!(std::time::Instant::now() < deadline, "the kubelet stand-in never failed the pull");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A Deployment whose template names the same Secret: found before its next rollout.
    desk.api.put(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "regcred-pods"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {"metadata": {"labels": {"app": "api"}},
            "spec": {"containers": [{"name": "api", "image": image}], "imagePullSecrets": [{"name": "regcred"}]}}}}),
    );
    // A bare Pod that names no Secret, made before its ServiceAccount listed one: it keeps none.
    desk.api.put(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "regcred-pods"},
        "imagePullSecrets": [{"name": "regcred"}]}));
    desk.api.put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "early", "namespace": "regcred-pods"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]},
        "status": {"containerStatuses": [{"name": "app", "image": image, "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}));
    let junit = desk.home.path().join("report.xml");
    let output = desk.run(&["check", "--cluster", "-n", "regcred-pods", "--junit", junit.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1), "{}{}", out(&output), err(&output));
    let text = out(&output);
    assert!(text.contains("Credentials: the pull Secrets, read through the API"), "{text}");
    assert!(text.contains(&format!("regcred-pods/web  app  {image}")), "{text}");
    let node = text.lines().find_map(|l| l.trim().strip_prefix("node says:")).expect("node says").trim().to_owned();
    let predicted =
        text.lines().find_map(|l| l.trim().strip_prefix("regcred says:")).expect("regcred says").trim().to_owned();
    assert_eq!(node, predicted, "{text}");
    assert!(text.contains("✔ the same text"), "{text}");
    assert!(text.contains("regcred-pods/Deployment/api"), "{text}");
    assert!(
        text.contains("its ServiceAccount default lists regcred now, but the Pod was created before it did"),
        "{text}"
    );
    assert!(text.contains("create it again"), "{text}");
    assert_eq!(text.matches("lists regcred now").count(), 1, "only the Pod that names none: {text}");
    assert!(std::fs::read_to_string(&junit).expect("junit").contains("Deployment/api"));

    let json_run = desk.run(&["check", "--cluster", "-n", "regcred-pods", "--json"]);
    let live: Value = serde_json::from_slice(&json_run.stdout).expect("--json");
    let web = live["failing"].as_array().expect("failing").iter().find(|pod| pod["pod"] == "web").expect("web");
    assert_eq!(web["matches"], true);
    assert_eq!(live["secrets"]["from"], "cluster");

    // The lister may read Pods and Events but not Secrets: your local credentials, said loudly.
    let lister = desk.run(&["check", "--cluster", "--context", "lister"]);
    let text = out(&lister);
    assert!(
        text.contains("Credentials: ⚠ your local credentials, not the cluster's Secrets"),
        "{text}{}",
        err(&lister)
    );
    assert!(text.contains("regcred-pods/web"), "{text}");
}

/// Inside a Pod: no kubeconfig, the ServiceAccount's token, CA and namespace mounted at
/// `/var/run/secrets/kubernetes.io/serviceaccount`, `KUBERNETES_SERVICE_HOST`/`PORT` set — made
/// here with a private mount namespace (root, as CI runs) whose `/run` is a fresh tmpfs.
#[test]
fn check_cluster_runs_in_cluster_from_its_service_account() {
    if !component_available("unshare (root)", is_root() && registry::which("unshare").is_some()) {
        return;
    }
    let desk = Desk::new("admin");
    let account = desk.home.path().join("serviceaccount");
    std::fs::create_dir_all(&account).expect("mkdir");
    std::fs::write(account.join("token"), desk.api.lister_token()).expect("token");
    std::fs::write(account.join("ca.crt"), desk.api.ca_pem()).expect("ca");
    std::fs::write(account.join("namespace"), "regcred-pods").expect("namespace");
    let image = "registry.example.com/team/app:1";
    desk.api.put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": "regcred-pods"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": image}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "app", "image": image, "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}}]}}));
    let event =
        format!("Failed to pull image \"{image}\": rpc error: code = Unknown desc = failed to pull and unpack image");
    desk.api.put(
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "stuck.1", "namespace": "regcred-pods"},
        "involvedObject": {"kind": "Pod", "name": "stuck", "namespace": "regcred-pods"}, "reason": "Failed",
        "type": "Warning", "message": event, "count": 1}),
    );
    let port = desk.api.url().rsplit(':').next().expect("port").to_owned();
    let script = format!(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && \
         mount --bind '{}' /run/secrets/kubernetes.io/serviceaccount && exec '{}' check --cluster --timeout 20s",
        account.display(),
        crate::support::regcred_bin()
    );
    // regcred's usual environment (HOME and friends in the temp home), run through unshare.
    let env = desk.home.regcred(&[]);
    let output = std::process::Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .env_clear()
        .envs(env.get_envs().filter_map(|(key, value)| Some((key.to_owned(), value?.to_owned()))))
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port)
        .output()
        .expect("unshare");
    let text = out(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", err(&output));
    assert!(
        text.contains(&format!("Cluster: context in-cluster, namespace regcred-pods (https://127.0.0.1:{port})")),
        "{text}"
    );
    assert!(
        text.contains("regcred-pods/stuck  app  registry.example.com/team/app:1  (ImagePullBackOff, node node-1)"),
        "{text}"
    );
    assert!(text.contains(&format!("node says:    {event}")), "{text}");
    // The lister may not read Secrets: said, not hidden.
    assert!(text.contains("Credentials:") && text.contains("secrets"), "{text}");
    let seen = desk.api.requests();
    assert!(
        seen.iter().any(|r| r.user == "system:serviceaccount:regcred-pods:lister"
            && r.path == "/api/v1/namespaces/regcred-pods/pods")
    );
}

fn is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// The `CronJob`'s `ClusterRole` (`packaging/kubernetes/check-cronjob.yaml`) grants every request
/// `check --cluster --all-namespaces` makes, and only reads.
#[test]
fn the_packaged_cronjob_role_grants_exactly_what_check_cluster_reads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/kubernetes/check-cronjob.yaml"))
        .expect("the CronJob manifest");
    let documents: Vec<Value> =
        text.split("\n---\n").map(|document| serde_yaml_ng::from_str(document).expect("YAML")).collect();
    let role = documents.iter().find(|d| d["kind"] == "ClusterRole").expect("a ClusterRole");
    let mut granted = std::collections::BTreeSet::new();
    for rule in role["rules"].as_array().expect("rules") {
        for group in rule["apiGroups"].as_array().expect("groups") {
            for resource in rule["resources"].as_array().expect("resources") {
                for verb in rule["verbs"].as_array().expect("verbs") {
                    let verb = verb.as_str().expect("verb");
                    assert!(["get", "list", "watch"].contains(&verb), "the role only reads, not {verb}");
                    granted.insert((
                        group.as_str().expect("g").to_owned(),
                        resource.as_str().expect("r").to_owned(),
                        verb.to_owned(),
                    ));
                }
            }
        }
    }
    let cronjob = documents.iter().find(|d| d["kind"] == "CronJob").expect("a CronJob");
    let args: Vec<String> = serde_json::from_value(
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"].clone(),
    )
    .expect("args");
    assert_eq!(args[..3], ["check", "--cluster", "--all-namespaces"]);

    let desk = Desk::new("admin");
    desk.api.put(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": "regcred-pods"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "registry.example.com/app:1"}]},
        "status": {"containerStatuses": [{"name": "app", "image": "registry.example.com/app:1", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": "ErrImagePull"}}}]}}));
    let output = desk.run(&["check", "--cluster", "--all-namespaces", "--timeout", "20s"]);
    assert_eq!(output.status.code(), Some(1), "{}{}", out(&output), err(&output));
    for request in desk.api.requests() {
        let parts: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        let (group, rest) = match parts.as_slice() {
            ["api", "v1", rest @ ..] => (String::new(), rest.to_vec()),
            ["apis", group, _version, rest @ ..] => ((*group).to_owned(), rest.to_vec()),
            _ => continue,
        };
        let rest = match rest.as_slice() {
            ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest.to_vec(),
            _ => rest,
        };
        let (resource, verb) = match (request.method.as_str(), rest.as_slice()) {
            ("GET", [resource]) if request.query.contains("watch") => (*resource, "watch"),
            ("GET", [resource]) => (*resource, "list"),
            ("GET", [resource, _name]) => (*resource, "get"),
            (method, path) => panic!("check --cluster wrote: {method} {path:?}"),
        };
        assert!(
            granted.contains(&(group.clone(), resource.to_owned(), verb.to_owned())),
            "the CronJob's role lacks {verb} {resource} in group {group:?} ({} {})",
            request.method,
            request.path
        );
    }
}

#[test]
fn check_cluster_tells_an_empty_namespace_from_a_missing_one_and_kubeconfig_mistakes_are_named() {
    let desk = Desk::new("admin");
    let empty = desk.run(&["check", "--cluster", "-n", "regcred-pods"]);
    assert_eq!(empty.status.code(), Some(0), "{}{}", out(&empty), err(&empty));
    assert!(out(&empty).contains("No Pod is failing to pull now."), "{}", out(&empty));
    assert!(!out(&empty).contains("input error") && !err(&empty).contains("error"), "{}{}", out(&empty), err(&empty));

    let typo = desk.run(&["check", "--cluster", "-n", "regcred-pod"]);
    assert_eq!(typo.status.code(), Some(2), "{}{}", out(&typo), err(&typo));
    assert!(err(&typo).contains("namespaces \"regcred-pod\" not found"), "{}", err(&typo));

    let refused = desk.run(&["check", "--cluster", "--context", "bad-token"]);
    assert_eq!(refused.status.code(), Some(2), "a cluster that cannot be read is not 'some would fail'");

    let mut command = desk.home.regcred(&["check", "--cluster"]);
    command.env("KUBECONFIG", "/nonexistent/kubeconfig");
    let output = command.output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        err(&output).contains("KUBECONFIG names no file that exists (/nonexistent/kubeconfig)"),
        "{}",
        err(&output)
    );
    let named = desk.home.run(&["check", "--cluster", "--kubeconfig", "/nonexistent/kubeconfig"]);
    assert!(err(&named).contains("the kubeconfig /nonexistent/kubeconfig does not exist"), "{}", err(&named));
}

#[test]
fn verify_deletes_its_pod_even_when_its_output_goes_away() {
    let desk = Desk::new("admin");
    desk.api.kubelet_plays("registry.example.com/app:1", PodCase::WrongPassword);
    // stdout and stderr closed before regcred writes (`2>&1 | head -0`).
    let mut command =
        desk.home.regcred(&["verify", "registry.example.com/app:1", "-n", "regcred-pods", "--timeout", "20s"]);
    command.arg("--kubeconfig").arg(&desk.kubeconfig);
    let mut child =
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_ne!(status.code(), Some(101), "no panic");
    let created: Vec<_> =
        desk.api.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/pods")).collect();
    assert_eq!(created.len(), 1);
    let pod: Value = serde_json::from_str(&created[0].body).expect("pod");
    let name = pod["metadata"]["name"].as_str().expect("name");
    assert!(desk.api.get(&format!("/api/v1/namespaces/regcred-pods/pods/{name}")).is_none(), "the test Pod is deleted");
}

#[test]
fn verify_meets_pod_security_and_predicts_with_the_secrets_the_service_account_gave() {
    let Some((desk, registry, image)) = cluster_with_secret("pass") else { return };
    desk.api.put(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "regcred-pods", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}));
    desk.api.put(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "regcred-pods"},
        "imagePullSecrets": [{"name": "regcred"}]}));
    desk.api.kubelet_judges(&registry.host, "user", "pass", &["v1"]);
    // No --secret: the Pod gets its ServiceAccount's at admission, and the prediction uses them.
    let output = desk.run(&["verify", &image, "-n", "regcred-pods"]);
    let text = out(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", err(&output));
    assert!(text.contains("the namespace enforces the restricted Pod Security Standard"), "{text}");
    assert!(text.contains("its ServiceAccount gave it regcred"), "{text}");
    assert!(text.contains("the node pulled it, as regcred predicted"), "{text}");
    let posts: Vec<_> =
        desk.api.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/pods")).collect();
    assert_eq!(posts.len(), 2, "refused once by Pod Security, then made with its settings");
    let hardened: Value = serde_json::from_str(&posts[1].body).expect("pod");
    assert_eq!(hardened["spec"]["containers"][0]["securityContext"]["runAsUser"], 65534);
}

#[test]
fn verify_reports_an_invalid_image_name_in_the_kubelets_words() {
    let desk = Desk::new("admin");
    // The API accepts the Pod; the node refuses the name (05e).
    desk.api.kubelet_plays("Nginx:1", PodCase::InvalidImageName);
    let output = desk.run(&["verify", "Nginx:1", "-n", "regcred-pods"]);
    let text = out(&output);
    assert_eq!(output.status.code(), Some(1), "{text}{}", err(&output));
    assert!(text.contains("(InvalidImageName)"), "{text}");
    assert!(
        text.contains("node says:    Failed to apply default image tag \"Nginx:1\": couldn't parse image reference \"Nginx:1\": invalid reference format: repository name must be lowercase"),
        "{text}"
    );
}

#[test]
fn verify_deletes_its_pod_on_ctrl_c_and_on_its_deadline() {
    let desk = Desk::new("admin");
    // No kubelet answers for this image: the Pod stays Pending.
    let image = "registry.example.com/slow/app:1";
    let timed = desk.run(&["verify", image, "-n", "regcred-pods", "--timeout", "2s"]);
    assert_eq!(timed.status.code(), Some(1), "{}{}", out(&timed), err(&timed));
    assert!(out(&timed).contains("no answer from the node within the deadline"), "{}", out(&timed));
    assert!(out(&timed).contains("was deleted"), "{}", out(&timed));

    let mut command = desk.home.regcred(&["verify", image, "-n", "regcred-pods", "--timeout", "60s"]);
    command.arg("--kubeconfig").arg(&desk.kubeconfig);
    let child =
        command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let created =
        |api: &KubeApi| api.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/pods")).count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while created(&desk.api) < 2 {
        assert!(std::time::Instant::now() < deadline, "the second test Pod was never created");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{}{}", out(&output), err(&output));
    assert!(out(&output).contains("cancelled before the node answered"), "{}", out(&output));
    let pods = desk.api.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/pods"));
    for request in pods {
        let pod: Value = serde_json::from_str(&request.body).expect("pod");
        let name = pod["metadata"]["name"].as_str().expect("name");
        assert!(desk.api.get(&format!("/api/v1/namespaces/regcred-pods/pods/{name}")).is_none(), "{name} is deleted");
    }
}

#[test]
fn apply_appends_to_the_service_account_safely_when_someone_changes_it_at_the_same_time() {
    let desk = Desk::new("admin");
    let host = "registry.example.com";
    desk.login(host, "user", "pass");
    let path = "/api/v1/namespaces/regcred-pods/serviceaccounts/builder";
    desk.api.put(json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "regcred-pods"}, "imagePullSecrets": [{"name": "existing"}]}));
    // Between regcred's read and its patch, another tool adds its own Secret to the account.
    desk.api.before_next_patch(path, |account| {
        account["imagePullSecrets"].as_array_mut().expect("list").push(json!({"name": "theirs"}));
    });
    let output = desk.run(&["apply", host, "--name", "regcred", "-n", "regcred-pods", "--service-account", "builder"]);
    assert!(output.status.success(), "{}{}", out(&output), err(&output));
    let account = desk.api.get(path).expect("the account");
    // Nothing lost: the concurrent addition and regcred's are both there (a replace would drop one).
    assert_eq!(account["imagePullSecrets"], json!([{"name": "existing"}, {"name": "theirs"}, {"name": "regcred"}]));
    let patches = desk.api.requests().into_iter().filter(|r| r.method == "PATCH" && r.path == path).count();
    assert_eq!(patches, 2, "the first patch's resourceVersion test failed, and regcred read again and retried");
}

/// A hostile API server: every answer a 403 whose message echoes the request's head (with its
/// `Authorization` header) and carries terminal escape sequences. Nothing it says reaches the
/// terminal raw, and the bearer token is never shown.
#[test]
fn a_hostile_api_server_cannot_echo_the_token_or_write_escape_sequences() {
    use crate::support::tiny_http::{TinyServer, response};
    let token = "kube-token-9f8e7d6c5b4a";
    let server = TinyServer::start(|head, _| {
        let message = format!("denied \x1b]0;pwned\x07\x1b[2J\u{202e}txt.exe {head}");
        let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "reason": "Forbidden", "code": 403});
        response("403 Forbidden", &[("Content-Type", "application/json")], body.to_string().as_bytes())
    });
    let home = TempHome::new();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://{}\nusers:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: default\ncurrent-context: x\n",
            server.addr
        ),
    )
    .expect("kubeconfig");
    let auth = base64::engine::general_purpose::STANDARD.encode("user:pass");
    home.write(
        &home.docker_config(),
        json!({"auths": {"registry.example.com": {"auth": auth}}}).to_string().as_bytes(),
    );
    let runs = [
        vec!["apply", "registry.example.com", "--name", "regcred"],
        vec!["verify", "registry.example.com/app:1", "--timeout", "5s"],
        vec!["check", "--cluster"],
        vec!["check", "--cluster", "--json"],
    ];
    for args in runs {
        let mut command = home.regcred(&args);
        command.arg("--kubeconfig").arg(&kubeconfig);
        let output = command.output().expect("run");
        crate::support::assert_no_panic(&output);
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        let all = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(
            !all.contains(&0x1b) && !text.contains('\u{202e}'),
            "{args:?}: a raw escape reached the terminal: {text}"
        );
        assert!(!text.contains(token), "{args:?}: the token was shown: {text}");
        assert!(text.contains("denied"), "{args:?}: the server's words are kept: {text}");
    }
    let seen = server.seen.lock().expect("seen");
    assert!(seen.iter().any(|head| head.contains(&format!("Bearer {token}"))), "the token was sent (to loopback)");
}
