//! The Login tab: a draft as `{ current, loaded }` (so "unsaved" is `current != loaded`), the
//! preset picker, the fields in reading and Tab order (Server → Username → Password → Email), where
//! the secret goes (said before saving, in words that agree with the key shown), and Save /
//! Cancel / Revert / Remove….

use eframe::egui;
use zeroize::Zeroizing;

use super::command::{Command, FixField};
use super::theme::{self, GRID, Tone};
use super::workspace::Workspace;
use crate::credentials::StoreChoice;
use crate::keychain::KeychainState;
use crate::presets::{self, Field, PresetId, Severity};

/// The answer key of a registry not saved yet (no entry key can be this).
pub(super) const NEW_REGISTRY: &str = "\u{1}new registry";

/// The values of an entry as the editor holds them.
#[derive(Clone, PartialEq, Eq)]
pub struct Fields {
    /// Server as typed.
    pub server: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: Zeroizing<String>,
    /// Email.
    pub email: String,
    /// Where the secret goes on save.
    pub store: StoreChoice,
    /// The registry preset chosen, if any.
    pub preset: Option<PresetId>,
}

impl Fields {
    /// Empty fields, the secret going to `store`.
    pub(crate) fn blank(store: StoreChoice) -> Self {
        Self {
            server: String::new(),
            username: String::new(),
            password: Zeroizing::new(String::new()),
            email: String::new(),
            store,
            preset: None,
        }
    }

    /// The checks of this login against its preset's rules — the preset chosen, else the one
    /// the server names (an existing ghcr.io entry is checked too) — or none for another host.
    pub(crate) fn preset_verdict(&self) -> Option<presets::Checked> {
        let chosen = self.preset.map(PresetId::preset);
        let preset = chosen.or_else(|| presets::detect(self.server.trim()))?;
        let secret = crate::secret::Secret::new(self.password.as_str());
        Some(presets::check_login(preset, self.server.trim(), &self.username, &secret))
    }
}

/// [`Fields::preset_verdict`] of the fields it was computed for: the form is drawn every frame,
/// the verdict computed once per change.
#[derive(Default)]
pub struct VerdictMemo {
    of: Option<Fields>,
    verdict: Option<presets::Checked>,
}

/// The entry being edited.
pub struct Draft {
    /// The entry's key in the file (`None` for a new entry).
    pub key: Option<String>,
    /// What the user has typed.
    pub current: Fields,
    /// The values as loaded (or blank for a new entry): "unsaved" is `current != loaded`.
    pub loaded: Fields,
    /// Whether the secret is still being read from its store.
    pub secret_loading: bool,
    /// The entry whose secret is being read for this draft (kept by Duplicate, which copies it).
    pub(crate) secret_for: Option<String>,
    /// Why the secret could not be read, if so.
    pub(crate) secret_error: Option<String>,
    /// The user chose the file (plaintext) themselves, or confirmed it: Save does not ask again.
    pub(crate) plaintext_seen: bool,
    /// The preset verdict of what is typed.
    pub verdict: VerdictMemo,
}

impl Draft {
    /// What a test of the typed credential depends on (server, user name, password), as a hash
    /// keyed per process: a test's answer says which typing it was about, never the secret.
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
        static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> = std::sync::OnceLock::new();
        let mut hasher = KEYS.get_or_init(std::collections::hash_map::RandomState::new).build_hasher();
        self.current.server.trim().hash(&mut hasher);
        self.current.username.hash(&mut hasher);
        self.current.password.as_str().hash(&mut hasher);
        hasher.finish()
    }

    /// Brings the preset verdict up to what is typed ([`Fields::preset_verdict`]): computed again
    /// only when a field changed. Read it from `verdict.verdict` after.
    fn refresh_verdict(&mut self) {
        if self.verdict.of.as_ref() != Some(&self.current) {
            self.verdict = VerdictMemo { of: Some(self.current.clone()), verdict: self.current.preset_verdict() };
        }
    }

    /// Whether the editor differs from what was loaded (a blank new form does not).
    pub(crate) fn dirty(&self) -> bool {
        self.current != self.loaded
    }

    /// Whether what a test depends on changed: the server, the user name or the password.
    pub(crate) fn credentials_changed(&self) -> bool {
        let (now, then) = (&self.current, &self.loaded);
        now.server != then.server || now.username != then.username || *now.password != *then.password
    }

    /// Where the draft's answers are filed: its entry's key, or one place of its own for a new
    /// registry (never under an existing entry the typed server happens to match).
    pub(crate) fn answer_key(&self) -> String {
        self.key.clone().unwrap_or_else(|| NEW_REGISTRY.to_owned())
    }
}

