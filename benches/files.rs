//! `cargo bench --bench files`: credential files at scale and under a lock-free writer.
//!
//! 1. `regcred list` next to `regcred sources` (which only counts entries) on files of 1,000,
//!    10,000 and 20,000 entries, half plaintext and half keychain stubs routed by `credHelpers`:
//!    whole process, median of several runs. Target: 20,000 entries listed in under 0.2 s.
//! 2. A writer that imitates Docker (re-read, change, write a temp file, rename; no lock) against
//!    regcred's saves at 15, 50 and 100 saves per second, for each way of saving side by side
//!    (before issue 26, the rename fallback, the Linux exchange): how many of the other writer's
//!    changes regcred overtook (lost), how many of regcred's reported saves the other writer
//!    overtook, how often regcred merged again, gave up, or reported its change overwritten.

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

use regcred::auth_files::{AuthFile, AuthFileError, ConflictPolicy, FileKind, SaveMethod, parse_server};
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

/// What one run of regcred's saves against the Docker-like writer gave.
#[derive(Default)]
struct Race {
    /// Saves regcred reported as done.
    saved: u64,
    /// Saves that stopped with "kept changing" (nothing of regcred's written, nothing lost).
    gave_up: u64,
    /// Saves that reported that another program replaced regcred's change right after.
    overwritten: u64,
    /// Merges done again (another program wrote during the save).
    retries: u64,
    /// Times another program renamed its file over regcred's right after the save.
    replaced: u64,
    /// Times the exchange displaced another program's write and put it back.
    put_back: u64,
    /// The Docker-like writer's writes.
    theirs: u64,
    /// The other writer's writes missing from the final file.
    lost_theirs: u64,
    /// regcred's reported saves missing from the final file.
    lost_ours: u64,
    seconds: f64,
}

/// regcred saves (one new entry each) at `rate` per second, by `method`, against a Docker-like
/// writer (a write every 2 ms) for `seconds`; then counts what is missing from the final file.
fn race(method: SaveMethod, rate: f64, seconds: u64) -> Race {
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
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut run = Race::default();
    let mut next = start;
    let mut saved_keys = Vec::new();
    let mut attempt = 0_u64;
    while Instant::now() < deadline {
        let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
        let key = file.add_entry(&parse_server(&format!("regcred-{attempt}.example.com")).unwrap()).unwrap();
        file.set_credentials(&key, "me", &Secret::new("pw")).unwrap();
        match file.save_with(ConflictPolicy::Refuse, method, &mut |_| {}) {
            Ok(report) => {
                run.retries += u64::from(report.retries);
                run.replaced += u64::from(report.replaced_after_save);
                run.put_back += u64::from(report.put_back);
                run.saved += 1;
                saved_keys.push(key);
            }
            Err(AuthFileError::KeptChanging { .. }) => run.gave_up += 1,
            Err(AuthFileError::Overwritten { .. }) => run.overwritten += 1,
            Err(error) => panic!("{error}"),
        }
        attempt += 1;
        next += period;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    run.seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    docker.join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    run.theirs = docker_writes.load(Ordering::Relaxed);
    run.lost_theirs = (0..run.theirs).filter(|n| !text.contains(&format!("\"docker-{n}.example.com\""))).count() as u64;
    run.lost_ours = saved_keys.iter().filter(|key| !text.contains(&format!("\"{key}\""))).count() as u64;
    run
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn lock_free_writer() {
    let seconds = std::env::var("REGCRED_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let methods = [
        (SaveMethod::RenameOnly, "before #26: rename after a last look"),
        (SaveMethod::RenameChecked, "fallback: rename, then check"),
        (SaveMethod::Exchange, "Linux: exchange, then check"),
    ];
    println!("\nA lock-free Docker-like writer (a write every 2 ms) against regcred's saves, {seconds} s per run");
    println!(
        "{:<38} {:>6} {:>7} {:>6} {:>7} {:>6} {:>6} {:>6} {:>6} {:>20} {:>18}",
        "regcred",
        "target",
        "saves/s",
        "saved",
        "gave up",
        "overwr",
        "merged",
        "put bk",
        "replcd",
        "lost by regcred",
        "lost by the other"
    );
    for rate in [15.0, 50.0, 100.0] {
        for (method, label) in methods {
            let run = race(method, rate, seconds);
            println!(
                "{label:<38} {rate:>6.0} {:>7.1} {:>6} {:>7} {:>6} {:>6} {:>6} {:>6} {:>20} {:>18}",
                (run.saved + run.gave_up + run.overwritten) as f64 / run.seconds,
                run.saved,
                run.gave_up,
                run.overwritten,
                run.retries,
                run.put_back,
                run.replaced,
                format!("{} of {} ({:.2} %)", run.lost_theirs, run.theirs, percent(run.lost_theirs, run.theirs)),
                format!("{} of {} ({:.2} %)", run.lost_ours, run.saved, percent(run.lost_ours, run.saved)),
            );
        }
    }
    println!("  saves/s: attempted; gave up: \"kept changing\", nothing of regcred's written and nothing lost;");
    println!("  overwr: saves that reported their change overwritten right after; merged: merges done again;");
    println!("  put bk: another program's writes an exchange displaced and put back at once; replcd: regcred's file");
    println!("  replaced right after it was saved (merged again); lost by regcred: the other writer's writes");
    println!("  missing at the end; lost by the other: regcred's saves reported as done but missing at the end");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    list_at_scale();
    lock_free_writer();
}
