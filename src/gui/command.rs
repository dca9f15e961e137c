//! What the user can ask for: panels push a [`Command`]; the app applies it after the frame
//! (see `actions/`). Its own file, so panels depend on it and not on the app.

use std::path::PathBuf;

use crate::auth_files::ConflictPolicy;
use crate::credentials::Orphan;

/// Something the user asked for; applied after the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Show another of the files found.
    SelectFile(usize),
    /// Choose a file to open (dialog or path field).
    AskOpenFile,
    /// Open this file.
    OpenFile(PathBuf),
    /// Read the files again.
    Reload,
    /// Open an entry in the editor.
    Select(String),
    /// Save a new entry over the existing entry of its registry (after confirmation).
    SaveReplacing,
    /// Start a new entry (Ctrl+N).
    NewEntry,
    /// Start a new entry with the open one's user name, secret and email.
    Duplicate,
    /// Drop a new entry.
    CancelNew,
    /// Ask to remove an entry.
    AskRemove(String),
    /// Remove it (after confirmation).
    Remove(String),
    /// Ask to move every plaintext secret of the file into the keychain.
    AskMigrate,
    /// Move them (after confirmation).
    Migrate,
    /// Look for orphans.
    FindOrphans,
    /// Ask before applying an orphan's fix.
    AskFixOrphan(Orphan),
    /// Apply it.
    FixOrphan(Orphan),
    /// Test one registry of the list (its remembered image, or its login).
    TestRow(String),
    /// Test every registry of the list.
    TestAll,
    /// Ctrl+T: the open registry's test pull, or the row under the list cursor.
    TestSelected,
    /// Save the editor's entry.
    Save,
    /// Save it with its secret in plaintext, the user having seen that choice.
    SavePlaintext,
    /// Keep the secret in the keychain instead: the key without its path (the whole registry).
    SaveWholeRegistry,
    /// Show a tab of the detail pane.
    ShowTab(Tab),
    /// Show the Login tab with the cursor in the field an answer says to fix.
    Fix(FixField),
    /// Save again, settling a conflict with another program's write.
    SaveWith(ConflictPolicy),
    /// Save, then do this.
    SaveThen(Box<Command>),
    /// Drop the editor's changes, then do this.
    DiscardThen(Box<Command>),
    /// Drop the editor's changes.
    Revert,
    /// Test-pull the image typed for the open registry.
    TestPull,
    /// Stop it.
    CancelPull,
    /// Export the YAML (through the save dialog, or to a path).
    Export(Option<PathBuf>),
    /// Export over an existing file (after confirmation).
    ExportReplace(PathBuf),
    /// Copy the Kubernetes tab's YAML (Ctrl+Shift+C).
    CopyYaml,
    /// "Apply to cluster…": the API server's dry run of the Kubernetes tab's Secret.
    PlanApply,
    /// Apply the plan shown; `force`: plan again taking over another manager's fields.
    Apply {
        /// Take over fields another manager owns (`--force-conflicts`).
        force: bool,
    },
    /// Drop the plan shown.
    CancelApply,
    /// Verify in cluster: the test Pod with the Test pull tab's image.
    Verify,
    /// Stop it (the Pod is deleted).
    CancelVerify,
    /// Delete the test Pods earlier runs left.
    CleanupTestPods,
    /// Tell the user something.
    Toast(String),
    /// Quit (asks first about unsaved changes).
    Quit,
}

/// The detail pane's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// Preset, server, user, password, email, store.
    #[default]
    Login,
    /// Image, quick/full, platform, runtime.
    TestPull,
    /// The Secret and its companions.
    Kubernetes,
}

impl Tab {
    /// Its name on the tab.
    pub fn label(self) -> &'static str {
        match self {
            Self::Login => "Login",
            Self::TestPull => "Test pull",
            Self::Kubernetes => "Kubernetes",
        }
    }
}

/// A field an answer can send the user to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixField {
    /// The server (Login).
    Server,
    /// The user name (Login).
    Username,
    /// The password (Login).
    Password,
    /// Where the secret lives (Login).
    Store,
    /// The image (Test pull).
    Image,
}

impl FixField {
    /// The tab the field is on.
    pub fn tab(self) -> Tab {
        if self == Self::Image { Tab::TestPull } else { Tab::Login }
    }
}
