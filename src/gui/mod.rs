//! The desktop window (eframe/egui). Only here is egui used; every file, keychain and network
//! operation runs as a background job on the runtime `main` owns.
//!
//! The window is list + detail: the registry table on the left (`list.rs`), and on the right the
//! detail pane (`detail.rs`) led by the selected registry's latest answer (`card.rs`), with its
//! Login (`editor.rs`), Test pull (`pull.rs`) and Kubernetes (`yaml.rs`) tabs. [`App`] owns the
//! state and the jobs (`app.rs`, `jobs.rs`); panels push [`Command`]s (`command.rs`), applied
//! after the frame (`actions/`); `keyboard.rs` is the keyboard, `theme.rs` the visual language,
//! `workspace.rs` what every panel reads, `dialogs.rs` and `check.rs` the rest. The cluster:
//! `cluster.rs` (which cluster, Apply), `verify.rs` (Verify in cluster), `live.rs` (Check cluster).

use eframe::egui;

mod actions;
mod app;
mod card;
mod check;
mod cluster;
mod command;
mod detail;
mod dialogs;
mod editor;
mod jobs;
mod keyboard;
mod list;
mod live;
mod pull;
mod state;
mod theme;
mod verify;
mod workspace;
mod yaml;

pub use app::App;
pub use command::{Command, Tab};
pub use editor::{Draft, Fields};
pub use state::{State, TestRecord, TestVerdict};
pub use theme::ThemeChoice;
pub use workspace::{Opener, keychain_advice};

/// Splits a frame's input after its first Tab press: the Tab (and anything before it) now, the rest
/// in the next frame.
pub(crate) fn split_after_focus_move(mut events: Vec<egui::Event>) -> (Vec<egui::Event>, Vec<egui::Event>) {
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

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Last frame's commands first; this frame's shortcuts wait for the next one, after this
        // frame's text reached its field: Ctrl+S typed right after the last letter saves that letter.
        App::logic(self, ctx);
        self.shortcuts(ctx);
        let dialog = self.dialogs.open.is_some() || self.dialogs.help || self.check.open || self.live.open;
        let keys = keyboard::take_list_keys(ctx, self.list.filter_focused, dialog);
        self.list_keys(ctx, &keys);
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
        egui::Panel::top("top-bar")
            .frame(egui::Frame::side_top_panel(ui.style()).inner_margin(egui::Margin::symmetric(16, 10)))
            .show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status")
            .frame(egui::Frame::side_top_panel(ui.style()).inner_margin(egui::Margin::symmetric(16, 6)))
            .show(ui, |ui| self.status_ui(ui));
        egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(ui.style()).inner_margin(egui::Margin::symmetric(16, 12)))
            .show(ui, |ui| self.split_ui(ui));
        let ctx = ui.ctx().clone();
        theme::give_back_focus(&ctx);
        self.check.ui(&ctx, &self.workspace, &self.state);
        self.live.ui(&ctx, &self.workspace, &self.state);
        self.dialogs.ui(&ctx, &mut self.commands);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted_state());
    }
}

/// The room around the divider between the table and the detail pane.
const GUTTER: f32 = 12.0 * theme::GRID;

