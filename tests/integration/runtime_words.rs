//! The wording table: for each failure class reproduced against a real registry (basic, token,
//! TLS) or a scripted server, the kubelet's event byte for byte in each runtime's words —
//! containerd 2.1–2.3, containerd 1.7, CRI-O, Docker through cri-dockerd — as
//! `docs/runtime-messages.md` derives them from each project's source at a named tag.

use std::collections::HashMap;
use std::time::Duration;

use regcred::keychain::Credential;
use regcred::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller, Runtime, Timeouts};
use regcred::secret::Secret;

use crate::support::component_available;
use crate::support::registry::{self, Registry, Setup};
use crate::support::tiny_http::{TinyServer, response};
use crate::support::token_server::TokenServer;

const PASSWORD: &str = "words-canary-4c1a";

fn available() -> bool {
    component_available(
        "docker-registry, skopeo and openssl",
        registry::available() && registry::which("openssl").is_some(),
    )
}

fn user(name: &str, password: &str) -> Credential {
    Credential { username: name.into(), secret: Secret::new(password) }
}

fn short() -> PullOptions {
    let timeouts =
        Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(2), idle: Duration::from_secs(1) };
    PullOptions { timeouts, ..PullOptions::default() }
}

fn pull(image: &str, credential: Option<&Credential>, options: &PullOptions) -> PullReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(Puller::default().pull(image, credential, "test", options, None, None))
}

/// The runtimes these scenarios spell out, in order (containerd 2.0 and 1.6 differ from their
/// neighbours in a few classes, checked on their own and against real containerd 1.6.20 in
/// `runtime_oracles`).
const WORDS: [Runtime; 4] = [Runtime::Containerd, Runtime::Containerd17, Runtime::CriO, Runtime::Docker];

/// The failure's class and its event in each of [`WORDS`]' words, in that order.
fn events(image: &str, credential: Option<&Credential>, options: &PullOptions) -> (FailureClass, Vec<String>) {
    let mut class = None;
    let events = WORDS
        .iter()
        .map(|runtime| {
            // CRI-O has no exemption for a registry on its own node: the loopback registries here
            // are set `insecure = true` for it (as a CRI-O node needs for a plain-HTTP one).
            let loopback = image.starts_with("127.0.0.1:") || image.starts_with("localhost:");
            let insecure = options.insecure || (*runtime == Runtime::CriO && loopback);
            let report = pull(image, credential, &PullOptions { runtime: *runtime, insecure, ..options.clone() });
            let Outcome::Failure(failure) = &report.outcome else { panic!("expected a failure: {}", report.to_text()) };
            assert_eq!(failure.runtime, *runtime);
            assert!(!failure.kubelet_event.contains(PASSWORD));
            class = Some(failure.class);
            failure.kubelet_event.clone()
        })
        .collect();
    (class.unwrap(), events)
}

/// Asserts each runtime's event: `expected` in [`WORDS`]' order.
fn assert_words(scenario: &str, got: &[String], expected: [String; 4]) {
    for ((runtime, got), expected) in WORDS.iter().zip(got).zip(expected) {
        assert_eq!(got, &expected, "{scenario}, {}", runtime.label());
    }
}

/// The CRI-O form: the image pull's error and the OCI-artifact attempt's, joined.
fn crio_twice(reference: &str, inner: &str) -> String {
    format!(
        "unable to pull image or OCI artifact: pull image err: initializing source docker://{reference}: {inner}; artifact err: image reference: get manifest from ref: create image source: {inner}"
    )
}

