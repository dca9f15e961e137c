//! The desktop window (eframe/egui). Only here is egui used; every file, keychain and network
//! operation runs as a background job on the runtime `main` owns.

use eframe::egui;
mod app;
mod editor_panel;
mod jobs;
mod pull_panel;
mod sources_panel;
mod state;
mod yaml_panel;

pub use app::{App, Command, Opener, StoreKind};
pub use state::{State, YamlTab};

/// The application id used for the window, desktop entry and storage.
pub const APP_ID: &str = "io.github.regcred.Regcred";

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let shortcuts = ctx.input_mut(|input| {
            let save = input.consume_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S));
            let pull = input.consume_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::T));
            let help = input.key_pressed(egui::Key::F1);
            let quit = input.consume_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::Q));
            (save, pull, help, quit)
        });
        if shortcuts.0 {
            self.commands.push(Command::Save);
        }
        if shortcuts.1 {
            self.commands.push(Command::TestPull);
        }
        if shortcuts.2 {
            self.show_help = !self.show_help;
        }
        if shortcuts.3 {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        App::logic(self, ctx);
        let title = self.title();
        if self.shown_title.as_deref() != Some(title.as_str()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = Some(title);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("top-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("regcred");
                ui.separator();
                let keychain = match &self.keychain {
                    None => "Keychain: checking…".to_owned(),
                    Some(crate::keychain::KeychainState::Available) => "Keychain: available".to_owned(),
                    Some(crate::keychain::KeychainState::Locked(_)) => "Keychain: locked".to_owned(),
                    Some(crate::keychain::KeychainState::Absent(_)) => "Keychain: absent".to_owned(),
                    Some(crate::keychain::KeychainState::NotAnswering(_)) => "Keychain: not answering".to_owned(),
                };
                ui.label(keychain);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Help").on_hover_text("F1").clicked() {
                        self.show_help = !self.show_help;
                    }
                });
            });
        });
        egui::Panel::bottom("notifications").show(ui, |ui| {
            if self.toasts.is_empty() {
                ui.weak("Ctrl+S save · Ctrl+T test pull · F1 help");
            }
            for toast in self.toasts.iter().rev().take(3) {
                let color = if toast.error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                ui.colored_label(color, &toast.text);
            }
        });
        egui::Panel::left("sources").resizable(true).default_size(320.0).show(ui, |ui| self.sources_ui(ui));
        egui::Panel::right("yaml").resizable(true).default_size(430.0).show(ui, |ui| self.yaml_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("centre").show(ui, |ui| {
                self.editor_ui(ui);
                ui.separator();
                self.pull_ui(ui);
            });
        });
        self.dialogs_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}

impl App {
    fn orphans_ui(&mut self, ctx: &egui::Context) {
        if let Some(orphans) = self.orphans.clone() {
            let mut open = true;
            egui::Window::new("Orphans").collapsible(false).open(&mut open).show(ctx, |ui| {
                if orphans.is_empty() {
                    ui.label("None: every entry has its secret and every keychain item has an entry.");
                }
                for orphan in orphans {
                    let (name, fix) = match &orphan {
                        crate::credentials::Orphan::Stub { key, .. } => (key.clone(), "Remove the empty entry"),
                        crate::credentials::Orphan::KeychainItem { server, .. } => {
                            (server.clone(), "Add an entry that uses it")
                        }
                    };
                    let text = format!("{name}: {}", orphan.problem());
                    ui.horizontal(|ui| {
                        ui.label(text);
                        if ui.button(fix).clicked() {
                            self.confirm_orphan = Some(orphan.clone());
                        }
                    });
                }
            });
            if !open {
                self.orphans = None;
            }
        }
        if let Some(orphan) = self.confirm_orphan.clone() {
            let shown = self.file().map(|f| f.path().display().to_string()).unwrap_or_default();
            let (title, change, action) = orphan_change(&orphan, &shown);
            egui::Window::new(title)
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
                .show(ctx, |ui| {
                    ui.add(egui::Label::new(change).wrap());
                    ui.horizontal(|ui| {
                        if ui.button(action).clicked() {
                            self.confirm_orphan = None;
                            self.commands.push(Command::FixOrphan(orphan.clone()));
                        }
                        if ui.button("Cancel").clicked() {
                            self.confirm_orphan = None;
                        }
                    });
                });
        }
    }

