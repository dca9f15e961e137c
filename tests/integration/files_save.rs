//! Saving: permissions, owners (of the file and its backup), symlinks, backups, merges with
//! another program's write (before the swap, displaced by it, or renamed over the saved file right
//! after), conflicts, and a full disk.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

use regcred::auth_files::{
    AuthFile, AuthFileError, ConflictPolicy, FileKind, SaveMethod, SaveStage, backup_path, parse_server,
};
use regcred::secret::Secret;
use serde_json::Value;

use crate::support::{TempHome, UnderShell as _, component_available, fixture, is_worker, worker};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn edit_and_save(path: &std::path::Path, password: &str) -> regcred::auth_files::SaveReport {
    let mut file = AuthFile::load(path, FileKind::DockerConfig).unwrap();
    let key = match file.find_key(&parse_server("r.example.com").unwrap()) {
        Some(key) => key,
        None => file.add_entry(&parse_server("r.example.com").unwrap()).unwrap(),
    };
    file.set_credentials(&key, "user", &Secret::new(password)).unwrap();
    file.save(ConflictPolicy::Refuse).unwrap()
}

#[test]
fn new_files_are_0600_in_new_0700_directories() {
    let home = TempHome::new();
    let path = home.path().join("a/b/config.json");
    let report = edit_and_save(&path, "pw");
    assert!(report.notes.created);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&home.path().join("a")), 0o700);
    assert_eq!(mode(&home.path().join("a/b")), 0o700);
    assert_eq!(report.backup, None, "nothing to back up");
}

#[test]
fn readable_files_are_tightened_and_private_modes_kept() {
    let home = TempHome::new();
    let path = home.docker_config();
    for (before, after, told) in
        [(0o644, 0o600, true), (0o640, 0o600, true), (0o604, 0o600, true), (0o600, 0o600, false), (0o400, 0o400, false)]
    {
        home.write(&path, b"{}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(before)).unwrap();
        let report = edit_and_save(&path, "pw");
        assert_eq!(mode(&path), after, "{before:o}");
        assert_eq!(report.notes.tightened_from.is_some(), told, "{before:o}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::remove_file(backup_path(&path)).ok();
    }
}

#[test]
fn the_owner_is_kept() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, b"{}");
    let is_root = std::fs::metadata(home.path()).unwrap().uid() == 0;
    if is_root {
        std::os::unix::fs::chown(&path, Some(4321), Some(4322)).unwrap();
    }
    let before = std::fs::metadata(&path).unwrap();
    edit_and_save(&path, "pw");
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

#[test]
fn the_backup_takes_the_owner_and_group_of_the_file() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, b"{\"auths\": {}}");
    let is_root = std::fs::metadata(home.path()).unwrap().uid() == 0;
    if !component_available("root (to give the file to another user, as `sudo regcred login` finds it)", is_root) {
        return;
    }
    std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let report = edit_and_save(&path, "pw");
    let backup = report.backup.expect("a backup on the first overwrite");
    let meta = std::fs::metadata(&backup).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4242, 4242), "the backup is the file owner's, not root's");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    let file = std::fs::metadata(&path).unwrap();
    assert_eq!((file.uid(), file.gid(), file.permissions().mode() & 0o7777), (4242, 4242, 0o600));
}

#[test]
fn symlinks_are_followed_and_kept() {
    let home = TempHome::new();
    let real = home.path().join("dotfiles/docker-config.json");
    home.write(&real, b"{\"auths\":{}}");
    std::fs::create_dir_all(home.path().join(".docker")).unwrap();
    std::os::unix::fs::symlink("../dotfiles/docker-config.json", home.docker_config()).unwrap();
    edit_and_save(&home.docker_config(), "pw");
    assert!(std::fs::symlink_metadata(home.docker_config()).unwrap().file_type().is_symlink());
    let written: Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert!(written["auths"]["r.example.com"]["auth"].is_string());
    assert!(backup_path(&real).exists(), "the backup sits beside the real file");
}

