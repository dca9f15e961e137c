//! What the window does: commands applied after each frame (guarded against losing unsaved
//! edits), and the background jobs they start and whose results are polled each frame. No I/O
//! happens here on the UI thread: files, keychain and network are jobs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use eframe::egui;

use super::app::{App, Command, RowTest, SaveFailure, Saved};
use super::dialogs::Dialog;
use super::editor::{Draft, Fields, StoreKind};
use super::state::{TestRecord, TestVerdict};
use super::theme;
use crate::auth_files::{AuthFile, ConflictPolicy, Sources, parse_server};
use crate::credentials::{self, Orphan, StoreChoice};
use crate::keychain::Credential;
use crate::registry::{Outcome, PullOptions, PullReport};
use crate::resolve::{DraftCredential, SecretHome, secret_home, test_credential};
use crate::secret::Secret;

impl App {
    pub(super) fn apply(&mut self, command: Command, ctx: &egui::Context) {
        if self.would_lose_edits(&command) {
            self.dialogs.open = Some(Dialog::Unsaved(Box::new(command)));
            return;
        }
        match command {
            Command::Reload => self.start_load(),
            Command::SelectFile(index) => self.select_file(index),
            Command::AskOpenFile => self.ask_open_file(),
            Command::OpenFile(path) => self.open_file(&path),
            Command::Select(key) => self.open_entry(&key),
            Command::NewEntry => self.editor.start_new(self.workspace.keychain_available()),
            Command::Duplicate => self.duplicate(),
            Command::CancelNew => self.editor.draft = None,
            Command::AskRemove(key) => self.dialogs.open = Some(Dialog::Remove(key)),
            Command::Remove(key) => self.remove(key),
            Command::AskMigrate => self.ask_migrate(),
            Command::Migrate => self.migrate(),
            Command::FindOrphans => self.find_orphans(),
            Command::AskFixOrphan(orphan) => {
                let shown = self.workspace.shown().map(|s| s.path.display().to_string()).unwrap_or_default();
                self.dialogs.open = Some(Dialog::ConfirmOrphan(orphan, shown));
            }
            Command::FixOrphan(orphan) => self.fix_orphan(orphan),
            Command::TestRow(key) => self.test_row(key),
            Command::TestAll => {
                for key in self.visible_keys() {
                    self.test_row(key);
                }
            }
            Command::TestSelected => self.test_selected(),
            Command::Save => self.save(ConflictPolicy::Refuse, false),
            Command::SaveWith(policy) => self.save(policy, false),
            Command::SaveReplacing => self.save(ConflictPolicy::Refuse, true),
            Command::SaveThen(then) => {
                self.after_save = Some(*then);
                self.save(ConflictPolicy::Refuse, false);
            }
            Command::DiscardThen(then) => {
                self.editor.draft = None;
                self.apply(*then, ctx);
            }
            Command::Revert => {
                if let Some(draft) = self.editor.draft.as_mut() {
                    draft.current = draft.loaded.clone();
                }
            }
            Command::TestPull => self.test_pull(),
            Command::CancelPull => self.pull.cancel.store(true, Ordering::Relaxed),
            Command::Export(path) => self.export(path),
            Command::ExportReplace(path) => self.write_export(path, true),
            Command::Toast(text) => self.toast(text, false),
            Command::Quit => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    /// Whether `command` would throw the editor's unsaved changes away.
    fn would_lose_edits(&self, command: &Command) -> bool {
        let Some(draft) = self.editor.draft.as_ref().filter(|d| d.dirty()) else { return false };
        match command {
            Command::Select(key) => draft.key.as_deref() != Some(key.as_str()),
            Command::NewEntry
            | Command::Duplicate
            | Command::Reload
            | Command::SelectFile(_)
            | Command::OpenFile(_)
            | Command::Quit => true,
            _ => false,
        }
    }

    pub(super) fn start_load(&mut self) {
        let env = self.workspace.env.clone();
        self.jobs.load.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || Sources::discover(&env));
    }

    fn select_file(&mut self, index: usize) {
        self.workspace.file_index = index;
        self.state.last_file = self.workspace.sources.files.get(index).map(|f| f.path.clone());
        self.editor.draft = None;
        self.list.checked.clear();
        self.list.cursor = None;
    }

    fn ask_open_file(&mut self) {
        if self.workspace.native_dialogs {
            self.jobs.open_dialog.start(&self.workspace.runtime, self.workspace.repaint.clone(), || {
                rfd::FileDialog::new().set_title("Open a credential file").pick_file()
            });
        } else {
            self.dialogs.open = Some(Dialog::OpenFile(String::new(), self.state.recent_files.clone()));
        }
    }

    /// Shows `path` (Docker's, the legacy or a Podman-style file by its name) in place of the file
    /// of its kind, and remembers it.
    fn open_file(&mut self, path: &std::path::Path) {
        let path = crate::atomic_file::expand_home(path, self.workspace.env.home.as_deref());
        let (env, _) = self.workspace.env.clone().with_file(&path);
        self.workspace.env = env;
        self.state.last_file = Some(path.clone());
        self.state.remember_file(path);
        self.editor.draft = None;
        self.list.checked.clear();
        self.start_load();
    }

    fn duplicate(&mut self) {
        let keychain = self.workspace.keychain_available();
        let Some(draft) = self.editor.draft.as_mut() else { return };
        let mut current = draft.current.clone();
        current.server.clear();
        draft.key = None;
        draft.loaded = Fields::blank(if keychain { StoreKind::Keychain } else { StoreKind::File });
        if current.store != StoreKind::File && !keychain {
            current.store = StoreKind::File;
        }
        draft.current = current;
        self.editor.focus_server = true;
    }

    fn open_entry(&mut self, key: &str) {
        let Some(file) = self.workspace.file() else { return };
        let Some(entry) = file.entry(key) else { return };
        let home = secret_home(file, key);
        let store = match &home {
            SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => StoreKind::Keychain,
            SecretHome::Helper { helper, .. } => StoreKind::Helper(helper.clone()),
            SecretHome::Plaintext | SecretHome::Missing => StoreKind::File,
        };
        let fields = Fields {
            server: key.to_owned(),
            username: entry.username.clone().unwrap_or_default(),
            password: zeroize::Zeroizing::new(
                entry.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default(),
            ),
            email: entry.email.clone().unwrap_or_default(),
            store,
            preset: crate::presets::detect(key).map(|p| p.id),
        };
        let helper_key = entry.server.as_ref().map(|s| file.helper_key(s));
        let loading = matches!(home, SecretHome::Helper { .. });
        self.editor.draft = Some(Draft {
            key: Some(key.to_owned()),
            current: fields.clone(),
            loaded: fields,
            secret_loading: loading,
            secret_error: None,
        });
        self.editor.reveal = false;
        self.list.cursor = self.list.rows().iter().position(|row| row.key == key);
        if let (SecretHome::Helper { helper, .. }, Some(helper_key)) = (home, helper_key) {
            let opener = self.workspace.opener.clone();
            let key = key.to_owned();
            self.jobs.secret.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
                (key, opener(&helper).and_then(|store| store.get(&helper_key)))
            });
        }
    }

    /// Ctrl+T: the open registry's image; a saved registry with no image typed gets the row's
    /// test (its remembered image, or the login check); with nothing open, the list's selection.
    fn test_selected(&mut self) {
        let open =
            self.editor.draft.as_ref().map(|d| (d.key.clone(), self.pull.image_for(&self.state, d).trim().is_empty()));
        match open {
            Some((Some(key), true)) => self.test_row(key),
            Some(_) => self.test_pull(),
            None => {
                if let Some(key) = self.list.cursor_key() {
                    self.test_row(key);
                }
            }
        }
    }

    /// The current options for a test pull.
    fn pull_options(&self) -> PullOptions {
        let mut options = PullOptions::for_user(self.workspace.env.home.as_deref());
        options.full = self.state.full_pull;
        options.runtime = self.state.runtime;
        if let Ok(platform) = self.state.platform.parse() {
            options.platform = platform;
        }
        options
    }

    /// The card's test pull: the image typed for the open registry, with the credential a node
    /// would use for the image's own registry (the draft's only when it is that registry).
    fn test_pull(&mut self) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let key = draft.registry_key();
        let image = self.pull.image_for(&self.state, draft).trim().to_owned();
        if image.is_empty() {
            return self.toast("Type an image to test-pull", true);
        }
        let candidate =
            (!draft.current.username.is_empty() && !draft.current.password.is_empty()).then(|| Credential {
                username: draft.current.username.clone(),
                secret: Secret::new(draft.current.password.as_str()),
            });
        let server = parse_server(draft.current.server.trim()).ok();
        let unsaved = draft.dirty() || draft.key.is_none();
        let options = self.pull_options();
        self.pull.cancel.store(false, Ordering::Relaxed);
        if let Ok(mut progress) = self.pull.progress.lock() {
            progress.clear();
        }
        self.pull.reports.remove(&(key.clone(), image.clone()));
        self.pull.running = Some((key.clone(), image.clone()));
        let (sources, opener, puller) =
            (self.workspace.sources.clone(), self.workspace.opener.clone(), self.puller.clone());
        let (cancel, progress, repaint) =
            (self.pull.cancel.clone(), self.pull.progress.clone(), self.workspace.repaint.clone());
        self.pull.job.start_async(&self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let chosen = tokio::task::spawn_blocking({
                let image = image.clone();
                move || {
                    let reference = crate::image_ref::ImageRef::parse(&image).ok()?;
                    let draft = server.as_ref().map(|server| DraftCredential {
                        server,
                        credential: candidate.as_ref(),
                        unsaved,
                    });
                    Some(test_credential(&sources, &reference, draft.as_ref(), &*opener))
                }
            })
            .await
            .ok()
            .flatten();
            let report_progress = move |update: crate::registry::BlobProgress| {
                if let Ok(mut all) = progress.lock() {
                    match all.iter_mut().find(|p| p.digest == update.digest) {
                        Some(existing) => *existing = update,
                        None => all.push(update),
                    }
                }
                repaint.request_repaint();
            };
            let report = match chosen {
                Some(Err(error)) => crate::registry::credential_failure(&image, &error.to_string(), options.runtime),
                Some(Ok((credential, tested))) => {
                    let source = tested.describe();
                    puller
                        .pull(&image, credential.as_ref(), &source, &options, Some(&cancel), Some(&report_progress))
                        .await
                }
                None => puller.pull(&image, None, "anonymous", &options, Some(&cancel), Some(&report_progress)).await,
            };
            super::pull::Finished { key, image, report }
        });
    }

    /// A row's test: its remembered image with its saved credential, or, with no image, the
    /// login check `docker login` makes. Bounded per registry host and in all.
    fn test_row(&mut self, key: String) {
        if self.row_tests.is_running(&key) {
            return;
        }
        let image = self.state.images.get(&key).map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
        let Ok(server) = parse_server(&key) else {
            return self.toast(format!("{key} is not a registry key that can be tested"), true);
        };
        let host = image
            .as_deref()
            .and_then(|i| crate::image_ref::ImageRef::parse(i).ok())
            .map_or_else(|| server.endpoint_host().to_owned(), |i| i.registry_host().to_owned());
        let (sources, opener, puller, limits) =
            (self.workspace.sources.clone(), self.workspace.opener.clone(), self.puller.clone(), self.limits.clone());
        let options = self.pull_options();
        let runtime = self.workspace.runtime.clone();
        self.row_tests.start_async(key, &self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let _permits = limits.acquire(&host).await;
            row_test(&runtime, sources, opener, &puller, server, image, &options).await
        });
    }

    /// Saves the draft. A new registry (or a renamed one) whose key another entry already has
    /// asks first, unless `replacing`; a replaced registry's last test is forgotten.
    fn save(&mut self, policy: ConflictPolicy, replacing: bool) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let mut file = match self.workspace.file_to_edit() {
            Ok(file) => file,
            Err(why) => return self.toast(why, true),
        };
        let server = match parse_server(draft.current.server.trim()) {
            Ok(server) => server,
            Err(error) => return self.toast(error.to_string(), true),
        };
        let existing = file.find_key(&server).filter(|existing| draft.key.as_deref() != Some(existing.as_str()));
        if let Some(existing) = existing {
            if !replacing {
                self.after_save = None;
                self.dialogs.open = Some(Dialog::Exists(existing));
                return;
            }
            self.state.results.remove(&existing);
        }
        if let Some(key) = draft.key.as_ref().filter(|_| draft.credentials_changed()) {
            self.state.results.remove(key);
        }
        let choice = match &draft.current.store {
            StoreKind::Keychain => StoreChoice::Keychain,
            StoreKind::Helper(name) => StoreChoice::Helper(name.clone()),
            StoreKind::File => StoreChoice::File,
        };
        let secret = normalized_secret(&draft.current);
        let credential = Credential { username: draft.current.username.clone(), secret };
        let (old_key, email) = (draft.key.clone(), draft.current.email.clone());
        let opener = self.workspace.opener.clone();
        let started = self.jobs.save.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            if let Some(old) = old_key.filter(|old| parse_server(old).map_or(true, |o| !o.same_target(&server))) {
                file.rename_entry(&old, &server)?;
            }
            let report =
                credentials::login_with_policy(&mut file, &server, &credential, Some(choice), &*opener, policy)?;
            let mut save = report.save.clone();
            let current = file.entry(&report.key).and_then(|e| e.email).unwrap_or_default();
            if current != email {
                file.set_email(&report.key, Some(&email))?;
                save = file.save(policy)?;
            }
            let home = report.home.label();
            let mut message = format!("Saved {} (secret: {home}) in {}", report.key, file.path().display());
            if let Some(warning) = &report.warning {
                message = format!("{message}. Warning: {warning}");
            }
            Ok(Saved { key: Some(report.key), message, report: Some(save) })
        });
        if !started {
            self.toast("A save is already running", false);
        }
    }

    fn remove(&mut self, key: String) {
        let mut file = match self.workspace.file_to_edit() {
            Ok(file) => file,
            Err(why) => return self.toast(why, true),
        };
        let opener = self.workspace.opener.clone();
        self.editor.draft = None;
        self.jobs.save.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let save = if let Ok(server) = parse_server(&key) {
                credentials::logout(&mut file, &server, &*opener)?.save
            } else {
                file.remove_entry(&key)?;
                file.save(ConflictPolicy::Refuse)?
            };
            Ok(Saved { key: None, message: format!("Removed {key} and its secret"), report: Some(save) })
        });
    }

    fn ask_migrate(&mut self) {
        let plan = self.workspace.file().map(|file| credentials::migration_plan(file, &[])).unwrap_or_default();
        if plan.moving.is_empty() && plan.staying.is_empty() {
            self.toast("No plaintext secrets in this file", false);
        } else {
            self.dialogs.open = Some(Dialog::Migrate(plan));
        }
    }

    fn migrate(&mut self) {
        let Some(file) = self.workspace.file() else { return };
        let mut file = file.clone();
        let opener = self.workspace.opener.clone();
        self.editor.draft = None;
        self.jobs.save.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let report = credentials::migrate(&mut file, &[], &StoreChoice::Keychain, &*opener)?;
            let message =
                format!("Moved {} secrets to {}: {}", report.moved.len(), report.store, report.moved.join(", "));
            Ok(Saved { key: None, message, report: Some(report.save) })
        });
    }

    fn find_orphans(&mut self) {
        let (env, opener) = (self.workspace.env.clone(), self.workspace.opener.clone());
        self.jobs.orphans.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let sources = Sources::discover(&env);
            let keychain = crate::keychain::KeyringStore::open().ok();
            credentials::orphans(&sources, &*opener, keychain.as_ref())
        });
    }

    fn fix_orphan(&mut self, orphan: Orphan) {
        let file = self.workspace.file_to_edit();
        self.editor.draft = None;
        self.jobs.save.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || match orphan {
            Orphan::Stub { key, kind, path, .. } => {
                // The stub may sit in another file than the one shown.
                let mut owner = AuthFile::load(path, kind)?;
                let save = credentials::remove_stub(&mut owner, &key)?;
                Ok(Saved { key: None, message: format!("Removed the empty entry {key}"), report: Some(save) })
            }
            Orphan::KeychainItem { server, .. } => {
                let mut file = file.map_err(SaveFailure::NoFile)?;
                let key = parse_server(&server)?;
                let save = credentials::adopt(&mut file, &key)?;
                Ok(Saved {
                    key: Some(server.clone()),
                    message: format!("{server} now uses its keychain item"),
                    report: Some(save),
                })
            }
        });
    }

    fn export(&mut self, path: Option<PathBuf>) {
        if self.preview().is_err() {
            return self.toast("Nothing to export: fix the preview's errors first", true);
        }
        let default = format!("~/{}.yaml", self.state.secret_name.trim());
        let Some(path) = path else {
            if self.workspace.native_dialogs {
                let name = format!("{}.yaml", self.state.secret_name.trim());
                self.jobs.export.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
                    Ok(rfd::FileDialog::new().set_file_name(name).save_file())
                });
            } else {
                self.yaml.export_path.get_or_insert(default);
            }
            return;
        };
        // An existing file is refused by the write itself (off the UI thread, no race between a
        // look and the write); the refusal asks whether to replace it.
        let absolute = crate::atomic_file::expand_home(&path, self.workspace.env.home.as_deref());
        self.write_export(absolute, false);
    }

    fn write_export(&mut self, path: PathBuf, replace: bool) {
        let Ok(text) = self.preview() else { return };
        let overwrite =
            if replace { crate::atomic_file::Overwrite::Replace } else { crate::atomic_file::Overwrite::Refuse };
        let home = self.workspace.env.home.clone();
        self.jobs.export.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            crate::atomic_file::write_private(&path, text.as_bytes(), overwrite, home.as_deref()).map(Some)
        });
    }

    /// Fetches the ticked registries' secrets when the ticks changed.
    pub(super) fn sync_selection(&mut self) {
        let checked = self.list.checked.clone();
        let current = self.yaml.selection.as_ref().map(|s| &s.keys);
        if checked.is_empty() || current == Some(&checked) || self.yaml.selection_job.busy() {
            return;
        }
        let (sources, opener) = (self.workspace.sources.clone(), self.workspace.opener.clone());
        self.yaml.selection_job.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let registries = checked
                .iter()
                .map(|key| {
                    let server = parse_server(key).map_err(|e| e.to_string())?;
                    crate::resolve::registry_auth(&sources, &server, &*opener).map_err(|e| format!("{key}: {e}"))
                })
                .collect();
            super::yaml::Selection { keys: checked, registries }
        });
    }

    pub(super) fn poll_jobs(&mut self) {
        self.poll_files();
        self.poll_saves();
        self.poll_tests();
        if let Some(result) = self.jobs.orphans.poll() {
            match result {
                Ok(found) => self.dialogs.open = Some(Dialog::Orphans(found)),
                Err(error) => self.toast(error.to_string(), true),
            }
        }
        if let Some(result) = self.jobs.export.poll() {
            match result {
                Ok(Some(path))
                    if self.workspace.native_dialogs && path.is_absolute() && self.yaml.export_path.is_none() =>
                {
                    self.write_export(path, true);
                }
                Ok(Some(path)) => self.toast(format!("Exported (mode 0600): {}", path.display()), false),
                Ok(None) => {
                    let default = format!("~/{}.yaml", self.state.secret_name.trim());
                    self.yaml.export_path.get_or_insert(default);
                }
                Err(crate::atomic_file::PrivateWriteError::Exists { path }) => {
                    self.dialogs.open = Some(Dialog::ReplaceExport(path));
                }
                Err(error) => self.toast(error.to_string(), true),
            }
        }
        if let Some(path) = self.jobs.open_dialog.poll() {
            match path {
                Some(path) => self.commands.push(Command::OpenFile(path)),
                None => self.dialogs.open = Some(Dialog::OpenFile(String::new(), self.state.recent_files.clone())),
            }
        }
        if let Some(selection) = self.yaml.selection_job.poll() {
            self.yaml.selection = Some(selection);
        }
    }

    fn poll_files(&mut self) {
        if let Some(state) = self.jobs.keychain.poll() {
            self.workspace.keychain = Some(state);
            self.start_keychain_users();
        }
        if let Some(users) = self.jobs.keychain_users.poll() {
            self.workspace.keychain_users = users;
            self.workspace.generation += 1;
        }
        let Some(sources) = self.jobs.load.poll() else { return };
        for source in &sources.files {
            if let crate::auth_files::SourceStatus::Failed(error) = &source.status {
                let text = format!("{error:#}");
                self.toast(text, true);
            }
        }
        self.workspace.sources = Arc::new(sources);
        self.workspace.generation += 1;
        let last = self.state.last_file.clone();
        if let Some(index) = last.and_then(|last| self.workspace.sources.files.iter().position(|f| f.path == last)) {
            self.workspace.file_index = index;
        }
        self.state.images.retain(|key, image| {
            !image.trim().is_empty() || self.workspace.file().is_some_and(|f| f.entry_alone(key).is_some())
        });
        self.yaml.selection = None;
        self.start_keychain_users();
        if let Some(key) = self.select_after_load.take() {
            self.commands.push(Command::Select(key));
        }
    }

    pub(super) fn start_keychain_users(&mut self) {
        if !self.workspace.keychain_available() {
            return;
        }
        let opener = self.workspace.opener.clone();
        self.jobs.keychain_users.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            opener(crate::keychain::REGCRED_HELPER).and_then(|store| store.list()).ok().map(|l| l.into_iter().collect())
        });
    }

    fn poll_saves(&mut self) {
        if let Some(result) = self.jobs.save.poll() {
            match result {
                Ok(saved) => self.saved(saved),
                Err(failure) if failure.is_conflict() => {
                    self.after_save = None;
                    self.dialogs.open = Some(Dialog::Conflict(failure.text()));
                }
                Err(failure) => {
                    self.after_save = None;
                    self.toast(failure.text(), true);
                }
            }
        }
        if let Some((key, result)) = self.jobs.secret.poll()
            && let Some(draft) = self.editor.draft.as_mut().filter(|d| d.key.as_deref() == Some(key.as_str()))
        {
            draft.secret_loading = false;
            match result {
                Ok(Some(credential)) => {
                    if draft.current.username.is_empty() {
                        draft.current.username.clone_from(&credential.username);
                        draft.loaded.username.clone_from(&credential.username);
                    }
                    credential.secret.expose().clone_into(&mut draft.current.password);
                    credential.secret.expose().clone_into(&mut draft.loaded.password);
                    let now = std::time::SystemTime::now();
                    if let Some(expiry) = crate::expiry::expiry_of(&credential.username, &credential.secret, &key, now)
                    {
                        self.expiries.insert(key, expiry);
                    }
                }
                Ok(None) => {
                    draft.secret_error = Some("No secret is stored for this registry: type it and save.".to_owned());
                }
                Err(error) => draft.secret_error = Some(super::app::keychain_error_advice(&error)),
            }
        }
    }

    fn saved(&mut self, saved: Saved) {
        self.toast(saved.message, false);
        if let Some(report) = &saved.report {
            if report.notes.created {
                self.toast("Created the file (mode 0600: only you can read it)", false);
            }
            if let Some(mode) = report.notes.tightened_from {
                self.toast(format!("The file was readable by others (mode {mode:o}); it is now 0600"), false);
            }
            if let Some(removed) = &report.backup_removed {
                self.toast(
                    format!("Removed the backup {}: it still held the secret that left the file", removed.display()),
                    false,
                );
            }
        }
        if let (Some(key), Some(draft)) = (&saved.key, self.editor.draft.as_ref())
            && draft.key.is_none()
        {
            let image = std::mem::take(&mut self.pull.new_image);
            if !image.trim().is_empty() {
                self.state.images.insert(key.clone(), image);
            }
        }
        // What comes next (Add, another registry, another file) decides what is open; else the
        // registry just saved stays open.
        if self.after_save.is_none() {
            self.select_after_load = saved.key;
        }
        self.editor.draft = None;
        if let Some(then) = self.after_save.take() {
            self.commands.push(then);
        }
        self.start_load();
    }

    fn poll_tests(&mut self) {
        if let Some(finished) = self.pull.job.poll() {
            self.pull.running = None;
            let super::pull::Finished { key, image, report } = finished;
            let cancelled =
                matches!(&report.outcome, Outcome::Failure(f) if f.class == crate::registry::FailureClass::Cancelled);
            if !cancelled {
                let verdict = verdict_of(&report);
                let text = match &verdict {
                    TestVerdict::Fails(reason) => format!("Test pull failed: {reason}"),
                    _ => format!("Test pull succeeded: {}", report.reference),
                };
                self.toast(text, matches!(verdict, TestVerdict::Fails(_)));
                if self.workspace.file().is_some_and(|f| f.entry_alone(&key).is_some()) {
                    self.state
                        .results
                        .insert(key.clone(), TestRecord { at: theme::now(), image: Some(image.clone()), verdict });
                }
            }
            self.pull.reports.insert((key, image), report);
        }
        for (key, test) in self.row_tests.poll() {
            if let Some(record) = test.record {
                self.state.results.insert(key.clone(), record);
            }
            if let Some((image, report)) = test.report {
                self.pull.reports.insert((key.clone(), image), report);
            }
            if let Some(expiry) = test.expiry {
                self.expiries.insert(key, expiry);
            }
        }
    }
}