impl App {
    /// The name, the file shown (elided to its share of the bar, whole on hover), the keychain's
    /// state in words; on the right Check cluster…, Check manifests…, Theme and Help.
    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        let narrow = ui.available_width() < 1000.0;
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("regcred").size(theme::HEADING + 2.0).strong());
            ui.add_space(2.0 * theme::GRID);
            self.file_picker_ui(ui, narrow);
            let (tone, text) = match &self.workspace.keychain {
                None => (theme::Tone::Neutral, "Keychain: checking…"),
                Some(crate::keychain::KeychainState::Available) => (theme::Tone::Good, "Keychain: available"),
                Some(crate::keychain::KeychainState::Locked(_)) => (theme::Tone::Warn, "Keychain: locked"),
                Some(crate::keychain::KeychainState::Absent(_)) => (theme::Tone::Bad, "Keychain: not available"),
                Some(crate::keychain::KeychainState::NotAnswering(_)) => (theme::Tone::Bad, "Keychain: not answering"),
            };
            let chip = theme::badge(ui, tone, text);
            if let Some(state) = &self.workspace.keychain {
                chip.on_hover_text(workspace::keychain_advice(state));
            }
            theme::at_right_end(ui, egui::Id::unique("top-bar-right"), |ui| self.top_bar_right_ui(ui, narrow));
        });
    }

    /// Check cluster…, Check manifests… (one menu in a narrow window), Theme and Help.
    fn top_bar_right_ui(&mut self, ui: &mut egui::Ui, narrow: bool) {
        // Narrow windows fold the two checks into one menu, so the bar never overlaps.
        if narrow {
            ui.menu_button("Check…", |ui| {
                if ui.button("Check manifests…").clicked() {
                    self.check.show();
                    ui.close();
                }
                if ui.button("Check cluster…").clicked() {
                    self.live.open_from(&self.cluster.target);
                    ui.close();
                }
            });
        } else {
            let live = ui
                .button("Check cluster…")
                .on_hover_text("Which Pods cannot pull now, and why: the node's words beside regcred's");
            if live.clicked() {
                self.live.open_from(&self.cluster.target);
            }
            let check = ui
                .button("Check manifests…")
                .on_hover_text("Will these pods pull? Test every image of some Kubernetes manifests");
            if check.clicked() {
                self.check.show();
            }
        }
        self.theme_ui(ui);
        if ui.button("Help").on_hover_text("F1: the keyboard").clicked() {
            self.dialogs.help = !self.dialogs.help;
        }
    }

    /// Which file: the files found (and opened), each with its kind, path and count.
    fn file_picker_ui(&mut self, ui: &mut egui::Ui, narrow: bool) {
        let home = self.workspace.env.home.clone();
        let podman = self.workspace.sources.podman.paths.clone();
        let describe = |source: &crate::auth_files::SourceFile| {
            let status = match &source.status {
                crate::auth_files::SourceStatus::Loaded(file) => match file.entry_count() {
                    1 => "1 registry".to_owned(),
                    count => format!("{count} registries"),
                },
                crate::auth_files::SourceStatus::Missing => "not created yet".to_owned(),
                crate::auth_files::SourceStatus::Failed(_) => "cannot be used".to_owned(),
            };
            let path = tilde(&source.path, home.as_deref());
            // Podman reads several auth.json files, the first with a credential answering (then
            // Docker's): say where each stands in that order.
            let place = podman
                .iter()
                .position(|(kind, p)| *p == source.path && *kind == crate::auth_files::FileKind::ContainersAuth);
            let order = place.map_or_else(String::new, |place| format!(" · read {} by Podman", ordinal(place + 1)));
            format!("{} · {path} · {status}{order}", source.kind)
        };
        let current = self.workspace.shown().map_or_else(|| "no files".to_owned(), describe);
        let label = ui.label("File");
        // What is left beside the keychain's words and the three buttons on the right.
        let width = (ui.available_width() - if narrow { 520.0 } else { 660.0 }).clamp(140.0, 520.0);
        let combo = ui.scope(|ui| {
            ui.set_max_width(width);
            egui::ComboBox::from_id_salt("file").width(width).truncate().selected_text(current.clone()).show_ui(
                ui,
                |ui| {
                    for (index, source) in self.workspace.sources.files.iter().enumerate() {
                        // Chosen by click or by the keyboard, the list closes.
                        if ui.selectable_label(index == self.workspace.file_index, describe(source)).clicked() {
                            self.commands.push(Command::SelectFile(index));
                            ui.close();
                        }
                    }
                    ui.separator();
                    if ui.button("Open file…  (Ctrl+O)").clicked() {
                        self.commands.push(Command::AskOpenFile);
                        ui.close();
                    }
                },
            )
        });
        combo.inner.response.labelled_by(label.id).on_hover_text(current);
    }

    /// System / Light / Dark, remembered.
    fn theme_ui(&mut self, ui: &mut egui::Ui) {
        let before = self.state.theme;
        let glyph = if ui.visuals().dark_mode { theme::Icon::Dark } else { theme::Icon::Light };
        // The icon before the list, saying what it chooses.
        theme::icon(ui, glyph, ui.visuals().weak_text_color(), theme::HEADING + 2.0);
        let combo = egui::ComboBox::from_id_salt("theme").selected_text(before.label()).show_ui(ui, |ui| {
            for choice in theme::ThemeChoice::ALL {
                ui.selectable_value(&mut self.state.theme, choice, choice.label());
            }
        });
        combo.response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Theme"));
        combo.response.on_hover_text("Theme: follow the system, or always light or dark");
        if self.state.theme != before {
            ui.ctx().set_theme(self.state.theme.preference());
        }
    }

    /// The status line: the latest notifications (each once), or the keys to know.
    fn status_ui(&mut self, ui: &mut egui::Ui) {
        if self.toasts.is_empty() {
            theme::weak(ui, "Ctrl+N add · Ctrl+S save · Ctrl+T test · Up/Down select · Ctrl+F filter · F1 help");
        }
        let mut shown: Vec<&str> = Vec::new();
        for toast in self.toasts.iter().rev() {
            if shown.len() == 3 || shown.contains(&toast.text.as_str()) {
                continue;
            }
            shown.push(&toast.text);
            let tone = if toast.error { theme::Tone::Bad } else { theme::Tone::Neutral };
            let color = if toast.error { tone.text(ui.visuals()) } else { ui.visuals().text_color() };
            ui.add(egui::Label::new(egui::RichText::new(&toast.text).color(color)).wrap());
        }
    }

    /// The table and the detail pane side by side, split at the remembered share of the width
    /// with a visible grip. Nothing inside can widen either side: each is clipped to its rect.
    fn split_ui(&mut self, ui: &mut egui::Ui) {
        let full = ui.available_rect_before_wrap();
        let split = full.left() + full.width() * self.state.table_share();
        let left = egui::Rect::from_min_max(full.min, egui::pos2(split - GUTTER / 2.0, full.bottom()));
        let right = egui::Rect::from_min_max(egui::pos2(split + GUTTER / 2.0, full.top()), full.max);
        ui.scope_builder(egui::UiBuilder::new().max_rect(left), |ui| {
            ui.set_clip_rect(left.intersect(ui.clip_rect()));
            self.table_ui(ui);
        });
        self.grip_ui(ui, full, split);
        ui.scope_builder(egui::UiBuilder::new().max_rect(right), |ui| {
            ui.set_clip_rect(right.intersect(ui.clip_rect()));
            self.detail_ui(ui);
        });
    }

    fn table_ui(&mut self, ui: &mut egui::Ui) {
        let running = |key: &str| {
            self.row_tests.is_running(&key.to_owned()) || self.pull.running.as_ref().is_some_and(|(k, _)| k == key)
        };
        let shown = self.workspace.shown().map(|file| file.path.as_path());
        let status = list::RowStatus { running: &running, results: &self.state.results, shown, facts: &self.facts };
        let selected = self.editor.draft.as_ref().and_then(|d| d.key.clone());
        let view = (&mut self.state.filter, &mut self.state.compact);
        self.list.ui(ui, &self.workspace, view, selected.as_deref(), &status, &mut self.commands);
    }

    /// The divider: a line with a grip of three dots, dragged to share the width differently;
    /// a double click gives back the default.
    fn grip_ui(&mut self, ui: &mut egui::Ui, full: egui::Rect, split: f32) {
        let handle = egui::Rect::from_center_size(egui::pos2(split, full.center().y), egui::vec2(10.0, full.height()));
        let id = egui::Id::unique("table-split");
        let drag = ui.interact(handle, id, egui::Sense::click_and_drag());
        drag.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Splitter, true, "Resize the registry table"));
        if drag.dragged() && full.width() > 0.0 {
            let share = (self.state.table_share() + drag.drag_delta().x / full.width())
                .clamp(*state::TABLE_SHARES.start(), *state::TABLE_SHARES.end());
            self.state.table_share = share;
        }
        if drag.double_clicked() {
            self.state.table_share = state::DEFAULT_TABLE_SHARE;
        }
        let palette = theme::palette(ui.visuals());
        let active = drag.hovered() || drag.dragged();
        if active {
            ui.ctx().set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
        }
        let colour = if active { palette.link } else { palette.border };
        ui.painter().vline(split, full.y_range(), egui::Stroke::new(1.0, colour));
        let dots = if active { palette.link } else { palette.weak };
        for offset in [-8.0, 0.0, 8.0] {
            ui.painter().circle_filled(egui::pos2(split, full.center().y + offset), 2.0, dots);
        }
    }
}

/// `path` with the home directory written as `~`.
fn tilde(path: &std::path::Path, home: Option<&std::path::Path>) -> String {
    match home.and_then(|home| path.strip_prefix(home).ok()) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

/// The window's icon (the 256 px rendering of `assets/icon/regcred.svg`, made by `scripts/icons`).
pub(crate) const ICON_PNG: &[u8] = include_bytes!("../../assets/icon/png/256x256.png");

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

/// `1st`, `2nd`, `3rd`, `4th` … (Podman's chain has at most five files).
fn ordinal(n: usize) -> String {
    let suffix = match n {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
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
