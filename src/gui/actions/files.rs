//! Actions on the files: loading and choosing them, opening another, exporting the YAML, the
//! ticked registries' secrets, and the rows' facts learnt in the background after each load.

use std::path::PathBuf;
use std::sync::Arc;

use super::super::app::App;
use super::super::command::Command;
use super::super::dialogs::Dialog;
use super::super::list::RowFacts;
use crate::auth_files::{Sources, parse_server};
use crate::resolve::SecretHome;

impl App {
    pub(in crate::gui) fn start_load(&mut self) {
        let (env, opened) = (self.workspace.env.clone(), self.workspace.opened.clone());
        self.jobs.load.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            Sources::discover_with(&env, &opened)
        });
    }

    pub(in crate::gui) fn select_file(&mut self, index: usize) {
        self.workspace.file_index = index;
        self.state.last_file = self.workspace.sources.files.get(index).map(|f| f.path.clone());
        self.editor.draft = None;
        self.list.checked.clear();
        self.start_facts();
    }

    pub(in crate::gui) fn ask_open_file(&mut self) {
        if self.workspace.native_dialogs {
            self.jobs.open_dialog.start(&self.workspace.runtime, self.workspace.repaint.clone(), || {
                rfd::FileDialog::new().set_title("Open a credential file").pick_file()
            });
        } else {
            self.dialogs.open = Some(Dialog::OpenFile(String::new(), self.offered_files()));
        }
    }

    /// What Open file… offers: the user's own Docker config and Podman auth.json where they exist,
    /// then the files opened lately (paths, each once).
    pub(in crate::gui) fn offered_files(&self) -> Vec<PathBuf> {
        let own = self.workspace.sources.files.iter().filter(|file| {
            matches!(file.kind, crate::auth_files::FileKind::DockerConfig | crate::auth_files::FileKind::ContainersAuth)
                && matches!(file.status, crate::auth_files::SourceStatus::Loaded(_))
                && !self.workspace.opened.contains(&file.path)
        });
        let mut offered: Vec<PathBuf> = own.map(|file| file.path.clone()).collect();
        for path in &self.state.recent_files {
            if !offered.contains(path) {
                offered.push(path.clone());
            }
        }
        offered
    }

    /// Shows `path` beside the user's own files (its kind from its name, else its content), and
    /// remembers it.
    pub(in crate::gui) fn open_file(&mut self, path: &std::path::Path) {
        if path.as_os_str().is_empty() {
            self.toast("Type the path of a credential file to open", true);
            return;
        }
        let path = crate::atomic_file::expand_home(path, self.workspace.env.home.as_deref());
        let path = std::path::absolute(&path).unwrap_or(path);
        if !self.workspace.opened.contains(&path) {
            self.workspace.opened.push(path.clone());
        }
        self.state.last_file = Some(path.clone());
        self.opened_now = Some(path.clone());
        self.state.remember_file(path);
        self.editor.draft = None;
        self.list.checked.clear();
        self.start_load();
    }

    pub(in crate::gui) fn export(&mut self, path: Option<PathBuf>) {
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
                self.yaml.ask_export_path(default);
            }
            return;
        };
        // An existing file is refused by the write itself (off the UI thread, no race between a
        // look and the write); the refusal asks whether to replace it.
        let absolute = crate::atomic_file::expand_home(&path, self.workspace.env.home.as_deref());
        self.write_export(absolute, false);
    }

    pub(in crate::gui) fn write_export(&mut self, path: PathBuf, replace: bool) {
        let Ok(text) = self.preview() else { return };
        let overwrite =
            if replace { crate::atomic_file::Overwrite::Replace } else { crate::atomic_file::Overwrite::Refuse };
        let home = self.workspace.env.home.clone();
        self.jobs.export.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            crate::atomic_file::write_private(&path, text.as_bytes(), overwrite, home.as_deref()).map(Some)
        });
    }

    /// Fetches the ticked registries' secrets when the ticks changed.
    pub(in crate::gui) fn sync_selection(&mut self) {
        let checked = self.list.checked.clone();
        let current = self.yaml.selection.as_ref().map(|s| &s.keys);
        if checked.is_empty() || current == Some(&checked) || self.yaml.selection_job.busy() {
            return;
        }
        let (sources, opener) = (self.workspace.sources.clone(), self.workspace.opener.clone());
        let shown = self.workspace.shown().map(|file| file.path.clone());
        self.yaml.selection_job.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            let registries = checked
                .iter()
                .map(|key| {
                    let server = parse_server(key).map_err(|e| e.to_string())?;
                    crate::resolve::registry_auth_from(&sources, shown.as_deref(), &server, &*opener)
                        .map_err(|e| format!("{key}: {e}"))
                })
                .collect();
            super::super::yaml::Selection { keys: checked, registries }
        });
    }

    pub(in crate::gui) fn poll_files(&mut self) {
        if let Some(state) = self.jobs.keychain.poll() {
            self.workspace.keychain = Some(state);
            self.start_keychain_users();
            self.start_facts();
        }
        if let Some(users) = self.jobs.keychain_users.poll() {
            self.workspace.keychain_users = users;
            self.workspace.generation += 1;
        }
        if let Some(facts) = self.jobs.facts.poll() {
            self.facts = facts;
            if std::mem::take(&mut self.facts_again) {
                self.start_facts();
            }
        }
        let Some(sources) = self.jobs.load.poll() else { return };
        for source in &sources.files {
            if let crate::auth_files::SourceStatus::Failed(error) = &source.status {
                let text = format!("{error:#}");
                self.toast(text, true);
            }
        }
        if let Some(opened) = self.opened_now.take() {
            self.say_guessed_kind(&sources, &opened);
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
        self.start_facts();
        if let Some(key) = self.select_after_load.take() {
            self.commands.push(Command::Select(key));
        }
    }

    /// A file opened by path whose name and content fit Docker's format and Podman's alike is
    /// read as an auth.json ([`crate::auth_files::FileKind::detect_how`]): say so, once, and why.
    fn say_guessed_kind(&mut self, sources: &Sources, opened: &std::path::Path) {
        let Some(file) = sources.files.iter().find(|file| file.path == opened) else { return };
        let name = opened.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if file.kind == crate::auth_files::FileKind::ContainersAuth && name != "auth.json" {
            self.toast(
                format!(
                    "{name} is read as a Podman auth.json: its content fits Docker's format too. Podman and skopeo read a file of any name (--authfile); Docker reads only a config.json."
                ),
                false,
            );
        }
    }

    pub(in crate::gui) fn start_keychain_users(&mut self) {
        if !self.workspace.keychain_available() {
            return;
        }
        let opener = self.workspace.opener.clone();
        self.jobs.keychain_users.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            opener(crate::keychain::REGCRED_HELPER).and_then(|store| store.list()).ok().map(|l| l.into_iter().collect())
        });
    }

    /// After a load (and once the keychain's state is known): every row's facts that need I/O —
    /// the expiry of secrets kept in the keychain, and helpers that are not installed — so the
    /// table shows them on its first frame, not when a row is clicked.
    pub(in crate::gui) fn start_facts(&mut self) {
        // One job at a time; a request while one runs is served again when it ends (its answer
        // may be about the files as they were).
        if self.jobs.facts.busy() {
            self.facts_again = true;
            return;
        }
        // A file not made yet has no rows, but whether the helper is installed is said before the
        // first save too.
        let Ok(file) = self.workspace.file_to_edit() else { return };
        let keychain = self.workspace.keychain_available();
        let opener = self.workspace.opener.clone();
        self.jobs.facts.start(&self.workspace.runtime, self.workspace.repaint.clone(), move || {
            row_facts(&file, keychain, &*opener)
        });
    }
}

