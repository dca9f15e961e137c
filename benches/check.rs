//! `cargo bench --bench check`: `regcred check` on 200 images on 4 registries (basic auth, token
//! auth, TLS with a private CA, anonymous), against `skopeo inspect` run once per image one after
//! another with the same credentials — what a pipeline does without regcred. Target ≤ 0.05× its
//! time. Also the requests sent per registry, against the protocol minimum; and 30 images on 3
//! hosts whose DNS server never answers, against `xargs -P4 skopeo inspect` (see `unreachable`).
//!
//! First, with no registry at all, the growth with the input: 10,000 / 40,000 / 100,000 YAML
//! documents (and one Pod of as many containers), read in process and by the whole `regcred check`
//! process, with the growth ratio (linear: ×4 and ×10; the square: ×16 and ×100); target
//! 100,000 documents read in ≤ 2 s. And the peak memory of a file of `List`s nested 20 deep, against
//! its size (target ≤ 4×).

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

#[path = "../tests/integration/support/dns.rs"]
mod dns;
#[path = "../tests/integration/support/registry.rs"]
mod registry;
#[path = "../tests/integration/support/tiny_http.rs"]
pub mod tiny_http;
#[path = "../tests/integration/support/token_server.rs"]
mod token_server;
#[path = "check/unreachable.rs"]
mod unreachable;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use base64::Engine as _;

const PASSWORD: &str = "bench-password";
const TAGS: usize = 50;

/// A registry of the benchmark: how to reach it and what skopeo needs for it.
struct Target {
    label: &'static str,
    registry: registry::Registry,
    credentials: bool,
    skopeo_tls: Vec<String>,
    token_auth: bool,
}

/// Copies `team/app:v1` to `TAGS` tags (manifests only: the blobs are there).
fn tag(target: &Target) {
    let host = &target.registry.host;
    let auth = target.registry.dir.path().join("bench-auth.json");
    for n in 0..TAGS {
        let mut command = Command::new("skopeo");
        command.args(["copy", "--quiet"]);
        if target.skopeo_tls.is_empty() {
            command.args(["--src-tls-verify=false", "--dest-tls-verify=false"]);
        } else {
            for side in ["--src-cert-dir", "--dest-cert-dir"] {
                command.args(target.skopeo_tls.iter().map(|a| a.replace("--cert-dir", side)));
            }
        }
        if target.credentials {
            command.arg(format!("--src-creds=alice:{PASSWORD}")).arg(format!("--dest-creds=alice:{PASSWORD}"));
        }
        let status = command
            .arg(format!("docker://{host}/team/app:v1"))
            .arg(format!("docker://{host}/team/app:t{n}"))
            .env("REGISTRY_AUTH_FILE", &auth)
            .status()
            .expect("skopeo copy");
        assert!(status.success(), "tagging on {}", target.label);
    }
}

fn push(target: &Target) {
    let layout = target.registry.dir.path().join("bench-layout");
    registry::write_oci_layout(&layout, "v1", target.label.as_bytes());
    let mut command = Command::new("skopeo");
    command.args(["copy", "--quiet"]);
    if target.skopeo_tls.is_empty() {
        command.arg("--dest-tls-verify=false");
    } else {
        command.args(target.skopeo_tls.iter().map(|a| a.replace("--cert-dir", "--dest-cert-dir")));
    }
    if target.credentials {
        command.arg(format!("--dest-creds=alice:{PASSWORD}"));
    }
    let status = command
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{}/team/app:v1", target.registry.host))
        .env("REGISTRY_AUTH_FILE", target.registry.dir.path().join("bench-auth.json"))
        .status()
        .expect("skopeo");
    assert!(status.success(), "push to {}", target.label);
}

/// The four registries, started.
fn targets(tokens: &token_server::TokenServer) -> Vec<Target> {
    let tls = registry::Registry::start_with(&registry::Setup {
        basic: Some(("alice", PASSWORD)),
        tls: true,
        ..registry::Setup::default()
    });
    let tls_cert_dir = tls.ca_dir().join(&tls.host);
    vec![
        Target {
            label: "basic",
            registry: registry::Registry::start(Some(("alice", PASSWORD))),
            credentials: true,
            skopeo_tls: Vec::new(),
            token_auth: false,
        },
        Target {
            label: "token",
            registry: registry::Registry::start_with(&registry::Setup {
                token: Some((tokens.realm(), "registry.test".to_owned(), tokens.bundle.clone())),
                ..registry::Setup::default()
            }),
            credentials: true,
            skopeo_tls: Vec::new(),
            token_auth: true,
        },
        Target {
            label: "tls",
            registry: tls,
            credentials: true,
            skopeo_tls: vec![format!("--cert-dir={}", tls_cert_dir.display())],
            token_auth: false,
        },
        Target {
            label: "anonymous",
            registry: registry::Registry::start(None),
            credentials: false,
            skopeo_tls: Vec::new(),
            token_auth: false,
        },
    ]
}

