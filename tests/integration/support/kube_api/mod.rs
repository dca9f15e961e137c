//! A stand-in Kubernetes API server (kube-apiserver v1.26.4 + one kubelet, as recorded in
//! `tests/fixtures/k8s-golden/`): HTTPS on loopback with a private CA, client-certificate and
//! bearer-token authentication, RBAC for a few identities, discovery served from the recordings,
//! Secrets with server-side apply and field ownership, ServiceAccount patches, Pods with watches
//! and a kubelet that replays a recorded case's status and Events, workload lists, Tables for
//! kubectl. Where the recordings say nothing, the code says what it guesses.

mod apply;
mod handlers;
mod http;
mod kubelet;
mod proto;
mod ssa;
mod store;
mod table;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

pub use kubelet::PodCase;

/// A concurrent writer's change to an object.
pub type Race = Box<dyn FnOnce(&mut Value) + Send>;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    /// Raw (URL-encoded) query.
    pub query: String,
    pub content_type: Option<String>,
    /// Who the server saw: `admin`, `system:serviceaccount:NS:NAME`, `system:anonymous`, or
    /// `<unauthorized>` for a token it rejected.
    pub user: String,
    pub body: String,
}

/// An authenticated identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    /// CN=admin O=system:masters (client certificate) or the static admin token.
    Admin,
    /// A ServiceAccount's token (`TokenRequest` or the tokens made at start).
    Sa { ns: String, name: String },
    /// No credentials at all.
    Anonymous,
}

impl Who {
    /// The user name the apiserver would print.
    pub fn user(&self) -> String {
        match self {
            Who::Admin => "admin".into(),
            Who::Sa { ns, name } => format!("system:serviceaccount:{ns}:{name}"),
            Who::Anonymous => "system:anonymous".into(),
        }
    }
}

