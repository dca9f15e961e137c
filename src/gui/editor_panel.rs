//! The centre: the entry editor (server, user, password, email, where the secret goes).

use super::app::{App, Command, StoreKind};
use eframe::egui;

impl App {
    /// The entry editor.
    pub fn editor_ui(&mut self, ui: &mut egui::Ui) {
        let resolution_hint = self.file().map(crate::auth_files::AuthFile::kind);
        let saving = self.save_job.busy();
        let keychain = self.keychain.clone();
        let Some(draft) = self.draft.as_mut() else {
            ui.heading("No registry selected");
            ui.label("Pick a registry on the left, or Add registry.");
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(if draft.key.is_some() { "Registry" } else { "New registry" });
            if draft.dirty() {
                ui.label(egui::RichText::new("unsaved changes").color(ui.visuals().warn_fg_color));
            }
        });
        let mut save = false;
        egui::Grid::new("editor").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            let label = ui.label("Server");
            ui.text_edit_singleline(&mut draft.server).labelled_by(label.id);
            ui.end_row();
            ui.label("");
            match crate::auth_files::parse_server(&draft.server) {
                Ok(server) => ui.weak(format!("saved as {}", server.docker_key())),
                Err(error) if !draft.server.is_empty() => {
                    ui.colored_label(ui.visuals().error_fg_color, error.to_string())
                }
                Err(_) => ui.weak("e.g. registry.example.com:5000 or docker.io"),
            };
            ui.end_row();
            let label = ui.label("Username");
            ui.text_edit_singleline(&mut draft.username).labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Password");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut *draft.password)
                        .password(!self.reveal_password)
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
                ui.checkbox(&mut self.reveal_password, "Reveal");
                if ui.button("Copy").clicked() {
                    ui.ctx().copy_text(draft.password.to_string());
                }
            });
            ui.end_row();
            if draft.secret_loading {
                ui.label("");
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("reading the secret from its store…");
                });
                ui.end_row();
            }
            if let Some(error) = &draft.secret_error {
                ui.label("");
                ui.colored_label(ui.visuals().error_fg_color, error);
                ui.end_row();
            }
            let label = ui.label("Email");
            ui.add(egui::TextEdit::singleline(&mut draft.email).hint_text("(optional)")).labelled_by(label.id);
            ui.end_row();
            ui.label("Store the secret in");
            ui.horizontal(|ui| {
                ui.radio_value(&mut draft.store, StoreKind::Keychain, "the OS keychain");
                if let StoreKind::Helper(name) = &draft.loaded.4 {
                    let helper = StoreKind::Helper(name.clone());
                    ui.radio_value(&mut draft.store, helper, format!("helper {name}"));
                }
                ui.radio_value(&mut draft.store, StoreKind::File, "the file (plaintext, not encrypted)");
            });
            ui.end_row();
        });
        if draft.store == StoreKind::Keychain
            && let Some(state) = &keychain
            && *state != crate::keychain::KeychainState::Available
        {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Keychain: {state:?} — saving there will fail until it is available."),
            );
        }
        if let Some(kind) = resolution_hint {
            ui.add(egui::Label::new(egui::RichText::new(format!("Saving updates the {kind}: a stub and a route for the keychain or a helper, or the plaintext entry.")).weak()).wrap());
        }
        let (save_clicked, revert) = actions_ui(ui, draft, saving);
        save |= save_clicked;
        if revert {
            self.commands.push(Command::Revert);
        }
        if save {
            self.commands.push(Command::Save);
        }
    }
}

/// Save and Revert with the reason Save is disabled. Returns (save, revert).
fn actions_ui(ui: &mut egui::Ui, draft: &super::app::Draft, saving: bool) -> (bool, bool) {
    let validation = if draft.username.is_empty() {
        Some("Enter a user name")
    } else if draft.password.is_empty() && !draft.secret_loading {
        Some("Enter a password or token")
    } else {
        None
    };
    let (mut save, mut revert) = (false, false);
    ui.horizontal(|ui| {
        let can_save = validation.is_none() && draft.dirty() && !saving;
        save = ui.add_enabled(can_save, egui::Button::new("Save")).on_hover_text("Ctrl+S").clicked();
        revert = ui.add_enabled(draft.dirty() && draft.key.is_some(), egui::Button::new("Revert")).clicked();
        if saving {
            ui.spinner();
        }
        if let Some(message) = validation {
            ui.weak(message);
        }
    });
    (save, revert)
}