/// A row's test, off the UI thread.
async fn row_test(
    runtime: &tokio::runtime::Handle,
    sources: Arc<Sources>,
    opener: super::workspace::Opener,
    puller: &crate::registry::Puller,
    server: crate::auth_files::ServerKey,
    image: Option<String>,
    options: &PullOptions,
) -> RowTest {
    let fetch_server = server.clone();
    let image_for_lookup = image.clone();
    let chosen = runtime
        .spawn_blocking(move || match image_for_lookup.as_deref().map(crate::image_ref::ImageRef::parse) {
            Some(Ok(reference)) => {
                test_credential(&sources, &reference, None, &*opener).map(|(c, t)| (c, t.describe()))
            }
            Some(Err(_)) => Ok((None, "anonymous".to_owned())),
            None => crate::resolve::fetch_credential_with(&sources, &fetch_server, &*opener).map(|found| {
                (Some(Credential { username: found.username, secret: found.password }), found.home.label())
            }),
        })
        .await;
    let now = std::time::SystemTime::now();
    let (credential, source) = match chosen {
        Ok(Ok(chosen)) => chosen,
        Ok(Err(error)) => return failed_row(format!("cannot read the credential: {error}"), image),
        Err(_) => return failed_row("the test could not run".to_owned(), image),
    };
    let expiry =
        credential.as_ref().and_then(|c| crate::expiry::expiry_of(&c.username, &c.secret, server.registry(), now));
    let Some(image) = image else {
        let Some(credential) = credential else {
            return failed_row("no credential to check the login with".to_owned(), None);
        };
        let record = match puller.verify_login(server.endpoint_host(), &credential, options).await {
            Ok(()) => TestVerdict::LoginWorks,
            Err(failure) => TestVerdict::Fails(failure.verdict),
        };
        return RowTest {
            record: Some(TestRecord { at: theme::now(), image: None, verdict: record }),
            report: None,
            expiry,
        };
    };
    let report = puller.pull(&image, credential.as_ref(), &source, options, None, None).await;
    let record = TestRecord { at: theme::now(), image: Some(image.clone()), verdict: verdict_of(&report) };
    RowTest { record: Some(record), report: Some((image, report)), expiry }
}

fn failed_row(reason: String, image: Option<String>) -> RowTest {
    RowTest {
        record: Some(TestRecord { at: theme::now(), image, verdict: TestVerdict::Fails(reason) }),
        report: None,
        expiry: None,
    }
}

/// The remembered verdict of a report.
fn verdict_of(report: &PullReport) -> TestVerdict {
    match &report.outcome {
        Outcome::Success(_) => TestVerdict::Pulls,
        Outcome::Failure(failure) => TestVerdict::Fails(failure.verdict.clone()),
    }
}

/// The secret to store: what the preset's checks make of it (a `_json_key` on one line), else as
/// typed.
fn normalized_secret(fields: &Fields) -> Secret {
    let typed = Secret::new(fields.password.as_str());
    let Some(preset) = fields.preset.map(crate::presets::PresetId::preset) else { return typed };
    let checked = crate::presets::check_login(preset, fields.server.trim(), &fields.username, &typed);
    checked.normalized.unwrap_or(typed)
}
