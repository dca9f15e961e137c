//! What every panel reads: the environment, the files found and loaded, which one is shown, the
//! keychain's state and the user names of its items, and the handles background jobs need.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui;

use crate::auth_files::{AuthFile, AuthFileError, Env, SourceFile, SourceStatus, Sources};
use crate::keychain::{KeychainError, KeychainState};

/// Opens the store behind a helper name (the real keychain and helpers, or a test store).
pub type Opener =
    Arc<dyn Fn(&str) -> Result<Box<dyn crate::keychain::SecretStore>, crate::keychain::KeychainError> + Send + Sync>;

/// The window's view of the user's credential files.
pub(super) struct Workspace {
    /// Where the files are.
    pub(crate) env: Env,
    /// The runtime jobs run on.
    pub(crate) runtime: tokio::runtime::Handle,
    /// The stores behind helper names.
    pub(crate) opener: Opener,
    /// Wakes the window when a job ends.
    pub(crate) repaint: egui::Context,
    /// Whether native file dialogs may open (not in tests).
    pub(crate) native_dialogs: bool,
    /// The files, as last loaded (shared with jobs).
    pub(crate) sources: Arc<Sources>,
    /// Which file is shown.
    pub(crate) file_index: usize,
    /// Bumped at every load: caches key on it.
    pub(crate) generation: u64,
    /// The keychain's state, once probed.
    pub(crate) keychain: Option<KeychainState>,
    /// Files opened by path (Open file…): listed beside the user's own, never in their place.
    pub(crate) opened: Vec<std::path::PathBuf>,
    /// The keychain's items: server → user name (for rows of keychain stubs).
    pub(crate) keychain_users: Option<HashMap<String, String>>,
}

impl Workspace {
    /// The source shown.
    pub(super) fn shown(&self) -> Option<&SourceFile> {
        self.sources.files.get(self.file_index)
    }

    /// The file shown, when it loaded.
    pub(super) fn file(&self) -> Option<&AuthFile> {
        self.shown().and_then(SourceFile::file)
    }

    /// The file shown as a save starts from it: loaded, or empty when it does not exist yet (the
    /// first save creates it). `Err` when it exists but cannot be used.
    pub(super) fn file_to_edit(&self) -> Result<AuthFile, String> {
        let Some(shown) = self.shown() else {
            return Err("No credential file to write to (HOME is not set)".to_owned());
        };
        match &shown.status {
            SourceStatus::Loaded(file) => Ok((**file).clone()),
            SourceStatus::Missing => {
                AuthFile::load(&shown.path, shown.kind).map_err(|e: AuthFileError| format!("{e:#}"))
            }
            SourceStatus::Failed(error) => Err(format!("{error:#}")),
        }
    }

    /// Whether the keychain can be used now.
    pub(super) fn keychain_available(&self) -> bool {
        self.keychain == Some(KeychainState::Available)
    }
}

/// A store error in words a user can act on (the daemon's own words only as the detail).
pub(super) fn keychain_error_advice(error: &KeychainError) -> String {
    match error {
        KeychainError::Unavailable { .. } => {
            "The OS keychain is not available (no Secret Service is running): start or install one (GNOME Keyring, KeePassXC, KWallet), or store the secret in the file.".to_owned()
        }
        KeychainError::Locked { .. } => "The OS keychain is locked: unlock it (log in to the desktop, or open your keyring app) and save again.".to_owned(),
        other => other.to_string(),
    }
}

/// What the keychain's state means for the user, and what to do.
pub fn keychain_advice(state: &KeychainState) -> String {
    match state {
        KeychainState::Available => "The OS keychain is available.".to_owned(),
        KeychainState::Locked(_) => {
            "The OS keychain is locked: unlock it (log in to the desktop, or open your keyring app).".to_owned()
        }
        KeychainState::Absent(_) => {
            "No OS keychain is running (no Secret Service): start or install one (GNOME Keyring, KeePassXC, KWallet)."
                .to_owned()
        }
        KeychainState::NotAnswering(_) => {
            "The OS keychain does not answer (its daemon may be stopped or hung): restart it, or log out and in."
                .to_owned()
        }
    }
}
