//! Real runtimes as oracles for the kubelet line (issue #24): containerd 1.6.20 pulled through its
//! CRI API as the kubelet pulls, dockerd 20.10.24 through the Engine API as cri-dockerd pulls, and
//! podman 4.3.1 (containers/image, the library CRI-O pulls with) fail the same pulls as regcred's
//! test pull, against the same registries, and each real line is held against regcred's byte for
//! byte:
//!
//! | real runtime | regcred's words compared | what is compared |
//! |---|---|---|
//! | containerd 1.6.20 (CRI) | `containerd-1.6` (1.6.0–1.6.24) | the whole event: `Failed to pull image "IMAGE": ` + the CRI status message, or `rpc error: code = X desc = …` for codes other than Unknown, as the kubelet (≥ 1.28) wraps it |
//! | dockerd 20.10.24 | `docker` | the whole event: what cri-dockerd passes on (the Engine API's error) |
//! | podman 4.3.1 | `cri-o` | the containers/image part: podman's `Error: …` against the image error inside regcred's CRI-O event |
//!
//! Everything runs in one private network namespace (only loopback; `unshare -m -n`, made by the
//! test run) with its own `/etc/resolv.conf` (a resolver on 127.0.0.53 that answers NXDOMAIN) and
//! `/etc/hosts` (`registry.test` and `plain.test` on 10.254.0.1, an address on the loopback
//! device, not in 127.0.0.0/8, so Docker does not take it as insecure). The test re-runs itself as
//! a worker inside the namespace; the worker starts the runtimes once, runs every failure class,
//! stops them by PID, prints the table and checks it against [`KNOWN`].
//!
//! A difference is allowed only when it is listed in [`KNOWN`] with its reason; a listed
//! difference that is gone fails too, so the list stays true. Run with `--nocapture` to see the
//! table; with `REGCRED_ORACLE_TABLE=FILE` the worker also writes it there as Markdown.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use regcred::keychain::Credential;
use regcred::registry::{Outcome, PullOptions, Puller, Runtime};
use regcred::secret::Secret;

use crate::support::registry::{self, Registry, Setup};
use crate::support::runtimes::{self, Login, Observed, Runtimes, run_bounded};
use crate::support::tiny_http::{Reply, TinyServer, response};
use crate::support::token_server::TokenServer;
use crate::support::{component_available, is_worker, worker};

const WORKER: &str = "runtime_oracles::worker_in_a_private_network_namespace";
const PASSWORD: &str = "oracle-canary-77d2";
/// The resolver inside the namespace (answers NXDOMAIN to everything).
const NAMESERVER: &str = "127.0.0.53";
/// The address `registry.test` and `plain.test` have inside the namespace (on `lo`).
const NAMED: &str = "10.254.0.1";

/// The real runtimes, in the table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oracle {
    /// containerd 1.6.20 through the CRI, against regcred's `containerd-1.6`.
    Containerd,
    /// dockerd 20.10.24 through the Engine API, against regcred's `docker`.
    Dockerd,
    /// podman 4.3.1's containers/image words, against the inner part of regcred's `cri-o`.
    Podman,
}

impl Oracle {
    const ALL: [Self; 3] = [Self::Containerd, Self::Dockerd, Self::Podman];

    fn label(self) -> &'static str {
        match self {
            Self::Containerd => "containerd 1.6.20 (CRI) vs containerd-1.6",
            Self::Dockerd => "dockerd 20.10.24 vs docker",
            Self::Podman => "podman 4.3.1 vs cri-o (c/image part)",
        }
    }

    fn regcred(self) -> Runtime {
        match self {
            Self::Containerd => Runtime::Containerd16,
            Self::Dockerd => Runtime::Docker,
            Self::Podman => Runtime::CriO,
        }
    }
}

/// A difference between a real runtime and regcred that is known, with its reason.
struct Known {
    class: &'static str,
    oracle: Oracle,
    reason: &'static str,
}

