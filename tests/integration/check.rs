//! `regcred check` end to end: manifests made by kubectl (and written as people write them),
//! real registries (basic auth; token auth with per-repository grants), the kubelet's credential
//! order, missing Secrets, `ServiceAccounts`, `kind: List` from stdin, a broken document, `Never`,
//! the JSON shape, `JUnit`, exit codes, and the protocol's minimum of requests.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::kubectl_oracle::kubectl;
use crate::support::registry::{self, Registry, Setup};
use crate::support::token_server::TokenServer;
use crate::support::{TempHome, component_available, with_stdin};

fn available() -> bool {
    component_available(
        "docker-registry, skopeo and openssl",
        registry::available() && registry::which("openssl").is_some(),
    ) && component_available("kubectl", kubectl().is_some())
}

/// `kubectl ARGS --dry-run=client -o yaml`.
fn kubectl_yaml(args: &[&str]) -> String {
    let output = Command::new(kubectl().unwrap()).args(args).args(["--dry-run=client", "-o", "yaml"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A Deployment made by kubectl, with `imagePullSecrets` added where people add them.
fn deployment(name: &str, image: &str, secrets: &[&str]) -> String {
    let yaml = kubectl_yaml(&["create", "deployment", name, &format!("--image={image}")]);
    if secrets.is_empty() {
        return yaml;
    }
    let list: String = secrets.iter().map(|s| format!("      - name: {s}\n")).collect();
    yaml.replacen("      containers:\n", &format!("      imagePullSecrets:\n{list}      containers:\n"), 1)
}

fn secret(name: &str, server: &str, user: &str, password: &str) -> String {
    kubectl_yaml(&[
        "create",
        "secret",
        "docker-registry",
        name,
        &format!("--docker-server={server}"),
        &format!("--docker-username={user}"),
        &format!("--docker-password={password}"),
    ])
}

fn write(dir: &Path, name: &str, documents: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, documents.join("---\n")).unwrap();
    path.display().to_string()
}

fn check(home: &TempHome, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["check", "--json"];
    all.extend_from_slice(args);
    let output = home.run(&all);
    let json = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn result<'a>(json: &'a Value, container_image: &str) -> &'a Value {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["image"] == container_image)
        .unwrap_or_else(|| panic!("{container_image}: {json:#}"))
}

#[test]
fn kubectl_made_manifests_pull_or_fail_as_the_kubelet_would() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", "check-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let good = format!("{}/team/app:v1", registry.host);
    let missing_tag = format!("{}/team/app:v2", registry.host);
    let file = write(
        home.path(),
        "app.yaml",
        &[
            secret("regcred", &registry.host, "alice", "check-pw"),
            secret("stale", &registry.host, "alice", "old-pw"),
            deployment("web", &good, &["regcred"]),
            deployment("broken", &good, &["stale"]),
            deployment("second-chance", &good, &["stale", "regcred"]),
            deployment("typo", &missing_tag, &["regcred"]),
        ],
    );
    let junit = home.path().join("junit.xml");
    let (code, json, stderr) = check(&home, &["-f", &file, "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "something fails: {stderr}");
    let rows = json["results"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let by = |workload: &str| rows.iter().find(|r| r["workload"] == workload).unwrap();
    let web = by("Deployment/web");
    assert_eq!(web["verdict"], "pulls");
    assert_eq!(web["namespace"], "default");
    assert_eq!(web["container"], "app");
    assert_eq!(web["credential"]["secret"], "regcred");
    assert_eq!(web["credential"]["key"], registry.host.as_str());
    assert!(web["digest"].as_str().unwrap().starts_with("sha256:"));

    let broken = by("Deployment/broken");
    assert_eq!(broken["verdict"], "fails");
    let kubelet = broken["kubelet"].as_str().unwrap();
    assert!(
        kubelet.starts_with(&format!("Failed to pull image \"{good}\": ")) && kubelet.contains("401 Unauthorized"),
        "{kubelet}"
    );
    assert!(!kubelet.contains("old-pw") && !json.to_string().contains("check-pw"), "no secret in the report");

    let second = by("Deployment/second-chance");
    assert_eq!(second["verdict"], "pulls", "every matching credential is tried in order");
    assert_eq!(second["credential"]["secret"], "regcred");
    assert_eq!(second["tried"][0]["credential"]["secret"], "stale", "the one that failed before");

    let typo = by("Deployment/typo");
    assert_eq!(typo["verdict"], "fails");
    assert!(typo["kubelet"].as_str().unwrap().contains("not found"), "{typo}");

    // One ping for the registry although three distinct pulls went there.
    let text = String::from_utf8(home.run(&["check", "-f", &file]).stdout).unwrap();
    assert!(text.contains("FAILS") && text.find("FAILS") < text.find("pulls"), "failures first: {text}");
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(junit.contains("tests=\"4\" failures=\"2\"") && junit.contains("<failure message="), "{junit}");
    let pings = json["summary"]["requests"][registry.host.as_str()].as_u64().unwrap();
    assert!(pings > 0);

    // The same file named twice (a directory and a file in it, say): each object is checked once,
    // as the cluster keeps one, and the repeat is said.
    let (_, twice, stderr) = check(&home, &["-f", &file, "-f", &file]);
    assert_eq!(twice["results"].as_array().unwrap().len(), 4, "{twice}");
    assert_eq!(twice["summary"]["workloads"], 4);
    let warnings = twice["warnings"].to_string();
    assert!(warnings.contains("Deployment/web (namespace default) is in the manifests 2 times"), "{warnings}");
    assert!(warnings.contains("the Secret regcred (namespace default) is in the manifests 2 times"), "{warnings}");
    assert!(stderr.contains("warning: Deployment/web"), "{stderr}");

    // A tag beside a digest: the digest is pulled, and the tag is said not to be checked.
    let digest = web["digest"].as_str().unwrap();
    let pinned = format!("{}/team/app:v9@{digest}", registry.host);
    let file = write(
        home.path(),
        "pinned.yaml",
        &[secret("regcred", &registry.host, "alice", "check-pw"), deployment("pinned", &pinned, &["regcred"])],
    );
    let (code, json, stderr) = check(&home, &["-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    let notes = json["results"][0]["notes"].to_string();
    assert!(
        notes.contains("the tag v9 is not checked: an image named with a digest is pulled by its digest"),
        "{json:#}"
    );
}

#[test]
fn secrets_from_service_accounts_missing_secrets_and_local_credentials() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", "sa-pw")));
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);
    let home = TempHome::new();
    let service_account =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\n  namespace: shop\nimagePullSecrets:\n- name: regcred\n"
            .to_owned();
    let pod_with_sa = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: via-sa\n  namespace: shop\nspec:\n  serviceAccountName: builder\n  containers:\n  - name: app\n    image: {image}\n"
    );
    let secret_in_shop = secret("regcred", &registry.host, "alice", "sa-pw").replacen(
        "metadata:\n",
        "metadata:\n  namespace: shop\n",
        1,
    );
    let missing = deployment("lost", &image, &["nowhere"]);
    let never = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cached\nspec:\n  containers:\n  - name: app\n    image: {image}\n    imagePullPolicy: Never\n"
    );
    // The Secret exists, but in another namespace; and one of the wrong type.
    let wrong_namespace = deployment("elsewhere", &image, &["regcred"]);
    let opaque =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\ntype: Opaque\nstringData:\n  token: x\n".to_owned();
    let uses_opaque = deployment("opaque", &image, &["plain"]);
    let file = write(
        home.path(),
        "all.yaml",
        &[service_account, pod_with_sa, secret_in_shop, missing, never, wrong_namespace, opaque, uses_opaque],
    );
    let (code, json, _) = check(&home, &["-f", &file]);
    assert_eq!(code, 1);
    let rows = json["results"].as_array().unwrap();
    let via_sa = rows.iter().find(|r| r["workload"] == "Pod/via-sa").unwrap();
    assert_eq!(via_sa["verdict"], "pulls", "{via_sa}");
    assert_eq!(via_sa["credential"]["secret"], "regcred");
    assert!(via_sa["notes"].to_string().contains("from its ServiceAccount shop/builder"), "{via_sa}");
    let lost = rows.iter().find(|r| r["workload"] == "Deployment/lost").unwrap();
    assert_eq!(lost["verdict"], "fails");
    let notes = lost["notes"].to_string();
    assert!(
        notes.contains("FailedToRetrieveImagePullSecret: Unable to retrieve some image pull secrets (nowhere); attempting to pull the image may not succeed."),
        "{notes}"
    );
    // An invalid name stays InvalidImageName: the kubelet does not back off on it.
    let invalid = write(home.path(), "invalid.yaml", &[deployment("shouty", "Registry.Example.com/Team/App:v1", &[])]);
    let text = String::from_utf8(home.run(&["check", "-f", &invalid]).stdout).unwrap();
    assert!(text.contains("(InvalidImageName)") && !text.contains("then ImagePullBackOff"), "{text}");
    let cached = rows.iter().find(|r| r["workload"] == "Pod/cached").unwrap();
    assert_eq!(cached["verdict"], "skipped");
    assert!(cached["notes"].to_string().contains("pre-pulled on every node"));

    // --local: the missing Secret's place is taken by the user's own login.
    let login = with_stdin(
        home.regcred(&["login", &registry.host, "-u", "alice", "--password-stdin", "--store", "file", "--no-verify"]),
        b"sa-pw",
    );
    assert!(login.status.success());
    let elsewhere = rows.iter().find(|r| r["workload"] == "Deployment/elsewhere").unwrap();
    assert_eq!(elsewhere["verdict"], "fails");
    assert!(elsewhere["notes"].to_string().contains("regcred (it is in namespace shop, not default)"), "{elsewhere}");
    let opaque = rows.iter().find(|r| r["workload"] == "Deployment/opaque").unwrap();
    assert!(opaque["notes"].to_string().contains("has type Opaque"), "{opaque}");
    assert!(
        opaque["what_to_do"].as_str().unwrap().starts_with("Make the Secret plain a kubernetes.io/dockerconfigjson"),
        "{opaque}"
    );
    let (_, json, _) = check(&home, &["-f", &file, "--local"]);
    let rows = json["results"].as_array().unwrap();
    let lost = rows.iter().find(|r| r["workload"] == "Deployment/lost").unwrap();
    assert_eq!(lost["verdict"], "pulls", "{lost}");
    assert_eq!(lost["credential"]["secret"], Value::Null);
    let elsewhere = rows.iter().find(|r| r["workload"] == "Deployment/elsewhere").unwrap();
    assert_eq!(elsewhere["verdict"], "fails", "--local does not cover a Secret of another namespace");
}

#[test]
fn per_repository_grants_on_a_token_registry() {
    if !available() {
        return;
    }
    let users: crate::support::token_server::Users = HashMap::from([
        ("admin".to_owned(), ("admin-pw".to_owned(), vec!["pull".to_owned(), "push".to_owned()])),
        ("app-only".to_owned(), ("app-pw".to_owned(), vec!["pull:team/app".to_owned()])),
    ]);
    let tokens = TokenServer::start("registry.test", users);
    let registry = Registry::start_with(&Setup {
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    for repo in ["team/app", "team/db"] {
        let layout = registry.dir.path().join(format!("layout-{}", repo.replace('/', "-")));
        registry::write_oci_layout(&layout, "v1", repo.as_bytes());
        let status = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds=admin:admin-pw"])
            .arg(format!("oci:{}:v1", layout.display()))
            .arg(format!("docker://{}/{repo}:v1", registry.host))
            .env("REGISTRY_AUTH_FILE", registry.dir.path().join("push-auth.json"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let home = TempHome::new();
    let (app, db) = (format!("{}/team/app:v1", registry.host), format!("{}/team/db:v1", registry.host));
    let file = write(
        home.path(),
        "shop.yaml",
        &[
            secret("app-only", &registry.host, "app-only", "app-pw"),
            secret("stale", &registry.host, "app-only", "old-pw"),
            deployment("app", &app, &["app-only"]),
            deployment("db", &db, &["app-only"]),
            deployment("stale", &app, &["stale"]),
        ],
    );
    let (code, json, _) = check(&home, &["-f", &file]);
    assert_eq!(code, 1);
    let by = |workload: &str| json["results"].as_array().unwrap().iter().find(|r| r["workload"] == workload).unwrap();
    assert_eq!(by("Deployment/app")["verdict"], "pulls");
    // The same user with an old password: it never rides on the good password's token.
    assert_eq!(by("Deployment/stale")["verdict"], "fails", "{json}");
    let db = result(&json, &db);
    assert_eq!(db["verdict"], "fails", "the user may not pull team/db");
    assert!(db["kubelet"].as_str().unwrap().contains("Failed to pull image"), "{db}");
}

#[test]
fn tags_of_one_image_cost_the_protocol_minimum() {
    if !available() {
        return;
    }
    let users: crate::support::token_server::Users =
        HashMap::from([("alice".to_owned(), ("alice-pw".to_owned(), vec!["pull".to_owned(), "push".to_owned()]))]);
    let tokens = TokenServer::start("registry.test", users);
    let registry = Registry::start_with(&Setup {
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    let layout = registry.dir.path().join("layout");
    registry::write_oci_layout(&layout, "v1", b"one image, six tags\n");
    let tags: Vec<String> = (0..6).map(|n| format!("t{n}")).collect();
    for tag in &tags {
        let status = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds=alice:alice-pw"])
            .arg(format!("oci:{}:v1", layout.display()))
            .arg(format!("docker://{}/team/app:{tag}", registry.host))
            .env("REGISTRY_AUTH_FILE", registry.dir.path().join("push-auth.json"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let home = TempHome::new();
    let mut documents = vec![secret("regcred", &registry.host, "alice", "alice-pw")];
    documents
        .extend(tags.iter().map(|tag| deployment(tag, &format!("{}/team/app:{tag}", registry.host), &["regcred"])));
    let file = write(home.path(), "tags.yaml", &documents);
    let before = tokens.token_requests();
    let (code, json, stderr) = check(&home, &["-f", &file]);
    assert_eq!(code, 0, "{stderr}");
    // The six pulls start together, as a node's would: one ping, one token request (counted with
    // the registry's), a HEAD per tag (what resolves it), the manifest's bytes once
    // (content-addressed), its config and layer once.
    let requests = json["summary"]["requests"][registry.host.as_str()].as_u64().unwrap();
    assert_eq!((requests, tokens.token_requests() - before), (1 + 1 + 6 + 1 + 2, 1), "{json}");
}

#[test]
fn a_list_from_stdin_a_broken_document_and_the_docs_private_image_pod() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", "list-pw")));
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);
    let home = TempHome::new();
    // What `kubectl get deploy,secret -o yaml` prints: a List.
    let secret_yaml = secret("regcred", &registry.host, "alice", "list-pw");
    let deployment_yaml = deployment("web", &image, &["regcred"]);
    let indent = |yaml: &str| {
        yaml.lines()
            .enumerate()
            .map(|(i, l)| if i == 0 { format!("- {l}\n") } else { format!("  {l}\n") })
            .collect::<String>()
    };
    let list = format!("apiVersion: v1\nkind: List\nitems:\n{}{}", indent(&secret_yaml), indent(&deployment_yaml));
    let output = with_stdin(home.regcred(&["check", "-f", "-", "--json"]), list.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result(&json, &image)["verdict"], "pulls");

    // The Kubernetes docs' check Pod, and a broken document among good ones.
    let docs_pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: private-image-test-1\nspec:\n  containers:\n    - name: uses-private-image\n      image: {image}\n      imagePullPolicy: Always\n      command: [ \"echo\", \"SUCCESS\" ]\n  imagePullSecrets:\n  - name: regcred\n"
    );
    let file = write(home.path(), "mixed.yaml", &[secret_yaml, "kind: [unclosed\n".to_owned(), docs_pod]);
    let (code, json, _) = check(&home, &["-f", &file]);
    assert_eq!(code, 2, "an input error");
    let row = json["results"].as_array().unwrap().iter().find(|r| r["workload"] == "Pod/private-image-test-1").unwrap();
    assert_eq!(row["verdict"], "pulls", "the rest is still checked");
    let errors = json["errors"].to_string();
    assert!(errors.contains("mixed.yaml: document 2"), "{errors}");

    // In text, the input errors go to stderr; stdout is the report and says how many there were.
    let output = home.run(&["check", "-f", &file]);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(stderr.contains("mixed.yaml: document 2") && !stdout.contains("document 2"), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 input error (on stderr)"), "{stdout}");

    // A path that cannot be read, and no workloads: exit 2, said in the JSON too.
    let (code, json, stderr) = check(&home, &["-f", "/nonexistent/manifests.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    let errors = json["errors"].to_string();
    assert!(errors.contains("/nonexistent/manifests.yaml") && errors.contains("no workloads"), "{json}");

    // A JUnit file that cannot be written loses nothing else: the report is out, then exit 2.
    let under_a_file = format!("{file}/junit.xml");
    let output = home.run(&["check", "-f", &file, "--junit", &under_a_file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stdout).contains("private-image-test-1"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write the JUnit report"));
    // A mistyped directory is an error too, never created.
    let missing = home.path().join("no-such-dir/junit.xml");
    let output = home.run(&["check", "-f", &file, "--junit", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
    assert!(!home.path().join("no-such-dir").exists());

    // A pull Secret whose data is not base64 is broken, not absent: the advice says which.
    let broken = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: not-base64!!\n".to_owned();
    let file = write(home.path(), "broken-secret.yaml", &[broken, deployment("web", &image, &["regcred"])]);
    let (code, json, _) = check(&home, &["-f", &file]);
    assert_eq!(code, 2);
    let row = result(&json, &image);
    assert_eq!(row["verdict"], "fails");
    assert!(row["what_to_do"].as_str().unwrap().contains("cannot be read"), "{row}");
}

/// A workload that names no pull Secret, refused anonymously: the fix is said in the workload's
/// own words — add `imagePullSecrets` to the `CronJob` — whatever login this machine has.
#[test]
fn a_workload_that_names_no_pull_secret_is_told_to_add_one() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", "check-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let image = format!("{}/team/app:v1", registry.host);
    let cronjob = format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: job\n            image: {image}\n"
    );
    let file = write(home.path(), "cron.yaml", &[cronjob]);
    let (code, json, stderr) = check(&home, &["-f", &file]);
    assert_eq!(code, 1, "{stderr}");
    let nightly = result(&json, &image);
    assert_eq!(nightly["verdict"], "fails");
    let advice = nightly["what_to_do"].as_str().unwrap_or_default();
    assert!(advice.starts_with("The CronJob nightly names no imagePullSecrets: add one"), "{advice}");
}

/// `check` reaches registries as `test-pull` does: the same `--ca-dir` (and `--insecure`,
/// `--platform`, `--runtime`), one set of flags read once.
#[test]
fn check_takes_the_ca_dir_test_pull_takes() {
    if !available() {
        return;
    }
    let registry = Registry::start_with(&Setup { basic: Some(("alice", "tls-pw")), tls: true, ..Setup::default() });
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let image = format!("{}/team/app:v1", registry.host);
    let file = write(
        home.path(),
        "app.yaml",
        &[secret("regcred", &registry.host, "alice", "tls-pw"), deployment("app", &image, &["regcred"])],
    );
    // CRI-O checks a loopback registry's certificate (containerd and Docker would take any).
    let (code, json, stderr) = check(&home, &["-f", &file, "--runtime", "cri-o"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(result(&json, &image)["verdict"], "fails", "the private CA is unknown without --ca-dir");
    let ca_dir = registry.ca_dir();
    let (code, json, stderr) = check(&home, &["-f", &file, "--runtime", "cri-o", "--ca-dir", ca_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr} {json:#}");
    assert_eq!(result(&json, &image)["verdict"], "pulls");
    let help = String::from_utf8(home.run(&["check", "--help"]).stdout).unwrap();
    for flag in ["--ca-dir", "--insecure", "--platform", "--runtime"] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
}

/// A pod whose pull Secrets are there but hold no entry for the image's registry is told so, not
/// "none configured".
#[test]
fn pull_secrets_without_the_images_registry_are_named_as_such() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", "check-pw")));
    registry.push_image("team/app", "v1");
    let home = TempHome::new();
    let image = format!("{}/team/app:v1", registry.host);
    let file = write(
        home.path(),
        "app.yaml",
        &[secret("other", "registry.example.com", "alice", "check-pw"), deployment("web", &image, &["other"])],
    );
    let (code, json, stderr) = check(&home, &["-f", &file]);
    assert_eq!(code, 1, "{stderr}");
    let row = result(&json, &image);
    assert_eq!(row["verdict"], "fails");
    let advice = row["what_to_do"].as_str().unwrap();
    assert!(
        advice.starts_with(&format!(
            "The pull Secrets the Deployment web uses have no entry that matches {}",
            registry.host
        )),
        "{advice}"
    );
}