/// The manifests (one Secret with the three logins, one Pod per image) and the images.
fn manifests(targets: &[Target]) -> (String, Vec<(&Target, String)>) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}"));
    let auths: serde_json::Map<String, serde_json::Value> = targets
        .iter()
        .filter(|t| t.credentials)
        .map(|t| (t.registry.host.clone(), serde_json::json!({ "auth": auth })))
        .collect();
    let config = serde_json::json!({ "auths": auths }).to_string();
    let mut yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{config}'\n"
    );
    let mut images = Vec::new();
    for target in targets {
        for n in 0..TAGS {
            let image = format!("{}/team/app:t{n}", target.registry.host);
            let _ = write!(
                yaml,
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {}-{n}\nspec:\n  imagePullSecrets:\n  - name: regcred\n  containers:\n  - name: app\n    image: {image}\n",
                target.label
            );
            images.push((target, image));
        }
    }
    (yaml, images)
}

/// `skopeo inspect` of `image` with the target's credentials and trust, as a pipeline runs it.
fn skopeo_inspect(target: &Target, image: &str, auth_file: &std::path::Path) {
    let mut command = Command::new("skopeo");
    command.arg("inspect").args(&target.skopeo_tls);
    if target.skopeo_tls.is_empty() {
        command.arg("--tls-verify=false");
    }
    if target.credentials {
        command.arg(format!("--creds=alice:{PASSWORD}"));
    }
    let output = command.arg(format!("docker://{image}")).env("REGISTRY_AUTH_FILE", auth_file).output().unwrap();
    assert!(output.status.success(), "skopeo inspect {image}: {}", String::from_utf8_lossy(&output.stderr));
}

/// `count` documents as `helm template` writes them: every tenth a pull Secret, the others Pods
/// that name one (pull policy `Never`: nothing is pulled, everything else is decided).
fn many_documents(count: usize) -> String {
    let config =
        base64::engine::general_purpose::STANDARD.encode(r#"{"auths":{"registry.example.com":{"auth":"YTpi"}}}"#);
    let mut yaml = String::with_capacity(count * 260);
    for n in 0..count {
        if n % 10 == 0 {
            let _ = write!(
                yaml,
                "---\n# Source: chart/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: pull-{n}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {config}\n"
            );
        } else {
            let _ = write!(
                yaml,
                "---\n# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{n}\n  labels: {{app: shop}}\nspec:\n  imagePullSecrets:\n  - name: pull-{}\n  containers:\n  - name: app\n    image: registry.example.com/team/app:{n}\n    imagePullPolicy: Never\n",
                n / 10 * 10
            );
        }
    }
    yaml
}

/// One Pod with `count` containers.
fn many_containers(count: usize) -> String {
    let mut yaml = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\nspec:\n  containers:\n");
    for n in 0..count {
        let _ =
            write!(yaml, "  - name: c{n}\n    image: registry.example.com/team/app:{n}\n    imagePullPolicy: Never\n");
    }
    yaml
}

/// `depth` `List`s each inside the one before, the innermost holding Pods, about `bytes` long.
fn nested_lists(depth: usize, bytes: usize) -> String {
    let mut yaml = String::new();
    for level in 0..depth {
        let indent = "  ".repeat(level);
        let _ = write!(yaml, "{indent}- apiVersion: v1\n{indent}  kind: List\n{indent}  items:\n");
    }
    let indent = "  ".repeat(depth);
    let mut n = 0;
    while yaml.len() < bytes {
        let _ = write!(
            yaml,
            "{indent}- apiVersion: v1\n{indent}  kind: Pod\n{indent}  metadata: {{name: pod-{n}}}\n{indent}  spec:\n{indent}    containers:\n{indent}    - {{name: app, image: 'registry.example.com/team/app:{n}', imagePullPolicy: Never}}\n"
        );
        n += 1;
    }
    format!("apiVersion: v1\nkind: List\nitems:\n{yaml}")
}

/// The whole `regcred check` process on `path`: its time, and its peak memory in KiB when
/// `/usr/bin/time` can tell.
fn whole_process(path: &std::path::Path, home: &std::path::Path) -> (f64, Option<u64>) {
    let time = std::path::Path::new("/usr/bin/time");
    let started = Instant::now();
    let output = if time.exists() {
        Command::new(time)
            .args(["-f", "peak-kib %M", env!("CARGO_BIN_EXE_regcred"), "check", "-f"])
            .arg(path)
            .env("HOME", home)
            .output()
    } else {
        Command::new(env!("CARGO_BIN_EXE_regcred")).args(["check", "-f"]).arg(path).env("HOME", home).output()
    }
    .expect("regcred check");
    let took = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.code().is_some_and(|code| code <= 1), "{stderr}");
    let peak = stderr.lines().rev().find_map(|line| line.strip_prefix("peak-kib ")?.trim().parse().ok());
    (took, peak)
}

