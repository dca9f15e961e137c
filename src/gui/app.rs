//! The application: persisted [`State`], runtime fields, commands applied after each frame,
//! background jobs polled in `logic`. Panels live in their own files.

use eframe::egui;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth_files::{AuthFile, Entry, Env, SourceFile, Sources, parse_server};
use crate::credentials::{self, StoreChoice};
use crate::keychain::{Credential, KeychainError, KeychainState, KeyringStore, SecretStore};
use crate::registry::{BlobProgress, PullOptions, PullReport, Puller};
use crate::resolve::{SecretHome, secret_home};
use crate::secret::Secret;
use zeroize::Zeroizing;

use super::jobs::Slot;
use super::state::State;

/// Opens the store behind a helper name (the real keychain and helpers, or a test store).
pub type Opener = Arc<dyn Fn(&str) -> Result<Box<dyn SecretStore>, KeychainError> + Send + Sync>;

/// Something the user asked for; applied after the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Show another file.
    SelectFile(usize),
    /// Open an entry in the editor.
    Select(String),
    /// Start a new entry.
    NewEntry,
    /// Start a new entry with the selected one's user name, secret and email.
    Duplicate,
    /// Ask to move every plaintext secret of the file into the keychain.
    AskMigrate,
    /// Move them (after confirmation).
    Migrate,
    /// Look for orphans (stubs without a secret, keychain items without an entry).
    FindOrphans,
    /// Apply an orphan's fix.
    FixOrphan(crate::credentials::Orphan),
    /// Ask to remove an entry.
    AskRemove(String),
    /// Remove it (after confirmation).
    Remove(String),
    /// Save the editor's entry.
    Save,
    /// Drop the editor's changes.
    Revert,
    /// Test-pull the image of the selected registry.
    TestPull,
    /// Stop the running test pull.
    CancelPull,
    /// Save again, settling a conflict with another program's write.
    SaveWith(crate::auth_files::ConflictPolicy),
    /// Export the YAML preview (to a path, or through the save dialog).
    Export(Option<PathBuf>),
    /// Read the files again.
    Reload,
}

/// Where the editor will put the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// regcred's keychain.
    Keychain,
    /// An existing helper.
    Helper(String),
    /// Plaintext in the file.
    File,
}

/// The entry being edited.
pub struct Draft {
    /// The entry's key in the file (`None` for a new entry).
    pub key: Option<String>,
    /// Server as typed.
    pub server: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: Zeroizing<String>,
    /// Email.
    pub email: String,
    /// Where the secret goes on save.
    pub store: StoreKind,
    /// The values as loaded, for the unsaved marker and Revert.
    pub loaded: (String, String, Zeroizing<String>, String, StoreKind),
    /// Whether the secret is still being read from its store.
    pub secret_loading: bool,
    /// Why the secret could not be read, if so.
    pub secret_error: Option<String>,
}

impl Draft {
    /// Whether the editor differs from what was loaded.
    pub fn dirty(&self) -> bool {
        let (server, username, password, email, store) = &self.loaded;
        self.key.is_none()
            || *server != self.server
            || *username != self.username
            || **password != *self.password
            || *email != self.email
            || *store != self.store
    }
}

/// A notification in the corner.
pub struct Toast {
    /// When it appeared.
    pub since: Instant,
    /// The text.
    pub text: String,
    /// Whether it reports an error.
    pub error: bool,
}

