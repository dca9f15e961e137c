//! Test pulls against a real Distribution registry and small hostile servers: success in quick
//! and full mode, each failure class with its stage, status and kubelet line, skopeo's verdict as
//! the peer, and the security rules (no credentials on redirects elsewhere, caps, timeouts).

use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use regcred::keychain::Credential;
use regcred::registry::{FailureClass, Outcome, PullOptions, PullReport, Puller, Stage, Timeouts};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::registry::{self, Registry};
use crate::support::tiny_http::{Reply, TinyServer, response};
use crate::support::{TempHome, component_available};

const PASSWORD: &str = "test-pull-canary-7f3a";

fn registry() -> Option<Registry> {
    if !component_available("docker-registry and skopeo", registry::available()) {
        return None;
    }
    let registry = Registry::start(Some(("alice", PASSWORD)));
    registry.push_image("team/app", "v1");
    Some(registry)
}

fn alice(password: &str) -> Credential {
    Credential { username: "alice".into(), secret: Secret::new(password) }
}

fn pull_with(image: &str, credential: Option<&Credential>, options: &PullOptions) -> PullReport {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(Puller::default().pull(image, credential, "test", options, None, None))
}

fn failure(report: &PullReport) -> &regcred::registry::Failure {
    match &report.outcome {
        Outcome::Failure(failure) => failure,
        Outcome::Success(_) => panic!("expected a failure: {}", report.to_text()),
    }
}

/// skopeo's verdict for the same pull: Ok, or its error text.
fn skopeo(image: &str, credential: Option<&Credential>) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("skopeo");
    command.args(["inspect", "--raw", "--tls-verify=false"]).env("REGISTRY_AUTH_FILE", dir.path().join("auth.json"));
    match credential {
        Some(c) => command.arg(format!("--creds={}:{}", c.username, c.secret.expose())),
        None => command.arg("--no-creds"),
    };
    let output = command.arg(format!("docker://{image}")).output().unwrap();
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

#[test]
fn a_private_image_pulls_in_quick_and_full_mode() {
    let Some(registry) = registry() else { return };
    let image = format!("{}/team/app:v1", registry.host);
    for full in [false, true] {
        let report = pull_with(&image, Some(&alice(PASSWORD)), &PullOptions { full, ..PullOptions::default() });
        let Outcome::Success(success) = &report.outcome else { panic!("{}", report.to_text()) };
        assert!(success.digest.starts_with("sha256:"));
        assert_eq!(success.layers, 1);
        assert_eq!(success.platform, "linux/amd64");
        assert!(success.total_size > 0);
        assert_eq!(success.full, full);
        assert_eq!(report.requests_per_stage.get("blob"), Some(&2), "config + 1 layer");
        assert_eq!(report.requests_per_stage.get("manifest"), Some(&2), "HEAD + GET");
        // On loopback a plain-HTTP answer settles the scheme: no HTTPS attempt is waited for.
        let pings: Vec<_> = report.requests.iter().filter(|r| r.stage == Stage::Ping).collect();
        assert!(matches!(pings.as_slice(), [ping] if ping.url.starts_with("http://")), "{pings:?}");
        assert!(!serde_json::to_string(&report).unwrap().contains(PASSWORD));
    }
    assert_eq!(skopeo(&image, Some(&alice(PASSWORD))), Ok(()), "the peer agrees");
}

/// Image, credential, expected class, stage, status, words in the kubelet line.
type FailureCase<'a> = (String, Option<&'a Credential>, FailureClass, Stage, Option<u16>, &'a str);