/// The editor's state.
#[derive(Default)]
pub(super) struct EditorPanel {
    /// The entry being edited.
    pub(crate) draft: Option<Draft>,
    /// Show the password in clear.
    pub(crate) reveal: bool,
    /// Put the cursor in this field on the next frame (Ctrl+N, Add registry, an answer's fix).
    pub(crate) focus: Option<FixField>,
    /// `docker-credential-regcred` is not on `PATH` (learnt in the background).
    pub(crate) regcred_helper_missing: bool,
}

impl EditorPanel {
    /// A new, blank entry; the secret goes to the keychain when it works, else to the file.
    pub(super) fn start_new(&mut self, keychain_works: bool) {
        let store = if keychain_works { StoreChoice::Keychain } else { StoreChoice::File };
        self.draft = Some(Draft {
            key: None,
            current: Fields::blank(store.clone()),
            loaded: Fields::blank(store),
            secret_loading: false,
            secret_for: None,
            secret_error: None,
            plaintext_seen: false,
            verdict: VerdictMemo::default(),
        });
        self.reveal = false;
        self.focus = Some(FixField::Server);
    }

    /// The tab.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace, saving: bool, commands: &mut Vec<Command>) {
        let Some(draft) = self.draft.as_mut() else {
            theme::empty_state(ui, "Pick a registry on the left, or add one (Ctrl+N).");
            return;
        };
        let focus = self.focus.take();
        preset_ui(ui, draft);
        ui.add_space(GRID);
        let width = (ui.available_width() - 30.0 * GRID).clamp(200.0, 460.0);
        egui::Grid::new("editor").num_columns(2).spacing([3.0 * GRID, 2.0 * GRID]).min_col_width(24.0 * GRID).show(
            ui,
            |ui| {
                fields_ui(ui, draft, (workspace, width), focus, self.reveal);
            },
        );
        ui.horizontal(|ui| {
            ui.add_space(27.0 * GRID);
            ui.checkbox(&mut self.reveal, "Reveal password");
            if ui.button("Copy password").clicked() {
                ui.ctx().copy_text(draft.current.password.to_string());
                commands.push(Command::Toast("Copied the password to the clipboard".to_owned()));
            }
        });
        // The findings, and whether Save may go on, from the one verdict of what is typed.
        let chosen = draft.current.preset.is_some();
        draft.refresh_verdict();
        let preset_error = chosen && draft.verdict.verdict.as_ref().is_some_and(presets::Checked::has_errors);
        if let Some(checked) = &draft.verdict.verdict {
            findings_ui(ui, &draft.current, checked);
        }
        ui.add_space(GRID);
        let store = store_ui(ui, draft, workspace);
        if self.regcred_helper_missing && draft.current.store == StoreChoice::Keychain {
            theme::message(ui, Tone::Warn, super::dialogs::HELPER_MISSING);
        }
        if focus == Some(FixField::Store) {
            store.request_focus();
            ui.scroll_to_rect(store.rect, None);
        }
        ui.add_space(2.0 * GRID);
        actions_ui(ui, draft, saving, preset_error, commands);
    }
}

/// The preset picker: the big registries' rules, filling the server and user-name form.
fn preset_ui(ui: &mut egui::Ui, draft: &mut Draft) {
    ui.horizontal(|ui| {
        let label = ui.label("Preset");
        let before = draft.current.preset;
        let chosen = draft.current.preset.map_or("Any registry", |id| id.preset().name);
        let combo = egui::ComboBox::from_id_salt("preset").selected_text(chosen).height(400.0).show_ui(ui, |ui| {
            ui.selectable_value(&mut draft.current.preset, None, "Any registry");
            for preset in presets::all() {
                ui.selectable_value(&mut draft.current.preset, Some(preset.id), preset.name);
            }
        });
        combo.response.labelled_by(label.id);
        // What the previous preset filled in goes with it.
        if let Some(old) = before.filter(|_| before != draft.current.preset).map(PresetId::preset) {
            if old.default_server.is_some_and(|server| draft.current.server.trim() == server) {
                draft.current.server.clear();
            }
            if old.fixed_username.is_some_and(|user| draft.current.username == user) {
                draft.current.username.clear();
            }
        }
        if let Some(preset) = draft.current.preset.map(PresetId::preset) {
            if draft.current.server.is_empty()
                && let Some(server) = preset.default_server
            {
                server.clone_into(&mut draft.current.server);
            }
            if draft.current.username.is_empty()
                && let Some(user) = preset.fixed_username
            {
                user.clone_into(&mut draft.current.username);
            }
        }
    });
    // Always one line (elided, whole on hover), so choosing a preset never moves the fields.
    let hint = draft.current.preset.map(PresetId::preset).map_or_else(
        || "Any registry: type its address below, or choose a preset for its rules.".to_owned(),
        |preset| format!("{} · user: {} · token: {}", preset.server_hint, preset.username_hint, preset.token_source),
    );
    ui.add(egui::Label::new(egui::RichText::new(&hint).color(ui.visuals().weak_text_color())).truncate())
        .on_hover_text(&hint);
}

