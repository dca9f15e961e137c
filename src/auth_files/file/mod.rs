//! [`AuthFile`]: one credential file as loaded, edited in memory, and saved without loss.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::entry::{Entry, EntryProblem, encode_auth};
use super::json_edit;
use super::json_format::{JsonShapeError, MAX_FILE_BYTES, check_text, kind_name, parse_object};
use super::server_key::{ServerKey, ServerKeyError};
use super::{AuthFileError, legacy};
use crate::atomic_file::{self, WriteNotes};
use crate::secret::Secret;

mod added;
mod save;

#[cfg(feature = "test-support")]
pub use save::{SaveMethod, SaveStage};

/// What decided a file's [`FileKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindEvidence {
    /// Its name (`config.json`, `*.dockercfg`, `auth.json`).
    Name,
    /// Its content (Docker's own settings, or registries at the top level).
    Content,
    /// Neither: another name, and content both formats share (or none yet).
    Guess,
}

/// Which of the three formats a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// Docker's `config.json`: `auths`, `credsStore`, `credHelpers` and much else.
    DockerConfig,
    /// The legacy `~/.dockercfg`: a map of server to entry, or the two-line form.
    LegacyDockercfg,
    /// Podman/containers `auth.json`: `auths` (keys may be namespace-scoped) and `credHelpers`.
    ContainersAuth,
}

impl FileKind {
    /// The kind of the file at `path`: by its name where the name says (`config.json`,
    /// `*.dockercfg`, `auth.json`), else by its content — Docker's own settings (`credsStore`,
    /// `HttpHeaders`, `proxies` …) make a Docker config, registries at the top level a legacy
    /// `.dockercfg` — else an auth.json. Reads at most the first mebibyte. The window and every
    /// command decide with this one rule.
    pub fn detect(path: &Path) -> Self {
        Self::detect_how(path).0
    }

    /// [`FileKind::detect`], and whether the name or the content said it, or neither: a file of
    /// another name holding only `auths` (and `credHelpers`) fits Docker's format and Podman's
    /// alike, and is taken as an auth.json, the kind Podman and skopeo read by any name
    /// (`--authfile`), where Docker reads only a `config.json`.
    pub fn detect_how(path: &Path) -> (Self, KindEvidence) {
        let by_name = Self::for_path(path);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if by_name != Self::ContainersAuth || name == "auth.json" {
            return (by_name, KindEvidence::Name);
        }
        // Only a regular file is read (a FIFO would block).
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return (by_name, KindEvidence::Guess);
        }
        let mut head = Vec::new();
        let read = std::fs::File::open(path).and_then(|file| {
            use std::io::Read as _;
            file.take(1 << 20).read_to_end(&mut head)
        });
        match (read, serde_json::from_slice::<Value>(&head)) {
            (Ok(_), Ok(Value::Object(top))) => {
                Self::of_document(&top).map_or((by_name, KindEvidence::Guess), |kind| (kind, KindEvidence::Content))
            }
            _ => (by_name, KindEvidence::Guess),
        }
    }

    /// What a document's top-level keys say it is, when they say.
    fn of_document(top: &Map<String, Value>) -> Option<Self> {
        const DOCKER_ONLY: [&str; 10] = [
            "credsStore",
            "HttpHeaders",
            "psFormat",
            "imagesFormat",
            "detachKeys",
            "proxies",
            "currentContext",
            "plugins",
            "features",
            "experimental",
        ];
        if DOCKER_ONLY.iter().any(|key| top.contains_key(*key)) {
            return Some(Self::DockerConfig);
        }
        let registries_at_top = !top.is_empty()
            && !top.contains_key("auths")
            && !top.contains_key("credHelpers")
            && top.values().all(|v| v.as_object().is_some_and(|e| e.contains_key("auth") || e.contains_key("email")));
        registries_at_top.then_some(Self::LegacyDockercfg)
    }

    /// The kind a file's name says (`config.json`, `*.dockercfg`, anything else an auth.json).
    pub fn for_path(path: &Path) -> Self {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == "config.json" {
            Self::DockerConfig
        } else if name == ".dockercfg" || name == "dockercfg" || name.ends_with(".dockercfg") {
            Self::LegacyDockercfg
        } else {
            Self::ContainersAuth
        }
    }

    /// The top-level keys whose members are entries to merge one by one.
    fn entry_maps(self) -> &'static [&'static str] {
        match self {
            Self::LegacyDockercfg => &[],
            Self::DockerConfig | Self::ContainersAuth => &["auths", "credHelpers"],
        }
    }

    /// How this kind spells a registry key.
    /// The key a new entry for `server` gets: Docker's spelling of the registry, or — for a key
    /// scoped to a path (`host:5000/team`), which the kubelet and Podman match and Docker ignores
    /// — the key with its path kept, in any format.
    fn key_for(self, server: &ServerKey) -> String {
        match self {
            Self::DockerConfig | Self::LegacyDockercfg if server.scope().is_empty() => server.docker_key(),
            Self::DockerConfig | Self::LegacyDockercfg | Self::ContainersAuth => server.podman_key(),
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DockerConfig => "Docker config.json",
            Self::LegacyDockercfg => "legacy .dockercfg",
            Self::ContainersAuth => "containers auth.json",
        })
    }
}