/// The regcred window.
#[expect(clippy::struct_excessive_bools, reason = "independent view toggles, each with its own widget")]
pub struct App {
    /// Persisted settings.
    pub state: State,
    pub(super) env: Env,
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) opener: Opener,
    pub(super) use_native_dialog: bool,
    pub(super) files: Vec<SourceFile>,
    pub(super) file_index: usize,
    pub(super) draft: Option<Draft>,
    pub(super) commands: Vec<Command>,
    pub(super) load_job: Slot<Sources>,
    pub(super) save_job: Slot<Result<(String, String), SaveFailure>>,
    pub(super) conflict: Option<String>,
    /// The title last sent to the window system (sent again only when it changes).
    pub(super) shown_title: Option<String>,
    pub(super) orphans_job: Slot<Result<Vec<crate::credentials::Orphan>, String>>,
    pub(super) orphans: Option<Vec<crate::credentials::Orphan>>,
    pub(super) secret_job: Slot<(String, Result<Option<Credential>, String>)>,
    pub(super) pull_job: Slot<PullReport>,
    pub(super) export_job: Slot<Result<Option<PathBuf>, String>>,
    pub(super) keychain_job: Slot<KeychainState>,
    pub(super) keychain: Option<KeychainState>,
    pub(super) puller: Arc<Puller>,
    pub(super) pull_cancel: Arc<AtomicBool>,
    pub(super) pull_progress: Arc<Mutex<Vec<BlobProgress>>>,
    pub(super) results: HashMap<String, PullReport>,
    pub(super) toasts: Vec<Toast>,
    pub(super) reveal_password: bool,
    pub(super) reveal_yaml: bool,
    pub(super) export_path: Option<String>,
    pub(super) confirm_remove: Option<String>,
    pub(super) confirm_migrate: Option<Vec<String>>,
    /// The orphan whose fix waits for the user's confirmation.
    pub(super) confirm_orphan: Option<crate::credentials::Orphan>,
    pub(super) show_help: bool,
    pub(super) select_after_load: Option<String>,
    pub(super) repaint: egui::Context,
    /// Bumped whenever the files are (re)loaded; the list cache keys on it.
    pub(super) files_generation: u64,
    /// The registry rows of the shown file, filtered: rebuilt only when file or filter change.
    pub(super) list: Vec<ListRow>,
    pub(super) list_for: Option<(usize, u64, String)>,
}

/// One row of the registry list, computed once per file load and filter.
pub struct ListRow {
    /// The entry's key.
    pub key: String,
    /// Its user name.
    pub username: Option<String>,
    /// Where its secret lives, in words.
    pub home: String,
    /// Its problems, in words.
    pub problems: Vec<String>,
}

impl App {
    /// A window over the files `env` points to, with secrets behind `opener`.
    pub fn new(
        ctx: &egui::Context,
        state: State,
        env: Env,
        runtime: tokio::runtime::Handle,
        opener: Opener,
        use_native_dialog: bool,
    ) -> Self {
        let mut app = Self {
            state,
            env,
            runtime,
            opener,
            use_native_dialog,
            files: Vec::new(),
            file_index: 0,
            draft: None,
            commands: vec![Command::Reload],
            load_job: Slot::default(),
            save_job: Slot::default(),
            secret_job: Slot::default(),
            pull_job: Slot::default(),
            export_job: Slot::default(),
            keychain_job: Slot::default(),
            keychain: None,
            puller: Arc::new(Puller::default()),
            pull_cancel: Arc::new(AtomicBool::new(false)),
            pull_progress: Arc::new(Mutex::new(Vec::new())),
            results: HashMap::new(),
            toasts: Vec::new(),
            reveal_password: false,
            reveal_yaml: false,
            export_path: None,
            confirm_remove: None,
            confirm_migrate: None,
            confirm_orphan: None,
            conflict: None,
            shown_title: None,
            orphans_job: Slot::default(),
            orphans: None,
            show_help: false,
            select_after_load: None,
            repaint: ctx.clone(),
            files_generation: 0,
            list: Vec::new(),
            list_for: None,
        };
        app.keychain_job.start(&app.runtime, ctx.clone(), KeyringStore::state);
        app
    }

    /// The file shown, when it loaded.
    pub fn file(&self) -> Option<&AuthFile> {
        self.files.get(self.file_index).and_then(SourceFile::file)
    }

