//! Test pulls against a TLS registry with a private CA, and a token-auth registry with a real
//! RS256 token server: success, token cache, and the TLS and token failure classes.

use std::collections::HashMap;
use std::net::SocketAddr;

use regcred::keychain::Credential;
use regcred::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller, Stage};
use regcred::secret::Secret;

use crate::support::registry::{self, Registry, Setup};
use crate::support::token_server::TokenServer;
use crate::support::{TempHome, component_available};

const PASSWORD: &str = "auth-canary-91c2";

fn available() -> bool {
    component_available(
        "docker-registry, skopeo and openssl",
        registry::available() && registry::which("openssl").is_some(),
    )
}

fn user(name: &str, password: &str) -> Credential {
    Credential { username: name.into(), secret: Secret::new(password) }
}

fn pull_on(puller: &Puller, image: &str, credential: Option<&Credential>, options: &PullOptions) -> PullReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(puller.pull(image, credential, "test", options, None, None))
}

fn class_and_stage(report: &PullReport) -> (FailureClass, Stage) {
    match &report.outcome {
        Outcome::Failure(f) => (f.class, f.stage),
        Outcome::Success(_) => panic!("expected a failure: {}", report.to_text()),
    }
}

fn kubelet(report: &PullReport) -> String {
    match &report.outcome {
        Outcome::Failure(f) => f.kubelet_event.clone(),
        Outcome::Success(_) => String::new(),
    }
}

fn test_host(registry: &Registry) -> (String, Vec<(String, SocketAddr)>) {
    let port = registry.host.rsplit(':').next().unwrap();
    let addr: SocketAddr = registry.host.parse().unwrap();
    (format!("registry.test:{port}"), vec![("registry.test".to_owned(), addr)])
}

#[test]
fn tls_with_a_private_ca() {
    if !available() {
        return;
    }
    let registry = Registry::start_with(&Setup { basic: Some(("alice", PASSWORD)), tls: true, ..Setup::default() });
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);
    let alice = user("alice", PASSWORD);
    let trusted = PullOptions { ca_dirs: vec![registry.ca_dir()], ..PullOptions::default() };
    let ok = pull_on(&Puller::default(), &image, Some(&alice), &trusted);
    assert!(ok.succeeded(), "{}", ok.to_text());
    assert!(ok.requests.iter().all(|r| r.url.starts_with("https://")), "TLS all the way");
    assert_eq!(ok.requests_per_stage.get("ping"), Some(&1), "the plain-HTTP twin of the ping is not kept");

    // Named: containerd and Docker take any certificate from a registry on the node itself.
    let (name, resolve) = test_host(&registry);
    let named = format!("{name}/team/app:v1");
    let untrusted =
        pull_on(&Puller::default(), &named, Some(&alice), &PullOptions { resolve, ..PullOptions::default() });
    assert_eq!(
        class_and_stage(&untrusted),
        (FailureClass::TlsUnknownAuthority, Stage::Ping),
        "{}",
        untrusted.to_text()
    );
    assert!(kubelet(&untrusted).contains("x509: certificate signed by unknown authority"));
    let skopeo = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", &format!("--creds=alice:{PASSWORD}"), &format!("docker://{image}")])
        .env("REGISTRY_AUTH_FILE", registry.dir.path().join("peer-auth.json"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&skopeo.stderr).contains("certificate signed by unknown authority"),
        "the peer agrees"
    );

    let (name, resolve) = test_host(&registry);
    let by_name = PullOptions { ca_dirs: vec![registry.ca_dir()], resolve, ..PullOptions::default() };
    let ok = pull_on(&Puller::default(), &format!("{name}/team/app:v1"), Some(&alice), &by_name);
    assert!(ok.succeeded(), "{}", ok.to_text());

    // A CA in the system's trust store (here: the store OpenSSL's SSL_CERT_FILE names) is trusted
    // without a certs.d entry, as Docker and the kubelet's runtime trust it.
    let home = TempHome::new();
    let auth = regcred::auth_files::encode_auth("alice", &Secret::new(PASSWORD));
    home.write(&home.docker_config(), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host).as_bytes());
    let ca = registry.dir.path().join("ca.crt");
    let mut system_store = home.regcred(&["test-pull", &image]);
    let output = system_store.env("SSL_CERT_FILE", &ca).env("SSL_CERT_DIR", "").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    // (CRI-O's road: containerd and Docker would take any certificate from this machine.)
    let empty_store =
        home.regcred(&["test-pull", &image, "--runtime", "cri-o"]).env("SSL_CERT_FILE", "/dev/null").output().unwrap();
    let text = String::from_utf8_lossy(&empty_store.stdout);
    assert_eq!(empty_store.status.code(), Some(1), "{text}");
    assert!(text.contains("certificate signed by unknown authority"), "{text}");
}