/// What a save did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveReport {
    /// Whether bytes were written (false when there was nothing to change).
    pub written: bool,
    /// Whether another program had changed the file and its changes were merged in.
    pub merged_from_disk: bool,
    /// Conflicting units settled by the policy (empty unless the policy was not `Refuse`).
    pub settled_conflicts: Vec<String>,
    /// Where the previous content was backed up, on the first overwrite.
    pub backup: Option<PathBuf>,
    /// A backup removed because it still held a secret the operation took off the file (the user
    /// is told; see `credentials`).
    pub backup_removed: Option<PathBuf>,
    /// Mode changes and creation.
    pub notes: WriteNotes,
    /// How often another program wrote the file while this save was being made (each time the
    /// merge was done again with its version).
    pub retries: u32,
    /// How often another program replaced the file right after this save put its own in place
    /// (each time the save merged again, or found its change in the other version).
    pub replaced_after_save: u32,
    /// How often the exchange displaced another program's write, which went back in place at once
    /// (Linux; each time the save merged it and went round again).
    pub put_back: u32,
}

/// The file as it was on disk when loaded or last saved.
#[derive(Clone)]
struct Snapshot {
    bytes: Option<Vec<u8>>,
    hash: Option<[u8; 32]>,
    document: Map<String, Value>,
}

/// One credential file: its path, its format, what was loaded, and the edits made since.
///
/// Its `Debug` shows the path, format, entry count and whether there are unsaved edits — never
/// the content, which holds base64 `user:password` pairs and tokens.
#[derive(Clone)]
pub struct AuthFile {
    path: PathBuf,
    kind: FileKind,
    snapshot: Snapshot,
    document: Map<String, Value>,
    backup_written: bool,
    /// Top-level members (`auths`, `credHelpers`) regcred added to this file — in this process or
    /// an earlier one (`added`) —: removed again when they become empty, so that adding an entry
    /// and removing it gives back the original bytes. Members the file had stay, even empty.
    created: BTreeSet<&'static str>,
    /// Units (`auths › key`, `credHelpers › registry`) edited since the last save, even when the
    /// edit left them as they were: a merge with another program's write never silently keeps
    /// its version of a unit the user explicitly set.
    touched: BTreeSet<String>,
}

impl fmt::Debug for AuthFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthFile")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("entries", &self.entry_count())
            .field("dirty", &self.is_dirty())
            .finish_non_exhaustive()
    }
}

impl AuthFile {
    /// Loads `path` as `kind`. A missing file loads as empty (it is created on save).
    pub fn load(path: impl Into<PathBuf>, kind: FileKind) -> Result<Self, AuthFileError> {
        let path = path.into();
        let bytes = read_file(&path, kind)?;
        let document = document_of(kind, bytes.as_deref(), &path)?;
        let snapshot = Snapshot { hash: bytes.as_deref().map(hash), bytes, document: document.clone() };
        let mut file = Self::from_parts(path, kind, snapshot, document);
        file.created = added::added_to(&file.path, &file.document, file.snapshot.hash.as_ref());
        Ok(file)
    }

