//! Actions on the entries: open one (its secret read in the background, per registry), duplicate,
//! save (one library call, one write), remove, move plaintext to the keychain, orphans.

use super::super::app::{App, SaveFailure, Saved};
use super::super::dialogs::Dialog;
use super::super::editor::{Draft, Fields};
use crate::auth_files::{AuthFile, ConflictPolicy, Sources, parse_server};
use crate::credentials::{self, Orphan, StoreChoice};
use crate::keychain::Credential;
use crate::resolve::{SecretHome, secret_home};
use crate::secret::Secret;

impl App {
    /// After a save: an answer about what was typed (and still is) answers for what is saved now,
    /// and is remembered for the row.
    fn keep_draft_answer(&mut self, key: &str) {
        let slot = self.slot_here(key);
        let file = self.workspace.shown().map(|file| file.path.clone());
        let Some(answer) = self.answers.get_mut(&slot).filter(|answer| answer.draft.is_some() && !answer.stale) else {
            return;
        };
        answer.draft = None;
        // What it tested is what is saved now: the card no longer says "unsaved draft".
        if answer.report.credential_source == crate::resolve::TestedWith::UnsavedDraft.describe() {
            "the login now saved".clone_into(&mut answer.report.credential_source);
        }
        let verdict = match &answer.report.outcome {
            crate::registry::Outcome::Success(_) if answer.source == super::super::card::AnswerSource::LoginCheck => {
                super::super::state::TestVerdict::LoginWorks
            }
            crate::registry::Outcome::Success(_) => super::super::state::TestVerdict::Pulls,
            crate::registry::Outcome::Failure(failure) => {
                super::super::state::TestVerdict::Fails(failure.verdict.clone())
            }
        };
        let image =
            (answer.source != super::super::card::AnswerSource::LoginCheck).then(|| answer.report.reference.clone());
        let record = super::super::state::TestRecord { at: answer.at, image, verdict, file };
        self.state.results.insert(slot, record);
    }

    /// Remove…: the question, saying where this registry's secret lives (and goes with it).
    pub(in crate::gui) fn ask_remove(&mut self, key: String) {
        let home = self.workspace.file().map(|file| secret_home(file, &key));
        let secret = match home {
            Some(SecretHome::Helper { helper, .. }) if helper == crate::keychain::REGCRED_HELPER => {
                ", and its password in the OS keychain".to_owned()
            }
            Some(SecretHome::Helper { helper, .. }) => format!(", and its secret in docker-credential-{helper}"),
            Some(SecretHome::Plaintext) => ", with the password it holds".to_owned(),
            Some(SecretHome::Missing) | None => " (it has no secret)".to_owned(),
        };
        self.dialogs.open = Some(Dialog::Remove(key, secret));
    }

    pub(in crate::gui) fn duplicate(&mut self) {
        let keychain = self.workspace.keychain_available();
        let Some(draft) = self.editor.draft.as_mut() else { return };
        let mut current = draft.current.clone();
        current.server.clear();
        draft.key = None;
        draft.loaded = Fields::blank(if keychain { StoreChoice::Keychain } else { StoreChoice::File });
        if current.store != StoreChoice::File && !keychain {
            current.store = StoreChoice::File;
        }
        draft.current = current;
        draft.plaintext_seen = false;
        self.answers.remove(&self.slot_here(super::super::editor::NEW_REGISTRY));
        self.editor.focus = Some(super::super::command::FixField::Server);
        self.tab = super::super::command::Tab::Login;
    }