#[test]
fn each_failure_class_is_named_with_stage_status_and_kubelet_line() {
    let Some(registry) = registry() else { return };
    let host = &registry.host;
    let good = alice(PASSWORD);
    let wrong = alice("wrong-password");
    let cases: Vec<FailureCase> = vec![
        (
            format!("{host}/team/app:v1"),
            Some(&wrong),
            FailureClass::WrongCredentialsBasic,
            Stage::Manifest,
            Some(401),
            "401 Unauthorized",
        ),
        (
            format!("{host}/team/app:v1"),
            None,
            FailureClass::NoCredentials,
            Stage::Manifest,
            Some(401),
            "pull access denied",
        ),
        (
            format!("{host}/team/nope:v1"),
            Some(&good),
            FailureClass::RepositoryUnknown,
            Stage::Manifest,
            Some(404),
            ": not found",
        ),
        (
            format!("{host}/team/app:v2"),
            Some(&good),
            FailureClass::TagUnknown,
            Stage::Manifest,
            Some(404),
            ": not found",
        ),
        (
            "127.0.0.1:1/team/app:v1".into(),
            None,
            FailureClass::ConnectionRefused,
            Stage::Ping,
            None,
            "connect: connection refused",
        ),
        ("nonexistent.invalid/team/app:v1".into(), None, FailureClass::DnsFailure, Stage::Ping, None, "no such host"),
        ("Team/App".into(), None, FailureClass::InvalidReference, Stage::Reference, None, "must be lowercase"),
    ];
    for (image, credential, class, stage, status, words) in cases {
        let report = pull_with(&image, credential, &PullOptions::default());
        let failure = failure(&report);
        assert_eq!(
            (failure.class, failure.stage, failure.status),
            (class, stage, status),
            "{image}: {}",
            report.to_text()
        );
        assert!(failure.kubelet_event.contains(words), "{image}: {}", failure.kubelet_event);
        assert!(
            failure.kubelet_event.starts_with(&format!("Failed to pull image \"{image}\""))
                || class == FailureClass::InvalidReference
        );
        assert!(!failure.what_to_do.is_empty() && !failure.verdict.is_empty());
        let peer = skopeo(&image, credential);
        assert!(peer.is_err(), "{image}: skopeo should fail too");
        assert!(!report.to_text().contains(PASSWORD) && !serde_json::to_string(&report).unwrap().contains(PASSWORD));
    }
    let invalid = pull_with("Team/App", None, &PullOptions::default());
    assert_eq!(failure(&invalid).kubelet_reason, "InvalidImageName");
}

pub fn blob_files(registry: &Registry) -> Vec<std::path::PathBuf> {
    let root = registry.dir.path().join("storage/docker/registry/v2/blobs/sha256");
    let mut files = Vec::new();
    for prefix in std::fs::read_dir(root).unwrap().flatten() {
        for blob in std::fs::read_dir(prefix.path()).unwrap().flatten() {
            files.push(blob.path().join("data"));
        }
    }
    files
}

#[test]
fn missing_and_corrupted_blobs_are_found() {
    let Some(registry) = registry() else { return };
    let image = format!("{}/team/app:v1", registry.host);
    let good = alice(PASSWORD);
    // The layer is the gzip blob (starts with 1f 8b).
    let layer = blob_files(&registry)
        .into_iter()
        .find(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])))
        .unwrap();
    let original = std::fs::read(&layer).unwrap();
    let mut altered = original.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0xff;
    std::fs::write(&layer, &altered).unwrap();
    let quick = pull_with(&image, Some(&good), &PullOptions::default());
    assert!(quick.succeeded(), "quick mode does not read layer bytes: {}", quick.to_text());
    let full = pull_with(&image, Some(&good), &PullOptions { full: true, ..PullOptions::default() });
    let corrupted = failure(&full);
    assert_eq!((corrupted.class, corrupted.stage), (FailureClass::BlobCorrupted, Stage::Blob), "{}", full.to_text());
    assert!(corrupted.kubelet_event.contains("unexpected commit digest"), "{}", corrupted.kubelet_event);

    std::fs::remove_file(&layer).unwrap();
    for full in [false, true] {
        let report = pull_with(&image, Some(&good), &PullOptions { full, ..PullOptions::default() });
        let missing = failure(&report);
        assert_eq!(
            (missing.class, missing.stage, missing.status),
            (FailureClass::BlobMissing, Stage::Blob, Some(404)),
            "{}",
            report.to_text()
        );
    }
    std::fs::write(&layer, &original).unwrap();
}