    /// Parses bytes as `kind` without a file behind them (for previews and tests).
    pub fn from_bytes(kind: FileKind, bytes: &[u8]) -> Result<Self, JsonShapeError> {
        let document = parse_document(kind, bytes)?;
        let snapshot = Snapshot { bytes: Some(bytes.to_vec()), hash: Some(hash(bytes)), document: document.clone() };
        Ok(Self::from_parts(PathBuf::new(), kind, snapshot, document))
    }

    fn from_parts(path: PathBuf, kind: FileKind, snapshot: Snapshot, document: Map<String, Value>) -> Self {
        Self {
            path,
            kind,
            snapshot,
            document,
            backup_written: false,
            created: BTreeSet::new(),
            touched: BTreeSet::new(),
        }
    }

    /// The path as given (a symlink is followed only when reading and writing).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's format.
    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// Whether the file existed when loaded or last saved.
    pub fn exists(&self) -> bool {
        self.snapshot.bytes.is_some()
    }

    /// Whether there are edits not yet saved.
    pub fn is_dirty(&self) -> bool {
        self.document != self.snapshot.document
    }

    /// The whole document as edited (all keys, known or not).
    pub fn document(&self) -> &Map<String, Value> {
        &self.document
    }

    /// The bytes a save would write: the loaded bytes when nothing changed, else the document
    /// in Docker's format.
    pub fn to_bytes(&self) -> Vec<u8> {
        match &self.snapshot.bytes {
            Some(bytes) if !self.is_dirty() => bytes.clone(),
            original => render(&self.document, original.as_deref().map(|bytes| (bytes, &self.snapshot.document))),
        }
    }

