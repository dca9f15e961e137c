//! The stand-in Kubernetes API server (`support::kube_api`) against real kubectl (v1.32, as in the
//! recordings) and against the recorded exchanges it was built from.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};

use crate::support::kube_api::{KubeApi, PodCase, golden};

fn kubectl_available() -> bool {
    crate::support::component_available("kubectl", Path::new("/usr/bin/kubectl").exists())
}

struct Cluster {
    api: KubeApi,
    config: PathBuf,
}

impl Cluster {
    fn new() -> Cluster {
        let api = KubeApi::start();
        let config = api.dir().join("kubeconfig");
        api.write_kubeconfig(&config, "admin");
        Cluster { api, config }
    }

    fn kubectl(&self, context: &str, args: &[&str]) -> Output {
        self.kubectl_stdin(context, args, None)
    }

    fn kubectl_stdin(&self, context: &str, args: &[&str], input: Option<&str>) -> Output {
        let mut command = Command::new("/usr/bin/kubectl");
        command
            .arg("--kubeconfig")
            .arg(&self.config)
            .args(["--context", context, "--cache-dir"])
            .arg(self.api.dir().join("kube-cache"))
            .args(args)
            .env("HOME", self.api.dir());
        match input {
            Some(input) => crate::support::with_stdin(command, input.as_bytes()),
            None => command.output().expect("run kubectl"),
        }
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cluster_server_kubectl_reads_and_auth() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let ns = c.kubectl("admin", &["get", "ns"]);
    assert!(ns.status.success(), "{}", err(&ns));
    let text = out(&ns);
    assert!(text.starts_with("NAME"), "{text}");
    for name in ["default", "kube-node-lease", "kube-public", "kube-system", "regcred-pods"] {
        assert!(text.lines().any(|l| l.starts_with(name) && l.contains("Active")), "{name} in {text}");
    }
    let pods = c.kubectl("admin-token", &["get", "pods", "-A"]);
    assert!(pods.status.success(), "{}", err(&pods));
    assert!(err(&pods).contains("No resources found"), "{}", err(&pods));

    // exec plugin: kubectl runs it and the server sees the admin token.
    let before = c.api.requests().len();
    let exec = c.kubectl("exec", &["get", "ns", "default", "-o", "name"]);
    assert!(exec.status.success(), "{}", err(&exec));
    assert_eq!(out(&exec).trim(), "namespace/default");
    let calls = std::fs::read_to_string(c.api.dir().join("exec-calls")).expect("exec-calls");
    assert!(!calls.is_empty());
    assert!(c.api.requests()[before..].iter().all(|e| e.user == "admin"));

    // 401: kubectl's wording for an Unauthorized Status (03 #170).
    let bad = c.kubectl("bad-token", &["get", "secrets"]);
    assert!(!bad.status.success());
    assert!(err(&bad).contains("error: You must be logged in to the server (Unauthorized)"), "{}", err(&bad));

    // 403 as 07 #330 (kubectl with the lister token), generalised to regcred-pods.
    let forbidden = c.kubectl("lister", &["get", "secret", "regcred"]);
    assert!(!forbidden.status.success());
    assert_eq!(
        err(&forbidden).trim(),
        "Error from server (Forbidden): secrets \"regcred\" is forbidden: User \"system:serviceaccount:regcred-pods:lister\" cannot get resource \"secrets\" in API group \"\" in the namespace \"regcred-pods\""
    );
    let allowed = c.kubectl("lister", &["get", "pods"]);
    assert!(allowed.status.success(), "{}", err(&allowed));

    // kubectl auth can-i → SelfSubjectAccessReview (07 #298/#299).
    let can = c.kubectl("lister", &["auth", "can-i", "list", "pods"]);
    assert_eq!((can.status.code(), out(&can).trim()), (Some(0), "yes"));
    let cannot = c.kubectl("lister", &["auth", "can-i", "patch", "secrets"]);
    assert_eq!((cannot.status.code(), out(&cannot).trim()), (Some(1), "no"));
    let getpods = c.kubectl("getpods", &["auth", "can-i", "list", "pods"]);
    assert_eq!(out(&getpods).trim(), "no");
}

#[test]
fn cluster_server_kubectl_writes() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let created = c.kubectl(
        "admin",
        &[
            "create",
            "secret",
            "docker-registry",
            "pull",
            "--docker-server=127.0.0.1:5000",
            "--docker-username=user",
            "--docker-password=pass",
            "-n",
            "regcred-pods",
        ],
    );
    assert!(created.status.success(), "{}", err(&created));
    assert_eq!(out(&created).trim(), "secret/pull created");
    let yaml = c.kubectl("admin", &["get", "secret", "pull", "-n", "regcred-pods", "-o", "yaml"]);
    assert!(yaml.status.success(), "{}", err(&yaml));
    let doc: Value = serde_yaml_ng::from_slice(&yaml.stdout).expect("yaml");
    assert_eq!(doc["type"], "kubernetes.io/dockerconfigjson");
    // kubectl hides managedFields in -o yaml unless --show-managed-fields; the server has them.
    assert!(doc["metadata"].get("managedFields").is_none());
    let stored = c.api.get("/api/v1/namespaces/regcred-pods/secrets/pull").expect("stored");
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "kubectl-create");

    // Server-side apply: regcred owns .data..dockerconfigjson; kubectl's different value → 409 as 02 #133.
    let manifest = |password: &str| {
        use base64::Engine as _;
        let config =
            format!("{{\"auths\":{{\"127.0.0.1:57615\":{{\"username\":\"user\",\"password\":\"{password}\"}}}}}}");
        let data = base64::engine::general_purpose::STANDARD.encode(config);
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: regcred-pods\n  labels:\n    app.kubernetes.io/managed-by: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
        )
    };
    // `apply -f` first asks /openapi/v3, then /openapi/v2, whether PATCH takes fieldValidation;
    // neither was recorded, the stand-in answers 404 and kubectl then refuses ("failed to download
    // openapi … turn validation off with --validate=false"). So these run with --validate=false
    // (kubectl then sends fieldValidation=Ignore where the recording, 02 #133, has Strict).
    let first = c.kubectl_stdin(
        "admin",
        &["apply", "--validate=false", "--server-side", "--field-manager=regcred", "-f", "-"],
        Some(&manifest("pass")),
    );
    assert!(first.status.success(), "{}", err(&first));
    assert_eq!(out(&first).trim(), "secret/regcred serverside-applied");
    let conflict = c.kubectl_stdin(
        "admin",
        &["apply", "--validate=false", "--server-side", "-f", "-"],
        Some(&manifest("kubectl-pass")),
    );
    assert_eq!(conflict.status.code(), Some(1));
    assert!(
        err(&conflict).contains("Apply failed with 1 conflict: conflict with \"regcred\": .data..dockerconfigjson"),
        "{}",
        err(&conflict)
    );
    let forced = c.kubectl_stdin(
        "admin",
        &["apply", "--validate=false", "--server-side", "--force-conflicts", "-f", "-"],
        Some(&manifest("kubectl-pass")),
    );
    assert!(forced.status.success(), "{}", err(&forced));
    let secret = c.api.get("/api/v1/namespaces/regcred-pods/secrets/regcred").expect("secret");
    // The apiserver orders entries by operation, time (whole seconds), manager: which of the two
    // comes first depends on whether kubectl's apply fell in a later second than regcred's.
    let entries = secret["metadata"]["managedFields"].as_array().expect("managed");
    let mut managers: Vec<&str> = entries.iter().map(|e| e["manager"].as_str().unwrap_or("")).collect();
    managers.sort_unstable();
    assert_eq!(managers, ["kubectl", "regcred"]);
    let kubectl = entries.iter().find(|e| e["manager"] == "kubectl").expect("kubectl's entry");
    assert_eq!(kubectl["fieldsV1"]["f:data"], json!({"f:.dockerconfigjson": {}}));

    // kubectl patch serviceaccount: strategic merge REPLACES imagePullSecrets (04 #238).
    c.api.put(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "regcred-pods"}, "imagePullSecrets": [{"name": "a"}, {"name": "b"}]}));
    let patched = c.kubectl(
        "admin",
        &[
            "patch",
            "serviceaccount",
            "builder",
            "-n",
            "regcred-pods",
            "-p",
            r#"{"imagePullSecrets":[{"name":"regcred"}]}"#,
        ],
    );
    assert!(patched.status.success(), "{}", err(&patched));
    assert_eq!(out(&patched).trim(), "serviceaccount/builder patched");
    let sa = c.api.get("/api/v1/namespaces/regcred-pods/serviceaccounts/builder").expect("sa");
    assert_eq!(sa["imagePullSecrets"], json!([{"name": "regcred"}]));
    let last = c.api.requests().into_iter().rev().find(|e| e.method == "PATCH").expect("patch request");
    assert_eq!(
        (last.content_type.as_deref(), last.query.as_str()),
        (Some("application/strategic-merge-patch+json"), "fieldManager=kubectl-patch")
    );

    // delete: Status Success, then NotFound (02b #422/#423).
    let deleted = c.kubectl("admin", &["delete", "secret", "pull", "-n", "regcred-pods"]);
    assert_eq!(out(&deleted).trim(), "secret \"pull\" deleted");
    let again = c.kubectl("admin", &["delete", "secret", "pull", "-n", "regcred-pods"]);
    assert_eq!(err(&again).trim(), "Error from server (NotFound): secrets \"pull\" not found");
}

