//! Saving an [`AuthFile`]: its edits merged into the file as it is on disk, and put in place so
//! that another program's concurrent write is merged, not overwritten.
//!
//! A save merges, prepares the new file (temp file, `fsync`), looks at the file once more, and
//! swaps the new file in. On Linux the swap is an exchange (`renameat2(RENAME_EXCHANGE)`): the
//! file it displaced is read back, and when it is not the one the save built on — a writer that
//! takes no lock (Docker, Podman) wrote in between — it is exchanged back into place at once, its
//! changes are merged, and the swap is done again, until the file displaced is the one the save
//! built on; a save that gives up leaves the other program's file in place. Elsewhere (other
//! systems, file systems without the exchange) the swap is a rename, and a write landing between
//! the last look and the rename is lost. Then the save checks that its file is still the one
//! there: when another program has replaced it, the save merges again (or finds its change in the
//! other version) before it reports success, and reports exactly what happened when it cannot.

use std::path::Path;

use serde_json::{Map, Value};

use super::{AuthFile, FileKind, MAX_FILE_BYTES, SaveReport, Snapshot, backup_path, hash, read_file, render};
use crate::atomic_file::{self, Displaced, Identity, Placed, Swap, WriteNotes};
use crate::auth_files::AuthFileError;
use crate::auth_files::json_format::JsonShapeError;
use crate::auth_files::merge::{ConflictPolicy, differing_units, distance, merge};

/// How a save puts its file in place. Only the benchmark chooses, to measure the ways side by
/// side (feature `test-support`); [`AuthFile::save`] always takes [`SaveMethod::Exchange`].
#[cfg_attr(not(feature = "test-support"), allow(dead_code, reason = "the other ways are the benchmark's"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub, reason = "public with the test hooks"))]
pub enum SaveMethod {
    /// Exchange with the file on disk where the system can (else rename), then check that the
    /// write survived.
    #[default]
    Exchange,
    /// Rename after a last look, then check that the write survived: what a system without the
    /// exchange gets.
    RenameChecked,
    /// Rename after a last look, and nothing after: regcred before the exchange (issue 26).
    RenameOnly,
}

/// Where a save stands when it calls its hook (tests, through `save_racing` with the feature
/// `test-support`: where another program's write lands decides which way the save meets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub, reason = "public with the test hooks"))]
pub enum SaveStage {
    /// The new file is prepared; the last look at the file on disk comes next.
    Prepared,
    /// The last look found the file unchanged; the swap comes next.
    LastLooked,
    /// The new file is in place; the check that it is still there comes next.
    Placed,
}

/// A document to write, what the save has found out so far, and the document the file's current
/// text holds (what the text is patched from).
type ToWrite = (Map<String, Value>, SaveReport, Map<String, Value>);

/// How many rounds (a merge with another program's write, each followed by a new swap) a save
/// does before it gives up.
const SAVE_ATTEMPTS: u32 = 20;
/// How many rounds a save does at most while the file on disk lacks a change of another
/// program's that the save took in (the other program built a write on the save's file in the
/// moment it was exchanged in): giving up then would lose that change.
const MAX_ROUNDS: u32 = 5 * SAVE_ATTEMPTS;

impl AuthFile {
    /// Saves the edits atomically. If another program changed the file since it was loaded,
    /// its changes are merged in entry by entry; entries both sides changed are settled by
    /// `policy` (by default nothing is written and the conflict is reported).
    ///
    /// Writers that take no lock (Docker, Podman) are never overwritten on Linux: the new file is
    /// exchanged with the one on disk, and when the file it displaced is not the one the save
    /// built on, its changes are merged and the exchange repeated (see the module's text). A save
    /// returns success only when its change is in the file on disk: when another program replaced
    /// the file right after, the save merges again, and fails with
    /// [`AuthFileError::Overwritten`] when it cannot.
    pub fn save(&mut self, policy: ConflictPolicy) -> Result<SaveReport, AuthFileError> {
        self.save_by(policy, SaveMethod::Exchange, &mut |_| {})
    }

    /// [`AuthFile::save`] with `between` run at each [`SaveStage`] of each round — where another
    /// program's write would be overtaken (a test hook).
    #[cfg(feature = "test-support")]
    pub fn save_racing(
        &mut self,
        policy: ConflictPolicy,
        between: &mut dyn FnMut(SaveStage),
    ) -> Result<SaveReport, AuthFileError> {
        self.save_by(policy, SaveMethod::Exchange, between)
    }