    /// All entries in file order, decoded, with their problems (duplicates included).
    pub fn entries(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> =
            self.entry_map().map(|map| map.iter().map(|(k, v)| Entry::from_json(k, v)).collect()).unwrap_or_default();
        // Two passes over a map of (registry, scope) → the first two keys seen: linear in entries.
        let mut seen: std::collections::HashMap<(String, String), (usize, Option<usize>)> =
            std::collections::HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            if let Some(server) = &entry.server {
                let slot =
                    seen.entry((server.registry().to_owned(), server.scope().to_owned())).or_insert((index, None));
                if slot.0 != index && slot.1.is_none() {
                    slot.1 = Some(index);
                }
            }
        }
        let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
        for (index, entry) in entries.iter_mut().enumerate() {
            let Some(server) = &entry.server else { continue };
            let Some((first, second)) = seen.get(&(server.registry().to_owned(), server.scope().to_owned())) else {
                continue;
            };
            let other = if *first == index { *second } else { Some(*first) };
            if let Some(other) = other {
                entry.problems.push(EntryProblem::Duplicate(keys[other].clone()));
            }
        }
        entries
    }

    /// The entries' keys in file order (without decoding the entries).
    pub fn keys(&self) -> Vec<String> {
        self.entry_map().map(|map| map.keys().cloned().collect()).unwrap_or_default()
    }

    /// How many entries the file has (without decoding them).
    pub(crate) fn entry_count(&self) -> usize {
        self.entry_map().map_or(0, Map::len)
    }

    /// The entry stored under exactly `key` (with a duplicate-spelling problem when another key
    /// names the same registry).
    pub fn entry(&self, key: &str) -> Option<Entry> {
        let map = self.entry_map()?;
        let mut entry = Entry::from_json(key, map.get(key)?);
        if let Some(server) = entry.server.clone() {
            let other =
                map.keys().find(|other| *other != key && ServerKey::parse(other).is_ok_and(|o| o.same_target(&server)));
            if let Some(other) = other {
                entry.problems.push(EntryProblem::Duplicate(other.clone()));
            }
        }
        Some(entry)
    }

    /// The entry stored under exactly `key`, decoded, without looking for other spellings of the
    /// same registry (constant time: for loops over many entries).
    pub(crate) fn entry_alone(&self, key: &str) -> Option<Entry> {
        Some(Entry::from_json(key, self.entry_map()?.get(key)?))
    }

    /// Every credential value of the entry under `key` as it can appear in a file (raw and
    /// JSON-escaped): `auth`, `password`, `identitytoken`, `registrytoken`. Used to tell whether a
    /// backup still holds a secret that is being taken off the file.
    pub(crate) fn secret_traces(&self, key: &str) -> Vec<zeroize::Zeroizing<String>> {
        let Some(Value::Object(fields)) = self.entry_map().and_then(|map| map.get(key)) else { return Vec::new() };
        let mut traces = Vec::new();
        for field in ["auth", "password", "identitytoken", "registrytoken"] {
            let Some(Value::String(text)) = fields.get(field) else { continue };
            let quoted = zeroize::Zeroizing::new(crate::go_json::to_vec_compact(text));
            let escaped = String::from_utf8_lossy(&quoted).trim_matches('"').to_owned();
            traces.push(zeroize::Zeroizing::new(text.clone()));
            traces.push(zeroize::Zeroizing::new(escaped));
        }
        traces.retain(|trace| trace.len() >= 4);
        traces
    }

    /// The key of the entry for the same registry and scope as `server`, under any spelling.
    pub fn find_key(&self, server: &ServerKey) -> Option<String> {
        self.entry_map()?.keys().find(|key| ServerKey::parse(key).is_ok_and(|k| k.same_target(server))).cloned()
    }

    /// `credsStore`: the helper every registry without a `credHelpers` entry uses.
    pub fn creds_store(&self) -> Option<&str> {
        self.document.get("credsStore").and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// `credHelpers`: registry → helper name, in file order.
    pub fn cred_helpers(&self) -> Vec<(&str, &str)> {
        let Some(Value::Object(helpers)) = self.document.get("credHelpers") else {
            return Vec::new();
        };
        helpers.iter().filter_map(|(host, name)| Some((host.as_str(), name.as_str()?))).collect()
    }

    /// Routes `registry` to `docker-credential-<helper>` in `credHelpers`, or (with `None`)
    /// removes its route. Other keys of `credHelpers` keep their order.
    pub fn set_cred_helper(&mut self, registry: &str, helper: Option<&str>) {
        self.touched.insert(format!("credHelpers › {registry}"));
        let Some(helper) = helper else {
            if let Some(Value::Object(map)) = self.document.get_mut("credHelpers") {
                map.shift_remove(registry);
                if map.is_empty() && self.created.contains("credHelpers") {
                    self.document.shift_remove("credHelpers");
                    self.created.remove("credHelpers");
                }
            }
            return;
        };
        if !self.document.get("credHelpers").is_some_and(Value::is_object) {
            self.created.insert("credHelpers");
            self.document.insert("credHelpers".to_owned(), Value::Object(Map::new()));
        }
        if let Some(Value::Object(map)) = self.document.get_mut("credHelpers") {
            map.insert(registry.to_owned(), Value::String(helper.to_owned()));
        }
    }

    /// The key a credential helper is asked for, for `server` in this format
    /// (`https://index.docker.io/v1/` or `host:port` for Docker, the registry for Podman).
    pub(crate) fn helper_key(&self, server: &ServerKey) -> String {
        match self.kind {
            FileKind::DockerConfig | FileKind::LegacyDockercfg => server.docker_key(),
            FileKind::ContainersAuth => server.registry().to_owned(),
        }
    }

    /// The key a new entry for `server` gets in this format.
    #[cfg_attr(not(feature = "gui"), allow(dead_code, reason = "used by the window only"))]
    pub(crate) fn entry_key_for(&self, server: &ServerKey) -> String {
        self.kind.key_for(server)
    }

    /// Adds an empty entry (`{}`) for `server`, spelled the way this format spells it, and
    /// returns its key. Refuses when the registry already has an entry under any spelling.
    pub fn add_entry(&mut self, server: &ServerKey) -> Result<String, AuthFileError> {
        if let Some(existing) = self.find_key(server) {
            return Err(AuthFileError::EntryExists { existing });
        }
        let key = self.kind.key_for(server);
        self.entry_map_mut()?.insert(key.clone(), Value::Object(Map::new()));
        self.touch_entry(&key);
        Ok(key)
    }

    /// Stores `username`/`password` in the entry as Docker does (`auth` = base64 of
    /// `user:password`), keeping every other field. Plain `username`/`password` fields, where
    /// the entry already had them, are updated to match.
    pub fn set_credentials(&mut self, key: &str, username: &str, password: &Secret) -> Result<(), AuthFileError> {
        if username.is_empty() {
            return Err(AuthFileError::InvalidUsername("it is empty"));
        }
        if username.contains(':') {
            return Err(AuthFileError::InvalidUsername("it contains ':', which Docker cannot decode"));
        }
        let fields = self.entry_fields_mut(key)?;
        fields.insert("auth".to_owned(), Value::String(encode_auth(username, password)));
        if fields.contains_key("username") {
            fields.insert("username".to_owned(), Value::String(username.to_owned()));
        }
        if fields.contains_key("password") {
            fields.insert("password".to_owned(), Value::String(password.expose().to_owned()));
        }
        Ok(())
    }

    /// Sets or (with `None` or "") removes the entry's `email`.
    pub fn set_email(&mut self, key: &str, email: Option<&str>) -> Result<(), AuthFileError> {
        let fields = self.entry_fields_mut(key)?;
        match email.filter(|e| !e.is_empty()) {
            Some(email) => fields.insert("email".to_owned(), Value::String(email.to_owned())),
            None => fields.shift_remove("email"),
        };
        Ok(())
    }

    /// Removes every credential field from the entry, leaving a stub (`{}` plus any email and
    /// unknown fields) for a credential helper to answer for.
    pub(crate) fn clear_credentials(&mut self, key: &str) -> Result<(), AuthFileError> {
        let fields = self.entry_fields_mut(key)?;
        for field in ["auth", "username", "password", "identitytoken", "registrytoken"] {
            fields.shift_remove(field);
        }
        Ok(())
    }

    /// Moves the entry under `key` to the key for `server`, keeping its content and position.
    pub fn rename_entry(&mut self, key: &str, server: &ServerKey) -> Result<String, AuthFileError> {
        let new_key = self.kind.key_for(server);
        if let Some(existing) = self.find_key(server).filter(|existing| existing != key) {
            return Err(AuthFileError::EntryExists { existing });
        }
        let map = self.entry_map_mut()?;
        if !map.contains_key(key) {
            return Err(AuthFileError::NoEntry { key: key.to_owned() });
        }
        let renamed = std::mem::take(map)
            .into_iter()
            .map(|(k, v)| if k == key { (new_key.clone(), v) } else { (k, v) })
            .collect();
        *map = renamed;
        self.touch_entry(key);
        self.touch_entry(&new_key);
        Ok(new_key)
    }

    /// Removes the entry under exactly `key`, keeping the order of the others.
    pub fn remove_entry(&mut self, key: &str) -> Result<(), AuthFileError> {
        match self.entry_map_mut()?.shift_remove(key) {
            Some(_) => {
                self.touch_entry(key);
                self.drop_created_auths_if_empty();
                Ok(())
            }
            None => Err(AuthFileError::NoEntry { key: key.to_owned() }),
        }
    }

    /// Removes an `auths` this file created once its last entry is gone.
    fn drop_created_auths_if_empty(&mut self) {
        let empty = self.document.get("auths").and_then(Value::as_object).is_some_and(Map::is_empty);
        if empty && self.created.contains("auths") {
            self.document.shift_remove("auths");
            self.created.remove("auths");
        }
    }

    /// Marks an entry as explicitly edited (see `touched`).
    fn touch_entry(&mut self, key: &str) {
        let unit = match self.kind {
            FileKind::LegacyDockercfg => key.to_owned(),
            FileKind::DockerConfig | FileKind::ContainersAuth => format!("auths › {key}"),
        };
        self.touched.insert(unit);
    }

    fn entry_map(&self) -> Option<&Map<String, Value>> {
        match self.kind {
            FileKind::LegacyDockercfg => Some(&self.document),
            FileKind::DockerConfig | FileKind::ContainersAuth => self.document.get("auths")?.as_object(),
        }
    }

    /// The map of entries, created when absent. Loading refuses files whose `auths` is not an
    /// object, so a non-object here can only be replaced.
    fn entry_map_mut(&mut self) -> Result<&mut Map<String, Value>, AuthFileError> {
        let map = if self.kind == FileKind::LegacyDockercfg {
            Some(&mut self.document)
        } else {
            if !self.document.contains_key("auths") {
                self.created.insert("auths");
            }
            let auths = self.document.entry("auths").or_insert_with(|| Value::Object(Map::new()));
            if !auths.is_object() {
                *auths = Value::Object(Map::new());
            }
            auths.as_object_mut()
        };
        map.ok_or_else(|| AuthFileError::NoEntry { key: "auths".to_owned() })
    }

    /// The fields of an entry; an entry that is not an object becomes `{}` (an explicit edit
    /// of that entry replaces what could not be used anyway).
    fn entry_fields_mut(&mut self, key: &str) -> Result<&mut Map<String, Value>, AuthFileError> {
        let no_entry = || AuthFileError::NoEntry { key: key.to_owned() };
        self.touch_entry(key);
        let value = self.entry_map_mut()?.get_mut(key).ok_or_else(no_entry)?;
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        value.as_object_mut().ok_or_else(no_entry)
    }
}

