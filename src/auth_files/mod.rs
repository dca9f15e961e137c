//! The three credential-file formats — Docker's `config.json`, the legacy `~/.dockercfg` and
//! Podman's `auth.json` — as one editable model that never loses a byte it does not understand.
//!
//! * [`AuthFile`] loads a file, exposes its entries as decoded [`Entry`] views, edits them on
//!   typed values, and saves atomically, merging another program's concurrent write entry by
//!   entry ([`ConflictPolicy`]).
//! * [`ServerKey`] validates and normalizes registry keys (`docker.io` ↔
//!   `https://index.docker.io/v1/`, Podman's `host/namespace` scopes).
//! * [`Sources`] finds which files exist for the current user and loads each one.

mod entry;
mod file;
mod json_edit;
mod json_format;
mod legacy;
mod merge;
mod server_key;
mod sources;

use std::path::PathBuf;

pub use entry::{Entry, EntryProblem, encode_auth};
pub use file::{AuthFile, FileKind, KindEvidence, SaveReport, backup_path, parse_server};
/// The save's stages and methods, for the tests' and the benchmark's hooks.
#[cfg(feature = "test-support")]
pub use file::{SaveMethod, SaveStage};
pub use json_format::{JsonShapeError, MAX_FILE_BYTES, to_go_indented};
pub use merge::{ConflictPolicy, Merged, merge};
pub use server_key::{ServerKey, ServerKeyError};
pub use sources::{Env, PodmanChain, SourceFile, SourceStatus, Sources};

/// Errors of loading, editing and saving credential files. Paths come last in the text.
#[derive(Debug, thiserror::Error)]
pub enum AuthFileError {
    /// The file could not be read.
    #[error("cannot read the {kind}: {source}: {}", path.display())]
    Read {
        /// Format of the file.
        kind: FileKind,
        /// The I/O error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// The file is not a usable credential file; nothing was or will be written to it.
    #[error("the {kind} cannot be used ({reason}); it was left untouched: {}", path.display())]
    Malformed {
        /// Format of the file.
        kind: FileKind,
        /// What is wrong.
        reason: JsonShapeError,
        /// The file.
        path: PathBuf,
    },
    /// The file could not be written; the old content is still in place.
    #[error("cannot save the {kind}, the file on disk is unchanged: {source}: {}", path.display())]
    Write {
        /// Format of the file.
        kind: FileKind,
        /// The I/O error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// Another program changed the same entries; nothing was written.
    #[error(
        "another program changed the same entries of the {kind} since it was loaded ({}); nothing was written: {}",
        entries.join(", "),
        path.display()
    )]
    Conflict {
        /// Format of the file.
        kind: FileKind,
        /// The conflicting units (`auths › registry`).
        entries: Vec<String>,
        /// The file.
        path: PathBuf,
    },
    /// regcred's file was in place, but another program replaced it right after with its own
    /// version, which changes the same entries: regcred's change is not in the file.
    #[error(
        "regcred saved the {kind}, but another program replaced it right after with a version that changes the same entries ({}); regcred's change is not in the file: {}",
        entries.join(", "),
        path.display()
    )]
    Overwritten {
        /// Format of the file.
        kind: FileKind,
        /// The entries both changed (`auths › registry`).
        entries: Vec<String>,
        /// The file.
        path: PathBuf,
    },
    /// The edited file would be larger than regcred reads back; nothing was written.
    #[error("cannot save the {kind}: {reason}; the file on disk is unchanged: {}", path.display())]
    WouldBeTooLarge {
        /// Format of the file.
        kind: FileKind,
        /// The size problem.
        reason: JsonShapeError,
        /// The file.
        path: PathBuf,
    },
    /// Another program rewrote the file again and again while regcred was saving.
    #[error(
        "cannot save the {kind}: another program rewrote it {attempts} times while regcred was saving; regcred's change is not in the file, try again: {}",
        path.display()
    )]
    KeptChanging {
        /// Format of the file.
        kind: FileKind,
        /// How many times regcred merged again.
        attempts: u32,
        /// The file.
        path: PathBuf,
    },
    /// A registry key that does not parse.
    #[error("{key:?} is not a registry key: {why}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it does not parse (in the message itself, so an error chain does not say it twice).
        why: ServerKeyError,
    },
    /// The registry already has an entry (under this or another spelling).
    #[error("this registry already has an entry, {existing:?}")]
    EntryExists {
        /// The existing key.
        existing: String,
    },
    /// No entry under that key.
    #[error("there is no entry {key:?}")]
    NoEntry {
        /// The key looked for.
        key: String,
    },
    /// A user name Docker could not store.
    #[error("the user name cannot be used: {0}")]
    InvalidUsername(&'static str),
}
