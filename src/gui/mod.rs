//! The desktop window (eframe/egui). Only here is egui used; every file, keychain and network
//! operation runs as a background job on the runtime `main` owns.
//!
//! * [`App`] owns the state, the panels and the jobs, and routes [`Command`]s (`app.rs`,
//!   `actions.rs`).
//! * Each area has its own state and code: the registry list (`list.rs`), the editor
//!   (`editor.rs`), the test pull (`pull.rs`), the YAML (`yaml.rs`), the dialogs (`dialogs.rs`);
//!   `workspace.rs` is what they all read, `theme.rs` the shared look, `jobs.rs` the job slots.

use eframe::egui;

mod actions;
mod app;
mod check;
mod dialogs;
mod editor;
mod jobs;
mod list;
mod pull;
mod state;
mod theme;
mod workspace;
mod yaml;

pub use app::{App, Command, keychain_advice};
pub use editor::{Draft, Fields, StoreKind};
pub use state::{State, TestRecord, TestVerdict, YamlTab};
pub use workspace::Opener;

/// Splits a frame's input after its first Tab press: the Tab (and anything before it) now, the rest
/// in the next frame.
pub fn split_after_focus_move(mut events: Vec<egui::Event>) -> (Vec<egui::Event>, Vec<egui::Event>) {
    let tab =
        events.iter().position(|event| matches!(event, egui::Event::Key { key: egui::Key::Tab, pressed: true, .. }));
    match tab {
        Some(at) if at + 1 < events.len() => {
            let later = events.split_off(at + 1);
            (events, later)
        }
        _ => (events, Vec::new()),
    }
}

/// The application id used for the window, desktop entry and storage.
pub const APP_ID: &str = "io.github.regcred.Regcred";

/// Below this width of the centre, the editor and the YAML share it as two tabs.
const WIDE_CENTRE: f32 = 860.0;

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Last frame's commands first; this frame's shortcuts wait for the next one, after this
        // frame's text reached its field: Ctrl+S typed right after the last letter saves that letter.
        App::logic(self, ctx);
        self.shortcuts(ctx);
        let close = ctx.input(|i| i.viewport().close_requested());
        if close && !self.allow_close && self.draft().is_some_and(Draft::dirty) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.commands.push(Command::Quit);
        }
        if !self.commands.is_empty() {
            ctx.request_repaint();
        }
        let title = self.title();
        if self.shown_title.as_deref() != Some(title.as_str()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = Some(title);
        }
    }

    /// One focus change per frame: events after a Tab wait for the next frame, so a letter typed
    /// right after Tab lands in the field Tab moved to (egui moves the focus at the frame's end).
    fn raw_input_hook(&mut self, ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        let mut events = std::mem::take(&mut self.deferred_input);
        events.append(&mut raw_input.events);
        let (now, later) = split_after_focus_move(events);
        raw_input.events = now;
        if !later.is_empty() {
            ctx.request_repaint();
        }
        self.deferred_input = later;
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        egui::Panel::left("list").resizable(true).default_size(330.0).size_range(270.0..=520.0).show(ui, |ui| {
            let running = |key: &str| {
                self.row_tests.is_running(&key.to_owned()) || self.pull.running.as_ref().is_some_and(|(k, _)| k == key)
            };
            let status = list::TestStatus { running: &running, results: &self.state.results, expiries: &self.expiries };
            let selected = self.editor.draft.as_ref().and_then(|d| d.key.clone());
            self.list.ui(ui, &self.workspace, &mut self.state.filter, selected.as_deref(), &status, &mut self.commands);
        });
        egui::CentralPanel::default().show(ui, |ui| self.centre_ui(ui));
        let ctx = ui.ctx().clone();
        self.check.ui(&ctx, &self.workspace, &self.state);
        self.dialogs.ui(&ctx, &mut self.commands);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted_state());
    }
}