    /// [`AuthFile::save_racing`] putting the file in place by `method` (the benchmark's hook).
    #[cfg(feature = "test-support")]
    pub fn save_with(
        &mut self,
        policy: ConflictPolicy,
        method: SaveMethod,
        between: &mut dyn FnMut(SaveStage),
    ) -> Result<SaveReport, AuthFileError> {
        self.save_by(policy, method, between)
    }

    fn save_by(
        &mut self,
        policy: ConflictPolicy,
        method: SaveMethod,
        between: &mut dyn FnMut(SaveStage),
    ) -> Result<SaveReport, AuthFileError> {
        // Nothing of this file's to put in: no lock, no directory made for it (a logout of a
        // registry that is nowhere leaves a HOME without `~/.docker` as it was).
        if !self.is_dirty() && self.touched.is_empty() {
            return Ok(SaveReport::default());
        }
        let write_error = |source| AuthFileError::Write { kind: self.kind, source, path: self.path.clone() };
        let target = atomic_file::resolve_symlinks(&self.path).map_err(write_error)?;
        let _lock = atomic_file::lock_dir(&target).map_err(write_error)?;
        let on_disk = read_file(&target, self.kind)?;
        let Some((document, mut report, base)) = self.document_to_write(on_disk.as_deref(), policy)? else {
            self.touched.clear();
            return Ok(SaveReport::default());
        };
        let bytes = render(&document, on_disk.as_deref().map(|bytes| (bytes, &base)));
        check_size(self.kind, &self.path, &bytes)?;
        if let Some(old) = on_disk.as_deref().filter(|old| *old != bytes.as_slice()) {
            // The backup keeps the file as it was before regcred first wrote it: once there, it is
            // not overwritten by later saves. It is the file owner's, as the file is.
            let backup = backup_path(&target);
            if !self.backup_written && !backup.exists() {
                let original = std::fs::metadata(&target).map_err(write_error)?;
                atomic_file::write_private_copy(&backup, old, &original).map_err(write_error)?;
                report.backup = Some(backup);
            }
        }
        let mut race = Race {
            kind: self.kind,
            path: &self.path,
            target: &target,
            touched: &self.touched,
            policy,
            method,
            expected: on_disk.as_deref().map(hash),
            candidate: Version { bytes, document },
            known: vec![base],
            published: false,
            notes: None,
            exposed: false,
            report,
        };
        for round in 1..=MAX_ROUNDS {
            if !race.round(between)? {
                if round >= SAVE_ATTEMPTS && (round == MAX_ROUNDS || !race.theirs_at_risk()?) {
                    break;
                }
                continue;
            }
            let Race { candidate, mut report, published, notes, .. } = race;
            report.written = published;
            report.notes = notes.unwrap_or_default();
            // A file this save created had nothing before it to keep.
            self.backup_written |= published && (report.backup.is_some() || on_disk.is_none());
            self.snapshot = Snapshot {
                hash: Some(hash(&candidate.bytes)),
                bytes: Some(candidate.bytes),
                document: candidate.document,
            };
            self.document = self.snapshot.document.clone();
            self.touched.clear();
            if let (true, Some(hash)) = (published, self.snapshot.hash.as_ref()) {
                super::added::record(&self.path, &self.document, &self.created, hash);
            }
            return Ok(report);
        }
        Err(AuthFileError::KeptChanging { kind: self.kind, attempts: race.report.retries, path: self.path.clone() })
    }

    /// What a save writes given the file as it is on disk now: this document (the file is as
    /// loaded), or the merge of the edits into another program's version. `None` when there is
    /// nothing to write.
    fn document_to_write(
        &self,
        on_disk: Option<&[u8]>,
        policy: ConflictPolicy,
    ) -> Result<Option<ToWrite>, AuthFileError> {
        let mut report = SaveReport::default();
        if on_disk.map(hash) == self.snapshot.hash {
            return Ok(self.is_dirty().then(|| (self.document.clone(), report, self.snapshot.document.clone())));
        }
        let theirs = super::document_of(self.kind, on_disk, &self.path)?;
        let merged =
            merge(&self.snapshot.document, &self.document, &theirs, self.kind.entry_maps(), &self.touched, policy);
        if !merged.conflicts.is_empty() && policy == ConflictPolicy::Refuse {
            return Err(AuthFileError::Conflict {
                kind: self.kind,
                entries: merged.conflicts,
                path: self.path.clone(),
            });
        }
        report.merged_from_disk = true;
        report.settled_conflicts = merged.conflicts;
        Ok(Some((merged.document, report, theirs)))
    }
}

/// One version of the file: its bytes and what they hold.
struct Version {
    bytes: Vec<u8>,
    document: Map<String, Value>,
}