/// Reading time against the input's size, in process and as a whole process.
fn growth() {
    let work = tempfile::tempdir().unwrap();
    println!("regcred check, growth with the input (no registry; pull policy Never, so nothing is pulled):");
    for (label, make) in
        [("YAML documents", many_documents as fn(usize) -> String), ("containers in one Pod", many_containers)]
    {
        let mut times = Vec::new();
        for count in [10_000, 40_000, 100_000] {
            let text = make(count);
            let started = Instant::now();
            let manifests = regcred::check::read_documents("bench.yaml", &text, "default");
            let read = started.elapsed().as_secs_f64();
            assert!(manifests.errors.is_empty(), "{:?}", manifests.errors.first());
            let path = work.path().join(format!("growth-{count}.yaml"));
            std::fs::write(&path, &text).unwrap();
            let (process, peak) = whole_process(&path, work.path());
            let peak = peak.map_or_else(String::new, |kib| format!(", peak {:.0} MB", kib as f64 / 1024.0));
            println!(
                "  {count:>7} {label} ({:.1} MB): read {read:.3} s in process ({:.2} µs each), whole process {process:.2} s{peak}",
                text.len() as f64 / 1e6,
                read * 1e6 / count as f64
            );
            times.push((read, process));
        }
        let ratio = |i: usize, part: fn(&(f64, f64)) -> f64| part(&times[i]) / part(&times[0]);
        println!(
            "    growth from 10,000: read ×{:.1} at 40,000, ×{:.1} at 100,000; whole process ×{:.1}, ×{:.1} (linear ×4, ×10; the square ×16, ×100); 100,000 read in {:.2} s (target ≤ 2 s: {})",
            ratio(1, |t| t.0),
            ratio(2, |t| t.0),
            ratio(1, |t| t.1),
            ratio(2, |t| t.1),
            times[2].0,
            if times[2].0 <= 2.0 { "met" } else { "NOT met" }
        );
    }
    let text = nested_lists(20, 20_000_000);
    let path = work.path().join("nested.yaml");
    std::fs::write(&path, &text).unwrap();
    let (took, peak) = whole_process(&path, work.path());
    if let Some(kib) = peak {
        let ratio = kib as f64 * 1024.0 / text.len() as f64;
        println!(
            "  Lists nested 20 deep, {:.1} MB: whole process {took:.2} s, peak {:.0} MB = {ratio:.1}× the input (target ≤ 4×: {})",
            text.len() as f64 / 1e6,
            kib as f64 / 1024.0,
            if ratio <= 4.0 { "met" } else { "NOT met" }
        );
    }
}