/// Parses a server key given by a user, for the editing API.
pub fn parse_server(input: &str) -> Result<ServerKey, AuthFileError> {
    ServerKey::parse(input).map_err(|why: ServerKeyError| AuthFileError::InvalidKey { key: input.to_owned(), why })
}

fn read_file(path: &Path, kind: FileKind) -> Result<Option<Vec<u8>>, AuthFileError> {
    let read_error = |source| AuthFileError::Read { kind, source, path: path.to_path_buf() };
    let target = atomic_file::resolve_symlinks(path).map_err(read_error)?;
    let bytes = atomic_file::read_if_exists(&target, MAX_FILE_BYTES).map_err(read_error)?;
    if let Some(bytes) = &bytes
        && bytes.len() > MAX_FILE_BYTES
    {
        let size = std::fs::metadata(&target).map_or(bytes.len() as u64, |m| m.len());
        let reason = JsonShapeError::TooLarge(usize::try_from(size).unwrap_or(usize::MAX));
        return Err(AuthFileError::Malformed { kind, reason, path: path.to_path_buf() });
    }
    Ok(bytes)
}

/// Parses bytes of `kind`, checking the shape of the fields Docker and Podman rely on.
fn parse_document(kind: FileKind, bytes: &[u8]) -> Result<Map<String, Value>, JsonShapeError> {
    if kind == FileKind::LegacyDockercfg {
        return match parse_object(bytes) {
            Ok(map) => Ok(map),
            Err(error @ JsonShapeError::Syntax(_)) => check_text(bytes).ok().and_then(legacy::parse_lines).ok_or(error),
            Err(error) => Err(error),
        };
    }
    let document = parse_object(bytes)?;
    for (field, expected) in [("auths", "an object"), ("credHelpers", "an object"), ("credsStore", "a string")] {
        let found = match document.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(_)) if expected == "an object" => continue,
            Some(Value::String(_)) if expected == "a string" => continue,
            Some(other) => kind_name(other),
        };
        return Err(JsonShapeError::Field { field, expected, found });
    }
    if let Some(Value::Object(helpers)) = document.get("credHelpers")
        && let Some(bad) = helpers.values().find(|v| !v.is_string())
    {
        return Err(JsonShapeError::Field {
            field: "credHelpers",
            expected: "a map of strings",
            found: kind_name(bad),
        });
    }
    Ok(document)
}

