//! `cargo bench --bench files`: credential files at scale and under a lock-free writer.
//!
//! 1. `regcred list` next to `regcred sources` (which only counts entries) on files of 1,000,
//!    10,000 and 20,000 entries, half plaintext and half keychain stubs routed by `credHelpers`:
//!    whole process, median of several runs. Target: 20,000 entries listed in under 0.2 s.
//! 2. A writer that imitates Docker (re-read, change, write a temp file, rename; no lock) against
//!    regcred's saves for a while: how many of the other writer's changes regcred overtook (lost),
//!    how many of regcred's the other writer overtook, and how often regcred merged again.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::cast_precision_loss,
    reason = "a benchmark stops at the first failure"
)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use regcred::auth_files::{AuthFile, ConflictPolicy, FileKind, parse_server};
use regcred::secret::Secret;

const RUNS: usize = 7;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn write_config(path: &Path, entries: usize) {
    let mut auths = serde_json::Map::new();
    let mut helpers = serde_json::Map::new();
    for index in 0..entries {
        let host = format!("registry-{index}.example.com");
        if index % 2 == 0 {
            auths.insert(host, serde_json::json!({"auth": "dXNlcjpwYXNzd29yZA=="}));
        } else {
            auths.insert(host.clone(), serde_json::json!({}));
            helpers.insert(host, serde_json::json!("regcred"));
        }
    }
    let document = serde_json::json!({"auths": auths, "credHelpers": helpers});
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
}

fn time_command(home: &Path, args: &[&str]) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let output = Command::new(env!("CARGO_BIN_EXE_regcred"))
                    .args(args)
                    .env_clear()
                    .env("HOME", home)
                    .env("XDG_RUNTIME_DIR", home.join("run"))
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
                start.elapsed()
            })
            .collect(),
    )
}

fn list_at_scale() {
    println!("regcred list vs regcred sources, whole process, median of {RUNS}");
    println!("{:>8}  {:>10}  {:>10}  {:>6}", "entries", "list", "sources", "ratio");
    for entries in [1_000, 10_000, 20_000] {
        let home = tempfile::tempdir().unwrap();
        write_config(&home.path().join(".docker/config.json"), entries);
        let list = time_command(home.path(), &["list"]);
        let sources = time_command(home.path(), &["sources"]);
        println!(
            "{entries:>8}  {:>7.1} ms  {:>7.1} ms  {:>5.2}×",
            list.as_secs_f64() * 1e3,
            sources.as_secs_f64() * 1e3,
            list.as_secs_f64() / sources.as_secs_f64()
        );
    }
}

/// One write as Docker's `configfile.Save` does it: read, change, temp file, rename; no lock.
fn docker_write(path: &Path, key: &str) {
    let mut document: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    document["auths"][key] = serde_json::json!({"auth": "ZG9ja2VyOnB3"});
    let temp = path.with_file_name(format!(".config.json-docker-{key}"));
    std::fs::write(&temp, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

fn lock_free_writer() {
    let seconds = std::env::var("REGCRED_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, b"{\n\t\"auths\": {}\n}").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let docker_writes = Arc::new(AtomicU64::new(0));
    let docker = {
        let (path, stop, writes) = (path.clone(), stop.clone(), docker_writes.clone());
        std::thread::Builder::new()
            .name("docker-like-writer".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = writes.fetch_add(1, Ordering::Relaxed);
                    docker_write(&path, &format!("docker-{n}.example.com"));
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut ours, mut retries, mut gave_up) = (0_u64, 0_u64, 0_u64);
    while Instant::now() < deadline {
        let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
        let key = file.add_entry(&parse_server(&format!("regcred-{ours}.example.com")).unwrap()).unwrap();
        file.set_credentials(&key, "me", &Secret::new("pw")).unwrap();
        match file.save(ConflictPolicy::Refuse) {
            Ok(report) => {
                retries += u64::from(report.retries);
                ours += 1;
            }
            Err(_) => gave_up += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    docker.join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let theirs = docker_writes.load(Ordering::Relaxed);
    let lost_theirs = (0..theirs).filter(|n| !text.contains(&format!("\"docker-{n}.example.com\""))).count();
    let lost_ours = (0..ours).filter(|n| !text.contains(&format!("\"regcred-{n}.example.com\""))).count();
    println!("\nA lock-free Docker-like writer against regcred's saves for {seconds} s");
    println!(
        "  regcred saves        {ours} ({retries} merged again because the file changed meanwhile, {gave_up} gave up)"
    );
    println!("  Docker-like writes   {theirs}");
    println!(
        "  lost by regcred      {lost_theirs} of the other writer's changes ({:.2} %)",
        100.0 * lost_theirs as f64 / theirs.max(1) as f64
    );
    println!("  lost by the other    {lost_ours} of regcred's (its own read-to-rename window; not regcred's to close)");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    list_at_scale();
    lock_free_writer();
}