#[test]
fn a_basic_auth_registry_in_every_runtimes_words() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    registry.push_image("team/app", "v1");
    let host = &registry.host;
    let image = format!("{host}/team/app:v1");
    let head = format!("http://{host}/v2/team/app/manifests/v1");
    let w = format!("Failed to pull image \"{image}\": ");
    let pull_unpack = format!("failed to pull and unpack image \"{image}\"");
    let c17 = format!("failed to resolve reference \"{image}\"");
    let name = format!("{host}/team/app");

    let (class, got) = events(&image, Some(&user("alice", "wrong")), &short());
    assert_eq!(class, FailureClass::WrongCredentialsBasic);
    assert_words(
        "wrong password",
        &got,
        [
            format!(
                "{w}{pull_unpack}: failed to resolve image: unexpected status from HEAD request to {head}: 401 Unauthorized"
            ),
            format!("{w}{pull_unpack}: {c17}: unexpected status from HEAD request to {head}: 401 Unauthorized"),
            format!("{w}{}", crio_twice(&image, &format!("reading manifest v1 in {name}: authentication required"))),
            format!("{w}Error response from daemon: unauthorized: authentication required"),
        ],
    );

    let (class, got) = events(&image, None, &short());
    assert_eq!(class, FailureClass::NoCredentials);
    let denied = "pull access denied, repository does not exist or may require authorization";
    assert_words(
        "no credentials",
        &got,
        [
            format!(
                "{w}{pull_unpack}: failed to resolve image: {denied}: authorization failed: no basic auth credentials"
            ),
            format!("{w}{pull_unpack}: {c17}: {denied}: authorization failed: no basic auth credentials"),
            format!("{w}{}", crio_twice(&image, &format!("reading manifest v1 in {name}: authentication required"))),
            format!("{w}Error response from daemon: Head \"{head}\": no basic auth credentials"),
        ],
    );

    for (missing, what) in [(format!("{host}/team/nope:v1"), "repository"), (format!("{host}/team/app:v2"), "tag")] {
        let (class, got) = events(&missing, Some(&user("alice", PASSWORD)), &short());
        let expected_class = if what == "tag" { FailureClass::TagUnknown } else { FailureClass::RepositoryUnknown };
        assert_eq!(class, expected_class);
        let w = format!("Failed to pull image \"{missing}\": ");
        let (repo_name, tag) = missing.rsplit_once(':').unwrap();
        let familiar = missing.clone();
        assert_words(
            what,
            &got,
            [
                format!(
                    "{w}rpc error: code = NotFound desc = failed to pull and unpack image \"{missing}\": failed to resolve image: {missing}: not found"
                ),
                format!(
                    "{w}rpc error: code = NotFound desc = failed to pull and unpack image \"{missing}\": failed to resolve reference \"{missing}\": {missing}: not found"
                ),
                format!(
                    "{w}{}",
                    crio_twice(&missing, &format!("reading manifest {tag} in {repo_name}: manifest unknown"))
                ),
                format!(
                    "{w}Error response from daemon: manifest for {familiar} not found: manifest unknown: manifest unknown"
                ),
            ],
        );
    }

    let index = registry.dir.path().join("multi");
    registry::write_oci_index_layout(&index, "multi", &["amd64", "arm64"]);
    registry.push_layout(&index, "team/multi", "multi", true);
    let multi = format!("{host}/team/multi:multi");
    let s390x = PullOptions { platform: "linux/s390x".parse().unwrap(), ..short() };
    let (class, got) = events(&multi, Some(&user("alice", PASSWORD)), &s390x);
    assert_eq!(class, FailureClass::PlatformMissing);
    let index_digest = match &pull(&multi, Some(&user("alice", PASSWORD)), &PullOptions::default()).outcome {
        Outcome::Success(success) => success.digest.clone(),
        Outcome::Failure(failure) => panic!("{}", failure.verdict),
    };
    let w = format!("Failed to pull image \"{multi}\": ");
    // The fixture is an OCI image index (a Docker list would be a "manifest list").
    let found = "no image found in image index for architecture \"s390x\", variant \"\", OS \"linux\"";
    assert_words(
        "platform",
        &got,
        [
            format!(
                "{w}rpc error: code = NotFound desc = get image config descriptor: no match for platform in manifest {index_digest}: not found"
            ),
            format!(
                "{w}rpc error: code = NotFound desc = failed to pull and unpack image \"{multi}\": no match for platform in manifest: not found"
            ),
            format!(
                "{w}unable to pull image or OCI artifact: pull image err: choosing an image from manifest list docker://{multi}: {found}; artifact err: image reference: choose manifest instance: {found}"
            ),
            format!("{w}no matching manifest for linux/s390x in the manifest list entries"),
        ],
    );
}

