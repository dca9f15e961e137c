//! The detail pane: the selected registry's title and facts, led by its latest answer (the card),
//! then three tabs — Login, Test pull, Kubernetes. With nothing selected it is the welcome (an
//! empty file) or says what to do; with rows ticked and nothing open it shows their one Secret.

use eframe::egui;

use super::app::App;
use super::command::{Command, Tab};
use super::theme::{self, GRID, Tone};

impl App {
    /// The pane.
    pub(super) fn detail_ui(&mut self, ui: &mut egui::Ui) {
        let Some(draft) = self.editor.draft.as_ref() else {
            if !self.list.checked.is_empty() {
                ui.horizontal(|ui| {
                    let count = self.list.checked.len();
                    theme::title(ui, &format!("{count} registr{} ticked", if count == 1 { "y" } else { "ies" }));
                });
                theme::weak(ui, "One Secret holds every ticked registry.");
                ui.add_space(2.0 * GRID);
                self.tab = Tab::Kubernetes;
                let area = egui::ScrollArea::vertical().id_salt("detail").auto_shrink(false);
                theme::scroll_view(ui, area, |ui| self.yaml_tab_ui(ui));
                return;
            }
            if self.list.is_empty() && self.state.filter.is_empty() {
                self.welcome_ui(ui);
            } else {
                ui.add_space(8.0 * GRID);
                ui.vertical_centered(|ui| {
                    theme::heading(ui, "Select a registry");
                    theme::empty_state(
                        ui,
                        "Its last answer, its login, a test pull and its Kubernetes YAML appear here. The Up and Down arrow keys move through the list, Ctrl+N adds a registry.",
                    );
                });
            }
            return;
        };
        let key = draft.answer_key();
        let is_new = draft.key.is_none();
        let dirty = draft.dirty();
        let title = if is_new { draft.current.server.trim().to_owned() } else { key.clone() };
        self.header_ui(ui, &title, is_new, dirty);
        ui.add_space(2.0 * GRID);
        // The answer, the tabs and the tab's content scroll together: nothing of the card (what to
        // do, its fix button) or of the form (Save) is ever out of reach.
        let area = egui::ScrollArea::vertical().id_salt("detail").auto_shrink(false);
        theme::scroll_view(ui, area, |ui| {
            let answer = self.answer(&key);
            if !is_new || answer.is_some() {
                let running =
                    self.row_tests.is_running(&key) || self.pull.running.as_ref().is_some_and(|(k, _)| *k == key);
                let remembered = self.test_record(&key);
                let mut asked = Vec::new();
                super::card::ui(ui, &key, answer, remembered, running, &mut asked);
                self.commands.append(&mut asked);
                ui.add_space(2.0 * GRID);
            }
            self.tabs_ui(ui);
            ui.add_space(GRID);
            match self.tab {
                Tab::Login => {
                    let saving = self.jobs.save.busy();
                    self.editor.regcred_helper_missing = self.facts.regcred_helper_missing;
                    self.editor.ui(ui, &self.workspace, saving, &mut self.commands);
                }
                Tab::TestPull => {
                    if let Some(draft) = self.editor.draft.as_ref() {
                        let blocked = if self.verify.job.busy() {
                            Some("A verification is running".to_owned())
                        } else {
                            self.cluster.target.unavailable()
                        };
                        self.pull.ui(ui, &self.workspace, &mut self.state, draft, blocked, &mut self.commands);
                    }
                    self.verify_section_ui(ui);
                }
                Tab::Kubernetes => self.yaml_tab_ui(ui),
            }
        });
    }