// Reasons shared by several entries.
const GO119_X509: &str = "Debian 12 builds dockerd 20.10.24 and podman 4.3.1 with Go 1.19.8 (`strings` on the binaries; \
     Built-Using golang-1.19), whose crypto/tls returns the x509 error unwrapped (handshake_client.go:885-888, \
     verifyServerCertificate): `x509: certificate signed by unknown authority`. Go 1.20 added \
     CertificateVerificationError (api/go1.20.txt, golang/go#48152), printed `tls: failed to verify certificate: %s`. \
     regcred's docker and cri-o words model Docker 28.5.2 (Go 1.24.9) and CRI-O 1.36.3 (Go 1.26.3); its \
     containerd-1.6 words drop the prefix (1.6.0-1.6.23 were released with Go 1.17-1.19)";
const CIMAGE_ERRCODE: &str = "c/image 5.23 (podman 4.3.1) docker/errors.go:48 registryHTTPResponseToError returns the \
     decoded errcode value as is, printed `code: message` (errcode Error.Error(), `%s: %s`): `unauthorized: \
     authentication required`, `manifest unknown: manifest unknown`. From v5.24.0, and so in image/v5.38.0 \
     (CRI-O 1.36.3) image/docker/errors.go:93-99, an errcode.Error whose message is the code's default is printed \
     as the message alone; pinned by c/image's own errors_test.go (5.23.1:84 vs 5.38.0:94)";
const CIMAGE_ERRORS: &str = "c/image 5.23 handleErrorResponse (docker/distribution_error.go:137) merges the Bearer \
     challenge's insufficient_scope (DENIED) with the body's UNAUTHORIZED and prints the whole errcode.Errors \
     (`errors:⏎denied: ...⏎unauthorized: ...⏎`, errors_test.go:67); since v5.24.0, image/v5.38.0 \
     image/docker/errors.go:77-98 keeps errs[0] and prints its default message alone (errors_test.go:76)";

/// Every (class, runtime) where regcred's line is not yet the real runtime's, and why: a version
/// difference (the runtime here is older than the one regcred's words come from) or a defect that
/// #24 names (points 1–7). An entry goes when its fix lands; the test fails until it does.
const KNOWN: &[Known] = &[
    // containerd 1.6.20 (CRI) against regcred's containerd-1.6 words.
    // dockerd 20.10.24 against regcred's docker words.
    Known { class: "unknown CA (named host)", oracle: Oracle::Dockerd, reason: GO119_X509 },
    // podman 4.3.1 (containers/image 5.23) against the image part of regcred's CRI-O words.
    Known { class: "wrong password (basic)", oracle: Oracle::Podman, reason: CIMAGE_ERRCODE },
    Known { class: "anonymous (basic)", oracle: Oracle::Podman, reason: CIMAGE_ERRCODE },
    Known { class: "missing repository", oracle: Oracle::Podman, reason: CIMAGE_ERRCODE },
    Known { class: "missing tag", oracle: Oracle::Podman, reason: CIMAGE_ERRCODE },
    Known {
        class: "platform missing from an index",
        oracle: Oracle::Podman,
        reason: "c/image 5.23 manifest/oci_index.go:102 prints `architecture %s, variant %q, OS %s`; from v5.31.0 \
                 (cebe6477, \"Quote various strings coming from untrusted sources\"), image/v5.38.0 \
                 image/internal/manifest/oci_index.go:257 quotes all three (`%q`)",
    },
    Known { class: "anonymous (token)", oracle: Oracle::Podman, reason: CIMAGE_ERRORS },
    Known { class: "no pull permission (token)", oracle: Oracle::Podman, reason: CIMAGE_ERRORS },
    Known { class: "unknown CA (loopback)", oracle: Oracle::Podman, reason: GO119_X509 },
    Known { class: "unknown CA (named host)", oracle: Oracle::Podman, reason: GO119_X509 },
    Known {
        class: "blob missing",
        oracle: Oracle::Podman,
        reason: "c/image 5.23 getBlob (docker/docker_client.go:960) uses httpResponseToError(res, \"Error fetching \
                 blob\"), which ignores the body; from v5.24.0, image/v5.38.0 getBlob (image/docker/docker_client.go:\
                 1062-1064) decodes it with registryHTTPResponseToError: `fetching blob: blob unknown to registry`",
    },
];

/// One compared pull.
struct Row {
    class: &'static str,
    oracle: Oracle,
    real: String,
    ours: String,
}