#[test]
fn a_backup_is_kept_before_the_first_overwrite() {
    let home = TempHome::new();
    let path = home.docker_config();
    let original = fixture("docker-desktop.json");
    home.write(&path, &original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_email("ghcr.io", Some("a@example.com")).unwrap();
    let report = file.save(ConflictPolicy::Refuse).unwrap();
    let backup = report.backup.expect("backup on first overwrite");
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert_eq!(mode(&backup), 0o600);
    file.set_email("ghcr.io", Some("b@example.com")).unwrap();
    let second = file.save(ConflictPolicy::Refuse).unwrap();
    assert_eq!(second.backup, None);
    assert_eq!(std::fs::read(&backup).unwrap(), original, "the first backup is not overwritten");
}

#[test]
fn another_programs_write_to_other_entries_is_merged() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, &fixture("ecr-gcr.json"));
    let mut ours = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    ours.set_credentials("quay.io", "ours", &Secret::new("pw")).unwrap();
    // Docker logs in to another registry meanwhile.
    let mut theirs: Value = serde_json::from_slice(&fixture("ecr-gcr.json")).unwrap();
    theirs["auths"]["ghcr.io"] = serde_json::json!({"auth": "dGhlaXJzOnB3"});
    theirs["currentContext"] = "remote".into();
    std::fs::write(&path, serde_json::to_vec(&theirs).unwrap()).unwrap();
    let report = ours.save(ConflictPolicy::Refuse).unwrap();
    assert!(report.merged_from_disk);
    let merged: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(merged["auths"]["ghcr.io"]["auth"], "dGhlaXJzOnB3");
    assert_eq!(merged["currentContext"], "remote");
    let quay = ours.entry("quay.io").unwrap();
    assert_eq!(quay.username.as_deref(), Some("ours"));
    assert_eq!(merged["auths"]["quay.io"]["email"], "ops@example.com");
}

#[test]
fn the_same_entry_changed_on_both_sides_is_a_conflict_and_nothing_is_lost() {
    let home = TempHome::new();
    let path = home.docker_config();
    home.write(&path, &fixture("ecr-gcr.json"));
    let mut first = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let mut second = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    first.set_credentials("quay.io", "first", &Secret::new("1")).unwrap();
    second.set_credentials("quay.io", "second", &Secret::new("2")).unwrap();
    first.save(ConflictPolicy::Refuse).unwrap();
    let on_disk = std::fs::read(&path).unwrap();
    let error = second.save(ConflictPolicy::Refuse).unwrap_err();
    let AuthFileError::Conflict { entries, .. } = &error else { panic!("{error}") };
    assert_eq!(entries, &["auths › quay.io"]);
    assert!(error.to_string().contains(&path.display().to_string()));
    assert_eq!(std::fs::read(&path).unwrap(), on_disk, "nothing written on conflict");
    assert_eq!(second.entry("quay.io").unwrap().username.as_deref(), Some("second"), "edit kept");
    // Knowingly keeping ours settles it; the other side's other changes would still merge.
    let report = second.save(ConflictPolicy::KeepOurs).unwrap();
    assert_eq!(report.settled_conflicts, ["auths › quay.io"]);
    let reread = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    assert_eq!(reread.entry("quay.io").unwrap().username.as_deref(), Some("second"));
}

/// Writes `path` as Docker does — parse, set one entry, write a temp file, rename it over the
/// file; no lock — building on `from` (the file as that program read it).
fn docker_style_write(path: &std::path::Path, from: &[u8], key: &str, auth: &str) -> Vec<u8> {
    let mut document: Value = serde_json::from_slice(from).unwrap();
    document["auths"][key] = serde_json::json!({ "auth": auth });
    let bytes = serde_json::to_vec_pretty(&document).unwrap();
    let temp = path.with_file_name(".config.json.docker-tmp");
    std::fs::write(&temp, &bytes).unwrap();
    std::fs::rename(&temp, path).unwrap();
    bytes
}