/// The bytes of `document`: the `base` file's text patched so that only what differs changes
/// (its indentation, spacing, line ends and final newline kept everywhere else), or, for a new
/// file or one that is not JSON text (the legacy two-line form), Docker's own format.
fn render(document: &Map<String, Value>, base: Option<(&[u8], &Map<String, Value>)>) -> Vec<u8> {
    if let Some((bytes, old)) = base
        && let Ok(text) = std::str::from_utf8(bytes)
        && let Some(patched) = json_edit::patch(text, old, document)
    {
        return patched.into_bytes();
    }
    let mut fresh = json_edit::write_fresh(document).into_bytes();
    if base.is_some_and(|(bytes, _)| bytes.ends_with(b"\n")) {
        fresh.push(b'\n');
    }
    fresh
}

/// Whether `document` has a `credHelpers` with no route in it.
fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Where the previous content goes before the first overwrite: `config.json.regcred-backup`.
pub fn backup_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".regcred-backup");
    target.with_file_name(name)
}

/// The document in `bytes` (none: a file that does not exist yet, empty), or why it cannot be used.
fn document_of(kind: FileKind, bytes: Option<&[u8]>, path: &Path) -> Result<Map<String, Value>, AuthFileError> {
    let Some(bytes) = bytes else { return Ok(Map::new()) };
    parse_document(kind, bytes).map_err(|reason| AuthFileError::Malformed { kind, reason, path: path.to_path_buf() })
}