#[test]
fn real_runtimes_and_regcred_print_the_same_kubelet_lines() {
    if is_worker(WORKER) {
        return;
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut missing = runtimes::missing();
    if !registry::available() || registry::which("openssl").is_none() {
        missing.push("docker-registry, skopeo and openssl".to_owned());
    }
    if !root {
        missing.push("root (for a private network namespace)".to_owned());
    }
    if !component_available(
        &format!("the real runtimes as oracles (missing: {})", missing.join(", ")),
        missing.is_empty(),
    ) {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let prepared = worker(WORKER, &[]);
    let started = Instant::now();
    let (output, in_time) = run_bounded(
        Command::new("unshare")
            .args(["-m", "-n", "--propagation", "private", "--"])
            .arg(exe)
            .args(prepared.get_args())
            .envs(prepared.get_envs().filter_map(|(k, v)| Some((k, v?)))),
        Duration::from_mins(20),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    println!("(the oracle worker took {:.1} s)", started.elapsed().as_secs_f64());
    assert!(in_time, "the oracle worker did not finish in 20 minutes:\n{stderr}");
    assert!(output.status.success(), "the oracle worker failed:\n{stderr}");
    assert!(stdout.contains("worker: all classes compared"), "the worker did not run:\n{stdout}\n{stderr}");
}

/// Runs inside the namespace (started by the test above).
#[test]
fn worker_in_a_private_network_namespace() {
    if !is_worker(WORKER) {
        return;
    }
    let _namespace = prepare_namespace();
    let runtimes = Runtimes::start();
    println!("runtimes: {}", runtimes.versions.join(" / "));
    let started = Instant::now();
    let mut rows = Vec::new();
    all_classes(&runtimes, &mut rows);
    let elapsed = started.elapsed();
    drop(runtimes);
    let table = table(&rows);
    println!("{table}");
    println!("({} comparisons in {:.1} s)", rows.len(), elapsed.as_secs_f64());
    if let Some(path) = std::env::var_os("REGCRED_ORACLE_TABLE") {
        std::fs::write(path, &table).unwrap();
    }
    let problems = judge(&rows);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!("worker: all classes compared");
}

/// What the worker keeps for the namespace's life.
struct Namespace {
    _dir: tempfile::TempDir,
}

fn run_ok(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Loopback up (with one extra address for the named hosts), a private resolver, hosts file, and
/// private copies of the directories the runtimes would otherwise write on the machine.
fn prepare_namespace() -> Namespace {
    let dir = tempfile::tempdir().unwrap();
    run_ok("ip", &["link", "set", "lo", "up"]);
    run_ok("ip", &["addr", "add", &format!("{NAMED}/32"), "dev", "lo"]);
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {NAMESERVER}\n")).unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1 localhost\n{NAMED} registry.test plain.test\n")).unwrap();
    run_ok("mount", &["--bind", resolv.to_str().unwrap(), "/etc/resolv.conf"]);
    run_ok("mount", &["--bind", hosts.to_str().unwrap(), "/etc/hosts"]);
    // dockerd writes /etc/docker/key.json and /run/docker/plugins; podman and skopeo keep a blob
    // cache under /var/lib/containers/cache. Each gets an empty private tmpfs here.
    for private in ["/etc/docker", "/run/docker", "/var/lib/containers"] {
        std::fs::create_dir_all(private).unwrap();
        run_ok("mount", &["-t", "tmpfs", "tmpfs", private]);
    }
    crate::support::dns::dns_server(NAMESERVER, true);
    Namespace { _dir: dir }
}

/// Forwards TCP connections from `from` to `to` (a named host's address to a loopback server).
fn forward(from: SocketAddr, to: SocketAddr) {
    let listener = TcpListener::bind(from).unwrap();
    let name = format!("forward-{}", from.port());
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(to) else { continue };
                for (mut reader, mut writer) in
                    [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    let _ = std::thread::Builder::new().name(name.clone()).spawn(move || {
                        let _ = std::io::copy(&mut reader, &mut writer);
                        let _ = writer.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        })
        .unwrap();
}

/// `HOST:PORT` of a loopback server reachable as `name:PORT` too.
fn named(name: &str, host: &str) -> String {
    let to: SocketAddr = host.parse().unwrap();
    forward(SocketAddr::new(NAMED.parse().unwrap(), to.port()), to);
    format!("{name}:{}", to.port())
}

fn user(name: &str, password: &str) -> Credential {
    Credential { username: name.into(), secret: Secret::new(password) }
}

/// How one class is pulled.
#[derive(Clone, Copy)]
struct Pull<'a> {
    class: &'static str,
    image: &'a str,
    login: Login<'a>,
    /// podman with `--tls-verify=false` (CRI-O with `insecure = true` for the registry): for
    /// plain-HTTP registries on loopback, which CRI-O does not exempt (#24 point 3).
    podman_insecure: bool,
    /// regcred downloads every blob (the blob classes).
    full: bool,
}

/// The kubelet's event for a CRI error (cri-client ≥ 1.28 strips only code Unknown).
fn kubelet(image: &str, code: &str, message: &str) -> String {
    if code == "Unknown" {
        format!("Failed to pull image \"{image}\": {message}")
    } else {
        format!("Failed to pull image \"{image}\": rpc error: code = {code} desc = {message}")
    }
}

const PULLS: &str = "(pulls)";

/// The containers/image part of regcred's CRI-O event: the image error, without the kubelet's
/// prefix, CRI-O's wrappers and the OCI-artifact attempt.
fn crio_inner(event: &str) -> String {
    let mut rest = event.split_once("\": ").map_or(event, |(_, rest)| rest);
    if let Some(after) = rest.strip_prefix("rpc error: code = ") {
        rest = after.split_once(" desc = ").map_or(after, |(_, message)| message);
    }
    rest = rest.strip_prefix("RegistryUnavailable: ").unwrap_or(rest);
    if let Some(image) = rest.strip_prefix("unable to pull image or OCI artifact: pull image err: ") {
        return image.split_once("; artifact err: ").map_or(image, |(image, _)| image).to_owned();
    }
    rest.strip_prefix("unable to pull image: ").unwrap_or(rest).to_owned()
}

/// regcred's line for `oracle`.
fn ours(pull: &Pull<'_>, oracle: Oracle) -> String {
    // CRI-O's `insecure = true` is regcred's `--insecure` for that registry (podman's
    // `--tls-verify=false`).
    let insecure = oracle == Oracle::Podman && pull.podman_insecure;
    let options = PullOptions { runtime: oracle.regcred(), full: pull.full, insecure, ..PullOptions::default() };
    let credential = pull.login.map(|(name, password)| user(name, password));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report =
        runtime.block_on(Puller::default().pull(pull.image, credential.as_ref(), "test", &options, None, None));
    match &report.outcome {
        Outcome::Success(_) => PULLS.to_owned(),
        Outcome::Failure(failure) if oracle == Oracle::Podman => crio_inner(&failure.kubelet_event),
        Outcome::Failure(failure) => failure.kubelet_event.clone(),
    }
}

/// Pulls with the three real runtimes at once and with regcred; adds a row per runtime.
fn compare(runtimes: &Runtimes, pull: &Pull<'_>, rows: &mut Vec<Row>) {
    let started = Instant::now();
    let real: Vec<String> = std::thread::scope(|scope| {
        let handles = Oracle::ALL.map(|oracle| {
            scope.spawn(move || {
                let observed = match oracle {
                    Oracle::Containerd => runtimes.containerd(pull.image, pull.login),
                    Oracle::Dockerd => runtimes.dockerd(pull.image, pull.login),
                    Oracle::Podman => runtimes.podman(pull.image, pull.login, pull.podman_insecure),
                };
                match observed {
                    Observed::Pulled => PULLS.to_owned(),
                    Observed::Failed { message, .. } if oracle == Oracle::Podman => message,
                    Observed::Failed { code, message } => kubelet(pull.image, &code, &message),
                }
            })
        });
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (oracle, real) in Oracle::ALL.into_iter().zip(real) {
        assert!(!real.contains(PASSWORD) || pull.login.is_none(), "a real runtime printed the password");
        rows.push(Row { class: pull.class, oracle, real, ours: ours(pull, oracle) });
    }
    eprintln!("{}: {:.1} s", pull.class, started.elapsed().as_secs_f64());
}

/// A pull from a plain-HTTP registry on loopback (podman with `--tls-verify=false`).
fn plain<'a>(class: &'static str, image: &'a str, login: Login<'a>) -> Pull<'a> {
    Pull { class, image, login, podman_insecure: true, full: false }
}

/// A pull with every runtime's default TLS rules.
fn verified<'a>(class: &'static str, image: &'a str, login: Login<'a>) -> Pull<'a> {
    Pull { class, image, login, podman_insecure: false, full: false }
}