    fn dialogs_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if let Some(key) = self.confirm_remove.clone() {
            egui::Window::new("Remove registry?")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
                .show(&ctx, |ui| {
                    ui.label(format!(
                        "Remove {key}: its entry in this file, and its secret wherever it lives (keychain or helper)."
                    ));
                    ui.horizontal(|ui| {
                        if ui.button("Remove").clicked() {
                            self.commands.push(Command::Remove(key.clone()));
                        }
                        if ui.button("Keep").clicked() {
                            self.confirm_remove = None;
                        }
                    });
                });
        }
        if let Some(keys) = self.confirm_migrate.clone() {
            egui::Window::new("Move secrets to the keychain?").collapsible(false).resizable(false).anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0]).show(&ctx, |ui| {
                ui.label(format!("These {} entries hold their secret in plaintext in the file:", keys.len()));
                for key in &keys {
                    ui.monospace(key);
                }
                ui.add(egui::Label::new("Each secret is stored in the OS keychain and read back; then its entry becomes an empty stub and the registry is routed to docker-credential-regcred (credHelpers). If any step fails, the file and the keychain stay as they are.").wrap());
                ui.horizontal(|ui| {
                    if ui.button("Move them").clicked() {
                        self.commands.push(Command::Migrate);
                    }
                    if ui.button("Cancel").clicked() {
                        self.confirm_migrate = None;
                    }
                });
            });
        }
        self.orphans_ui(&ctx);
        if let Some(message) = self.conflict.clone() {
            egui::Window::new("The file changed on disk")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
                .show(&ctx, |ui| {
                    ui.add(egui::Label::new(message).wrap());
                    ui.label("Your edits are kept until you choose. Changes to other entries are merged either way.");
                    ui.horizontal(|ui| {
                        if ui.button("Keep mine").clicked() {
                            self.commands.push(Command::SaveWith(crate::auth_files::ConflictPolicy::KeepOurs));
                        }
                        if ui.button("Keep theirs").clicked() {
                            self.commands.push(Command::SaveWith(crate::auth_files::ConflictPolicy::KeepTheirs));
                        }
                        if ui.button("Reload").clicked() {
                            self.conflict = None;
                            self.commands.push(Command::Reload);
                        }
                    });
                });
        }
        if self.show_help {
            egui::Window::new("Keyboard shortcuts").collapsible(false).open(&mut self.show_help).show(&ctx, |ui| {
                egui::Grid::new("shortcuts").show(ui, |ui| {
                    for (keys, what) in
                        [("Ctrl+S", "Save the entry"), ("Ctrl+T", "Test pull"), ("Ctrl+Q", "Quit"), ("F1", "This help")]
                    {
                        ui.monospace(keys);
                        ui.label(what);
                        ui.end_row();
                    }
                });
            });
        }
    }
}

/// What fixing `orphan` will change, said before it happens: the dialog's title, the change,
/// and the confirming button's label. `shown` is the path of the file on screen.
fn orphan_change(orphan: &crate::credentials::Orphan, shown: &str) -> (&'static str, String, &'static str) {
    match orphan {
        crate::credentials::Orphan::Stub { key, path, .. } => (
            "Remove the empty entry?",
            format!(
                "Removes the entry {key} from {} (and its credHelpers route, if it leads to \
                 docker-credential-regcred). Nothing else in the file changes, and no keychain item or helper \
                 is touched. Log in again to restore it.",
                path.display()
            ),
            "Remove the entry",
        ),
        crate::credentials::Orphan::KeychainItem { server, username } => (
            "Use this keychain item?",
            format!(
                "Adds the entry {server} to {shown}: an empty stub in auths, and credHelpers routing {server} \
                 to docker-credential-regcred, so Docker, Podman and skopeo use the keychain item (user \
                 {username}). The keychain item itself does not change."
            ),
            "Add the entry",
        ),
    }
}

/// The window's icon (the 256 px rendering of `assets/icon/regcred.svg`, made by `scripts/icons`).
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon/png/256x256.png");

/// The decoded window icon; an empty icon (the platform's default) if the PNG cannot be read.
pub fn app_icon() -> egui::IconData {
    eframe::icon_data::from_png_bytes(ICON_PNG).unwrap_or_default()
}

/// Opens the window, showing `file` first when given; returns when the window is closed.
pub fn run(
    env: crate::auth_files::Env,
    file: Option<std::path::PathBuf>,
    runtime: tokio::runtime::Handle,
) -> Result<(), eframe::Error> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("regcred")
            .with_app_id(APP_ID)
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([900.0, 560.0])
            .with_icon(app_icon()),
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "regcred",
        options,
        Box::new(move |cc| {
            let mut state: State = cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
            if file.is_some() {
                state.last_file = file;
            }
            Ok(Box::new(App::new(&cc.egui_ctx, state, env, runtime, App::system_opener(), true)))
        }),
    )
}