/// Memory per distinct registry: Pods naming 1 and 2,000 registries (`127.0.0.1:PORT`, closed
/// ports: each pull goes as far as its first connection, TLS client built), the peak memory of the
/// whole process, and the difference per registry (target ≤ 32 KB).
fn memory_per_registry() {
    let work = tempfile::tempdir().unwrap();
    let pods = |count: usize| -> String {
        (0..count)
            .map(|i| {
                format!(
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n    image: 127.0.0.1:{}/team/app:1\n",
                    20_000 + i
                )
            })
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let mut peaks = Vec::new();
    for count in [1, 2_000] {
        let path = work.path().join(format!("registries-{count}.yaml"));
        std::fs::write(&path, pods(count)).unwrap();
        let (took, peak) = whole_process(&path, work.path());
        let shown = peak.map_or_else(|| "unknown".to_owned(), |kib| format!("{kib} KiB"));
        println!("  {count:>5} distinct registries (refused connections): whole process {took:.2} s, peak {shown}");
        peaks.push(peak);
    }
    if let [Some(one), Some(many)] = peaks[..] {
        let per = (many.saturating_sub(one)) as f64 / 1_999.0;
        println!(
            "    memory per distinct registry: {per:.1} KiB (target ≤ 32 KB: {})",
            if per * 1024.0 <= 32_000.0 { "met" } else { "NOT met" }
        );
    }
}

fn main() {
    if unreachable::is_inside() {
        unreachable::measure_inside();
        return;
    }
    // `cargo bench --bench check -- memory`: only the memory per registry.
    if std::env::args().any(|a| a == "memory") {
        memory_per_registry();
        return;
    }
    // `cargo bench --bench check -- growth`: only the growth with the input (time and memory).
    if std::env::args().any(|a| a == "growth") {
        growth();
        return;
    }
    growth();
    memory_per_registry();
    if !registry::available() {
        println!("docker-registry/skopeo not installed: nothing to measure (run ./scripts/test once to install them)");
        return;
    }
    // `cargo bench --bench check -- unreachable`: only the unreachable-host case.
    if std::env::args().any(|a| a == "unreachable") {
        unreachable::measure();
        return;
    }
    let users =
        HashMap::from([("alice".to_owned(), (PASSWORD.to_owned(), vec!["pull".to_owned(), "push".to_owned()]))]);
    let tokens = token_server::TokenServer::start("registry.test", users);
    let targets = targets(&tokens);
    for target in &targets {
        push(target);
        tag(target);
    }

    let (yaml, images) = manifests(&targets);
    let work = tempfile::tempdir().unwrap();
    let manifests = work.path().join("bench.yaml");
    std::fs::write(&manifests, yaml).unwrap();
    let ca_dir = targets[2].registry.ca_dir();

    let auth_file = work.path().join("skopeo-auth.json");
    // Neither tool meets a cold registry: one inspect per registry first.
    for target in &targets {
        skopeo_inspect(target, &format!("{}/team/app:v1", target.registry.host), &auth_file);
    }
    // regcred runs once where skopeo runs 200 times: the median of three runs.
    let mut runs: Vec<(std::time::Duration, serde_json::Value)> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_regcred"))
                .args(["check", "--json", "-f", manifests.to_str().unwrap()])
                .env("HOME", work.path())
                .env("REGCRED_CA_DIR", &ca_dir)
                .output()
                .expect("regcred check");
            let took = started.elapsed();
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
            assert_eq!(report["summary"]["pulls"], 200, "{}", String::from_utf8_lossy(&output.stderr));
            (took, report)
        })
        .collect();
    runs.sort_by_key(|(took, _)| *took);
    let spread = format!("{:.2}–{:.2} s", runs[0].0.as_secs_f64(), runs[2].0.as_secs_f64());
    let ours = runs.swap_remove(1);
    let theirs = {
        let started = Instant::now();
        for (target, image) in &images {
            skopeo_inspect(target, image, &auth_file);
        }
        started.elapsed()
    };
    let ratio = ours.0.as_secs_f64() / theirs.as_secs_f64();
    println!("regcred check, 200 images on 4 registries (basic, token, TLS, anonymous), whole process:");
    println!(
        "  regcred check {:.2} s (median of 3: {spread}), skopeo inspect x200 one after another {:.2} s, ratio {ratio:.3} (target ≤ 0.05: {})",
        ours.0.as_secs_f64(),
        theirs.as_secs_f64(),
        if ratio <= 0.05 { "met" } else { "NOT met" }
    );
    println!(
        "  requests per registry (minimum: ping 1, token 1 per scope if token auth, manifest HEAD 1 per image, GET 1 per manifest digest, blobs 2 once per repository and credential):"
    );
    for target in &targets {
        let sent = ours.1["summary"]["requests"][target.registry.host.as_str()].as_u64().unwrap_or(0);
        let minimum = 1 + usize::from(target.token_auth) + TAGS + 1 + 2;
        println!("    {:<9} {:>4} requests (minimum {minimum})", target.label, sent);
    }
    unreachable::measure();
}