fn short() -> PullOptions {
    let timeouts =
        Timeouts { connect: Duration::from_secs(2), request: Duration::from_secs(2), idle: Duration::from_secs(1) };
    PullOptions { timeouts, ..PullOptions::default() }
}

#[test]
fn rate_limits_and_server_errors_are_reported_with_the_registry_envelope() {
    let server = TinyServer::start(|head, _| {
        let body = if head.contains("/v2/limited/") {
            return response("429 Too Many Requests", &[("Content-Type", "application/json")], br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit.","detail":null}]}"#);
        } else if head.contains("/v2/broken/") {
            return response("500 Internal Server Error", &[], b"oops");
        } else {
            b"{}".to_vec()
        };
        response("200 OK", &[("Content-Type", "application/json")], &body)
    });
    let host = server.addr.to_string();
    let limited = pull_with(&format!("{host}/limited/app:v1"), None, &short());
    let failure_429 = failure(&limited);
    assert_eq!(
        (failure_429.class, failure_429.status),
        (FailureClass::RateLimited, Some(429)),
        "{}",
        limited.to_text()
    );
    assert_eq!(failure_429.errors[0].code, "TOOMANYREQUESTS");
    // containerd resolves with HEAD, which has no body: its words are the status line.
    assert!(
        failure_429.kubelet_event.ends_with("/v2/limited/app/manifests/v1: 429 Too Many Requests"),
        "{}",
        failure_429.kubelet_event
    );
    let broken = pull_with(&format!("{host}/broken/app:v1"), None, &short());
    let failure_500 = failure(&broken);
    assert_eq!((failure_500.class, failure_500.status), (FailureClass::ServerError, Some(500)), "{}", broken.to_text());
    assert!(failure_500.kubelet_event.contains("500 Internal Server Error"));
}

#[test]
fn credentials_never_follow_a_redirect_elsewhere() {
    let elsewhere = TinyServer::start(|_, _| response("404 Not Found", &[], b""));
    let target = elsewhere.addr;
    let registry = TinyServer::start(move |head, own| {
        if head.starts_with("GET /v2/ ") {
            return response("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"x\"")], b"");
        }
        if head.contains("/manifests/other-port") {
            return response("307 Temporary Redirect", &[("Location", &format!("http://{target}/stolen"))], b"");
        }
        if head.contains("/manifests/loop") {
            return response("302 Found", &[("Location", &format!("http://{own}/v2/x/manifests/loop"))], b"");
        }
        response("404 Not Found", &[], b"")
    });
    let host = registry.addr.to_string();
    let credential = alice(PASSWORD);
    let redirected = pull_with(&format!("{host}/x:other-port"), Some(&credential), &short());
    assert!(!redirected.succeeded());
    assert!(!elsewhere.requests().is_empty(), "the redirect was followed");
    for head in elsewhere.requests() {
        assert!(!head.to_ascii_lowercase().contains("authorization"), "credentials leaked to another port: {head}");
    }
    assert!(
        registry.requests().iter().any(|h| h.to_ascii_lowercase().contains("authorization: basic")),
        "sent to its own origin"
    );
    let looping = pull_with(&format!("{host}/x:loop"), Some(&credential), &short());
    let failure = failure(&looping);
    assert_eq!(failure.class, FailureClass::Protocol, "{}", looping.to_text());
    assert!(failure.detail.contains("redirects"), "{}", failure.detail);
}

