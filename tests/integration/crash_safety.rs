//! A writer killed with `SIGKILL` at random moments never leaves a broken or mixed file, and the temp
//! files it leaves are gone after the next successful save.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use regcred::auth_files::{AuthFile, ConflictPolicy, FileKind};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::{TempHome, Xorshift, fixture, is_worker, worker};

const CRASH_WORKER: &str = "crash_safety::saving_worker";
const KILLS: usize = 500;
const EDITED: &str = "quay.io";

/// Worker: edits one entry and saves, forever, until killed.
#[test]
fn saving_worker() {
    if !is_worker(CRASH_WORKER) {
        return;
    }
    let path = PathBuf::from(std::env::var("REGCRED_TEST_FILE").unwrap());
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    for round in 0_u64.. {
        file.set_credentials(EDITED, "user", &Secret::new(format!("pw-{round}"))).unwrap();
        file.save(ConflictPolicy::Refuse).unwrap();
    }
}

fn without_edited_entry(bytes: &[u8]) -> Value {
    let mut doc: Value = serde_json::from_slice(bytes).expect("the file always parses");
    doc["auths"].as_object_mut().unwrap().shift_remove(EDITED);
    doc
}

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).count()
}

#[test]
fn sigkill_at_random_moments_never_breaks_the_file() {
    let home = TempHome::new();
    let path = home.docker_config();
    let original = fixture("ecr-gcr.json");
    home.write(&path, &original);
    let rest = without_edited_entry(&original);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let mut rng = Xorshift(u64::try_from(seed % u128::from(u64::MAX)).unwrap() | 1);
    let mut previous = original.clone();
    let (mut changed, mut temps_seen) = (0, 0);
    for _ in 0..KILLS {
        let mut child = worker(CRASH_WORKER, &[("REGCRED_TEST_FILE", path.to_str().unwrap())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(1_000 + rng.below(30_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        let now = std::fs::read(&path).unwrap();
        let file = AuthFile::from_bytes(FileKind::DockerConfig, &now).expect("parses after every kill");
        assert_eq!(without_edited_entry(&now), rest, "only the edited entry ever changes");
        let password = file.entry(EDITED).unwrap().password.unwrap();
        assert!(now == original || password.expose().starts_with("pw-"), "old or new content");
        changed += usize::from(now != previous);
        temps_seen += temp_files(path.parent().unwrap());
        previous = now;
    }
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_credentials(EDITED, "user", &Secret::new("final")).unwrap();
    file.save(ConflictPolicy::Refuse).unwrap();
    assert_eq!(temp_files(path.parent().unwrap()), 0, "the next save removes leftover temp files");
    println!("crash safety: {KILLS} SIGKILLs, file changed between {changed} of them, {temps_seen} temp files seen");
    assert!(changed > 0, "the workers never got to save: the test exercised nothing");
}