#[test]
fn a_token_auth_registry_in_every_runtimes_words() {
    if !available() {
        return;
    }
    let users = HashMap::from([
        ("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()])),
        ("nopull".to_owned(), ("nopull-pw".to_owned(), Vec::new())),
    ]);
    let tokens = TokenServer::start("registry.test", users);
    let registry = Registry::start_with(&Setup {
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..Setup::default()
    });
    crate::test_pull_auth::push_with_token(&registry, "alice", PASSWORD);
    let host = &registry.host;
    let image = format!("{host}/team/app:v1");
    let head = format!("http://{host}/v2/team/app/manifests/v1");
    let w = format!("Failed to pull image \"{image}\": ");
    let pull_unpack = format!("failed to pull and unpack image \"{image}\"");
    let c17 = format!("failed to resolve reference \"{image}\"");
    let token_get = format!("{}?scope=repository%3Ateam%2Fapp%3Apull&service=registry.test", tokens.realm());

    let (class, got) = events(&image, Some(&user("alice", "wrong")), &short());
    assert_eq!(class, FailureClass::WrongCredentialsToken);
    let oauth = format!(
        "failed to authorize: failed to fetch oauth token: unexpected status from GET request to {token_get}: 401 Unauthorized"
    );
    let crio = "unable to retrieve auth token: invalid username/password: unauthorized: invalid username/password";
    assert_words(
        "token, wrong password",
        &got,
        [
            format!("{w}{pull_unpack}: failed to resolve image: {oauth}"),
            format!("{w}{pull_unpack}: {c17}: {oauth}"),
            format!("{w}{}", crio_twice(&image, crio)),
            format!("{w}Error response from daemon: Head \"{head}\": unauthorized: invalid username/password"),
        ],
    );

    let denied = "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed";
    let docker_denied = format!(
        "Error response from daemon: pull access denied for {host}/team/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
    );
    for (credential, expected_class) in
        [(None, FailureClass::NoCredentials), (Some(user("nopull", "nopull-pw")), FailureClass::Denied)]
    {
        let (class, got) = events(&image, credential.as_ref(), &short());
        assert_eq!(class, expected_class);
        assert_words(
            &format!("{expected_class:?}"),
            &got,
            [
                format!("{w}{pull_unpack}: failed to resolve image: {denied}"),
                format!("{w}{pull_unpack}: {c17}: {denied}"),
                format!(
                    "{w}{}",
                    crio_twice(
                        &image,
                        &format!("reading manifest v1 in {host}/team/app: requested access to the resource is denied")
                    )
                ),
                format!("{w}{docker_denied}"),
            ],
        );
    }
}

#[test]
fn connection_and_tls_failures_in_every_runtimes_words() {
    if !available() {
        return;
    }
    let image = "127.0.0.1:1/team/app:v1";
    let (class, got) = events(image, None, &short());
    assert_eq!(class, FailureClass::ConnectionRefused);
    let w = format!("Failed to pull image \"{image}\": ");
    let go = "dial tcp 127.0.0.1:1: connect: connection refused";
    // containerd 2.x tries HTTPS first on a named port and does not fall back after a refused
    // connection; 1.7 (the CRI's default settings) speaks plain HTTP to loopback; Docker reports
    // its insecure registry's last endpoint, plain HTTP, and CRI-O (`insecure = true` here) its
    // second ping, plain HTTP too.
    let head =
        |scheme: &str| format!("failed to do request: Head \"{scheme}://127.0.0.1:1/v2/team/app/manifests/v1\": {go}");
    assert_words(
        "refused",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {}", head("https")),
            format!(
                "{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {}",
                head("http")
            ),
            format!(
                "{w}RegistryUnavailable: unable to pull image: initializing source docker://{image}: pinging container registry 127.0.0.1:1: Get \"http://127.0.0.1:1/v2/\": {go}"
            ),
            format!("{w}Error response from daemon: Get \"http://127.0.0.1:1/v2/\": {go}"),
        ],
    );

    let image = "nonexistent.invalid/team/app:v1";
    let (class, got) = events(image, None, &short());
    assert_eq!(class, FailureClass::DnsFailure);
    let w = format!("Failed to pull image \"{image}\": ");
    // Go's pure resolver names the server it asked: the first of /etc/resolv.conf.
    let on = regcred::registry::nameserver().map(|server| format!(" on {server}")).unwrap_or_default();
    let go = format!("dial tcp: lookup nonexistent.invalid{on}: no such host");
    let resolve = format!("failed to do request: Head \"https://nonexistent.invalid/v2/team/app/manifests/v1\": {go}");
    assert_words(
        "dns",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {resolve}"),
            format!(
                "{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {resolve}"
            ),
            format!(
                "{w}unable to pull image: initializing source docker://{image}: pinging container registry nonexistent.invalid: Get \"https://nonexistent.invalid/v2/\": {go}"
            ),
            format!("{w}Error response from daemon: Get \"https://nonexistent.invalid/v2/\": {go}"),
        ],
    );

    // A named host (containerd and Docker take any certificate from a registry on the node itself).
    let registry = Registry::start_with(&Setup { basic: Some(("alice", PASSWORD)), tls: true, ..Setup::default() });
    let port = registry.host.rsplit(':').next().unwrap();
    let host = format!("registry.test:{port}");
    let resolve = vec![("registry.test".to_owned(), registry.host.parse().unwrap())];
    let image = format!("{host}/team/app:v1");
    let (class, got) = events(&image, None, &PullOptions { resolve, ..short() });
    assert_eq!(class, FailureClass::TlsUnknownAuthority);
    let w = format!("Failed to pull image \"{image}\": ");
    let go = "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    let head = format!("https://{host}/v2/team/app/manifests/v1");
    let resolve = format!("failed to do request: Head \"{head}\": {go}");
    assert_words(
        "unknown authority",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {resolve}"),
            format!(
                "{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {resolve}"
            ),
            format!(
                "{w}unable to pull image: initializing source docker://{image}: pinging container registry {host}: Get \"https://{host}/v2/\": {go}"
            ),
            format!("{w}Error response from daemon: Get \"https://{host}/v2/\": {go}"),
        ],
    );
}

