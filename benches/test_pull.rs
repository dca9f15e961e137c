//! `cargo bench --bench test_pull`: test-pull speed against skopeo on the same machine.
//!
//! 1. Whole process, quick: `regcred test-pull` vs `skopeo inspect` (which also reads past the
//!    manifest), on a basic-auth and a token-auth registry. Target ≤ 0.4×.
//! 2. Full pull of a 200 MB image: `regcred test-pull --full` vs `skopeo copy … dir:`, as
//!    throughput. Targets ≥ 6× skopeo and ≥ 0.7× of this machine's SHA-256 speed.
//! 3. Requests per stage against the protocol minimum.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::format_push_string,
    clippy::format_collect,
    clippy::missing_panics_doc,
    clippy::cast_precision_loss,
    reason = "a benchmark (and the test fixtures it shares) stops at the first failure"
)]
#![allow(dead_code, reason = "the shared test fixtures carry more than the benchmark uses")]

#[path = "../tests/integration/support/registry.rs"]
mod registry;
#[path = "../tests/integration/support/tiny_http.rs"]
pub mod tiny_http;
#[path = "../tests/integration/support/token_server.rs"]
mod token_server;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::Digest as _;

const RUNS: usize = 11;
const PASSWORD: &str = "bench-password";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(mut make: impl FnMut() -> Command, runs: usize) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                let output = make().output().expect("run");
                assert!(
                    output.status.success(),
                    "{}\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                start.elapsed()
            })
            .collect(),
    )
}

fn home_for(host: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join(".docker")).expect("mkdir");
    let auth = base64_auth();
    std::fs::write(home.path().join(".docker/config.json"), format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#))
        .expect("config");
    home
}

fn base64_auth() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"))
}

fn regcred(home: &tempfile::TempDir, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_regcred"));
    command.args(args).env("HOME", home.path()).env_remove("DOCKER_CONFIG");
    command
}

fn skopeo(args: &[&str], auth_dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new("skopeo");
    command.args(args).env("REGISTRY_AUTH_FILE", auth_dir.path().join("auth.json"));
    command
}

fn compare_quick(label: &str, host: &str) {
    let home = home_for(host);
    let image = format!("{host}/team/app:v1");
    let ours = time(|| regcred(&home, &["test-pull", &image]), RUNS);
    let auth_dir = tempfile::tempdir().expect("auth dir");
    let creds = format!("--creds=alice:{PASSWORD}");
    let theirs =
        time(|| skopeo(&["inspect", "--tls-verify=false", &creds, &format!("docker://{image}")], &auth_dir), RUNS);
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    println!(
        "{label}: regcred test-pull {:.1} ms, skopeo inspect {:.1} ms, ratio {ratio:.2} (target ≤ 0.40: {})",
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3,
        if ratio <= 0.4 { "met" } else { "NOT met" }
    );
    let reports: Vec<serde_json::Value> = (0..RUNS)
        .map(|_| {
            let report = regcred(&home, &["test-pull", &image, "--json"]).output().expect("json");
            serde_json::from_slice(&report.stdout).expect("report")
        })
        .collect();
    println!(
        "  requests per stage: {} (protocol minimum: ping 1, token 1 if token auth, manifest 1, blob HEAD 2)",
        reports[0]["requests_per_stage"]
    );
    let waiting = median(reports.iter().map(registry_wait).collect());
    println!(
        "  of which waiting for the registry's answers (each request in turn; the blob checks, sent together, by the slowest): {:.1} ms",
        waiting.as_secs_f64() * 1e3
    );
    if registry::which("curl").is_some() {
        let alone = time(|| minimum_by_curl(&reports[0]), RUNS);
        println!(
            "  the registry alone, the same minimum requests one after another (curl, one connection): {:.1} ms; regcred's whole process {:.1} ms is {:.2}× that",
            alone.as_secs_f64() * 1e3,
            ours.as_secs_f64() * 1e3,
            ours.as_secs_f64() / alone.as_secs_f64()
        );
    }
}

/// The registry's own service time for the requests a test pull needed (its report's, less the
/// ping's unauthenticated 401), in order: one curl process on one connection (`--next`), after a
/// curl for the token when the registry uses one (`GET` with Basic auth, as a node falls back to).
/// Small processes' start-up is included, as in regcred's figure.
fn minimum_by_curl(report: &serde_json::Value) -> Command {
    let user = format!("alice:{PASSWORD}");
    let accept = "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";
    let mut script = String::from("set -e\n");
    let mut auth = format!("-u '{user}'");
    let mut chained = Vec::new();
    for request in report["requests"].as_array().expect("requests") {
        if request["status"].as_u64() == Some(401) {
            continue;
        }
        let url = request["url"].as_str().expect("url");
        if request["stage"].as_str() == Some("token") {
            // The report shows the token request without its query (it may carry a secret).
            let scope = "scope=repository%3Ateam%2Fapp%3Apull&service=registry.test";
            let url = url.split('?').next().unwrap_or(url);
            script.push_str(&format!(
                "T=$(curl -sf -u '{user}' '{url}?{scope}' | sed -e 's/.*\"token\": *\"\\([^\"]*\\)\".*/\\1/')\n"
            ));
            auth = String::from("-H \"Authorization: Bearer $T\"");
            continue;
        }
        let head = if request["method"].as_str() == Some("HEAD") { "-I " } else { "" };
        chained.push(format!("-sf -o /dev/null {head}{auth} -H '{accept}' '{url}'"));
    }
    script.push_str(&format!("curl {}\n", chained.join(" --next ")));
    let mut command = Command::new("sh");
    command.args(["-c", &script]);
    command
}