/// Server, Username, Password, Email, in that Tab order.
fn fields_ui(
    ui: &mut egui::Ui,
    draft: &mut Draft,
    (workspace, width): (&Workspace, f32),
    focus: Option<FixField>,
    reveal: bool,
) {
    let label = ui.label("Server");
    let server = ui
        .add(
            egui::TextEdit::singleline(&mut draft.current.server)
                .id_salt("server")
                .hint_text("registry.example.com:5000")
                .desired_width(width),
        )
        .labelled_by(label.id);
    ui.end_row();
    ui.label("");
    // The key the entry will have in this file (a path kept: the kubelet matches it).
    match crate::auth_files::parse_server(draft.current.server.trim()) {
        Ok(key) => {
            let saved = workspace.file().map_or_else(
                || if key.scope().is_empty() { key.docker_key() } else { key.podman_key() },
                |file| file.find_key(&key).unwrap_or_else(|| file.entry_key_for(&key)),
            );
            let unchanged = draft.key.is_some() && draft.current.server == draft.loaded.server;
            theme::weak(ui, &format!("{} as {saved}", if unchanged { "saved" } else { "will be saved" }))
        }
        Err(error) if !draft.current.server.trim().is_empty() => theme::message(ui, Tone::Bad, &error.to_string()),
        Err(_) => theme::weak(ui, "e.g. registry.example.com:5000, ghcr.io or docker.io"),
    };
    ui.end_row();
    let label = ui.label("Username");
    let user = ui
        .add(egui::TextEdit::singleline(&mut draft.current.username).id_salt("username").desired_width(width))
        .labelled_by(label.id);
    ui.end_row();
    let label = ui.label("Password");
    let password = ui
        .add(
            egui::TextEdit::singleline(&mut *draft.current.password)
                .id_salt("password")
                .password(!reveal)
                .desired_width(width),
        )
        .labelled_by(label.id);
    ui.end_row();
    if draft.secret_loading {
        ui.label("");
        ui.horizontal(|ui| {
            ui.spinner();
            theme::weak(ui, "reading the secret from its store…");
        });
        ui.end_row();
    }
    if let Some(error) = &draft.secret_error {
        ui.label("");
        theme::message(ui, Tone::Bad, error);
        ui.end_row();
    }
    let label = ui.label("Email");
    ui.add(
        egui::TextEdit::singleline(&mut draft.current.email)
            .id_salt("email")
            .hint_text("(optional)")
            .desired_width(width),
    )
    .labelled_by(label.id);
    ui.end_row();
    let target = match focus {
        Some(FixField::Server) => Some((server, draft.current.server.clone())),
        Some(FixField::Username) => Some((user, draft.current.username.clone())),
        Some(FixField::Password) => Some((password, draft.current.password.to_string())),
        _ => None,
    };
    if let Some((target, text)) = target {
        // The field to fix, its text selected: typing replaces it.
        target.request_focus();
        ui.scroll_to_rect(target.rect, None);
        if let Some(mut state) = egui::TextEdit::load_state(ui.ctx(), target.id) {
            state.cursor.set_char_range(Some(egui::text::CCursorRange::select_all_str(&text)));
            state.store(ui.ctx(), target.id);
        }
        drop(zeroize::Zeroizing::new(text));
    }
}

/// The preset's offline checks of what is typed (never showing the secret).
fn findings_ui(ui: &mut egui::Ui, current: &Fields, checked: &presets::Checked) {
    let untyped = |field: Field| match field {
        Field::Server => current.server.trim().is_empty(),
        Field::Username => current.username.is_empty(),
        Field::Secret => current.password.is_empty(),
    };
    // Nothing is wrong with a field not typed in yet (Save says what is missing).
    for finding in checked.findings.iter().filter(|f| !untyped(f.field)) {
        let tone = match finding.severity {
            Severity::Error => Tone::Bad,
            Severity::Warning => Tone::Warn,
            Severity::Info => Tone::Info,
        };
        theme::message(ui, tone, &finding.message);
    }
}