/// Every class that can be made on loopback.
fn all_classes(runtimes: &Runtimes, rows: &mut Vec<Row>) {
    let good = Some(("alice", PASSWORD));

    // A basic-auth registry (Distribution, htpasswd).
    let basic = Registry::start(Some(("alice", PASSWORD)));
    basic.push_image("team/app", "v1");
    let host = basic.host.clone();
    let app = format!("{host}/team/app:v1");
    compare(runtimes, &plain("wrong password (basic)", &app, Some(("alice", "wrong"))), rows);
    compare(runtimes, &plain("anonymous (basic)", &app, None), rows);
    compare(runtimes, &plain("missing repository", &format!("{host}/team/nope:v1"), good), rows);
    compare(runtimes, &plain("missing tag", &format!("{host}/team/app:v2"), good), rows);
    let index = basic.dir.path().join("multi");
    registry::write_oci_index_layout(&index, "multi", &["arm64", "s390x"]);
    basic.push_layout(&index, "team/multi", "multi", true);
    compare(runtimes, &plain("platform missing from an index", &format!("{host}/team/multi:multi"), good), rows);

    // A token-auth registry.
    let users = std::collections::HashMap::from([
        ("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()])),
        ("nopull".to_owned(), ("nopull-pw".to_owned(), Vec::new())),
    ]);
    let tokens = TokenServer::start("registry.test", users);
    let token = Registry::start_with(&Setup {
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    crate::test_pull_auth::push_with_token(&token, "alice", PASSWORD);
    let app_token = format!("{}/team/app:v1", token.host);
    compare(runtimes, &plain("wrong password (token)", &app_token, Some(("alice", "wrong"))), rows);
    compare(runtimes, &plain("anonymous (token)", &app_token, None), rows);
    compare(runtimes, &plain("no pull permission (token)", &app_token, Some(("nopull", "nopull-pw"))), rows);

    // TLS with a CA nobody here trusts, on loopback and under a name.
    let tls = Registry::start_with(&Setup { basic: Some(("alice", PASSWORD)), tls: true, ..Setup::default() });
    tls.push_image("team/app", "v1");
    compare(runtimes, &verified("unknown CA (loopback)", &format!("{}/team/app:v1", tls.host), good), rows);
    let tls_named = named("registry.test", &tls.host);
    compare(runtimes, &verified("unknown CA (named host)", &format!("{tls_named}/team/app:v1"), good), rows);

    // Nothing listening; a name nobody knows; HTTPS spoken to a plain-HTTP registry.
    let refused = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    compare(runtimes, &verified("connection refused", &format!("{refused}/team/app:v1"), None), rows);
    compare(runtimes, &verified("DNS failure (NXDOMAIN)", "nonexistent.invalid/team/app:v1", None), rows);
    let plain_named = named("plain.test", &host);
    compare(runtimes, &verified("HTTPS to plain HTTP (named host)", &format!("{plain_named}/team/app:v1"), good), rows);
    compare(runtimes, &verified("plain HTTP on loopback, no insecure setting", &app, good), rows);

    // Scripted registries: a real image, with one kind of request refused. podman backs off for
    // about 30 s on each 429 (c/image) and tries 4 times (libimage): the classes run side by side.
    let scripted = ScriptedImage::new();
    let gone = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let faults = [
        ("403 on the manifest", Fault::Forbidden),
        ("429 on HEAD (every manifest request)", Fault::LimitManifests),
        ("429 on manifest GET (HEAD answered)", Fault::LimitGets),
        ("429 on GET by digest only", Fault::LimitDigestGets),
        ("500 on the manifest", Fault::ServerError),
        ("token service refusal with details (Docker Hub's)", Fault::TokenDetails),
        ("token service unreachable (connection refused)", Fault::TokenUnreachable(gone)),
    ];
    let servers = faults.map(|(_, fault)| scripted.serve(fault));
    let images = servers.each_ref().map(|server| format!("{}/team/app:v1", server.addr));
    let scripted_rows: Vec<Vec<Row>> = std::thread::scope(|scope| {
        let handles: Vec<_> = faults
            .iter()
            .zip(&images)
            .map(|((class, _), image)| {
                scope.spawn(move || {
                    let mut rows = Vec::new();
                    let login = class.starts_with("token").then_some(("alice", "wrong"));
                    compare(runtimes, &plain(class, image, login), &mut rows);
                    rows
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    rows.extend(scripted_rows.into_iter().flatten());

    // Blobs: each case on its own registry and content, so no runtime has the blob already.
    for (class, corrupt) in [("blob digest mismatch", true), ("blob missing", false)] {
        let registry = Registry::start(Some(("alice", PASSWORD)));
        let layout = registry.dir.path().join("unique");
        registry::write_oci_layout(&layout, "v1", format!("{class} {}\n", std::process::id()).as_bytes());
        registry.push_layout(&layout, "team/blob", "v1", false);
        let layer = crate::test_pull::blob_files(&registry)
            .into_iter()
            .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])))
            .unwrap();
        if corrupt {
            let mut bytes = std::fs::read(&layer).unwrap();
            *bytes.last_mut().unwrap() ^= 0xff;
            std::fs::write(&layer, bytes).unwrap();
        } else {
            std::fs::remove_file(&layer).unwrap();
        }
        let image = format!("{}/team/blob:v1", registry.host);
        compare(runtimes, &Pull { class, image: &image, login: good, podman_insecure: true, full: true }, rows);
    }
}

/// What a scripted registry refuses.
#[derive(Clone, Copy)]
enum Fault {
    /// Every manifest request: 403 with Distribution's `DENIED` error.
    Forbidden,
    /// Every manifest request (HEAD and GET): 429 `TOOMANYREQUESTS`.
    LimitManifests,
    /// Manifest GETs (by tag or digest): 429; HEAD answers.
    LimitGets,
    /// Manifest GETs by digest: 429; HEAD and GET by tag answer.
    LimitDigestGets,
    /// Every manifest request: 500.
    ServerError,
    /// A Bearer challenge whose token service refuses with Docker Hub's `{"details": "…"}` body.
    TokenDetails,
    /// A Bearer challenge whose realm is a loopback port where nothing listens.
    TokenUnreachable(u16),
}

/// A one-image registry's content: the manifest and blobs of an OCI layout.
struct ScriptedImage {
    manifest: Vec<u8>,
    digest: String,
    blobs: std::collections::HashMap<String, Vec<u8>>,
}

impl ScriptedImage {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        registry::write_oci_layout(dir.path(), "v1", format!("scripted {}\n", std::process::id()).as_bytes());
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
        let blobs: std::collections::HashMap<String, Vec<u8>> = std::fs::read_dir(dir.path().join("blobs/sha256"))
            .unwrap()
            .flatten()
            .map(|e| (format!("sha256:{}", e.file_name().to_str().unwrap()), std::fs::read(e.path()).unwrap()))
            .collect();
        let manifest = blobs[&digest].clone();
        Self { manifest, digest, blobs }
    }

    fn serve(&self, fault: Fault) -> TinyServer {
        let (manifest, digest, blobs) = (self.manifest.clone(), self.digest.clone(), self.blobs.clone());
        TinyServer::start(move |head, _| {
            let mut words = head.split_whitespace();
            let (method, path) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
            let by_digest = path.contains("/manifests/sha256:");
            if let Fault::TokenUnreachable(port) = fault {
                let challenge = format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"scripted\"");
                let headers = [("Content-Type", "application/json"), ("WWW-Authenticate", challenge.as_str())];
                let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
                return response("401 Unauthorized", &headers, body);
            }
            if let Fault::TokenDetails = fault {
                let json = [("Content-Type", "application/json")];
                if path.starts_with("/token") {
                    return response("401 Unauthorized", &json, br#"{"details":"incorrect username or password"}"#);
                }
                let host = head
                    .lines()
                    .find_map(|line| line.strip_prefix("Host: ").or_else(|| line.strip_prefix("host: ")))
                    .unwrap_or_default()
                    .trim();
                let challenge = format!("Bearer realm=\"http://{host}/token\",service=\"scripted\"");
                let headers = [("Content-Type", "application/json"), ("WWW-Authenticate", challenge.as_str())];
                let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#;
                return response("401 Unauthorized", &headers, body);
            }
            if path.contains("/manifests/") {
                let limited = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit.","detail":null}]}"#;
                let json = [("Content-Type", "application/json")];
                match fault {
                    Fault::Forbidden => {
                        let body = br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":null}]}"#;
                        return response("403 Forbidden", &json, body);
                    }
                    Fault::ServerError => return response("500 Internal Server Error", &[], b"oops"),
                    Fault::LimitManifests => return response("429 Too Many Requests", &json, limited),
                    Fault::LimitGets if method == "GET" => return response("429 Too Many Requests", &json, limited),
                    Fault::LimitDigestGets if method == "GET" && by_digest => {
                        return response("429 Too Many Requests", &json, limited);
                    }
                    _ => {}
                }
                let known = path.ends_with("/manifests/v1") || path.ends_with(&format!("/manifests/{digest}"));
                if !known {
                    let body =
                        br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":null}]}"#;
                    return response("404 Not Found", &json, body);
                }
                let headers = [
                    ("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
                    ("Docker-Content-Digest", digest.as_str()),
                    ("Docker-Distribution-API-Version", "registry/2.0"),
                ];
                return answer(method, "200 OK", &headers, &manifest);
            }
            if let Some((_, wanted)) = path.split_once("/blobs/") {
                return match blobs.get(wanted) {
                    Some(blob) => answer(
                        method,
                        "200 OK",
                        &[("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", wanted)],
                        blob,
                    ),
                    None => response("404 Not Found", &[], b""),
                };
            }
            response(
                "200 OK",
                &[("Content-Type", "application/json"), ("Docker-Distribution-API-Version", "registry/2.0")],
                b"{}",
            )
        })
    }
}

/// A 200 with `body`, or for HEAD its head alone (with the body's length).
fn answer(method: &str, status: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    if method != "HEAD" {
        return response(status, headers, body);
    }
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Reply::Bytes(head.into_bytes())
}

/// A cell of the table: newlines shown as ⏎, pipes escaped.
fn cell(text: &str) -> String {
    format!("`{}`", text.replace('\n', "⏎").replace('|', "\\|"))
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from("| class | runtime | verdict | real runtime | regcred |\n|---|---|---|---|---|\n");
    for row in rows {
        let verdict = if row.real == row.ours {
            "identical"
        } else if KNOWN.iter().any(|k| k.class == row.class && k.oracle == row.oracle) {
            "differs (known)"
        } else {
            "DIFFERS"
        };
        let ours = if row.real == row.ours { "(same)".to_owned() } else { cell(&row.ours) };
        out.push_str(&format!(
            "| {} | {} | {verdict} | {} | {ours} |\n",
            row.class,
            row.oracle.label(),
            cell(&row.real)
        ));
    }
    let same = rows.iter().filter(|r| r.real == r.ours).count();
    out.push_str(&format!("\n{same} of {} identical.\n\nKnown differences and their reasons:\n\n", rows.len()));
    for known in KNOWN {
        out.push_str(&format!("- {} / {}: {}\n", known.class, known.oracle.label(), known.reason));
    }
    out
}

/// Every unlisted difference and every listed difference that is gone.
fn judge(rows: &[Row]) -> Vec<String> {
    let mut problems = Vec::new();
    for row in rows {
        let listed = KNOWN.iter().any(|k| k.class == row.class && k.oracle == row.oracle);
        if row.real != row.ours && !listed {
            problems.push(format!(
                "{} / {}: differs and is not in KNOWN\n  real:    {}\n  regcred: {}",
                row.class,
                row.oracle.label(),
                row.real,
                row.ours
            ));
        }
        if row.real == row.ours && listed {
            problems.push(format!("{} / {}: now identical; remove it from KNOWN", row.class, row.oracle.label()));
        }
    }
    for known in KNOWN {
        if !rows.iter().any(|r| r.class == known.class && r.oracle == known.oracle) {
            problems.push(format!("KNOWN lists {} / {}, which no case ran", known.class, known.oracle.label()));
        }
        assert!(!known.reason.is_empty());
    }
    problems
}