#[test]
fn cluster_server_kubectl_waits_for_a_played_pod() {
    if !kubectl_available() {
        return;
    }
    let c = Cluster::new();
    let image = "127.0.0.1:5000/private/echo:v1";
    c.api.kubelet_plays(image, PodCase::RightPassword);
    let run = c.kubectl(
        "admin",
        &[
            "run",
            "t1",
            "-n",
            "regcred-pods",
            "--image",
            image,
            "--restart=Never",
            "--overrides",
            r#"{"spec":{"nodeName":"node-1"}}"#,
            "--command",
            "--",
            "echo",
            "SUCCESS",
        ],
    );
    assert!(run.status.success(), "{}", err(&run));
    let wait = c.kubectl(
        "admin",
        &["wait", "-n", "regcred-pods", "pod/t1", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=8s"],
    );
    assert!(wait.status.success(), "{}", err(&wait));
    let logs = c.kubectl("admin", &["logs", "-n", "regcred-pods", "t1"]);
    assert_eq!(out(&logs), "SUCCESS\n");
    let pods = c.kubectl("admin", &["get", "pods", "-n", "regcred-pods"]);
    assert!(out(&pods).lines().any(|l| l.starts_with("t1") && l.contains("Completed")), "{}", out(&pods));
}

/// A TLS connection to the stand-in, trusting its CA.
fn tls_to(api: &KubeApi) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(api.ca_pem().as_bytes()) {
        roots.add(cert.expect("ca")).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "127.0.0.1".try_into().expect("name")).expect("tls");
    let tcp = TcpStream::connect(api.url().trim_start_matches("https://")).expect("connect");
    rustls::StreamOwned::new(conn, tcp)
}