#[test]
fn an_https_registry_is_never_followed_to_plain_http() {
    if !component_available("openssl", registry::which("openssl").is_some()) {
        return;
    }
    let elsewhere = TinyServer::start(|_, _| response("200 OK", &[], b"{}"));
    let target = elsewhere.addr;
    let certificates = tempfile::tempdir().unwrap();
    let registry = TinyServer::start_tls(certificates.path(), move |head, _| {
        if head.starts_with("GET /v2/ ") {
            return response("401 Unauthorized", &[("WWW-Authenticate", "Basic realm=\"x\"")], b"");
        }
        response("301 Moved Permanently", &[("Location", &format!("http://{target}/v2/x/manifests/1"))], b"")
    });
    let options = PullOptions { ca_dirs: vec![certificates.path().join("certs.d")], ..short() };
    let report = pull_with(&format!("{}/x:1", registry.addr), Some(&alice(PASSWORD)), &options);
    let failure = failure(&report);
    assert_eq!((failure.class, failure.stage), (FailureClass::Refused, Stage::Manifest), "{}", report.to_text());
    assert!(failure.detail.contains("from HTTPS to http://"), "{}", failure.detail);
    // This TLS port keeps silent to plain HTTP: the loopback ping turned to HTTPS by itself.
    let pings: Vec<_> = report.requests.iter().filter(|r| r.stage == Stage::Ping).collect();
    assert!(matches!(pings.as_slice(), [ping] if ping.url.starts_with("https://")), "{pings:?}");
    assert!(
        registry
            .requests()
            .iter()
            .any(|h| h.contains("/manifests/1") && h.to_ascii_lowercase().contains("authorization: basic")),
        "the registry itself was asked over TLS: {:?}",
        registry.requests()
    );
    assert!(elsewhere.requests().is_empty(), "nothing went out in clear text: {:?}", elsewhere.requests());
    assert!(!report.to_text().contains(PASSWORD));
}

#[test]
fn a_token_login_form_is_never_carried_to_another_host() {
    let elsewhere = TinyServer::start(|_, _| response("200 OK", &[], br#"{"token":"stolen"}"#));
    let target = elsewhere.addr;
    let realm = TinyServer::start(move |_, _| {
        response("307 Temporary Redirect", &[("Location", &format!("http://{target}/token"))], b"")
    });
    let realm_url = format!("http://{}/token", realm.addr);
    let registry = TinyServer::start(move |head, _| {
        if head.starts_with("GET /v2/ ") {
            let challenge = format!("Bearer realm=\"{realm_url}\",service=\"x\"");
            return response("401 Unauthorized", &[("WWW-Authenticate", &challenge)], b"");
        }
        response("404 Not Found", &[], b"")
    });
    let report = pull_with(&format!("{}/x:1", registry.addr), Some(&alice(PASSWORD)), &short());
    let failure = failure(&report);
    assert_eq!((failure.class, failure.stage), (FailureClass::Refused, Stage::Token), "{}", report.to_text());
    assert!(failure.detail.contains("does not send credentials there"), "{}", failure.detail);
    assert!(realm.requests().iter().any(|h| h.contains(PASSWORD)), "the form went to the realm itself");
    assert!(elsewhere.requests().is_empty(), "nothing reached the other host: {:?}", elsewhere.requests());
}

/// `sha256:HEX` of `bytes`.
fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", registry::sha256_hex(bytes))
}

#[test]
fn a_full_pull_downloads_its_blobs_at_once() {
    // Each blob is held back until both have been asked for: one at a time, the pull would fail.
    let (config, layer) = (br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), vec![7_u8; 300_000]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest_of(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(&layer), "size": layer.len()}],
    })
    .to_string();
    let manifest_digest = digest_of(manifest.as_bytes());
    let asked = std::sync::Arc::new((std::sync::Mutex::new(0_usize), std::sync::Condvar::new()));
    let server = TinyServer::start(move |head, _| {
        let media = ("Content-Type", "application/vnd.oci.image.manifest.v1+json");
        let digest = ("Docker-Content-Digest", manifest_digest.as_str());
        if head.starts_with("GET /v2/ ") {
            return response("200 OK", &[], b"{}");
        }
        if head.contains("/manifests/") {
            let body = if head.starts_with("HEAD ") { &b""[..] } else { manifest.as_bytes() };
            return response("200 OK", &[media, digest], body);
        }
        let (count, arrived) = &*asked;
        let mut count = count.lock().unwrap();
        *count += 1;
        arrived.notify_all();
        let (count, _) = arrived.wait_timeout_while(count, Duration::from_secs(5), |n| *n < 2).unwrap();
        if *count < 2 {
            return response("503 Service Unavailable", &[], b"");
        }
        response("200 OK", &[], if head.contains(&digest_of(&config)) { &config } else { &layer })
    });
    let report = pull_with(&format!("{}/x:1", server.addr), None, &PullOptions { full: true, ..short() });
    assert!(report.succeeded(), "{}", report.to_text());
    assert_eq!(report.requests_per_stage.get("blob"), Some(&2));
}

