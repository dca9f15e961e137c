//! What every panel reads: the environment, the files found and loaded, which one is shown, the
//! keychain's state and the user names of its items, and the handles background jobs need.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui;

use crate::auth_files::{AuthFile, AuthFileError, Env, SourceFile, SourceStatus, Sources};
use crate::keychain::KeychainState;

/// Opens the store behind a helper name (the real keychain and helpers, or a test store).
pub type Opener =
    Arc<dyn Fn(&str) -> Result<Box<dyn crate::keychain::SecretStore>, crate::keychain::KeychainError> + Send + Sync>;

/// The window's view of the user's credential files.
pub struct Workspace {
    /// Where the files are.
    pub env: Env,
    /// The runtime jobs run on.
    pub runtime: tokio::runtime::Handle,
    /// The stores behind helper names.
    pub opener: Opener,
    /// Wakes the window when a job ends.
    pub repaint: egui::Context,
    /// Whether native file dialogs may open (not in tests).
    pub native_dialogs: bool,
    /// The files, as last loaded (shared with jobs).
    pub sources: Arc<Sources>,
    /// Which file is shown.
    pub file_index: usize,
    /// Bumped at every load: caches key on it.
    pub generation: u64,
    /// The keychain's state, once probed.
    pub keychain: Option<KeychainState>,
    /// Files opened by path (Open file…): listed beside the user's own, never in their place.
    pub opened: Vec<std::path::PathBuf>,
    /// The keychain's items: server → user name (for rows of keychain stubs).
    pub keychain_users: Option<HashMap<String, String>>,
}

impl Workspace {
    /// The source shown.
    pub fn shown(&self) -> Option<&SourceFile> {
        self.sources.files.get(self.file_index)
    }

    /// The file shown, when it loaded.
    pub fn file(&self) -> Option<&AuthFile> {
        self.shown().and_then(SourceFile::file)
    }

    /// The file shown as a save starts from it: loaded, or empty when it does not exist yet (the
    /// first save creates it). `Err` when it exists but cannot be used.
    pub fn file_to_edit(&self) -> Result<AuthFile, String> {
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
    pub fn keychain_available(&self) -> bool {
        self.keychain == Some(KeychainState::Available)
    }
}