/// Where the secret goes; the keychain is offered only when it works, and the reason is said in
/// one sentence that agrees with the key shown above. Returns the first choice (for focus).
fn store_ui(ui: &mut egui::Ui, draft: &mut Draft, workspace: &Workspace) -> egui::Response {
    let keychain = workspace.keychain.clone();
    let works = keychain == Some(KeychainState::Available);
    // Helpers answer per registry host: a key with a path keeps its secret in the file.
    let server = crate::auth_files::parse_server(draft.current.server.trim()).ok();
    let scoped = server.as_ref().is_some_and(|s| !s.scope().is_empty());
    if scoped && draft.current.store != StoreChoice::File && draft.key.is_none() {
        draft.current.store = StoreChoice::File;
    }
    let first = ui
        .horizontal_wrapped(|ui| {
            let label = ui.label("Store the secret in");
            let keychain_radio = ui
                .add_enabled_ui((works && !scoped) || draft.current.store == StoreChoice::Keychain, |ui| {
                    ui.radio_value(&mut draft.current.store, StoreChoice::Keychain, "the OS keychain")
                })
                .inner
                .labelled_by(label.id);
            if let StoreChoice::Helper(name) = &draft.loaded.store {
                let helper = StoreChoice::Helper(name.clone());
                ui.radio_value(&mut draft.current.store, helper, format!("helper {name}"));
            }
            let file = ui.radio_value(&mut draft.current.store, StoreChoice::File, "the file (plaintext)");
            if file.clicked() {
                draft.plaintext_seen = true;
            }
            keychain_radio
        })
        .inner;
    let lives_in_keychain = draft.loaded.store == StoreChoice::Keychain && draft.key.is_some();
    if let Some(server) = server.as_ref().filter(|_| scoped) {
        theme::message(
            ui,
            Tone::Warn,
            &format!(
                "The keychain and credential helpers answer for a whole registry ({}), not for a path: this key keeps its password in the file, in plaintext.",
                server.registry()
            ),
        );
    } else if !works {
        let why = match &keychain {
            None => "Checking the OS keychain…".to_owned(),
            Some(state) if lives_in_keychain => format!(
                "{} This registry's secret lives there: it cannot be read or changed until the keychain answers.",
                super::workspace::keychain_advice(state)
            ),
            Some(state) => {
                format!(
                    "{} Until then, the secret can only be kept in the file.",
                    super::workspace::keychain_advice(state)
                )
            }
        };
        theme::message(ui, Tone::Warn, &why);
    } else if draft.current.store == StoreChoice::File {
        theme::message(
            ui,
            Tone::Warn,
            "Plaintext: anyone who can read the file can read the password (base64 is not encryption).",
        );
    }
    first
}

/// Save (the tab's one primary action), Cancel (a new entry) or Revert, and Remove… on the right,
/// with the reason Save is disabled in words.
/// `preset_error`: the chosen preset's checks found an error.
fn actions_ui(ui: &mut egui::Ui, draft: &Draft, saving: bool, preset_error: bool, commands: &mut Vec<Command>) {
    let validation = if draft.current.server.trim().is_empty() {
        Some("Enter a server: the registry's address")
    } else if draft.current.username.is_empty() {
        Some("Enter a user name")
    } else if draft.current.password.is_empty() && !draft.secret_loading {
        Some("Enter a password or token")
    } else if preset_error {
        Some("Fix what the preset found (in red above)")
    } else {
        None
    };
    ui.horizontal(|ui| {
        let can_save = validation.is_none() && (draft.dirty() || draft.key.is_none()) && !saving;
        if ui.add_enabled(can_save, theme::primary_when(ui, can_save, "Save")).on_hover_text("Ctrl+S").clicked() {
            commands.push(Command::Save);
        }
        if draft.key.is_none() {
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelNew);
            }
        } else if ui.add_enabled(draft.dirty(), egui::Button::new("Revert")).clicked() {
            commands.push(Command::Revert);
        }
        if saving {
            ui.spinner();
        }
        if let Some(key) = &draft.key {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.add(theme::destructive(ui, "Remove…")).on_hover_text("Delete").clicked() {
                    commands.push(Command::AskRemove(key.clone()));
                }
            });
        }
    });
    if let Some(message) = validation.filter(|_| draft.dirty()) {
        theme::weak(ui, message);
    }
}