/// A minimal HTTPS client for direct checks (admin token).
fn call(api: &KubeApi, method: &str, path_query: &str, content_type: &str, body: &str) -> (u16, Value) {
    let mut tls = tls_to(api);
    write!(
        tls,
        "{method} {path_query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nUser-Agent: regcred-test\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        api.admin_token(),
        body.len()
    )
    .expect("write");
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("head");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn cluster_server_replays_02_ssa_secret() {
    let api = KubeApi::start();
    for e in golden("api/02-ssa-secret.json").as_array().expect("exchanges") {
        let req = &e["request"];
        let path = req["path"].as_str().expect("path").replace("regcred-golden", "regcred-pods");
        if req["method"] == "POST" && path == "/api/v1/namespaces" {
            continue; // regcred-pods is seeded
        }
        let query = req["query"].as_str().unwrap_or("");
        let target = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let body = match &req["body"] {
            Value::String(s) => s.replace("regcred-golden", "regcred-pods"),
            Value::Null => String::new(),
            other => other.to_string().replace("regcred-golden", "regcred-pods"),
        };
        let content_type = req["headers"]["Content-Type"].as_str().unwrap_or("application/json");
        let (status, got) = call(&api, req["method"].as_str().expect("method"), &target, content_type, &body);
        let want = &e["response"]["body"];
        assert_eq!(
            status,
            u16::try_from(e["response"]["status"].as_u64().expect("status")).expect("status fits"),
            "#{}: {got}",
            e["seq"]
        );
        if want["kind"] == "Status" {
            let want = serde_json::to_string(want).expect("json").replace("regcred-golden", "regcred-pods");
            assert_eq!(got, serde_json::from_str::<Value>(&want).expect("json"), "#{}", e["seq"]);
        } else if want["kind"] == "Secret" {
            assert_eq!(got["data"], want["data"], "#{}", e["seq"]);
            let managers = |v: &Value| -> Vec<(Value, Value)> {
                v["metadata"]["managedFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| (m["manager"].clone(), m["fieldsV1"].clone()))
                    .collect()
            };
            assert_eq!(managers(&got), managers(want), "#{}", e["seq"]);
            assert_eq!(got["metadata"]["labels"], want["metadata"]["labels"], "#{}", e["seq"]);
        }
    }
}

#[test]
fn cluster_server_event_watch_follows_05a() {
    let api = KubeApi::start();
    api.set_time_scale(0.02);
    let image = "127.0.0.1:6000/team/app:v2";
    api.kubelet_plays(image, PodCase::WrongPassword);
    let api = Arc::new(api);
    let watcher = {
        let api = api.clone();
        std::thread::Builder::new().name("watch".into()).spawn(move || {
            watch_lines(
                &api,
                "/api/v1/namespaces/regcred-pods/events?watch=1&fieldSelector=involvedObject.name%3Dp1&timeoutSeconds=3",
            )
        })
        .expect("watch thread")
    };
    std::thread::sleep(Duration::from_millis(200));
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}, "spec": {"nodeName": "node-1", "restartPolicy": "Never",
        "containers": [{"name": "test", "image": image, "imagePullPolicy": "Always", "command": ["echo", "SUCCESS"]}]}});
    let (status, _) = call(&api, "POST", "/api/v1/namespaces/regcred-pods/pods", "application/json", &pod.to_string());
    assert_eq!(status, 201);
    let seen = watcher.join().expect("watch thread");
    let recorded: Vec<(String, String, String)> = golden("api/05a-pod-wrong-password.json")
        .as_array()
        .expect("exchanges")
        .iter()
        .filter(|e| {
            e["request"]["path"].as_str().unwrap_or("").ends_with("/events")
                && e["request"]["query"].as_str().unwrap_or("").contains("watch")
        })
        .flat_map(|e| e["response"]["watch_lines"].as_array().cloned().unwrap_or_default())
        .map(|l| {
            let o = &l["event"]["object"];
            let message = o["message"]
                .as_str()
                .unwrap_or("")
                .replace("127.0.0.1:57615/private/echo:v1", image)
                .replace("127.0.0.1:57615", "127.0.0.1:6000");
            (
                l["event"]["type"].as_str().unwrap_or("").to_owned(),
                o["reason"].as_str().unwrap_or("").to_owned(),
                message,
            )
        })
        .collect();
    let got: Vec<(String, String, String)> = seen
        .iter()
        .map(|l| {
            (
                l["type"].as_str().unwrap_or("").to_owned(),
                l["object"]["reason"].as_str().unwrap_or("").to_owned(),
                l["object"]["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(got, recorded);
    let counts: Vec<u64> = seen.iter().filter_map(|l| l["object"]["count"].as_u64()).collect();
    assert_eq!(counts.iter().max(), Some(&3));
}

/// Reads a watch until the server ends it; each line parsed.
fn watch_lines(api: &KubeApi, target: &str) -> Vec<Value> {
    let mut tls = tls_to(api);
    write!(
        tls,
        "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        api.admin_token()
    )
    .expect("write");
    let mut reader = BufReader::new(tls);
    let started = Instant::now();
    let mut lines = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && started.elapsed() < Duration::from_secs(8) {
        if line.starts_with('{') {
            lines.push(serde_json::from_str(line.trim()).expect("watch line"));
        }
        line.clear();
    }
    lines
}

/// Not a test: a stand-in cluster for a person to try regcred against (`cargo test --test
/// integration -- --ignored --nocapture stand_in_cluster_for_people`). It prints a kubeconfig and
/// a registry with `private/echo:v1` (user `user`, password `pass`), and serves until killed; its
/// kubelet judges each test Pod by its pull Secret (`KubeApi::kubelet_judges`).
#[test]
#[ignore = "serves until killed; for trying regcred by hand"]
fn stand_in_cluster_for_people() {
    let api = KubeApi::start();
    let registry = crate::support::registry::Registry::start(Some(("user", "pass")));
    registry.push_image("private/echo", "v1");
    api.kubelet_judges(&registry.host, "user", "pass", &["v1"]);
    let dir = std::env::var_os("REGCRED_STAND_IN_DIR").map_or_else(|| api.dir().to_owned(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("kubeconfig");
    api.write_kubeconfig(&config, "admin");
    println!(
        "kubeconfig: {}\nregistry: {} (user / pass), image {}/private/echo:v1",
        config.display(),
        registry.host,
        registry.host
    );
    loop {
        std::thread::sleep(Duration::from_hours(1));
    }
}