/// The time a pull spent waiting for answers: the requests one after another (ping, token,
/// manifest `HEAD`, manifest `GET` by digest), then the blob checks, which go out together, by
/// their slowest.
fn registry_wait(report: &serde_json::Value) -> Duration {
    let (mut serial, mut blobs) = (0.0_f64, 0.0_f64);
    for request in report["requests"].as_array().expect("requests") {
        let millis = request["millis"].as_f64().expect("millis");
        if request["stage"].as_str() == Some("blob") {
            blobs = blobs.max(millis);
        } else {
            serial += millis;
        }
    }
    Duration::from_secs_f64((serial + blobs) / 1e3)
}

fn main() {
    if !registry::available() {
        println!("docker-registry/skopeo not installed: nothing to measure (run ./scripts/test once to install them)");
        return;
    }
    let basic = registry::Registry::start(Some(("alice", PASSWORD)));
    basic.push_image("team/app", "v1");
    compare_quick("basic auth", &basic.host);

    let users =
        HashMap::from([("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()]))]);
    let tokens = token_server::TokenServer::start("registry.test", users);
    let token = registry::Registry::start_with(&registry::Setup {
        token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
        ..registry::Setup::default()
    });
    let layout = token.dir.path().join("layout");
    registry::write_oci_layout(&layout, "v1", b"bench\n");
    let status = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", &format!("--dest-creds=alice:{PASSWORD}")])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{}/team/app:v1", token.host))
        .env("REGISTRY_AUTH_FILE", token.dir.path().join("push.json"))
        .status()
        .expect("push");
    assert!(status.success());
    compare_quick("token auth", &token.host);

    // A 200 MB image (incompressible), pushed once.
    let size = 200 * 1024 * 1024;
    let mut content = vec![0_u8; size];
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for chunk in content.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    let started = Instant::now();
    let mut hasher = sha2::Sha256::new();
    hasher.update(&content);
    std::hint::black_box(hasher.finalize());
    let sha_speed = size as f64 / started.elapsed().as_secs_f64() / 1e6;
    let big = basic.dir.path().join("big");
    registry::write_oci_layout(&big, "big", &content);
    drop(content);
    basic.push_layout(&big, "team/big", "big", false);
    let home = home_for(&basic.host);
    let image = format!("{}/team/big:big", basic.host);
    let ours = time(|| regcred(&home, &["test-pull", "--full", &image]), 3);
    let auth_dir = tempfile::tempdir().expect("auth dir");
    let creds = format!("--src-creds=alice:{PASSWORD}");
    let theirs = time(
        || {
            let target = auth_dir.path().join("copy");
            let _ = std::fs::remove_dir_all(&target);
            skopeo(
                &[
                    "copy",
                    "--quiet",
                    "--src-tls-verify=false",
                    &creds,
                    &format!("docker://{image}"),
                    &format!("dir:{}", target.display()),
                ],
                &auth_dir,
            )
        },
        3,
    );
    let mb = size as f64 / 1e6;
    let (ours_speed, theirs_speed) = (mb / ours.as_secs_f64(), mb / theirs.as_secs_f64());
    println!(
        "full pull of 200 MB: regcred {ours_speed:.0} MB/s, skopeo copy dir: {theirs_speed:.0} MB/s, SHA-256 here {sha_speed:.0} MB/s"
    );
    // The registry's own limit: the layer fetched by curl, nothing verified or kept.
    let report = regcred(&home, &["test-pull", "--full", "--json", &image]).output().expect("json");
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).expect("report");
    let layer = json["requests"].as_array().expect("requests").iter().max_by_key(|r| r["bytes"].as_u64());
    if let (Some(layer), Some(_)) = (layer, registry::which("curl")) {
        let url = layer["url"].as_str().expect("url").to_owned();
        let user = format!("alice:{PASSWORD}");
        let curl = time(
            || {
                let mut command = Command::new("curl");
                command.args(["-sf", "-o", "/dev/null", "-u", &user, &url]);
                command
            },
            3,
        );
        println!("  the registry alone (curl, the layer, nothing verified): {:.0} MB/s", mb / curl.as_secs_f64());
    }
    println!(
        "  ratio vs skopeo {:.1}× (target ≥ 6×: {}), vs SHA-256 limit {:.2} (target ≥ 0.70: {})",
        ours_speed / theirs_speed,
        if ours_speed / theirs_speed >= 6.0 { "met" } else { "NOT met" },
        ours_speed / sha_speed,
        if ours_speed / sha_speed >= 0.7 { "met" } else { "NOT met" }
    );
}