impl App {
    /// The keyboard: Ctrl+N/S/T/F/O/Q, F1, and ↑/↓/Enter in the list when no field is typed in.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        let command = |key| egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key);
        let (new, save, test, find, open, quit, help) = ctx.input_mut(|input| {
            (
                input.consume_shortcut(&command(egui::Key::N)),
                input.consume_shortcut(&command(egui::Key::S)),
                input.consume_shortcut(&command(egui::Key::T)),
                input.consume_shortcut(&command(egui::Key::F)),
                input.consume_shortcut(&command(egui::Key::O)),
                input.consume_shortcut(&command(egui::Key::Q)),
                input.key_pressed(egui::Key::F1),
            )
        });
        let commands = [
            (new, Command::NewEntry),
            (save, Command::Save),
            (test, Command::TestSelected),
            (open, Command::AskOpenFile),
            (quit, Command::Quit),
        ];
        self.commands.extend(commands.into_iter().filter(|(pressed, _)| *pressed).map(|(_, c)| c));
        if find {
            self.list.focus_filter = true;
        }
        if help {
            self.dialogs.help = !self.dialogs.help;
        }
        if ctx.egui_wants_keyboard_input() || self.dialogs.open.is_some() {
            return;
        }
        let (up, down, enter) = ctx.input_mut(|input| {
            (
                input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                input.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
            )
        });
        let count = self.list.rows().len();
        if count > 0 && (up || down) {
            let at = self.list.cursor.unwrap_or(if down { usize::MAX } else { 0 });
            self.list.cursor = Some(if down { at.wrapping_add(1).min(count - 1) } else { at.saturating_sub(1) });
        }
        if enter && let Some(key) = self.list.cursor_key() {
            self.commands.push(Command::Select(key));
        }
    }

    /// The name, the keychain's state as a coloured chip with its advice, Help.
    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.strong("regcred");
            ui.separator();
            let (tone, text) = match &self.workspace.keychain {
                None => (theme::Tone::Neutral, "Keychain: checking…"),
                Some(crate::keychain::KeychainState::Available) => (theme::Tone::Good, "Keychain: available"),
                Some(crate::keychain::KeychainState::Locked(_)) => (theme::Tone::Warn, "Keychain: locked"),
                Some(crate::keychain::KeychainState::Absent(_)) => (theme::Tone::Bad, "Keychain: not available"),
                Some(crate::keychain::KeychainState::NotAnswering(_)) => (theme::Tone::Bad, "Keychain: not answering"),
            };
            let chip = theme::badge(ui, tone, text);
            if let Some(state) = &self.workspace.keychain {
                chip.on_hover_text(app::keychain_advice(state));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Help").on_hover_text("F1").clicked() {
                    self.dialogs.help = !self.dialogs.help;
                }
                let check = ui
                    .button("Check manifests…")
                    .on_hover_text("Will these pods pull? Test every image of some Kubernetes manifests");
                if check.clicked() {
                    self.check.show();
                }
            });
        });
    }

    /// The status line: the latest notifications, or the keys to know.
    fn status_ui(&mut self, ui: &mut egui::Ui) {
        if self.toasts.is_empty() {
            ui.weak("Ctrl+N add · Ctrl+S save · Ctrl+T test · Ctrl+F filter · F1 help");
        }
        for toast in self.toasts.iter().rev().take(3) {
            let tone = if toast.error { theme::Tone::Bad } else { theme::Tone::Neutral };
            let color = if toast.error { tone.text(ui.visuals()) } else { ui.visuals().text_color() };
            ui.add(egui::Label::new(egui::RichText::new(&toast.text).color(color)).wrap());
        }
    }

    /// The centre: the editor and the test pull, and the YAML — side by side when wide, as two
    /// tabs when narrow. The editor comes first in the Tab order either way.
    fn centre_ui(&mut self, ui: &mut egui::Ui) {
        let full = ui.available_rect_before_wrap();
        if full.width() < WIDE_CENTRE {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.narrow_yaml, false, "Registry");
                ui.selectable_value(&mut self.narrow_yaml, true, "YAML");
            });
            ui.separator();
            if self.narrow_yaml {
                self.yaml_column(ui);
            } else {
                self.editor_column(ui);
            }
            return;
        }
        let yaml_width = self.state.yaml_width.clamp(320.0, full.width() - 460.0);
        let split = full.right() - yaml_width;
        let left = egui::Rect::from_min_max(full.min, egui::pos2(split - 8.0, full.bottom()));
        let right = egui::Rect::from_min_max(egui::pos2(split + 8.0, full.top()), full.max);
        ui.scope_builder(egui::UiBuilder::new().max_rect(left), |ui| self.editor_column(ui));
        let handle =
            egui::Rect::from_min_max(egui::pos2(split - 3.0, full.top()), egui::pos2(split + 3.0, full.bottom()));
        let drag = ui.interact(handle, ui.scope_id().with("yaml-split"), egui::Sense::drag());
        if drag.dragged() {
            self.state.yaml_width = (self.state.yaml_width - drag.drag_delta().x).clamp(320.0, full.width() - 460.0);
        }
        let stroke = if drag.hovered() {
            ui.visuals().widgets.active.bg_stroke
        } else {
            ui.visuals().widgets.noninteractive.bg_stroke
        };
        ui.painter().vline(split, full.y_range(), stroke);
        ui.scope_builder(egui::UiBuilder::new().max_rect(right), |ui| self.yaml_column(ui));
    }

    fn editor_column(&mut self, ui: &mut egui::Ui) {
        egui::ScrollArea::vertical().id_salt("centre").auto_shrink(false).show(ui, |ui| {
            let saving = self.jobs.save.busy();
            self.editor.ui(ui, &self.workspace, saving, &mut self.commands);
            if let Some(draft) = self.editor.draft.as_ref() {
                ui.separator();
                self.pull.ui(ui, &self.workspace, &mut self.state, draft, &mut self.commands);
            }
        });
    }

    fn yaml_column(&mut self, ui: &mut egui::Ui) {
        let image = self.editor.draft.as_ref().map(|d| self.pull.image_for(&self.state, d)).unwrap_or_default();
        let selection = self.yaml.selection.take();
        let source =
            app::yaml_source(self.editor.draft.as_ref(), self.workspace.file(), &self.list.checked, selection.as_ref());
        self.yaml.ui(ui, &mut self.state, &source, &image, &mut self.commands);
        drop(source);
        self.yaml.selection = selection;
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
            Ok(Box::new(App::new(&cc.egui_ctx, state, env, runtime, system_opener(), true)))
        }),
    )
}

/// The production opener: regcred's keychain and the helpers on `PATH`.
pub fn system_opener() -> Opener {
    std::sync::Arc::new(|helper: &str| crate::keychain::open_store(helper))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> egui::Event {
        egui::Event::Text(t.to_owned())
    }

    fn tab() -> egui::Event {
        egui::Event::Key {
            key: egui::Key::Tab,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: egui::Modifiers::NONE,
        }
    }

    #[test]
    fn a_letter_typed_right_after_tab_waits_for_the_next_frame() {
        let (now, later) = split_after_focus_move(vec![text("a"), tab(), text("b"), tab(), text("c")]);
        assert_eq!(now, vec![text("a"), tab()]);
        assert_eq!(later, vec![text("b"), tab(), text("c")]);
        let (now, later) = split_after_focus_move(later);
        assert_eq!((now, later), (vec![text("b"), tab()], vec![text("c")]));
        assert_eq!(split_after_focus_move(vec![text("x"), tab()]), (vec![text("x"), tab()], Vec::new()));
        assert_eq!(split_after_focus_move(vec![text("x")]), (vec![text("x")], Vec::new()));
    }
}