    /// The entries of the file shown, filtered.
    pub fn visible_entries(&self) -> Vec<Entry> {
        let filter = self.state.filter.to_lowercase();
        self.file()
            .map(|file| {
                file.entries()
                    .into_iter()
                    .filter(|e| {
                        filter.is_empty()
                            || e.key.to_lowercase().contains(&filter)
                            || e.username.as_deref().is_some_and(|u| u.to_lowercase().contains(&filter))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The entry being edited.
    pub fn draft(&self) -> Option<&Draft> {
        self.draft.as_ref()
    }

    /// Whether any background job is running.
    pub fn busy(&self) -> bool {
        self.load_job.busy()
            || self.save_job.busy()
            || self.secret_job.busy()
            || self.pull_job.busy()
            || self.export_job.busy()
            || self.keychain_job.busy()
            || self.orphans_job.busy()
    }

    /// Shows `state` as the keychain's state (tests and screenshots fix it; the window probes it).
    pub fn set_keychain_state(&mut self, state: KeychainState) {
        self.keychain = Some(state);
    }

    /// The last test-pull result of a registry.
    pub fn pull_result(&self, key: &str) -> Option<&PullReport> {
        self.results.get(key)
    }

    /// The notifications shown now.
    pub fn toasts(&self) -> Vec<String> {
        self.toasts.iter().map(|t| t.text.clone()).collect()
    }

    /// Rebuilds the list rows when the file, its content or the filter changed.
    pub(super) fn refresh_list(&mut self) {
        let wanted = (self.file_index, self.files_generation, self.state.filter.clone());
        if self.list_for.as_ref() == Some(&wanted) {
            return;
        }
        self.list = match self.file() {
            Some(file) => self
                .visible_entries()
                .into_iter()
                .map(|entry| ListRow {
                    home: crate::resolve::secret_home_of(file, &entry).label().replace('\u{26a0}', "(!)"),
                    problems: entry.problems.iter().map(ToString::to_string).collect(),
                    username: entry.username,
                    key: entry.key,
                })
                .collect(),
            None => Vec::new(),
        };
        self.list_for = Some(wanted);
    }

    /// The title: `regcred — PATH •` (the dot when there are unsaved changes).
    pub fn title(&self) -> String {
        let path = self.files.get(self.file_index).map(|f| f.path.display().to_string());
        let dirty = self.draft.as_ref().is_some_and(Draft::dirty);
        match path {
            Some(path) => format!("regcred — {path}{}", if dirty { " •" } else { "" }),
            None => "regcred".to_owned(),
        }
    }

    pub(super) fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast { since: Instant::now(), text: text.into(), error });
    }

    /// Polls jobs and applies the frame's commands (no painting here).
    pub fn logic(&mut self, ctx: &egui::Context) {
        self.poll_jobs();
        for command in std::mem::take(&mut self.commands) {
            self.apply(command, ctx);
        }
        self.toasts.retain(|t| t.since.elapsed() < Duration::from_secs(6));
        if !self.toasts.is_empty() || self.pull_job.busy() {
            ctx.request_repaint_after(Duration::from_millis(200));
        }
    }

    fn poll_jobs(&mut self) {
        if let Some(state) = self.keychain_job.poll() {
            self.keychain = Some(state);
        }
        if let Some(sources) = self.load_job.poll() {
            self.files = sources.files;
            self.files_generation += 1;
            for source in &self.files {
                if let crate::auth_files::SourceStatus::Failed(error) = &source.status {
                    let text = format!("{error:#}");
                    self.toasts.push(Toast { since: Instant::now(), text, error: true });
                }
            }
            if let Some(last) = &self.state.last_file
                && let Some(index) = self.files.iter().position(|f| &f.path == last)
            {
                self.file_index = index;
            }
            if let Some(key) = self.select_after_load.take() {
                self.commands.push(Command::Select(key));
            }
        }
        if let Some(result) = self.save_job.poll() {
            match result {
                Ok((key, message)) => {
                    self.toast(message, false);
                    self.select_after_load = Some(key);
                    self.start_load();
                }
                Err(SaveFailure::Conflict(message)) => self.conflict = Some(message),
                Err(SaveFailure::Other(error)) => self.toast(error, true),
            }
        }
        if let Some((key, result)) = self.secret_job.poll()
            && let Some(draft) = self.draft.as_mut().filter(|d| d.key.as_deref() == Some(key.as_str()))
        {
            draft.secret_loading = false;
            match result {
                Ok(Some(credential)) => {
                    if draft.username.is_empty() {
                        draft.username.clone_from(&credential.username);
                        draft.loaded.1.clone_from(&credential.username);
                    }
                    credential.secret.expose().clone_into(&mut draft.password);
                    credential.secret.expose().clone_into(&mut draft.loaded.2);
                }
                Ok(None) => draft.secret_error = Some("no secret stored for this registry".to_owned()),
                Err(error) => draft.secret_error = Some(error),
            }
        }
        if let Some(report) = self.pull_job.poll() {
            let verdict = match &report.outcome {
                crate::registry::Outcome::Success(_) => (format!("Test pull succeeded: {}", report.reference), false),
                crate::registry::Outcome::Failure(failure) => (format!("Test pull failed: {}", failure.verdict), true),
            };
            self.toast(verdict.0, verdict.1);
            if let Some(key) = self.draft.as_ref().and_then(|d| d.key.clone()) {
                self.results.insert(key, report);
            }
        }
        if let Some(result) = self.orphans_job.poll() {
            match result {
                Ok(found) => self.orphans = Some(found),
                Err(error) => self.toast(error, true),
            }
        }
        if let Some(result) = self.export_job.poll() {
            match result {
                Ok(Some(path)) => self.toast(format!("Exported (mode 0600): {}", path.display()), false),
                Ok(None) => {
                    self.export_path.get_or_insert_with(String::new);
                    self.toast("No file chosen (or no save dialog here): type a path below Export", false);
                }
                Err(error) => self.toast(error, true),
            }
        }
    }

    fn start_load(&mut self) {
        let env = self.env.clone();
        self.load_job.start(&self.runtime, self.repaint.clone(), move || Sources::discover(&env));
    }

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::Reload => self.start_load(),
            Command::SelectFile(index) => {
                self.file_index = index;
                self.state.last_file = self.files.get(index).map(|f| f.path.clone());
                self.draft = None;
            }
            Command::Select(key) => self.open_entry(&key),
            Command::NewEntry => {
                let store = StoreKind::Keychain;
                self.draft = Some(Draft {
                    key: None,
                    server: String::new(),
                    username: String::new(),
                    password: Zeroizing::new(String::new()),
                    email: String::new(),
                    store: store.clone(),
                    loaded: (String::new(), String::new(), Zeroizing::new(String::new()), String::new(), store),
                    secret_loading: false,
                    secret_error: None,
                });
            }
            Command::Duplicate => {
                if let Some(draft) = self.draft.as_mut() {
                    draft.key = None;
                    draft.server.clear();
                    draft.loaded.0.clear();
                }
            }
            Command::AskMigrate => {
                let plaintext: Vec<String> = self
                    .file()
                    .map(|file| {
                        file.entries()
                            .into_iter()
                            .filter(|e| {
                                crate::resolve::secret_home_of(file, e) == crate::resolve::SecretHome::Plaintext
                            })
                            .map(|e| e.key)
                            .collect()
                    })
                    .unwrap_or_default();
                if plaintext.is_empty() {
                    self.toast("No plaintext secrets in this file", false);
                } else {
                    self.confirm_migrate = Some(plaintext);
                }
            }
            Command::Migrate => self.migrate(),
            Command::FindOrphans => {
                let (env, opener) = (self.env.clone(), self.opener.clone());
                self.orphans_job.start(&self.runtime, self.repaint.clone(), move || {
                    let sources = Sources::discover(&env);
                    let keychain = KeyringStore::open().ok();
                    credentials::orphans(&sources, &*opener, keychain.as_ref()).map_err(|e| e.to_string())
                });
            }
            Command::FixOrphan(orphan) => self.fix_orphan(orphan),
            Command::AskRemove(key) => self.confirm_remove = Some(key),
            Command::Remove(key) => self.remove(key),
            Command::Save => self.save(crate::auth_files::ConflictPolicy::Refuse),
            Command::SaveWith(policy) => {
                self.conflict = None;
                self.save(policy);
            }
            Command::Revert => {
                if let Some(draft) = self.draft.as_mut() {
                    let (server, username, password, email, store) = &draft.loaded;
                    draft.server.clone_from(server);
                    draft.username.clone_from(username);
                    *draft.password = password.to_string();
                    draft.email.clone_from(email);
                    draft.store = store.clone();
                }
            }
            Command::TestPull => self.test_pull(),
            Command::CancelPull => self.pull_cancel.store(true, Ordering::Relaxed),
            Command::Export(path) => self.export(path, ctx),
        }
    }

    fn open_entry(&mut self, key: &str) {
        let Some(file) = self.file() else { return };
        let Some(entry) = file.entry(key) else { return };
        let home = secret_home(file, key);
        let store = match &home {
            SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => StoreKind::Keychain,
            SecretHome::Helper { helper, .. } => StoreKind::Helper(helper.clone()),
            SecretHome::Plaintext | SecretHome::Missing => StoreKind::File,
        };
        let password = Zeroizing::new(entry.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default());
        let username = entry.username.clone().unwrap_or_default();
        let email = entry.email.clone().unwrap_or_default();
        let helper_key = entry.server.as_ref().map(|s| file.helper_key(s));
        let loading = matches!(home, SecretHome::Helper { .. });
        self.draft = Some(Draft {
            key: Some(key.to_owned()),
            server: key.to_owned(),
            username: username.clone(),
            password: password.clone(),
            email: email.clone(),
            store: store.clone(),
            loaded: (key.to_owned(), username, password, email, store),
            secret_loading: loading,
            secret_error: None,
        });
        self.reveal_password = false;
        if let (SecretHome::Helper { helper, .. }, Some(helper_key)) = (home, helper_key) {
            let opener = self.opener.clone();
            let key = key.to_owned();
            self.secret_job.start(&self.runtime, self.repaint.clone(), move || {
                let result = opener(&helper).and_then(|store| store.get(&helper_key)).map_err(|e| e.to_string());
                (key, result)
            });
        }
    }

    fn save(&mut self, policy: crate::auth_files::ConflictPolicy) {
        let (Some(draft), Some(file)) = (self.draft.as_ref(), self.file()) else { return };
        let mut file = file.clone();
        let server = match parse_server(&draft.server) {
            Ok(server) => server,
            Err(error) => return self.toast(format!("{error}"), true),
        };
        let choice = match &draft.store {
            StoreKind::Keychain => StoreChoice::Keychain,
            StoreKind::Helper(name) => StoreChoice::Helper(name.clone()),
            StoreKind::File => StoreChoice::File,
        };
        let credential = Credential { username: draft.username.clone(), secret: Secret::new(draft.password.as_str()) };
        let (old_key, email) = (draft.key.clone(), draft.email.clone());
        let opener = self.opener.clone();
        let started = self.save_job.start(&self.runtime, self.repaint.clone(), move || {
            let other = |e: crate::auth_files::AuthFileError| SaveFailure::Other(e.to_string());
            if let Some(old) = old_key.filter(|old| ServerChange::renamed(old, &server)) {
                file.rename_entry(&old, &server).map_err(other)?;
            }
            let report =
                credentials::login_with_policy(&mut file, &server, &credential, Some(choice), &*opener, policy)
                    .map_err(SaveFailure::from)?;
            let current = file.entry(&report.key).and_then(|e| e.email).unwrap_or_default();
            if current != email {
                file.set_email(&report.key, Some(&email)).map_err(other)?;
                file.save(policy).map_err(other)?;
            }
            Ok((
                report.key.clone(),
                format!("Saved {} ({})", report.key, report.home.label().replace('\u{26a0}', "(!)")),
            ))
        });
        if !started {
            self.toast("A save is already running", false);
        }
    }

    fn fix_orphan(&mut self, orphan: crate::credentials::Orphan) {
        let Some(file) = self.file() else { return };
        let mut file = file.clone();
        self.orphans = None;
        self.draft = None;
        self.save_job.start(&self.runtime, self.repaint.clone(), move || {
            let other = |e: crate::auth_files::AuthFileError| SaveFailure::Other(e.to_string());
            match orphan {
                crate::credentials::Orphan::Stub { key, kind, path, .. } => {
                    // The stub may sit in another file than the one shown.
                    let mut owner = AuthFile::load(path, kind).map_err(other)?;
                    credentials::remove_stub(&mut owner, &key).map_err(SaveFailure::from)?;
                    Ok((String::new(), format!("Removed the empty entry {key}")))
                }
                crate::credentials::Orphan::KeychainItem { server, .. } => {
                    let key = parse_server(&server).map_err(other)?;
                    credentials::adopt(&mut file, &key).map_err(SaveFailure::from)?;
                    Ok((server.clone(), format!("{server} now uses its keychain item")))
                }
            }
        });
    }

    fn migrate(&mut self) {
        self.confirm_migrate = None;
        let Some(file) = self.file() else { return };
        let mut file = file.clone();
        let opener = self.opener.clone();
        self.draft = None;
        self.save_job.start(&self.runtime, self.repaint.clone(), move || {
            let report =
                credentials::migrate(&mut file, &[], &StoreChoice::Keychain, &*opener).map_err(SaveFailure::from)?;
            Ok((
                String::new(),
                format!("Moved {} secrets to {}: {}", report.moved.len(), report.store, report.moved.join(", ")),
            ))
        });
    }

    fn remove(&mut self, key: String) {
        self.confirm_remove = None;
        let Some(file) = self.file() else { return };
        let mut file = file.clone();
        let opener = self.opener.clone();
        self.draft = None;
        self.save_job.start(&self.runtime, self.repaint.clone(), move || {
            if let Ok(server) = parse_server(&key) {
                credentials::logout(&mut file, &server, &*opener).map_err(SaveFailure::from)?;
            } else {
                file.remove_entry(&key).map_err(|e| SaveFailure::Other(e.to_string()))?;
                file.save(crate::auth_files::ConflictPolicy::Refuse).map_err(|e| SaveFailure::Other(e.to_string()))?;
            }
            Ok((String::new(), format!("Removed {key} and its secret")))
        });
    }

    fn test_pull(&mut self) {
        let Some(draft) = self.draft.as_ref() else { return };
        let key = draft.key.clone().unwrap_or_else(|| draft.server.clone());
        let image = self.state.images.get(&key).cloned().unwrap_or_default();
        if image.trim().is_empty() {
            return self.toast("Type an image to test-pull", true);
        }
        let credential = (!draft.password.is_empty() && !draft.username.is_empty())
            .then(|| Credential { username: draft.username.clone(), secret: Secret::new(draft.password.as_str()) });
        let source = match &draft.store {
            StoreKind::Keychain => "keychain".to_owned(),
            StoreKind::Helper(name) => format!("helper {name}"),
            StoreKind::File => "plaintext".to_owned(),
        };
        let mut options = PullOptions::for_user(self.env.home.as_deref());
        options.full = self.state.full_pull;
        if let Ok(platform) = self.state.platform.parse() {
            options.platform = platform;
        }
        self.pull_cancel.store(false, Ordering::Relaxed);
        if let Ok(mut progress) = self.pull_progress.lock() {
            progress.clear();
        }
        let (puller, cancel, progress, repaint) =
            (self.puller.clone(), self.pull_cancel.clone(), self.pull_progress.clone(), self.repaint.clone());
        self.pull_job.start_async(&self.runtime, self.repaint.clone(), async move {
            let report_progress = move |update: BlobProgress| {
                if let Ok(mut all) = progress.lock() {
                    match all.iter_mut().find(|p| p.digest == update.digest) {
                        Some(existing) => *existing = update,
                        None => all.push(update),
                    }
                }
                repaint.request_repaint();
            };
            puller.pull(&image, credential.as_ref(), &source, &options, Some(&cancel), Some(&report_progress)).await
        });
    }

    fn export(&mut self, path: Option<PathBuf>, _ctx: &egui::Context) {
        let Some(yaml) = self.preview().ok().map(|p| p.text) else {
            return self.toast("Nothing to export: fix the preview's errors first", true);
        };
        let native = self.use_native_dialog && path.is_none();
        let home = self.env.home.clone();
        self.export_job.start(&self.runtime, self.repaint.clone(), move || {
            let target = match path {
                Some(path) => path,
                None if native => match rfd::FileDialog::new().set_file_name("regcred.yaml").save_file() {
                    Some(path) => path,
                    None => return Ok(None),
                },
                None => return Ok(None),
            };
            let overwrite = crate::atomic_file::Overwrite::Replace;
            crate::atomic_file::write_private(&target, yaml.as_bytes(), overwrite, home.as_deref())
                .map(Some)
                .map_err(|e| format!("cannot export: {e}"))
        });
    }

    /// The production opener: regcred's keychain and the helpers on `PATH`.
    pub fn system_opener() -> Opener {
        Arc::new(|helper: &str| crate::keychain::open_store(helper))
    }
}

/// Why a save did not happen.
pub enum SaveFailure {
    /// Another program changed the same entry: the user chooses how to settle it.
    Conflict(String),
    /// Anything else, shown as a notification.
    Other(String),
}

impl From<credentials::CredentialsError> for SaveFailure {
    fn from(error: credentials::CredentialsError) -> Self {
        match &error {
            credentials::CredentialsError::File(crate::auth_files::AuthFileError::Conflict { .. }) => {
                Self::Conflict(error.to_string())
            }
            _ => Self::Other(error.to_string()),
        }
    }
}

/// Whether the editor's server names another registry than the entry's key.
struct ServerChange;

impl ServerChange {
    fn renamed(old_key: &str, server: &crate::auth_files::ServerKey) -> bool {
        parse_server(old_key).map_or(true, |old| !old.same_target(server))
    }
}