    /// The registry's name as the title, and its facts in one line below.
    fn header_ui(&self, ui: &mut egui::Ui, key: &str, is_new: bool, dirty: bool) {
        ui.horizontal(|ui| {
            let mark = if is_new { None } else { crate::presets::detect(key).map(|p| p.id) };
            super::list::mark_ui(ui, mark);
            let shown = crate::untrusted::inert(key, 200);
            let title = if is_new && key.is_empty() { "New registry".to_owned() } else { shown };
            theme::title(ui, &title).on_hover_text(&title);
            if dirty {
                theme::badge(ui, Tone::Warn, "unsaved changes");
            }
        });
        if is_new {
            theme::weak(ui, "A new registry: fill in the login and save (Ctrl+S).");
            return;
        }
        let Some(row) = self.list.rows().iter().find(|row| row.key == key) else { return };
        let user = row.username.as_deref().map_or_else(|| "no user name".to_owned(), |user| format!("user {user}"));
        let mut facts = format!("{user} · {}", home_words(&row.home));
        let expiry = row.expiry.as_ref().or_else(|| self.facts.expiries.get(key));
        if let Some(expiry) = expiry {
            facts.push_str(" · ");
            facts.push_str(&crate::expiry::describe(expiry, std::time::SystemTime::now()));
        }
        if let Some(shown) = self.workspace.shown() {
            facts.push_str(" · ");
            facts.push_str(&shown.path.display().to_string());
        }
        theme::weak(ui, &facts);
        if let Some(earlier) = &row.shadowed_by {
            let home = self.workspace.env.home.as_deref();
            theme::message(
                ui,
                Tone::Info,
                &format!(
                    "Podman and skopeo read {} first and take this registry's login from there, not from this file.",
                    super::tilde(earlier, home)
                ),
            );
        }
        // What is wrong with the entry, where the keyboard and a screen reader reach it.
        for problem in &row.problems {
            theme::message(ui, Tone::Bad, problem);
        }
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for tab in [Tab::Login, Tab::TestPull, Tab::Kubernetes] {
                let chosen = self.tab == tab;
                let text = egui::RichText::new(tab.label()).size(theme::BODY + 1.0);
                let text = if chosen { text.strong() } else { text };
                let response = ui.add(
                    egui::Button::new(text).frame_when_inactive(false).min_size(egui::vec2(24.0 * GRID, 8.0 * GRID)),
                );
                response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Tab, true, chosen, tab.label()));
                if chosen {
                    let palette = theme::palette(ui.visuals());
                    let rect = response.rect;
                    ui.painter().hline(rect.x_range(), rect.bottom() - 1.0, egui::Stroke::new(2.5, palette.link));
                }
                if response.clicked() {
                    self.tab = tab;
                }
            }
        });
        let line = ui.visuals().widgets.noninteractive.bg_stroke;
        let rect = ui.min_rect();
        ui.painter().hline(ui.max_rect().x_range(), rect.bottom() + 1.0, line);
    }

    fn yaml_tab_ui(&mut self, ui: &mut egui::Ui) {
        self.yaml.caveats = self.yaml_caveats();
        let image = self.editor.draft.as_ref().map(|d| self.pull.image_for(&self.state, d)).unwrap_or_default();
        let selection = self.yaml.selection.take();
        let source = super::app::yaml_source(
            self.editor.draft.as_ref(),
            self.workspace.file(),
            &self.list.checked,
            selection.as_ref(),
        );
        let mut asked = Vec::new();
        let (panel, workspace) = (&mut self.cluster, &self.workspace);
        let mut cluster = |ui: &mut egui::Ui, ready: bool| {
            theme::card(ui, Tone::Neutral, |ui| panel.ui(ui, workspace, ready, &mut asked));
        };
        self.yaml.ui(ui, &mut self.state, &source, &image, &mut self.commands, &mut cluster);
        drop(source);
        self.commands.append(&mut asked);
        self.yaml.selection = selection;
    }

    /// Verify in cluster: which cluster and Secret, then the progress or the result.
    fn verify_section_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(2.0 * GRID);
        ui.separator();
        theme::heading(ui, "Cluster");
        theme::weak(
            ui,
            &format!(
                "Verify in cluster: a test Pod pulls the image there with the Secret {} (Kubernetes tab), then is deleted.",
                self.state.secret_name.trim()
            ),
        );
        self.cluster.target.row_ui(ui, &self.workspace, "verify", true);
        let cluster = self.cluster.target.describe();
        self.verify.ui(ui, &cluster, &mut self.commands);
    }

    /// The first start: what regcred does, and the three ways in.
    fn welcome_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(10.0 * GRID);
        ui.vertical_centered(|ui| {
            ui.set_max_width(ui.available_width().min(520.0));
            theme::title(ui, "Welcome to regcred");
            ui.add_space(2.0 * GRID);
            theme::empty_state(ui, &welcome_text(self.workspace.keychain.as_ref()));
            ui.add_space(4.0 * GRID);
            if ui.add(theme::primary(ui, "Add your first registry")).on_hover_text("Ctrl+N").clicked() {
                self.commands.push(Command::NewEntry);
            }
            ui.add_space(2.0 * GRID);
            if ui.button("Open file…").on_hover_text("Ctrl+O").clicked() {
                self.commands.push(Command::AskOpenFile);
            }
            if ui.button("Check Kubernetes manifests…").on_hover_text("Will these pods pull?").clicked() {
                self.check.show();
            }
            ui.add_space(4.0 * GRID);
            if let Some(shown) = self.workspace.shown() {
                theme::weak(ui, &format!("Saving creates {} (mode 0600).", shown.path.display()));
            }
        });
    }
}

/// What regcred does, said true to this machine: where the passwords will go depends on whether
/// the keychain answers (the chip at the top says its state).
fn welcome_text(keychain: Option<&crate::keychain::KeychainState>) -> String {
    use crate::keychain::KeychainState;
    let passwords = match keychain {
        None | Some(KeychainState::Available) => "with the passwords in the OS keychain.",
        Some(KeychainState::Locked(_)) => {
            "with the passwords in the OS keychain (it is locked now: unlock it, or regcred asks before it writes a password into the file instead)."
        }
        Some(KeychainState::Absent(_) | KeychainState::NotAnswering(_)) => {
            "with the passwords in the OS keychain where there is one. Here it does not answer, so a password goes into the file (base64, not encrypted) — regcred asks before it writes one."
        }
    };
    format!(
        "regcred keeps your container-registry logins where Docker, Podman and the kubelet read them, {passwords} It test-pulls an image the way a node would and tells you why a pull would fail, writes the image pull Secret for Kubernetes, and puts it into your cluster."
    )
}

/// Where a secret lives, in words for the title line.
fn home_words(home: &crate::resolve::SecretHome) -> String {
    use crate::resolve::SecretHome;
    match home {
        SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => {
            "secret in the OS keychain".to_owned()
        }
        SecretHome::Helper { helper, .. } => format!("secret kept by the helper {helper}"),
        SecretHome::Plaintext => "secret in the file (plaintext)".to_owned(),
        SecretHome::Missing => "no secret".to_owned(),
    }
}