/// How long a save waits, after undoing an exchange, before it checks that its file is still in
/// place (or, giving up, that the file holds every change of the other program's it took in):
/// longer than another program takes from reading the file to renaming its next write in.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(20);

/// How many of the versions seen last a merge considers as the one another program built on.
const KNOWN_VERSIONS: usize = 8;

/// A save in progress, against writers that take no lock.
struct Race<'a> {
    kind: FileKind,
    /// The file as given, for messages.
    path: &'a Path,
    /// The file really written (symlinks followed).
    target: &'a Path,
    touched: &'a std::collections::BTreeSet<String>,
    policy: ConflictPolicy,
    method: SaveMethod,
    /// The hash of what the save believes is at the target (`None`: no file).
    expected: Option<[u8; 32]>,
    /// What the save will put in place: its edits merged with every other version seen.
    candidate: Version,
    /// The last versions known to have been at the target during the save — as read, each one
    /// another program wrote, each one this save put in: another program builds on one of them.
    known: Vec<Map<String, Value>>,
    /// Whether a file of this save was put in place and stayed (not put back at once).
    published: bool,
    /// What the first write changed besides the content.
    notes: Option<WriteNotes>,
    /// Whether an exchange was undone since the last [`Race::settle`].
    exposed: bool,
    report: SaveReport,
}

