//! Crash-safe file replacement: the one way regcred writes a file that matters.
//!
//! A write goes to a temp file in the target's own directory, is flushed to disk, given the
//! old file's mode and owner, renamed over the target, and the directory is flushed too. A
//! crash at any moment leaves either the old or the new file, never a mix. Symlinks are
//! followed (the link's target is replaced, the link stays). Writers that go through
//! `lock_dir` are serialized, so a read-merge-write cycle is not interleaved with another.
//!
//! Writers that take no lock (Docker, Podman) are met with `Prepared::swap_in`: on Linux the
//! new file is exchanged with the target in one step (`renameat2(RENAME_EXCHANGE)`), so what it
//! displaced is not gone but lies at the temp path for the caller to look at (`Displaced`).
//! Elsewhere, and on file systems without the exchange, it is a plain rename.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Mode for files regcred creates and for files it tightens.
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode for directories regcred creates.
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
/// Most symlink hops followed before giving up (as the kernel's `ELOOP` limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// What a write changed besides the content, for the user to be told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteNotes {
    /// The old mode, when it let group or others read the file and was tightened to 0600.
    pub tightened_from: Option<u32>,
    /// Whether the file did not exist before.
    pub created: bool,
}

/// Follows a chain of symlinks to the path that really gets written (which may not exist yet).
pub(crate) fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Reads a file, or `None` when it does not exist. Anything but a regular file (a FIFO, a socket,
/// a device, a directory) is refused before it is opened: opening a FIFO would wait forever for a
/// writer.
pub(crate) fn read_if_exists(path: &Path, limit: usize) -> io::Result<Option<Vec<u8>>> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(not_a_regular_file(&meta)),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let mut bytes = Vec::new();
    // Read one byte past the limit so an oversized file is detected without reading it all.
    io::Read::read_to_end(&mut io::Read::take(file, limit as u64 + 1), &mut bytes)?;
    Ok(Some(bytes))
}

/// Reads a small file that must exist (a CA certificate, a client key), refusing anything but a
/// regular file and anything larger than `limit`.
pub(crate) fn read_regular(path: &Path, limit: usize) -> io::Result<Vec<u8>> {
    let bytes = read_if_exists(path, limit)?.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
    if bytes.len() > limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

/// The error for a path that is not a regular file, naming what it is.
fn not_a_regular_file(meta: &fs::Metadata) -> io::Error {
    let kind = if meta.is_dir() { "a directory" } else { special_file_kind(meta) };
    io::Error::new(io::ErrorKind::InvalidInput, format!("it is {kind}, not a regular file"))
}

#[cfg(unix)]
fn special_file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let file_type = meta.file_type();
    if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_meta: &fs::Metadata) -> &'static str {
    "a special file"
}

/// Creates `dir` and its missing parents with mode 0700.
pub(crate) fn create_private_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir)
}

/// An exclusive advisory lock on the directory that holds `target`, released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the writers' lock for `target` (already symlink-resolved), creating its directory.
pub(crate) fn lock_dir(target: &Path) -> io::Result<DirLock> {
    let dir = parent_dir(target);
    create_private_dirs(dir)?;
    #[cfg(unix)]
    let file = File::open(dir)?;
    #[cfg(not(unix))]
    let file = fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(".regcred.lock"))?;
    file.lock()?;
    Ok(DirLock { _file: file })
}

/// Replaces `target` (already symlink-resolved) with `bytes`, atomically and durably.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<WriteNotes> {
    prepare(target, bytes)?.commit()
}

/// Writes `bytes` to `target` atomically as a private copy of `original` (a backup): mode 0600,
/// and the owner and group of `original`, so a backup made by root of a user's file (`sudo
/// regcred login`) is the user's to read and delete, as the file itself is.
pub(crate) fn write_private_copy(target: &Path, bytes: &[u8], original: &fs::Metadata) -> io::Result<WriteNotes> {
    let prepared = prepare(target, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, fchown};
        let file = prepared.temp.as_file();
        let meta = file.metadata()?;
        if meta.uid() != original.uid() || meta.gid() != original.gid() {
            fchown(file, Some(original.uid()), Some(original.gid()))?;
        }
        file.set_permissions(fs::Permissions::from_mode(PRIVATE_FILE_MODE))?;
    }
    #[cfg(not(unix))]
    let _ = original;
    prepared.commit()
}