    pub(in crate::gui) fn open_entry(&mut self, key: &str) {
        let Some(file) = self.workspace.file() else { return };
        let Some(entry) = file.entry(key) else { return };
        let home = secret_home(file, key);
        let store = match &home {
            SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => StoreChoice::Keychain,
            SecretHome::Helper { helper, .. } => StoreChoice::Helper(helper.clone()),
            SecretHome::Plaintext | SecretHome::Missing => StoreChoice::File,
        };
        // Where a helper answers, the file's own plaintext (if any) is what Docker ignores: the
        // secret is the helper's, read below, or none.
        let plaintext = match &home {
            SecretHome::Helper { .. } => None,
            SecretHome::Plaintext | SecretHome::Missing => entry.password.as_ref(),
        };
        let fields = Fields {
            server: key.to_owned(),
            username: entry.username.clone().unwrap_or_default(),
            password: zeroize::Zeroizing::new(plaintext.map(|p| p.expose().to_owned()).unwrap_or_default()),
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
            secret_for: loading.then(|| key.to_owned()),
            secret_error: None,
            plaintext_seen: false,
            verdict: super::super::editor::VerdictMemo::default(),
        });
        self.editor.reveal = false;
        self.list.scroll_to = self.list.index_of(key);
        if let (SecretHome::Helper { helper, .. }, Some(helper_key)) = (home, helper_key) {
            let opener = self.workspace.opener.clone();
            // A read already running for this registry answers this draft too.
            self.jobs.secret.start_blocking(
                key.to_owned(),
                &self.workspace.runtime,
                self.workspace.repaint.clone(),
                move || opener(&helper).and_then(|store| store.get(&helper_key)),
            );
        }
    }

    /// Saves the draft in one write (`credentials::save_entry`). A new registry (or a renamed one)
    /// whose key another entry already has asks first, unless `replacing`; a replaced registry's
    /// last test is forgotten. A secret about to go to plaintext for the first time asks first
    /// unless the user chose the file themselves.
    pub(in crate::gui) fn save(&mut self, policy: ConflictPolicy, replacing: bool) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let mut file = match self.workspace.file_to_edit() {
            Ok(file) => file,
            Err(why) => return self.toast(why, true),
        };
        let server = match parse_server(draft.current.server.trim()) {
            Ok(server) => server,
            Err(_) if draft.current.server.trim().is_empty() => {
                return self.toast("Enter a server: the registry's address, such as registry.example.com:5000", true);
            }
            Err(error) => return self.toast(format!("The server is not a registry address: {error}"), true),
        };
        let to_plaintext = draft.current.store == StoreChoice::File
            && !(draft.key.is_some() && draft.loaded.store == StoreChoice::File);
        if to_plaintext && !draft.plaintext_seen {
            let scoped = !server.scope().is_empty();
            let whole = (scoped && self.workspace.keychain_available()).then(|| server.registry().to_owned());
            let key = file.find_key(&server).unwrap_or_else(|| file.entry_key_for(&server));
            self.after_save = None;
            self.dialogs.open = Some(Dialog::Plaintext { key, scoped, whole });
            return;
        }
        let existing = file.find_key(&server).filter(|existing| draft.key.as_deref() != Some(existing.as_str()));
        if let Some(existing) = &existing
            && !replacing
        {
            self.after_save = None;
            self.dialogs.open = Some(Dialog::Exists(existing.clone()));
            return;
        }
        let mut forget: Vec<String> = existing.into_iter().collect();
        // A changed credential's old answers are not its answers; one the draft itself got (a
        // test of what is typed, still current) becomes the saved entry's once saved.
        if let Some(key) = draft.key.clone().filter(|_| draft.credentials_changed()) {
            let fingerprint = draft.fingerprint();
            if !self.answer(&key).is_some_and(|answer| !answer.stale && answer.draft == Some(fingerprint)) {
                forget.push(key);
            }
        }
        let choice = draft.current.store.clone();
        let credential =
            Credential { username: draft.current.username.clone(), secret: normalized_secret(&draft.current) };
        let (old_key, email) = (draft.key.clone(), draft.current.email.clone());
        for key in forget {
            self.forget_answers(&key);
        }
        let opener = self.workspace.opener.clone();
        let started = self.jobs.save.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let edit = credentials::EntryEdit {
                old_key: old_key.as_deref(),
                server: &server,
                credential: &credential,
                email: &email,
                choice,
            };
            let report = credentials::save_entry(&mut file, &edit, &*opener, policy)?;
            let home = report.home.label();
            let mut message = format!("Saved {} (secret: {home}) in {}", report.key, file.path().display());
            if let Some(warning) = &report.warning {
                message = format!("{message}. Warning: {warning}");
            }
            Ok::<_, SaveFailure>(Saved { key: Some(report.key), message, report: Some(report.save) })
        });
        if !started {
            self.toast("A save is already running", false);
        }
    }

    /// The honest other route for a key with a path: the whole registry, its secret in the
    /// keychain (helpers answer per registry host).
    pub(in crate::gui) fn save_whole_registry(&mut self) {
        let Some(draft) = self.editor.draft.as_mut() else { return };
        let Ok(server) = parse_server(draft.current.server.trim()) else { return };
        server.registry().clone_into(&mut draft.current.server);
        draft.current.store = StoreChoice::Keychain;
        self.save(ConflictPolicy::Refuse, false);
    }

    pub(in crate::gui) fn remove(&mut self, key: String) {
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

    pub(in crate::gui) fn ask_migrate(&mut self) {
        let plan = self.workspace.file().map(|file| credentials::migration_plan(file, &[])).unwrap_or_default();
        if plan.moving.is_empty() && plan.staying.is_empty() {
            self.toast("No plaintext secrets in this file", false);
        } else {
            self.dialogs.open = Some(Dialog::Migrate(plan, self.facts.regcred_helper_missing));
        }
    }

    pub(in crate::gui) fn migrate(&mut self) {
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

    pub(in crate::gui) fn find_orphans(&mut self) {
        let (env, opener) = (self.workspace.env.clone(), self.workspace.opener.clone());
        self.jobs.orphans.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let sources = Sources::discover(&env);
            let keychain = crate::keychain::KeyringStore::open().ok();
            credentials::orphans(&sources, &*opener, keychain.as_ref())
        });
    }

    pub(in crate::gui) fn fix_orphan(&mut self, orphan: Orphan) {
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

    pub(in crate::gui) fn poll_saves(&mut self) {
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
        for (key, result) in self.jobs.secret.poll() {
            self.secret_read(&key, result);
        }
    }

    /// A secret read for `key` arrived: it fills the draft when that registry is still open.
    pub(in crate::gui) fn secret_read(&mut self, key: &str, result: super::super::app::SecretRead) {
        if let Ok(Some(credential)) = &result {
            let now = std::time::SystemTime::now();
            if let Some(expiry) = crate::expiry::expiry_of(&credential.username, &credential.secret, key, now) {
                self.facts.expiries.insert(key.to_owned(), expiry);
            }
        }
        // The draft still waiting for this entry's secret: the entry itself, or its duplicate
        // (which takes the secret as typed, not as loaded: it is a new registry's).
        if let Some(draft) = self.editor.draft.as_mut().filter(|d| d.secret_for.as_deref() == Some(key)) {
            draft.secret_for = None;
            let duplicate = draft.key.is_none();
            draft.secret_loading = false;
            match result {
                Ok(Some(credential)) => {
                    if draft.current.username.is_empty() {
                        draft.current.username.clone_from(&credential.username);
                        if !duplicate {
                            draft.loaded.username.clone_from(&credential.username);
                        }
                    }
                    credential.secret.expose().clone_into(&mut draft.current.password);
                    if !duplicate {
                        credential.secret.expose().clone_into(&mut draft.loaded.password);
                    }
                }
                Ok(None) => {
                    draft.secret_error = Some("No secret is stored for this registry: type it and save.".to_owned());
                }
                Err(error) => draft.secret_error = Some(super::super::workspace::keychain_error_advice(&error)),
            }
        }
    }

    pub(in crate::gui) fn saved(&mut self, saved: Saved) {
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
            // The new registry's answer is the saved registry's now.
            if let Some(answer) = self.answers.remove(&self.slot_here(super::super::editor::NEW_REGISTRY)) {
                self.answers.insert(self.slot_here(key), answer);
            }
        }
        if let Some(key) = &saved.key {
            self.keep_draft_answer(key);
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
}

/// The secret to store: what the chosen preset's checks make of it (a `_json_key` on one line),
/// else as typed.
fn normalized_secret(fields: &Fields) -> Secret {
    let normalized = fields.preset.and_then(|_| fields.preset_verdict()?.normalized);
    normalized.unwrap_or_else(|| Secret::new(fields.password.as_str()))
}