#[test]
fn a_plain_http_registry_spoken_to_over_https() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    let (name, resolve) = test_host(&registry);
    let options = PullOptions { resolve, ..PullOptions::default() };
    let report = pull_on(&Puller::default(), &format!("{name}/team/app:v1"), Some(&user("alice", PASSWORD)), &options);
    assert_eq!(class_and_stage(&report), (FailureClass::HttpToHttps, Stage::Ping), "{}", report.to_text());
    assert!(kubelet(&report).contains("http: server gave HTTP response to HTTPS client"));
    let insecure = PullOptions { insecure: true, ..options };
    let report = pull_on(&Puller::default(), &format!("{name}/team/app:v1"), Some(&user("alice", PASSWORD)), &insecure);
    assert_eq!(
        class_and_stage(&report).0,
        FailureClass::RepositoryUnknown,
        "marked insecure, it speaks HTTP: {}",
        report.to_text()
    );
}

#[test]
fn token_auth_success_cache_and_failures() {
    if !available() {
        return;
    }
    let users: HashMap<String, (String, Vec<String>)> = HashMap::from([
        ("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()])),
        ("nopull".to_owned(), ("nopull-pw".to_owned(), Vec::new())),
    ]);
    let tokens = TokenServer::start("registry.test", users);
    let registry = Registry::start_with(&Setup {
        basic: None,
        tls: false,
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    let pusher = &registry;
    push_with_token(pusher, "alice", PASSWORD);
    let image = format!("{}/team/app:v1", pusher.host);
    let puller = Puller::default();
    let alice = user("alice", PASSWORD);
    let seen = tokens.token_methods().len();
    let first = pull_on(&puller, &image, Some(&alice), &PullOptions::default());
    assert!(first.succeeded(), "{}", first.to_text());
    assert_eq!(first.requests_per_stage.get("token"), Some(&1));
    assert_eq!(tokens.token_methods()[seen..], ["POST"], "OAuth2 grant_type=password, as containerd asks");
    let before = tokens.token_requests();
    let second = pull_on(&puller, &image, Some(&alice), &PullOptions::default());
    assert!(second.succeeded());
    assert_eq!(tokens.token_requests(), before, "the second pull reuses the cached token");
    assert_eq!(second.requests_per_stage.get("token"), None);

    let seen = tokens.token_methods().len();
    let wrong = pull_on(&Puller::default(), &image, Some(&user("alice", "wrong")), &PullOptions::default());
    assert_eq!(class_and_stage(&wrong), (FailureClass::WrongCredentialsToken, Stage::Token), "{}", wrong.to_text());
    assert_eq!(tokens.token_methods()[seen..], ["POST", "GET"], "a 401 to the POST falls back to GET");
    assert!(kubelet(&wrong).contains("failed to fetch oauth token: unexpected status from GET request to"));

    // An identity token (`identitytoken` in config.json; user `<token>` from a helper) goes as
    // grant_type=refresh_token, and only by POST. Here alice's identity token is her password
    // (the token server takes a refresh token that is some user's password, so they differ).
    let seen = tokens.token_methods().len();
    let identity = pull_on(&Puller::default(), &image, Some(&user("<token>", PASSWORD)), &PullOptions::default());
    assert!(identity.succeeded(), "{}", identity.to_text());
    assert_eq!(tokens.token_methods()[seen..], ["POST"]);
    let seen = tokens.token_methods().len();
    let stale = pull_on(&Puller::default(), &image, Some(&user("<token>", "expired")), &PullOptions::default());
    assert_eq!(class_and_stage(&stale), (FailureClass::WrongCredentialsToken, Stage::Token), "{}", stale.to_text());
    assert_eq!(tokens.token_methods()[seen..], ["POST"], "no GET fallback for a refresh token");
    assert!(kubelet(&stale).contains("unexpected status from POST request to"), "{}", kubelet(&stale));
    let denied = pull_on(&Puller::default(), &image, Some(&user("nopull", "nopull-pw")), &PullOptions::default());
    assert_eq!(class_and_stage(&denied).0, FailureClass::Denied, "{}", denied.to_text());
    assert!(kubelet(&denied).contains("pull access denied"));
    let anonymous = pull_on(&Puller::default(), &image, None, &PullOptions::default());
    assert_eq!(class_and_stage(&anonymous).0, FailureClass::NoCredentials, "{}", anonymous.to_text());
    for report in [&first, &second, &wrong, &identity, &stale, &denied, &anonymous] {
        assert!(!serde_json::to_string(report).unwrap().contains(PASSWORD));
    }
    let peer = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--creds=alice:wrong", &format!("docker://{image}")])
        .env("REGISTRY_AUTH_FILE", pusher.dir.path().join("peer-auth.json"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&peer.stderr).contains("unable to retrieve auth token"), "the peer agrees");
}

#[test]
fn a_token_service_without_the_oauth_post_gets_the_get() {
    if !available() {
        return;
    }
    let users =
        HashMap::from([("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()]))]);
    let tokens = TokenServer::start_with("registry.test", users, false);
    let registry = Registry::start_with(&Setup {
        basic: None,
        tls: false,
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    push_with_token(&registry, "alice", PASSWORD);
    let seen = tokens.token_methods().len();
    let image = format!("{}/team/app:v1", registry.host);
    let report = pull_on(&Puller::default(), &image, Some(&user("alice", PASSWORD)), &PullOptions::default());
    assert!(report.succeeded(), "{}", report.to_text());
    assert_eq!(tokens.token_methods()[seen..], ["POST", "GET"], "405 to the POST, then the GET");
    assert_eq!(report.requests_per_stage.get("token"), Some(&2));
}

pub fn push_with_token(registry: &Registry, user: &str, password: &str) {
    let layout = registry.dir.path().join("token-layout");
    registry::write_oci_layout(&layout, "v1", b"token image\n");
    let status = std::process::Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", &format!("--dest-creds={user}:{password}")])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{}/team/app:v1", registry.host))
        .env("REGISTRY_AUTH_FILE", registry.dir.path().join("push-auth.json"))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn basic_credentials_never_go_to_a_plain_http_realm_of_an_https_registry() {
    if !available() {
        return;
    }
    let users = HashMap::from([("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned()]))]);
    let tokens = TokenServer::start("registry.test", users);
    let registry = Registry::start_with(&Setup {
        basic: None,
        tls: true,
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    let (name, resolve) = test_host(&registry);
    let options = PullOptions { ca_dirs: vec![registry.ca_dir()], resolve, ..PullOptions::default() };
    let report = pull_on(&Puller::default(), &format!("{name}/team/app:v1"), Some(&user("alice", PASSWORD)), &options);
    assert_eq!(class_and_stage(&report), (FailureClass::Refused, Stage::Token), "{}", report.to_text());
    assert_eq!(tokens.token_requests(), 0, "the password never reached the plain-HTTP realm");
}

/// A registry on this machine is reached as each runtime reaches it, and the report says which
/// runtimes would pull and which would not: a self-signed TLS registry pulls for containerd 2.x
/// and Docker (they take any certificate from the node itself), fails for CRI-O (unknown
/// authority) and for containerd 1.6 (plain HTTP to a TLS port: 400); a plain-HTTP one pulls for
/// containerd and fails for CRI-O without `insecure`.
#[test]
fn a_registry_on_this_machine_is_reached_as_each_runtime_reaches_it() {
    use regcred::registry::Runtime;
    if !available() {
        return;
    }
    let alice = user("alice", PASSWORD);
    let on = |runtime| PullOptions { runtime, ..PullOptions::default() };
    let note = |report: &PullReport| report.runtimes_differ.clone().unwrap_or_default();

    let tls = Registry::start_with(&Setup { basic: Some(("alice", PASSWORD)), tls: true, ..Setup::default() });
    tls.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", tls.host);
    for runtime in [Runtime::Containerd, Runtime::Docker] {
        let report = pull_on(&Puller::default(), &image, Some(&alice), &on(runtime));
        assert!(report.succeeded(), "{runtime}: {}", report.to_text());
        assert!(note(&report).starts_with("its certificate is not trusted here"), "{}", report.to_text());
        // A success names the runtime whose road it walked, as a failure does.
        assert_eq!(serde_json::to_value(&report).unwrap()["runtime"], runtime.to_string());
        assert!(report.to_text().contains(&format!("runtime     {}", runtime.label())));
    }
    let cri_o = pull_on(&Puller::default(), &image, Some(&alice), &on(Runtime::CriO));
    assert_eq!(class_and_stage(&cri_o).0, FailureClass::TlsUnknownAuthority, "{}", cri_o.to_text());
    assert!(note(&cri_o).ends_with("CRI-O does not"), "{}", cri_o.to_text());
    let old = pull_on(&Puller::default(), &image, Some(&alice), &on(Runtime::Containerd16));
    assert_eq!(class_and_stage(&old), (FailureClass::Protocol, Stage::Ping), "{}", old.to_text());
    let Outcome::Failure(failure) = &old.outcome else { unreachable!() };
    assert!(
        failure.kubelet_event.ends_with("failed with status code [manifests v1]: 400 Bad Request"),
        "{}",
        old.to_text()
    );
    assert!(note(&old).starts_with("this registry speaks TLS"), "{}", old.to_text());
    assert!(failure.verdict.contains("speaks TLS"), "{}", old.to_text());
    assert!(failure.what_to_do.contains("hosts.toml"), "{}", old.to_text());
    // Trusted (its CA given): every HTTPS runtime pulls; 1.6 still speaks plain HTTP to it.
    let trusted = PullOptions { ca_dirs: vec![tls.ca_dir()], ..PullOptions::default() };
    let report = pull_on(&Puller::default(), &image, Some(&alice), &trusted);
    assert!(
        report.succeeded() && note(&report).starts_with("containerd 2.x, Docker and CRI-O"),
        "{}",
        report.to_text()
    );

    let plain = Registry::start(Some(("alice", PASSWORD)));
    plain.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", plain.host);
    let report = pull_on(&Puller::default(), &image, Some(&alice), &on(Runtime::Containerd));
    assert!(report.succeeded() && note(&report).starts_with("this registry on the node itself speaks plain HTTP"));
    let cri_o = pull_on(&Puller::default(), &image, Some(&alice), &on(Runtime::CriO));
    assert_eq!(class_and_stage(&cri_o).0, FailureClass::HttpToHttps, "{}", cri_o.to_text());
    let Outcome::Failure(failure) = &cri_o.outcome else { unreachable!() };
    assert!(failure.what_to_do.contains("insecure = true"), "{}", cri_o.to_text());
    let insecure = PullOptions { insecure: true, ..on(Runtime::CriO) };
    assert!(pull_on(&Puller::default(), &image, Some(&alice), &insecure).succeeded());
}

/// `--insecure=HOST,…` (a run of many registries names the plain-HTTP ones): plain HTTP, and
/// credentials over it, only for a host named; every other host stays HTTPS-only.
#[test]
fn insecure_holds_only_for_the_hosts_named() {
    if !available() {
        return;
    }
    let plain = Registry::start(Some(("alice", PASSWORD)));
    plain.push_image("team/app", "v1");
    let (name, resolve) = test_host(&plain);
    let image = format!("{name}/team/app:v1");
    let alice = user("alice", PASSWORD);
    let insecure = |hosts: &[&str]| PullOptions {
        insecure: true,
        insecure_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        resolve: resolve.clone(),
        ..PullOptions::default()
    };
    assert!(pull_on(&Puller::default(), &image, Some(&alice), &insecure(&[])).succeeded(), "alone: every host");
    assert!(pull_on(&Puller::default(), &image, Some(&alice), &insecure(&[name.as_str()])).succeeded());
    let other = pull_on(&Puller::default(), &image, Some(&alice), &insecure(&["other.test:5000"]));
    assert_eq!(class_and_stage(&other).0, FailureClass::HttpToHttps, "{}", other.to_text());
}

/// Odd other sides, as a login check and a test pull meet them: a `401` with no challenge (or one
/// in a scheme nobody speaks) is a failed login with the credential never sent, not a login that
/// "works"; a web server that answers 404 at `/v2/` is not a registry (not "a missing tag"); and a
/// registry whose token service is unreachable names that service, with containerd's own words.
#[test]
fn odd_servers_are_named_for_what_they_are() {
    use crate::support::tiny_http::{TinyServer, response};
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let alice = user("alice", PASSWORD);
    let options = PullOptions::default();
    let puller = Puller::default();

    for challenge in [None, Some("Frobnicate realm=\"x\"")] {
        let server = TinyServer::start(move |_, _| match challenge {
            Some(value) => response("401 Unauthorized", &[("WWW-Authenticate", value)], b""),
            None => response("401 Unauthorized", &[], b""),
        });
        let host = server.addr.to_string();
        let failure = runtime.block_on(puller.verify_login(&host, &alice, &options)).expect_err("not a working login");
        assert_eq!((failure.class, failure.stage), (FailureClass::Protocol, Stage::Ping), "{failure:?}");
        assert!(failure.detail.contains("the credential was not sent"), "{}", failure.detail);
        assert!(failure.what_to_do.contains("Basic or Bearer"), "{}", failure.what_to_do);
        let seen = server.seen.lock().unwrap().join("\n");
        assert!(!seen.to_ascii_lowercase().contains("authorization:"), "nothing sent: {seen}");
    }

    let web =
        TinyServer::start(|_, _| response("404 Not Found", &[("Content-Type", "text/html")], b"<h1>Not Found</h1>"));
    let host = web.addr.to_string();
    let login = runtime.block_on(puller.verify_login(&host, &alice, &options)).expect_err("a web server");
    let pull = pull_on(&puller, &format!("{host}/team/app:1.0"), Some(&alice), &options);
    let Outcome::Failure(refused) = &pull.outcome else { panic!("{}", pull.to_text()) };
    for failure in [&login, refused] {
        assert!(failure.verdict.contains("does not answer as a container registry"), "{}", failure.verdict);
        assert!(!failure.what_to_do.contains("tag"), "{}", failure.what_to_do);
    }

    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let realm = format!("http://{}/token", gone.local_addr().unwrap());
    drop(gone);
    let challenge = format!("Bearer realm=\"{realm}\",service=\"registry.test\"");
    let registry =
        TinyServer::start(move |_, _| response("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b""));
    let host = registry.addr.to_string();
    let report = pull_on(&puller, &format!("{host}/team/app:1.0"), Some(&alice), &options);
    let Outcome::Failure(failure) = &report.outcome else { panic!("{}", report.to_text()) };
    assert_eq!((failure.class, failure.stage), (FailureClass::ConnectionRefused, Stage::Token));
    assert!(
        failure.verdict.starts_with(&format!("the registry's token service {realm} cannot be reached")),
        "{}",
        failure.verdict
    );
    let port = realm.trim_start_matches("http://127.0.0.1:").trim_end_matches("/token");
    assert!(
        failure.kubelet_event.ends_with(&format!(
            ": failed to resolve image: failed to authorize: failed to fetch oauth token: Post \"{realm}\": dial tcp 127.0.0.1:{port}: connect: connection refused"
        )),
        "{}",
        failure.kubelet_event
    );
    assert!(failure.what_to_do.contains(&realm), "{}", failure.what_to_do);
}