#[test]
fn scripted_registry_failures_in_every_runtimes_words() {
    let server = TinyServer::start(|head, _| {
        if head.contains("/v2/limited/") {
            let body = br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit.","detail":null}]}"#;
            return response(
                "429 Too Many Requests",
                &[
                    ("Content-Type", "application/json"),
                    ("RateLimit-Limit", "100;w=21600"),
                    ("RateLimit-Remaining", "0;w=21600"),
                ],
                body,
            );
        }
        if head.contains("/v2/broken/") {
            return response("500 Internal Server Error", &[], b"oops");
        }
        response("200 OK", &[("Content-Type", "application/json")], b"{}")
    });
    let host = server.addr.to_string();
    let image = format!("{host}/limited/app:v1");
    let (class, got) = events(&image, None, &short());
    assert_eq!(class, FailureClass::RateLimited);
    let w = format!("Failed to pull image \"{image}\": ");
    let head = format!(
        "unexpected status from HEAD request to http://{host}/v2/limited/app/manifests/v1: 429 Too Many Requests"
    );
    let message = "toomanyrequests: You have reached your pull rate limit.";
    assert_words(
        "429",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {head}"),
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {head}"),
            format!("{w}{}", crio_twice(&image, &format!("reading manifest v1 in {host}/limited/app: {message}"))),
            format!("{w}Error response from daemon: {message}"),
        ],
    );
    let limited = pull(&image, None, &short());
    let limit = limited.rate_limit.as_ref().expect("the rate limit is reported");
    assert_eq!(limit.describe(), "0 of 100 pulls left in this window (6 h)");

    let image = format!("{host}/broken/app:v1");
    let (class, got) = events(&image, None, &short());
    assert_eq!(class, FailureClass::ServerError);
    let w = format!("Failed to pull image \"{image}\": ");
    let head = format!(
        "unexpected status from HEAD request to http://{host}/v2/broken/app/manifests/v1: 500 Internal Server Error"
    );
    assert_words(
        "500",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {head}"),
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {head}"),
            format!(
                "{w}{}",
                crio_twice(
                    &image,
                    &format!(
                        "reading manifest v1 in {host}/broken/app: received unexpected HTTP status: 500 Internal Server Error"
                    )
                )
            ),
            format!("{w}Error response from daemon: received unexpected HTTP status: 500 Internal Server Error"),
        ],
    );
}

#[test]
fn a_single_platform_image_for_another_platform_pulls_then_cannot_start() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    registry.push_image("team/app", "v1");
    let arm = PullOptions { platform: "linux/arm64".parse().unwrap(), ..short() };
    let report = pull(&format!("{}/team/app:v1", registry.host), Some(&user("alice", PASSWORD)), &arm);
    let Outcome::Failure(failure) = &report.outcome else { panic!("{}", report.to_text()) };
    assert_eq!(failure.class, FailureClass::PlatformMismatch, "{}", report.to_text());
    assert_eq!(failure.kubelet_reason, "CrashLoopBackOff");
    assert!(failure.detail.contains("linux/amd64") && failure.detail.contains("linux/arm64"), "{}", failure.detail);
    assert!(failure.kubelet_event.contains("exec format error"));
}

