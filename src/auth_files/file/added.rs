//! The top-level members (`auths`, `credHelpers`) regcred added to each file, remembered
//! outside the file and across processes, so that a logout in a later run than its login takes
//! back a member the login added once it is empty: add-then-remove gives the bytes back.
//!
//! Kept in `added-members.json` of regcred's state directory (`$XDG_STATE_HOME/regcred`, else
//! `~/.local/state/regcred`; `~/Library/Application Support/regcred` on macOS;
//! `%LOCALAPPDATA%\regcred` on Windows) as `{"/abs/path/config.json": {"members": ["auths", …],
//! "sha256": "…"}}`: paths, member names and the SHA-256 of the bytes regcred last wrote, never
//! content. A record counts only while the file is exactly as regcred left it: once another
//! program (or a person) has written it, its members are theirs to keep. Best effort: when the
//! record cannot be read or written, a member regcred added stays in the file, empty, as Docker
//! itself leaves `"auths": {}`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::atomic_file;

/// The members a file can have that regcred adds (the names are `'static` for [`super::AuthFile`]).
const MEMBERS: [&str; 2] = ["auths", "credHelpers"];

/// The ledger's largest size read (a hostile or runaway file is ignored, not read whole).
const MAX_BYTES: u64 = 1024 * 1024;

/// What regcred added to one file, and the file as it left it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Record {
    members: BTreeSet<String>,
    sha256: String,
}

type Ledger = BTreeMap<String, Record>;

fn hex(hash: &[u8; 32]) -> String {
    use std::fmt::Write as _;
    hash.iter().fold(String::with_capacity(64), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// Where the ledger lives.
fn ledger_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = if cfg!(windows) {
        var("LOCALAPPDATA")?
    } else if cfg!(target_os = "macos") {
        var("HOME")?.join("Library").join("Application Support")
    } else {
        var("XDG_STATE_HOME").or_else(|| Some(var("HOME")?.join(".local").join("state")))?
    };
    Some(dir.join("regcred").join("added-members.json"))
}

fn read_ledger(path: &Path) -> Ledger {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|file| file.take(MAX_BYTES).read_to_end(&mut bytes));
    match read {
        Ok(_) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Ledger::new(),
    }
}

/// The record's key for a credential file: its real path (symlinks followed).
fn key_of(file: &Path) -> Option<String> {
    let real = atomic_file::resolve_symlinks(file).ok()?;
    Some(std::path::absolute(&real).unwrap_or(real).to_string_lossy().into_owned())
}

/// The members regcred added to `file` that its `document` still has — when its bytes (`hash`)
/// are the ones regcred last wrote.
pub(super) fn added_to(file: &Path, document: &Map<String, Value>, hash: Option<&[u8; 32]>) -> BTreeSet<&'static str> {
    let (Some(ledger), Some(key), Some(hash)) = (ledger_path(), key_of(file), hash) else { return BTreeSet::new() };
    let ledger = read_ledger(&ledger);
    let Some(record) = ledger.get(&key).filter(|record| record.sha256 == hex(hash)) else { return BTreeSet::new() };
    MEMBERS.into_iter().filter(|member| record.members.contains(*member) && document.contains_key(*member)).collect()
}

/// Records that `file`, just written as `document` (bytes hashing to `hash`), holds the members
/// in `added` that regcred added (the others are forgotten). Files that no longer exist are
/// dropped from the ledger on the way.
pub(super) fn record(file: &Path, document: &Map<String, Value>, added: &BTreeSet<&'static str>, hash: &[u8; 32]) {
    let (Some(path), Some(key)) = (ledger_path(), key_of(file)) else { return };
    let mut ledger = read_ledger(&path);
    let members: BTreeSet<String> =
        added.iter().filter(|member| document.contains_key(**member)).map(|m| (*m).to_owned()).collect();
    let now = Some(Record { members, sha256: hex(hash) }).filter(|record| !record.members.is_empty());
    if ledger.get(&key) == now.as_ref() {
        return;
    }
    match now {
        Some(record) => ledger.insert(key, record),
        None => ledger.remove(&key),
    };
    ledger.retain(|file, _| Path::new(file).exists());
    let Ok(bytes) = serde_json::to_vec_pretty(&ledger) else { return };
    if let Some(dir) = path.parent()
        && atomic_file::create_private_dirs(dir).is_ok()
    {
        // Best effort (see the module's text): a failure only leaves an empty member behind.
        let _ = atomic_file::write_atomic(&path, &bytes);
    }
}
