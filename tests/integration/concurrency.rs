//! Two processes editing different entries of one file, many saves each: every read sees a
//! whole file and the final file has every edit of both. And a writer that takes no lock, as
//! Docker: none of its writes is lost to regcred's saves (on Linux, where the save exchanges).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use regcred::auth_files::{AuthFile, ConflictPolicy, FileKind};
use regcred::secret::Secret;

use crate::support::{TempHome, fixture, is_worker, worker};

const EDIT_WORKER: &str = "concurrency::editing_worker";
const SAVES: usize = 1_000;

/// Worker: loads once, then edits its own entry and saves `SAVES` times.
#[test]
fn editing_worker() {
    if !is_worker(EDIT_WORKER) {
        return;
    }
    let path = PathBuf::from(std::env::var("REGCRED_TEST_FILE").unwrap());
    let key = std::env::var("REGCRED_TEST_KEY").unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let mut merges = 0;
    for round in 0..SAVES {
        file.set_credentials(&key, "user", &Secret::new(format!("{key}-{round}"))).unwrap();
        merges += usize::from(file.save(ConflictPolicy::Refuse).unwrap().merged_from_disk);
    }
    println!("WORKER-OK merges={merges}");
}

#[test]
fn two_processes_editing_different_entries_lose_nothing() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, &fixture("podman-auth.json"));
    let keys = ["quay.io", "localhost:5000"];
    let children: Vec<_> = keys
        .iter()
        .map(|key| {
            worker(EDIT_WORKER, &[("REGCRED_TEST_FILE", path.to_str().unwrap()), ("REGCRED_TEST_KEY", key)])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (done, reads, path) = (done.clone(), reads.clone(), path.clone());
        std::thread::Builder::new()
            .name("reader".into())
            .spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let bytes = std::fs::read(&path).expect("the file is always there");
                    AuthFile::from_bytes(FileKind::DockerConfig, &bytes).expect("a reader never sees a broken file");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
            .unwrap()
    };
    let mut merges = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success() && stdout.contains("WORKER-OK"), "{stdout}");
        merges.push(stdout.split("merges=").nth(1).unwrap_or("?").lines().next().unwrap_or("?").to_owned());
    }
    done.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    for key in keys {
        let password = file.entry(key).unwrap().password.unwrap();
        assert_eq!(password.expose(), format!("{key}-{}", SAVES - 1), "{key}: the last edit is there");
    }
    let original = AuthFile::from_bytes(FileKind::ContainersAuth, &fixture("podman-auth.json")).unwrap();
    for entry in original.entries().into_iter().filter(|e| !keys.contains(&e.key.as_str())) {
        assert_eq!(file.entry(&entry.key).unwrap().password, entry.password, "{} untouched", entry.key);
    }
    println!(
        "concurrency: 2 × {SAVES} saves, merges per worker {merges:?}, {} whole-file reads",
        reads.load(Ordering::Relaxed)
    );
}

/// One write as Docker's `configfile.Save` does it: read, change, temp file, rename; no lock.
fn docker_style_write(path: &std::path::Path, key: &str) {
    let mut document: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    document["auths"][key] = serde_json::json!({"auth": "ZG9ja2VyOnB3"});
    let temp = path.with_file_name(format!(".config.json-docker-{key}"));
    std::fs::write(&temp, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

#[test]
#[cfg(target_os = "linux")]
fn a_lock_free_writer_loses_nothing_to_regcreds_saves() {
    const SECONDS: u64 = 3;
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, b"{\n\t\"auths\": {}\n}");
    let done = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let docker = {
        let (done, writes, path) = (done.clone(), writes.clone(), path.clone());
        std::thread::Builder::new()
            .name("docker-like-writer".into())
            .spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let n = writes.fetch_add(1, Ordering::Relaxed);
                    docker_style_write(&path, &format!("docker-{n}.example.com"));
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            })
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(SECONDS);
    let (mut saved, mut retries, mut replaced, mut gave_up) = (0, 0, 0, 0);
    for n in 0.. {
        if std::time::Instant::now() > deadline {
            break;
        }
        let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
        let server = regcred::auth_files::parse_server(&format!("regcred-{n}.example.com")).unwrap();
        let key = file.add_entry(&server).unwrap();
        file.set_credentials(&key, "me", &Secret::new("pw")).unwrap();
        match file.save(ConflictPolicy::Refuse) {
            Ok(report) => {
                saved += 1;
                retries += report.retries;
                replaced += report.replaced_after_save;
            }
            Err(regcred::auth_files::AuthFileError::KeptChanging { .. }) => gave_up += 1,
            Err(error) => panic!("{error}"),
        }
    }
    done.store(true, Ordering::Relaxed);
    docker.join().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let theirs = writes.load(Ordering::Relaxed);
    let lost: Vec<_> = (0..theirs).filter(|n| !text.contains(&format!("\"docker-{n}.example.com\""))).collect();
    println!(
        "lock-free writer: {theirs} writes against {saved} saves in {SECONDS} s ({retries} merged again, {replaced} replaced after saving, {gave_up} gave up)"
    );
    assert!(lost.is_empty(), "regcred lost {} of the other writer's {theirs} writes: {lost:?}", lost.len());
}