#[test]
fn hostile_bodies_end_within_their_limits() {
    let server = TinyServer::start(|head, _| {
        if head.starts_with("GET /v2/ ") {
            return response("200 OK", &[], b"{}");
        }
        if head.starts_with("HEAD ") {
            return response("200 OK", &[("Docker-Content-Digest", "sha256:00")], b"");
        }
        if head.contains("/endless/") {
            return Reply::Endless(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".into(),
            );
        }
        if head.contains("/huge/") {
            return Reply::Bytes(
                b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\nConnection: close\r\n\r\n{".to_vec(),
            );
        }
        Reply::Drip(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".into(),
            Duration::from_millis(200),
        )
    });
    let host = server.addr.to_string();
    let endless = pull_with(&format!("{host}/endless/app:v1"), None, &short());
    assert!(failure(&endless).detail.contains("larger than regcred's limit"), "{}", endless.to_text());
    let huge = pull_with(&format!("{host}/huge/app:v1"), None, &short());
    assert!(!huge.succeeded(), "{}", huge.to_text());
    let drip = pull_with(&format!("{host}/drip/app:v1"), None, &short());
    assert_eq!(failure(&drip).class, FailureClass::Timeout, "{}", drip.to_text());
}

#[test]
fn a_cancelled_pull_stops() {
    let Some(registry) = registry() else { return };
    let cancel = AtomicBool::new(true);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report = runtime.block_on(Puller::default().pull(
        &format!("{}/team/app:v1", registry.host),
        Some(&alice(PASSWORD)),
        "test",
        &PullOptions { full: true, ..PullOptions::default() },
        Some(&cancel),
        None,
    ));
    assert_eq!(failure(&report).class, FailureClass::Cancelled);
}

#[test]
fn the_cli_exits_0_1_2_and_prints_json() {
    let Some(registry) = registry() else { return };
    let home = TempHome::new();
    let auth = regcred::auth_files::encode_auth("alice", &Secret::new(PASSWORD));
    home.write(&home.docker_config(), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host).as_bytes());
    let ok = home.run(&["test-pull", &format!("{}/team/app:v1", registry.host), "--json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    let json: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(json["result"], "success");
    assert!(json["credential_source"].as_str().unwrap().starts_with("plaintext"));
    let missing = home.run(&["test-pull", &format!("{}/team/app:nope", registry.host)]);
    assert_eq!(missing.status.code(), Some(1));
    let text = String::from_utf8_lossy(&missing.stdout);
    assert!(text.contains("kubelet") && text.contains("what to do"), "{text}");
    let usage = home.run(&["test-pull", "x", "--platform", "nonsense"]);
    assert_eq!(usage.status.code(), Some(2));
    for output in [&ok, &missing, &usage] {
        assert!(!String::from_utf8_lossy(&output.stdout).contains(PASSWORD));
        assert!(!String::from_utf8_lossy(&output.stderr).contains(PASSWORD));
    }
}

#[test]
fn platforms_of_an_index_are_listed_and_chosen() {
    let Some(registry) = registry() else { return };
    let layout = registry.dir.path().join("multi");
    registry::write_oci_index_layout(&layout, "multi", &["amd64", "arm64"]);
    registry.push_layout(&layout, "team/multi", "multi", true);
    let image = format!("{}/team/multi:multi", registry.host);
    let good = alice(PASSWORD);
    let default = pull_with(&image, Some(&good), &PullOptions::default());
    let Outcome::Success(amd64) = &default.outcome else { panic!("{}", default.to_text()) };
    assert_eq!(amd64.platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(amd64.platform, "linux/amd64");
    assert_ne!(amd64.digest, amd64.manifest_digest, "the index and the platform manifest differ");
    let arm = pull_with(
        &image,
        Some(&good),
        &PullOptions { platform: "linux/arm64".parse().unwrap(), full: true, ..PullOptions::default() },
    );
    let Outcome::Success(arm64) = &arm.outcome else { panic!("{}", arm.to_text()) };
    assert_eq!(arm64.platform, "linux/arm64");
    let s390x = pull_with(
        &image,
        Some(&good),
        &PullOptions { platform: "linux/s390x".parse().unwrap(), ..PullOptions::default() },
    );
    let missing = failure(&s390x);
    assert_eq!((missing.class, missing.stage), (FailureClass::PlatformMissing, Stage::Platform));
    assert!(
        missing.kubelet_event.contains("get image config descriptor: no match for platform in manifest sha256:"),
        "{}",
        missing.kubelet_event
    );
    assert!(missing.detail.contains("linux/amd64, linux/arm64"), "{}", missing.detail);
    let dir = tempfile::tempdir().unwrap();
    let peer = Command::new("skopeo")
        .args(["--override-arch", "s390x", "inspect", "--tls-verify=false", &format!("--creds=alice:{PASSWORD}")])
        .arg(format!("docker://{image}"))
        .env("REGISTRY_AUTH_FILE", dir.path().join("auth.json"))
        .output()
        .unwrap();
    assert!(!peer.status.success(), "the peer agrees: no s390x image");
}

#[test]
fn a_50_mb_layer_downloads_verified_with_progress_and_cancels_promptly() {
    let Some(registry) = registry() else { return };
    let mut content = vec![0_u8; 50 * 1024 * 1024];
    let mut rng = crate::support::Xorshift(0x0123_4567_89AB_CDEF);
    for chunk in content.chunks_mut(8) {
        let bytes = rng.next().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    let layout = registry.dir.path().join("big");
    registry::write_oci_layout(&layout, "big", &content);
    drop(content);
    registry.push_layout(&layout, "team/big", "big", false);
    let image = format!("{}/team/big:big", registry.host);
    let good = alice(PASSWORD);
    let seen = std::sync::Mutex::new(0_u64);
    let record = |progress: regcred::registry::BlobProgress| {
        if let Ok(mut seen) = seen.lock() {
            *seen = (*seen).max(progress.done);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let options = PullOptions { full: true, ..PullOptions::default() };
    let report = runtime.block_on(Puller::default().pull(&image, Some(&good), "test", &options, None, Some(&record)));
    let Outcome::Success(success) = &report.outcome else { panic!("{}", report.to_text()) };
    assert!(success.total_size > 50 * 1000 * 1000);
    assert!(*seen.lock().unwrap() > 50 * 1000 * 1000, "progress reported to the end");

    let cancel = AtomicBool::new(false);
    let stop_early = |progress: regcred::registry::BlobProgress| {
        if progress.done > 4 * 1024 * 1024 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let report = runtime.block_on(Puller::default().pull(
        &image,
        Some(&good),
        "test",
        &options,
        Some(&cancel),
        Some(&stop_early),
    ));
    let cancelled = failure(&report);
    assert_eq!((cancelled.class, cancelled.stage), (FailureClass::Cancelled, Stage::Blob));
    let downloaded: u64 = report.requests.iter().filter(|r| r.stage == Stage::Blob).map(|r| r.bytes).sum();
    assert!(downloaded < 20 * 1024 * 1024, "stopped soon after the cancel, at {downloaded} bytes");
}