impl Race<'_> {
    /// One round: look, merge what another program wrote, prepare, look again, swap in, check.
    /// `true` when the candidate is the file on disk; `false` when another round is needed.
    fn round(&mut self, between: &mut dyn FnMut(SaveStage)) -> Result<bool, AuthFileError> {
        let identity = atomic_file::identity(self.target).map_err(|e| self.write_error(e))?;
        let now = read_file(self.target, self.kind)?;
        if now.as_deref().map(hash) != self.expected {
            self.learn(now.as_deref())?;
            self.expected = now.as_deref().map(hash);
        }
        if now.as_deref() == Some(self.candidate.bytes.as_slice()) {
            return Ok(true);
        }
        let prepared = atomic_file::prepare(self.target, &self.candidate.bytes).map_err(|e| self.write_error(e))?;
        between(SaveStage::Prepared);
        // The content first (a read), the identity last (one stat): nothing slow stands between
        // the last look and the swap.
        let still = read_file(self.target, self.kind)?.as_deref().map(hash) == self.expected
            && atomic_file::identity(self.target).map_err(|e| self.write_error(e))? == identity;
        if !still {
            return Ok(false);
        }
        between(SaveStage::LastLooked);
        let swapped = match self.method {
            SaveMethod::Exchange => prepared.swap_in(),
            SaveMethod::RenameChecked | SaveMethod::RenameOnly => Ok(Swap::Unsupported(prepared)),
        };
        let placed = match swapped.map_err(|e| self.write_error(e))? {
            Swap::Unsupported(prepared) => prepared.rename_in().map_err(|e| self.write_error(e))?,
            Swap::Created(placed) => placed,
            Swap::Exchanged(placed, displaced) => {
                if !self.displaced_expected(&placed, displaced, identity.as_ref())? {
                    return Ok(false);
                }
                placed
            }
        };
        self.published = true;
        self.notes.get_or_insert_with(|| placed.notes.clone());
        self.remember(self.candidate.document.clone());
        between(SaveStage::Placed);
        if self.method == SaveMethod::RenameOnly {
            return Ok(true);
        }
        self.settle();
        if placed.is_still_at(self.target).map_err(|e| self.write_error(e))? {
            return Ok(true);
        }
        // Another program renamed its file over this one: the next round's look merges it.
        self.report.replaced_after_save += 1;
        self.expected = Some(hash(&self.candidate.bytes));
        Ok(false)
    }

    /// After an exchange was undone, waits [`SETTLE`] once: a program that opened the file in the
    /// moment this save's was in place (and so built on a file without its own last write) has
    /// renamed its next write in by then, for the check that follows to find and merge it.
    fn settle(&mut self) {
        if std::mem::take(&mut self.exposed) {
            std::thread::sleep(SETTLE);
        }
    }

    /// Whether giving up now would lose a change of another program's: the file on disk (merged
    /// in first) lacks a unit of the candidate that is not this save's own edit.
    fn theirs_at_risk(&mut self) -> Result<bool, AuthFileError> {
        self.settle();
        let now = read_file(self.target, self.kind)?;
        if now.as_deref().map(hash) != self.expected {
            self.learn(now.as_deref())?;
            self.expected = now.as_deref().map(hash);
        }
        let on_disk = super::document_of(self.kind, now.as_deref(), self.path)?;
        let missing = differing_units(&self.candidate.document, &on_disk, self.kind.entry_maps());
        Ok(missing.iter().any(|unit| !self.touched.contains(unit)))
    }

    /// Whether the exchange displaced the file the save built on (the one the last look saw,
    /// `looked`). When it displaced another program's write instead, that file goes back in place
    /// at once — this save's file was there only for one `stat`, so nobody reads, or builds a write
    /// on, a file without it — and the next round's look merges it.
    fn displaced_expected(
        &mut self,
        placed: &Placed,
        displaced: Displaced,
        looked: Option<&Identity>,
    ) -> Result<bool, AuthFileError> {
        // The same file, as far as a `stat` tells; then its content makes sure (a writer that
        // rewrites in place within the clock's resolution keeps size and times). What cannot be
        // read counts as changed: it goes back.
        let unchanged =
            displaced.identity().is_ok_and(|id| looked.is_some_and(|looked| looked.same_file_unchanged(&id)))
                && displaced.read(MAX_FILE_BYTES + 1).is_ok_and(|bytes| Some(hash(&bytes)) == self.expected);
        if unchanged {
            displaced.finish().map_err(|e| self.write_error(e))?;
            return Ok(true);
        }
        put_back(placed, displaced).map_err(|e| self.write_error(e))?;
        self.report.put_back += 1;
        self.exposed = true;
        self.remember(self.candidate.document.clone());
        Ok(false)
    }

    /// Merges another program's version of the file into the candidate, taking as the base the
    /// known version it most likely built on (the one it differs least from).
    fn learn(&mut self, theirs: Option<&[u8]>) -> Result<(), AuthFileError> {
        let document = match theirs {
            Some(bytes) if bytes.len() > MAX_FILE_BYTES => {
                let reason = JsonShapeError::TooLarge(bytes.len());
                return Err(AuthFileError::Malformed { kind: self.kind, reason, path: self.path.to_path_buf() });
            }
            bytes => super::document_of(self.kind, bytes, self.path)?,
        };
        let nested = self.kind.entry_maps();
        let base = self.known.iter().rev().min_by_key(|known| distance(known, &document, nested)).cloned();
        let merged =
            merge(&base.unwrap_or_default(), &self.candidate.document, &document, nested, self.touched, self.policy);
        if !merged.conflicts.is_empty() && self.policy == ConflictPolicy::Refuse {
            let (kind, entries, path) = (self.kind, merged.conflicts, self.path.to_path_buf());
            // Once this save's file has been in place, the other program's version replaced it.
            return Err(if self.published {
                AuthFileError::Overwritten { kind, entries, path }
            } else {
                AuthFileError::Conflict { kind, entries, path }
            });
        }
        self.report.merged_from_disk = true;
        self.report.retries += 1;
        for unit in merged.conflicts {
            if !self.report.settled_conflicts.contains(&unit) {
                self.report.settled_conflicts.push(unit);
            }
        }
        let bytes = render(&merged.document, theirs.map(|bytes| (bytes, &document)));
        check_size(self.kind, self.path, &bytes)?;
        self.remember(document);
        self.candidate = Version { bytes, document: merged.document };
        Ok(())
    }

    /// Adds a version to the known ones, forgetting the oldest past [`KNOWN_VERSIONS`].
    fn remember(&mut self, document: Map<String, Value>) {
        if self.known.len() == KNOWN_VERSIONS {
            self.known.remove(0);
        }
        self.known.push(document);
    }

    fn write_error(&self, source: std::io::Error) -> AuthFileError {
        AuthFileError::Write { kind: self.kind, source, path: self.path.to_path_buf() }
    }
}

/// Exchanges another program's file back into place; out comes this save's file (removed with
/// `displaced`). When what comes out is instead a newer write of that program's, renamed over this
/// save's file in the meantime, the newer one goes back in place.
fn put_back(placed: &Placed, mut displaced: Displaced) -> std::io::Result<()> {
    if displaced.exchange_back().is_err() {
        return displaced.rename_back();
    }
    if !displaced.is(placed)? {
        displaced.rename_back()?;
    }
    Ok(())
}

/// Refuses to write a file larger than regcred reads back.
fn check_size(kind: FileKind, path: &Path, bytes: &[u8]) -> Result<(), AuthFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        let reason = JsonShapeError::TooLarge(bytes.len());
        return Err(AuthFileError::WouldBeTooLarge { kind, reason, path: path.to_path_buf() });
    }
    Ok(())
}