#[test]
fn a_404_with_credentials_says_the_credentials_may_not_see_it() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    registry.push_image("team/app", "v1");
    let report = pull(&format!("{}/team/private:v1", registry.host), Some(&user("alice", PASSWORD)), &short());
    let Outcome::Failure(failure) = &report.outcome else { panic!("{}", report.to_text()) };
    assert_eq!(failure.class, FailureClass::RepositoryUnknown);
    assert!(failure.verdict.contains("or these credentials cannot see it"), "{}", failure.verdict);
}

#[test]
fn missing_and_corrupted_blobs_in_every_runtimes_words() {
    if !available() {
        return;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    registry.push_image("team/app", "v1");
    let image = format!("{}/team/app:v1", registry.host);
    let layer = crate::test_pull::blob_files(&registry)
        .into_iter()
        .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])))
        .unwrap();
    let digest = format!("sha256:{}", layer.parent().unwrap().file_name().unwrap().to_str().unwrap());
    let original = std::fs::read(&layer).unwrap();
    let mut altered = original.clone();
    *altered.last_mut().unwrap() ^= 0xff;
    let actual = format!("sha256:{}", registry::sha256_hex(&altered));
    std::fs::write(&layer, &altered).unwrap();
    let full = PullOptions { full: true, ..short() };
    let (class, got) = events(&image, Some(&user("alice", PASSWORD)), &full);
    assert_eq!(class, FailureClass::BlobCorrupted);
    let w = format!("Failed to pull image \"{image}\": ");
    let commit = format!(
        "failed commit on ref \"layer-{digest}\": unexpected commit digest {actual}, expected {digest}: failed precondition"
    );
    assert_words(
        "corrupted",
        &got,
        [
            format!(
                "{w}rpc error: code = FailedPrecondition desc = failed to pull and unpack image \"{image}\": {commit}"
            ),
            format!(
                "{w}rpc error: code = FailedPrecondition desc = failed to pull and unpack image \"{image}\": {commit}"
            ),
            // A small layer: the digest fails within the decompressor's first read (real podman agrees).
            format!(
                "{w}unable to pull image or OCI artifact: pull image err: writing blob: setting up to decompress blob: happened during read: Digest did not match, expected {digest}, got {actual}; artifact err: image reference: reference is a container image, not an OCI artifact"
            ),
            format!("{w}filesystem layer verification failed for digest {digest}"),
        ],
    );

    std::fs::remove_file(&layer).unwrap();
    let (class, got) = events(&image, Some(&user("alice", PASSWORD)), &full);
    assert_eq!(class, FailureClass::BlobMissing);
    let descriptor = format!(
        "could not fetch content descriptor {digest} (application/vnd.oci.image.layer.v1.tar+gzip) from remote: not found"
    );
    assert_words(
        "missing",
        &got,
        [
            format!(
                "{w}rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to copy: httpReadSeeker: failed open: {descriptor}"
            ),
            format!(
                "{w}rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to copy: httpReadSeeker: failed open: {descriptor}"
            ),
            format!(
                "{w}unable to pull image or OCI artifact: pull image err: reading blob {digest}: fetching blob: blob unknown to registry; artifact err: image reference: reference is a container image, not an OCI artifact"
            ),
            format!("{w}unknown blob"),
        ],
    );
    std::fs::write(&layer, &original).unwrap();
}

#[test]
fn a_registry_that_never_answers_in_every_runtimes_words() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = silent.local_addr().unwrap().to_string();
    let _held = std::thread::Builder::new()
        .name("silent-registry".into())
        .spawn(move || {
            let held: Vec<_> = silent.incoming().take(64).flatten().collect();
            std::thread::sleep(Duration::from_mins(1));
            drop(held);
        })
        .unwrap();
    let image = format!("{host}/team/app:v1");
    let (class, got) = events(&image, None, &short());
    assert_eq!(class, FailureClass::Timeout);
    let w = format!("Failed to pull image \"{image}\": ");
    let resolve = format!(
        "failed to do request: Head \"http://{host}/v2/team/app/manifests/v1\": net/http: timeout awaiting response headers"
    );
    assert_words(
        "silent",
        &got,
        [
            format!("{w}failed to pull and unpack image \"{image}\": failed to resolve image: {resolve}"),
            format!(
                "{w}failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {resolve}"
            ),
            format!(
                "{w}rpc error: code = DeadlineExceeded desc = unable to pull image: initializing source docker://{image}: pinging container registry {host}: Get \"http://{host}/v2/\": net/http: timeout awaiting response headers"
            ),
            format!(
                "{w}Error response from daemon: Get \"http://{host}/v2/\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            ),
        ],
    );
}