/// Whether [`write_private`] may replace a file that is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse (the CLI without `--force`; the window before the user confirmed).
    Refuse,
    /// Replace it.
    Replace,
}

/// Why [`write_private`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum PrivateWriteError {
    /// The file exists and replacing it was not allowed.
    #[error("the file exists (overwrite it only when you mean to): {}", path.display())]
    Exists {
        /// The file, `~` expanded.
        path: PathBuf,
    },
    /// Writing failed; nothing was changed.
    #[error("cannot write the file: {source}: {}", path.display())]
    Io {
        /// The I/O error.
        source: io::Error,
        /// The file, `~` expanded.
        path: PathBuf,
    },
}

/// `path` with a leading `~` (or `~/…`) replaced by `home`, made absolute against the current
/// directory: what a user typing `~/pull.yaml` means, and what a message should show.
pub(crate) fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    let text = path.to_string_lossy();
    let expanded = match (text.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
        _ => path.to_path_buf(),
    };
    std::path::absolute(&expanded).unwrap_or(expanded)
}

/// Writes a file that holds credentials (an exported pull Secret): `~` expanded, atomically,
/// mode 0600 even when it replaces a file, and only over an existing file when `overwrite`
/// allows. Returns the absolute path written. The one writer of such files, for every face.
pub fn write_private(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
    home: Option<&Path>,
) -> Result<PathBuf, PrivateWriteError> {
    let path = expand_home(path, home);
    let io_error = |source| PrivateWriteError::Io { source, path: path.clone() };
    if overwrite == Overwrite::Refuse && fs::symlink_metadata(&path).is_ok() {
        return Err(PrivateWriteError::Exists { path });
    }
    let target = resolve_symlinks(&path).map_err(io_error)?;
    if fs::metadata(&target).is_ok_and(|meta| !meta.is_file()) {
        return Err(io_error(io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file")));
    }
    let prepared = prepare(&target, bytes).map_err(io_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        prepared.temp.as_file().set_permissions(fs::Permissions::from_mode(PRIVATE_FILE_MODE)).map_err(io_error)?;
    }
    prepared.commit().map_err(io_error)?;
    Ok(path)
}

/// A replacement written, given the old file's mode and owner and flushed to disk, waiting only
/// for the rename over its target. Dropping it removes the temp file and changes nothing.
#[derive(Debug)]
pub struct Prepared {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
    notes: WriteNotes,
}

/// Does every slow part of a write (temp file, content, metadata, `fsync`) so that what is left
/// — [`Prepared::commit`] — is a rename: the moment another program's write could be overtaken
/// shrinks to the time between a last look at the file and that rename.
pub(crate) fn prepare(target: &Path, bytes: &[u8]) -> io::Result<Prepared> {
    let dir = parent_dir(target);
    create_private_dirs(dir)?;
    let file_name = target.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let prefix = temp_prefix(file_name);
    remove_stale_temps(dir, &prefix);
    let old_meta = match fs::metadata(target) {
        Ok(meta) => Some(meta),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let mut temp = tempfile::Builder::new().prefix(&prefix).suffix(".tmp").tempfile_in(dir)?;
    temp.write_all(bytes)?;
    let notes = copy_metadata(temp.as_file(), old_meta.as_ref())?;
    temp.as_file().sync_all()?;
    Ok(Prepared { temp, target: target.to_path_buf(), notes })
}

impl Prepared {
    /// Renames the prepared file over its target and flushes the directory.
    pub(crate) fn commit(self) -> io::Result<WriteNotes> {
        Ok(self.rename_in()?.notes)
    }

    /// Renames the prepared file over its target, flushes the directory, and keeps the file open
    /// to tell later whether it is still the one there ([`Placed::is_still_at`]).
    pub(crate) fn rename_in(self) -> io::Result<Placed> {
        let (file, path) = self.temp.into_parts();
        path.persist(&self.target).map_err(|e| e.error)?;
        sync_dir(parent_dir(&self.target))?;
        Ok(Placed { file, notes: self.notes })
    }

    /// Puts the prepared file in place without overwriting anything: exchanged with the target in
    /// one step where there is one, renamed in (refusing to replace) where there is none. Where the
    /// system or file system cannot do either (not Linux; `EINVAL`, `ENOSYS`, `EOPNOTSUPP`), nothing
    /// is done and the caller falls back to [`Prepared::rename_in`].
    pub(crate) fn swap_in(self) -> io::Result<Swap> {
        // The target may appear or vanish between a look and the call: try the other way then.
        let mut how = if fs::symlink_metadata(&self.target).is_ok() { How::Exchange } else { How::NoReplace };
        for tries in 1.. {
            let error = match rename_with(self.temp.path(), &self.target, how) {
                Ok(true) => break,
                Ok(false) => return Ok(Swap::Unsupported(self)),
                Err(error) => error,
            };
            how = match (how, error.kind()) {
                (How::Exchange, io::ErrorKind::NotFound) if tries < MAX_SWAP_TRIES => How::NoReplace,
                (How::NoReplace, io::ErrorKind::AlreadyExists) if tries < MAX_SWAP_TRIES => How::Exchange,
                _ => return Err(error),
            };
        }
        let (file, path) = self.temp.into_parts();
        let placed = Placed { file, notes: self.notes };
        Ok(match how {
            // Not flushed yet: the caller looks at the displaced file first, and either undoes
            // the exchange at once or keeps it (`Displaced::finish`).
            How::Exchange => Swap::Exchanged(placed, Displaced { path, target: self.target }),
            How::NoReplace => {
                sync_dir(parent_dir(&self.target))?;
                // Nothing is left at the temp path: it must not be removed later (another file
                // could have taken the name).
                let _ = path.keep();
                Swap::Created(placed)
            }
        })
    }
}

/// How often [`Prepared::swap_in`] switches between exchange and create when the target keeps
/// appearing and vanishing.
const MAX_SWAP_TRIES: usize = 4;

/// What [`Prepared::swap_in`] did.
#[derive(Debug)]
pub(crate) enum Swap {
    /// The new file and the target were exchanged: the new file is in place, and what was there
    /// is at the temp path.
    Exchanged(Placed, Displaced),
    /// There was no target: the new file was renamed in, replacing nothing.
    Created(Placed),
    /// The exchange is not available here; nothing was done.
    Unsupported(Prepared),
}

/// A file regcred put in place, kept open: whether the target is still this file can be asked
/// later, and its inode cannot be reused by another file meanwhile.
#[derive(Debug)]
pub struct Placed {
    file: File,
    /// Mode changes and creation.
    pub notes: WriteNotes,
}

impl Placed {
    /// Whether `target` is still the file this write put there (same device and inode), not a
    /// file another program renamed over it since.
    pub(crate) fn is_still_at(&self, target: &Path) -> io::Result<bool> {
        let ours = self.file.metadata()?;
        match fs::metadata(target) {
            Ok(now) => Ok(same_file(&ours, &now)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(error),
        }
    }
}

/// The file a [`Prepared::swap_in`] displaced, at the temp path; removed when dropped. Until
/// [`Displaced::finish`] or [`Displaced::exchange_back`], the exchange is not flushed to disk.
#[derive(Debug)]
pub(crate) struct Displaced {
    path: tempfile::TempPath,
    target: PathBuf,
}

impl Displaced {
    /// Its identity (see [`Identity::same_file_unchanged`]: the exchange moved its change time on).
    pub(crate) fn identity(&self) -> io::Result<Identity> {
        Ok(identity_of(&fs::metadata(&self.path)?))
    }

    /// Whether it is `placed` (after [`Displaced::exchange_back`]: whether what came out is the
    /// file this write put in).
    pub(crate) fn is(&self, placed: &Placed) -> io::Result<bool> {
        placed.is_still_at(&self.path)
    }

    /// Its content (refused past `limit` bytes, as [`read_if_exists`]).
    pub(crate) fn read(&self, limit: usize) -> io::Result<Vec<u8>> {
        read_if_exists(&self.path, limit)?.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    /// Exchanges it back into place (whole, with its own inode and metadata). What was at the
    /// target then lies at the temp path in its turn, removed when this is dropped.
    pub(crate) fn exchange_back(&mut self) -> io::Result<()> {
        match rename_with(&self.path, &self.target, How::Exchange) {
            Ok(true) => sync_dir(parent_dir(&self.target)),
            Ok(false) => Err(io::Error::from(io::ErrorKind::Unsupported)),
            Err(error) => Err(error),
        }
    }

    /// Keeps the exchange: flushes the directory, then removes the displaced file.
    pub(crate) fn finish(self) -> io::Result<()> {
        sync_dir(parent_dir(&self.target))?;
        self.path.close()
    }

    /// Renames it over the target (replacing what is there) and flushes the directory.
    pub(crate) fn rename_back(self) -> io::Result<()> {
        self.path.persist(&self.target).map_err(|e| e.error)?;
        sync_dir(parent_dir(&self.target))
    }
}

/// The two ways [`rename_with`] renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// `RENAME_EXCHANGE`: both names must exist; their files trade places.
    Exchange,
    /// `RENAME_NOREPLACE`: fails with `AlreadyExists` rather than replace a file.
    NoReplace,
}

/// `renameat2(from, to, how)`; `Ok(false)` where this system or file system cannot do it.
#[cfg(target_os = "linux")]
fn rename_with(from: &Path, to: &Path, how: How) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    let flags = match how {
        How::Exchange => RenameFlags::EXCHANGE,
        How::NoReplace => RenameFlags::NOREPLACE,
    };
    match renameat_with(CWD, from, CWD, to, flags) {
        Ok(()) => Ok(true),
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// No exchange outside Linux: callers fall back to a plain rename.
#[cfg(not(target_os = "linux"))]
fn rename_with(_from: &Path, _to: &Path, _how: How) -> io::Result<bool> {
    Ok(false)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// What tells one version of a file from another without reading it: device, inode, size,
/// modification and change times. Any writer — one that renames a new file into place as Docker
/// does, or one that rewrites in place — changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Device, inode, size, modification time: what a rename leaves as it is.
    file: Vec<i128>,
    /// The change time, which a rename (an exchange too) moves on.
    changed: Vec<i128>,
}

impl Identity {
    /// Whether `other` is the same file, unchanged, maybe renamed since (the change time is not
    /// compared: a rename moves it on).
    pub(crate) fn same_file_unchanged(&self, other: &Self) -> bool {
        self.file == other.file
    }
}

/// The identity of the file at `path` now, or `None` when there is none.
pub fn identity(path: &Path) -> io::Result<Option<Identity>> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(identity_of(&meta))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn identity_of(meta: &fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt as _;
    let file = [meta.dev(), meta.ino(), meta.size()].map(i128::from).into_iter();
    let modified = [meta.mtime(), meta.mtime_nsec()].map(i128::from);
    let changed = [meta.ctime(), meta.ctime_nsec()].map(i128::from);
    Identity { file: file.chain(modified).collect(), changed: changed.to_vec() }
}

#[cfg(not(unix))]
fn identity_of(meta: &fs::Metadata) -> Identity {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let modified = modified.map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(0));
    Identity { file: vec![i128::from(meta.len()), modified], changed: Vec::new() }
}

/// The prefix of temp files for `file_name`; leftovers from a crash are recognised by it.
pub(crate) fn temp_prefix(file_name: &str) -> String {
    format!(".{file_name}.regcred-")
}

fn parent_dir(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Removes temp files a killed writer left. Callers hold the directory lock.
fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(listing) = fs::read_dir(dir) else { return };
    for item in listing.flatten() {
        let name = item.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".tmp") {
            let _ = fs::remove_file(item.path());
        }
    }
}

#[cfg(unix)]
fn copy_metadata(temp: &File, old: Option<&fs::Metadata>) -> io::Result<WriteNotes> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, fchown};
    let Some(old) = old else {
        temp.set_permissions(fs::Permissions::from_mode(PRIVATE_FILE_MODE))?;
        return Ok(WriteNotes { tightened_from: None, created: true });
    };
    let old_mode = old.mode() & 0o7777;
    let readable_by_others = old_mode & 0o077 != 0;
    let mode = if readable_by_others { PRIVATE_FILE_MODE } else { old_mode };
    let temp_meta = temp.metadata()?;
    if temp_meta.uid() != old.uid() || temp_meta.gid() != old.gid() {
        fchown(temp, Some(old.uid()), Some(old.gid()))?;
    }
    temp.set_permissions(fs::Permissions::from_mode(mode))?;
    Ok(WriteNotes { tightened_from: readable_by_others.then_some(old_mode), created: false })
}

#[cfg(not(unix))]
fn copy_metadata(_temp: &File, old: Option<&fs::Metadata>) -> io::Result<WriteNotes> {
    Ok(WriteNotes { tightened_from: None, created: old.is_none() })
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