/// The facts of every row of `file` (off the UI thread).
fn row_facts(
    file: &crate::auth_files::AuthFile,
    keychain: bool,
    opener: &crate::keychain::StoreOpener<'_>,
) -> RowFacts {
    let homes = crate::resolve::SecretHomes::new(file);
    let mut facts = RowFacts {
        regcred_helper_missing: crate::credentials::helper_missing(crate::keychain::REGCRED_HELPER).is_some(),
        ..RowFacts::default()
    };
    let mut store = None;
    let now = std::time::SystemTime::now();
    for entry in file.entries() {
        let SecretHome::Helper { helper, .. } = homes.of(&entry) else { continue };
        if helper != crate::keychain::REGCRED_HELPER {
            if crate::keychain::find_helper(&helper).is_none() {
                facts.missing_helpers.insert(helper);
            }
            continue;
        }
        let (true, Some(server)) = (keychain, entry.server.as_ref()) else { continue };
        if store.is_none() {
            store = opener(crate::keychain::REGCRED_HELPER).ok();
        }
        let Some(store) = store.as_ref() else { continue };
        if let Ok(Some(credential)) = store.get(&file.helper_key(server))
            && let Some(expiry) = crate::expiry::expiry_of(&credential.username, &credential.secret, &entry.key, now)
        {
            facts.expiries.insert(entry.key.clone(), expiry);
        }
    }
    facts
}