/// The names in the file's directory besides the file and its backup (a temp file left behind).
fn leftovers(path: &std::path::Path) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|item| item.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|item| *item != name && *item != format!("{name}.regcred-backup"))
        .collect()
}

/// A file with one entry for regcred to change, loaded, with `ours` set on `r.example.com`.
fn loaded_with_edit(home: &TempHome, ours: &str) -> (std::path::PathBuf, Vec<u8>, AuthFile) {
    let path = home.docker_config();
    let original = b"{\n\t\"auths\": {\n\t\t\"r.example.com\": {\n\t\t\t\"auth\": \"b2xkOnB3\"\n\t\t}\n\t}\n}".to_vec();
    home.write(&path, &original);
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    file.set_credentials("r.example.com", "me", &Secret::new(ours)).unwrap();
    (path, original, file)
}

fn auths(path: &std::path::Path) -> Value {
    serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()).unwrap()["auths"].clone()
}

#[test]
fn a_write_after_the_last_look_is_displaced_by_the_exchange_and_merged() {
    let home = TempHome::new();
    let (path, _, mut file) = loaded_with_edit(&home, "ours");
    let mut raced = false;
    let report = file
        .save_racing(ConflictPolicy::Refuse, &mut |stage| {
            if stage == SaveStage::LastLooked && !raced {
                raced = true;
                docker_style_write(&path, &std::fs::read(&path).unwrap(), "docker.example.com", "ZG9ja2VyOnB3");
            }
        })
        .unwrap();
    assert!(raced);
    assert_eq!((report.retries, report.replaced_after_save), (1, 0), "{report:?}");
    assert!(report.written && report.merged_from_disk);
    let auths = auths(&path);
    assert_eq!(auths["docker.example.com"]["auth"], "ZG9ja2VyOnB3", "the other program's write survived: {auths}");
    assert_eq!(file.entry("r.example.com").unwrap().password.unwrap().expose(), "ours");
    assert_eq!(auths["r.example.com"], serde_json::to_value(&file.document()["auths"]["r.example.com"]).unwrap());
    assert_eq!(leftovers(&path), Vec::<String>::new(), "the displaced file is not left behind");
}

#[test]
fn a_file_replaced_right_after_the_save_is_merged_again() {
    for method in [SaveMethod::Exchange, SaveMethod::RenameChecked] {
        let home = TempHome::new();
        let (path, original, mut file) = loaded_with_edit(&home, "ours");
        let mut raced = false;
        // The other program read the file before regcred's save and renames its version right after.
        let report = file
            .save_with(ConflictPolicy::Refuse, method, &mut |stage| {
                if stage == SaveStage::Placed && !raced {
                    raced = true;
                    docker_style_write(&path, &original, "docker.example.com", "ZG9ja2VyOnB3");
                }
            })
            .unwrap();
        assert_eq!(report.replaced_after_save, 1, "{method:?}: {report:?}");
        let auths = auths(&path);
        assert_eq!(auths["docker.example.com"]["auth"], "ZG9ja2VyOnB3", "{method:?}: {auths}");
        let reread = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
        assert_eq!(reread.entry("r.example.com").unwrap().password.unwrap().expose(), "ours", "{method:?}");
        assert_eq!(leftovers(&path), Vec::<String>::new(), "{method:?}");
    }
}