/// What the server threads share.
pub struct Shared {
    pub store: Mutex<store::Store>,
    pub requests: Mutex<Vec<Exchange>>,
    pub plays: Mutex<HashMap<String, PodCase>>,
    /// Changes made by "someone else" just before the next PATCH of an object (see
    /// [`KubeApi::before_next_patch`]), by API path.
    pub races: Mutex<Vec<(String, Race)>>,
    /// Registries whose Pods the kubelet stand-in judges by their pull Secrets (see
    /// [`KubeApi::kubelet_judges`]).
    pub judges: Mutex<Vec<kubelet::Judge>>,
    pub time_scale: Mutex<f64>,
    pub tokens: Mutex<HashMap<String, Who>>,
    pub addr: SocketAddr,
    /// `tests/fixtures/k8s-golden`.
    pub fixtures: PathBuf,
    /// Recorded discovery bodies by path.
    pub discovery: HashMap<String, Value>,
    /// Itself, for the kubelet's threads.
    pub me: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

impl Shared {
    /// The kubelet's time scale.
    pub fn scale(&self) -> f64 {
        self.time_scale.lock().map_or(0.05, |s| *s)
    }
}

/// The server; its threads end with the test process (connections close when it is dropped
/// only in that they stop being useful: nothing else holds the port).
pub struct KubeApi {
    shared: Arc<Shared>,
    dir: tempfile::TempDir,
    admin_token: String,
    lister_token: String,
    getpods_token: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn random_token(label: &str) -> String {
    format!("{label}-{}", store::uuid().replace('-', ""))
}

impl KubeApi {
    /// Starts the server on 127.0.0.1:0 with a fresh CA, admin client certificate, tokens, and
    /// the seeded objects (namespaces default, kube-system, kube-public, kube-node-lease,
    /// regcred-pods; ServiceAccount `default` in each; node `node-1`; SAs `lister` and
    /// `pod-reader` in regcred-pods with their Roles and `RoleBindings`).
    pub fn start() -> KubeApi {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert, key) = super::registry::make_tls(dir.path(), "127.0.0.1");
        openssl(
            dir.path(),
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "admin.key",
                "-out",
                "admin.csr",
                "-subj",
                "/O=system:masters/CN=admin",
            ],
        );
        std::fs::write(dir.path().join("admin.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
        openssl(
            dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                "admin.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "admin.crt",
                "-days",
                "2",
                "-extfile",
                "admin.ext",
            ],
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(dir.path().join("ca.crt")).expect("ca") {
            roots.add(ca.expect("ca cert")).expect("add ca");
        }
        // Clients with and without a certificate are both welcome (tokens come without one).
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .expect("client verifier");
        let chain = CertificateDer::pem_file_iter(&cert).expect("cert").collect::<Result<Vec<_>, _>>().expect("cert");
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, PrivateKeyDer::from_pem_file(&key).expect("key"))
            .expect("server config");

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s-golden");
        let discovery = handlers::load_discovery(&fixtures, addr);
        let (admin_token, lister_token, getpods_token) =
            (random_token("admin"), random_token("lister"), random_token("getpods"));
        let mut tokens = HashMap::new();
        tokens.insert(admin_token.clone(), Who::Admin);
        tokens.insert(lister_token.clone(), Who::Sa { ns: "regcred-pods".into(), name: "lister".into() });
        tokens.insert(getpods_token.clone(), Who::Sa { ns: "regcred-pods".into(), name: "pod-reader".into() });
        std::fs::write(dir.path().join("admin-token"), &admin_token).expect("token");
        std::fs::write(dir.path().join("lister-token"), &lister_token).expect("token");
        std::fs::write(dir.path().join("getpods-token"), &getpods_token).expect("token");
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::new()),
            requests: Mutex::new(Vec::new()),
            plays: Mutex::new(HashMap::new()),
            judges: Mutex::new(Vec::new()),
            races: Mutex::new(Vec::new()),
            time_scale: Mutex::new(0.05),
            tokens: Mutex::new(tokens),
            addr,
            fixtures,
            discovery,
            me: std::sync::OnceLock::new(),
        });
        let _ = shared.me.set(Arc::downgrade(&shared));
        handlers::seed(&shared);
        let for_server = shared.clone();
        http::serve(listener, Arc::new(config), Arc::new(move |req| handlers::handle(&for_server, req)));
        let api = KubeApi { shared, dir, admin_token, lister_token, getpods_token };
        api.write_exec_plugin();
        api
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.shared.addr)
    }

    /// The directory with ca.crt, admin.crt/admin.key, the tokens, the exec plugin, exec-calls.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA certificate (PEM) that signed the server's and the admin's certificates.
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir().join("ca.crt")).expect("ca.crt")
    }

    /// The static admin bearer token.
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// The bearer token of ServiceAccount regcred-pods:lister.
    pub fn lister_token(&self) -> String {
        self.lister_token.clone()
    }

    fn write_exec_plugin(&self) {
        let script = self.dir().join("exec-plugin.sh");
        let calls = self.dir().join("exec-calls");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"call $$\" >> '{}'\ncat <<'EOF'\n{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}\nEOF\n",
                calls.display(),
                self.admin_token
            ),
        )
        .expect("write exec plugin");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// Writes a kubeconfig with clusters/users/contexts and sets current-context:
    /// `admin` (client certificate CN=admin O=system:masters, namespace default),
    /// `admin-token` (bearer admin token), `lister` (bearer token of SA regcred-pods:lister:
    /// pods get/list/watch + events list in regcred-pods only, as 07-incluster's Role),
    /// `getpods` (SA regcred-pods:pod-reader that can only get pods in regcred-pods, as 03-errors),
    /// `bad-token` (401), `exec` (an exec credential plugin in `dir()` printing an `ExecCredential`
    /// client.authentication.k8s.io/v1 with the admin token; each call appends a line to
    /// dir()/exec-calls).
    pub fn write_kubeconfig(&self, path: &Path, current_context: &str) {
        let d = self.dir();
        let mut y = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n",
            self.url(),
            d.join("ca.crt").display()
        );
        y.push_str(&format!(
            "- name: admin\n  user:\n    client-certificate: {}\n    client-key: {}\n",
            d.join("admin.crt").display(),
            d.join("admin.key").display()
        ));
        for (name, token) in [
            ("admin-token", self.admin_token.as_str()),
            ("lister", self.lister_token.as_str()),
            ("getpods", self.getpods_token.as_str()),
            ("bad-token", "not-a-valid-token"),
        ] {
            y.push_str(&format!("- name: {name}\n  user:\n    token: {token}\n"));
        }
        y.push_str(&format!(
            "- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            d.join("exec-plugin.sh").display()
        ));
        y.push_str("contexts:\n");
        for (name, ns) in [
            ("admin", "default"),
            ("admin-token", "default"),
            ("lister", "regcred-pods"),
            ("getpods", "regcred-pods"),
            ("bad-token", "default"),
            ("exec", "default"),
        ] {
            y.push_str(&format!(
                "- name: {name}\n  context:\n    cluster: stand-in\n    user: {name}\n    namespace: {ns}\n"
            ));
        }
        y.push_str(&format!("current-context: {current_context}\n"));
        std::fs::write(path, y).expect("write kubeconfig");
    }

    /// Seeds any object (Namespace, Secret, ServiceAccount, Pod with status, Event, Deployment,
    /// `StatefulSet`, `DaemonSet`, Job, `CronJob`, `ReplicaSet`, `ConfigMap`, Node) as a controller would
    /// have written it: uid, resourceVersion and creationTimestamp are filled in when absent.
    /// It shows up on watches like any write.
    pub fn put(&self, object: Value) {
        handlers::put(&self.shared, object);
    }

    /// The stored object at an API path, e.g. `/api/v1/namespaces/ns/secrets/name`.
    pub fn get(&self, api_path: &str) -> Option<Value> {
        let (res, ns, name) = handlers::path_key(api_path)?;
        self.shared.store.lock().ok()?.get(&res, &ns, &name).cloned()
    }

    /// Every request seen so far, in order.
    pub fn requests(&self) -> Vec<Exchange> {
        self.shared.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The kubelet stand-in: a Pod created later whose first container image is `image` plays
    /// `case`: its status and Events follow the recorded file of that case (05a…05l), with the
    /// recorded image reference replaced by the Pod's image (and the recorded registry host:port
    /// by the image's), timing compressed by the time scale (default 0.05, order kept).
    /// A Pod whose image has no entry here stays Pending with no status from a kubelet and no
    /// Events (a real node would at least report `ContainerCreating`; nothing recorded says more).
    pub fn kubelet_plays(&self, image: &str, case: PodCase) {
        if let Ok(mut plays) = self.shared.plays.lock() {
            plays.insert(image.to_owned(), case);
        }
    }

    /// For people trying regcred against the stand-in (not for the tests' byte-for-byte checks): a
    /// Pod created later whose image is on `host` plays the recorded case its pull Secrets call for
    /// — `RightPassword` when one holds `user`/`password` for `host`, `WrongPassword` when one holds
    /// other credentials for it, `MissingSecret` when it names only Secrets that do not exist,
    /// `NoPullSecret` otherwise, `MissingTag` for a tag not in `tags`. The real kubelet would
    /// ask the registry; this one decides from what the test says the registry accepts.
    pub fn kubelet_judges(&self, host: &str, user: &str, password: &str, tags: &[&str]) {
        if let Ok(mut judges) = self.shared.judges.lock() {
            judges.push(kubelet::Judge {
                host: host.to_owned(),
                user: user.to_owned(),
                password: password.to_owned(),
                tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            });
        }
    }

    /// Another client's write, made to the object at `api_path` (as its `Update`, bumping the
    /// resourceVersion) right before the server handles the next PATCH of it: how a test makes a
    /// concurrent change land between a client's read and its write.
    pub fn before_next_patch(&self, api_path: &str, change: impl FnOnce(&mut Value) + Send + 'static) {
        if let Ok(mut races) = self.shared.races.lock() {
            races.push((api_path.to_owned(), Box::new(change)));
        }
    }

    /// Sets the kubelet's time compression (1.0 = the recorded timing).
    pub fn set_time_scale(&self, scale: f64) {
        if let Ok(mut s) = self.shared.time_scale.lock() {
            *s = scale;
        }
    }

    /// The shared state, for the module's own tests.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// A fixture file of the golden recordings, parsed.
pub fn golden(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s-golden").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .expect("golden json")
}

/// `{"kind":"Status",…}` as the apiserver writes failures.
pub fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), json!("Status"));
    m.insert("apiVersion".into(), json!("v1"));
    m.insert("metadata".into(), json!({}));
    m.insert("status".into(), json!("Failure"));
    m.insert("message".into(), json!(message));
    if !reason.is_empty() {
        m.insert("reason".into(), json!(reason));
    }
    if let Some(details) = details {
        m.insert("details".into(), details);
    }
    m.insert("code".into(), json!(code));
    Value::Object(m)
}