#[test]
fn a_replacement_that_holds_the_change_is_left_as_it_is() {
    let home = TempHome::new();
    let (path, _, mut file) = loaded_with_edit(&home, "ours");
    let mut theirs = None;
    // The other program read regcred's file and adds its own entry to it.
    let report = file
        .save_racing(ConflictPolicy::Refuse, &mut |stage| {
            if stage == SaveStage::Placed && theirs.is_none() {
                theirs = Some(docker_style_write(
                    &path,
                    &std::fs::read(&path).unwrap(),
                    "docker.example.com",
                    "ZG9ja2VyOnB3",
                ));
            }
        })
        .unwrap();
    assert_eq!(report.replaced_after_save, 1, "{report:?}");
    assert_eq!(std::fs::read(&path).unwrap(), theirs.unwrap(), "no second write: the change is in theirs");
    assert_eq!(file.entry("r.example.com").unwrap().password.unwrap().expose(), "ours");
    assert!(!file.is_dirty());
}

#[test]
fn a_login_replaced_right_after_by_another_value_is_an_error_not_a_success() {
    let home = TempHome::new();
    let (path, original, mut file) = loaded_with_edit(&home, "ours");
    let mut theirs = None;
    let error = file
        .save_racing(ConflictPolicy::Refuse, &mut |stage| {
            if stage == SaveStage::Placed && theirs.is_none() {
                theirs = Some(docker_style_write(&path, &original, "r.example.com", "dGhlaXJzOnB3"));
            }
        })
        .unwrap_err();
    let AuthFileError::Overwritten { entries, .. } = &error else { panic!("{error}") };
    assert_eq!(entries, &["auths › r.example.com"]);
    let text = error.to_string();
    assert!(text.contains("regcred's change is not in the file") && text.ends_with(&path.display().to_string()));
    assert_eq!(std::fs::read(&path).unwrap(), theirs.unwrap(), "the other program's version stays");
    assert_eq!(file.entry("r.example.com").unwrap().password.unwrap().expose(), "ours", "the edit is kept");
}

#[test]
fn a_conflicting_write_displaced_by_the_exchange_is_put_back() {
    let home = TempHome::new();
    let (path, _, mut file) = loaded_with_edit(&home, "ours");
    let mut theirs = None;
    let error = file
        .save_racing(ConflictPolicy::Refuse, &mut |stage| {
            if stage == SaveStage::LastLooked && theirs.is_none() {
                let now = std::fs::read(&path).unwrap();
                theirs = Some(docker_style_write(&path, &now, "r.example.com", "dGhlaXJzOnB3"));
            }
        })
        .unwrap_err();
    assert!(
        matches!(&error, AuthFileError::Conflict { entries, .. } if entries == &["auths › r.example.com"]),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), theirs.unwrap(), "their file is back in place, whole");
    assert_eq!(leftovers(&path), Vec::<String>::new());
}

const FULL_DISK_WORKER: &str = "files_save::full_disk_worker";

/// Worker: saves under a file-size limit (`ulimit -f`), which fails like a full disk.
#[test]
fn full_disk_worker() {
    if !is_worker(FULL_DISK_WORKER) {
        return;
    }
    let path = std::path::PathBuf::from(std::env::var("REGCRED_TEST_FILE").unwrap());
    let mut file = AuthFile::load(&path, FileKind::DockerConfig).unwrap();
    let big = "x".repeat(64 * 1024);
    file.set_credentials("quay.io", "user", &Secret::new(big)).unwrap();
    let error = file.save(ConflictPolicy::Refuse).unwrap_err();
    assert!(matches!(error, AuthFileError::Write { .. }), "{error}");
    println!("WORKER-OK {error}");
}

#[test]
fn a_full_disk_leaves_the_old_file_and_no_temp_files() {
    let home = TempHome::new();
    let path = home.docker_config();
    let original = fixture("ecr-gcr.json");
    home.write(&path, &original);
    let output = worker(FULL_DISK_WORKER, &[("REGCRED_TEST_FILE", path.to_str().unwrap())])
        .under_shell("trap '' XFSZ; ulimit -f 16")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("WORKER-OK"), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("File too large") || stdout.contains("file too large"), "{stdout}");
    assert_eq!(std::fs::read(&path).unwrap(), original);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
