//! The registry table: one row per registry with its mark, user, where its secret lives, its last
//! test in words with its age, its expiry, its own Test button and a row menu. Rows are computed
//! once per load, filter and background facts, drawn virtualized, and exposed to screen readers
//! as a list of rows whose description is the row's whole status. The selection is the registry
//! open in the detail pane; the arrow keys move it (see `keyboard.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use eframe::egui;

use super::command::Command;
use super::state::{TestRecord, TestVerdict};
use super::theme::{self, GRID, Icon, Tone};
use super::workspace::Workspace;
use crate::expiry::Expiry;
use crate::resolve::{SecretHome, SecretHomes};

/// Below this table width a row takes two lines (registry and Test above, status below).
const TWO_LINES_BELOW: f32 = 760.0;

/// One row, computed once per load, filter and background facts.
#[derive(Clone)]
pub(super) struct ListRow {
    /// The entry's key.
    pub(crate) key: String,
    /// The key as shown: the file's text made inert (escapes visible).
    pub(crate) shown: String,
    /// Its user name (from the file, or the keychain's item).
    pub(crate) username: Option<String>,
    /// Where its secret lives.
    pub(crate) home: SecretHome,
    /// Its problems, in words.
    pub(crate) problems: Vec<String>,
    /// When its secret stops working, when the file's secret says.
    pub(crate) expiry: Option<Expiry>,
    /// Routed to regcred's keychain, which has no item for it (an orphan).
    pub(crate) not_in_keychain: bool,
    /// Routed to regcred's keychain, which is not answering now.
    pub(crate) keychain_down: bool,
    /// The preset the key belongs to, if any.
    pub(crate) preset: Option<crate::presets::PresetId>,
    /// An earlier file of Podman's chain that Podman and skopeo take this registry's login from.
    pub(crate) shadowed_by: Option<std::path::PathBuf>,
}

/// What the rows are built from: the file shown, its content's generation, whether the keychain
/// answers.
type RowsSource = (usize, u64, bool);

/// Facts about rows learnt in the background (never on the UI thread).
#[derive(Default)]
pub(super) struct RowFacts {
    /// Expiries of secrets kept outside the file (the keychain), by key.
    pub(crate) expiries: HashMap<String, Expiry>,
    /// Helpers routed to that are not installed.
    pub(crate) missing_helpers: HashSet<String>,
    /// `docker-credential-regcred` is not on `PATH`: what regcred puts in the keychain, Docker,
    /// Podman and skopeo cannot read.
    pub(crate) regcred_helper_missing: bool,
}

/// What the rows show about tests and background facts.
pub(super) struct RowStatus<'a> {
    /// Tests running now, by registry key.
    pub(crate) running: &'a dyn Fn(&str) -> bool,
    /// The last results (each of the file it tested).
    pub(crate) results: &'a BTreeMap<String, TestRecord>,
    /// The file on screen.
    pub(crate) shown: Option<&'a std::path::Path>,
    /// Facts learnt in the background.
    pub(crate) facts: &'a RowFacts,
}

/// The table's state.
#[derive(Default)]
pub(super) struct ListPanel {
    all: Vec<ListRow>,
    all_for: Option<RowsSource>,
    rows: Vec<ListRow>,
    rows_for: Option<(Option<RowsSource>, String)>,
    /// Rows ticked for a Secret holding several registries.
    pub(crate) checked: BTreeSet<String>,
    /// Put the cursor in the filter on the next frame (Ctrl+F).
    pub(crate) focus_filter: bool,
    /// Scroll this row into view on the next frame.
    pub(crate) scroll_to: Option<usize>,
    /// The filter had the keyboard last frame (↓ from it enters the list).
    pub(crate) filter_focused: bool,
    /// The rows that fit in the view (for Page Up / Page Down).
    pub(crate) rows_per_page: usize,
    /// Where the view was last frame: (offset, height).
    view: (f32, f32),
}

impl ListPanel {
    /// The rows shown.
    pub(super) fn rows(&self) -> &[ListRow] {
        &self.rows
    }

    /// Whether any secret of the file is in plaintext.
    pub(super) fn has_plaintext(&self) -> bool {
        self.all.iter().any(|row| row.home.is_plaintext())
    }

    /// Whether the file has any registry (before the filter).
    pub(super) fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The index of `key` among the rows shown.
    pub(super) fn index_of(&self, key: &str) -> Option<usize> {
        self.rows.iter().position(|row| row.key == key)
    }

    /// Rebuilds the rows when the file, its content or the keychain listing changed, and filters
    /// them again when the filter changed. Ticks stay on rows the filter hides.
    pub(super) fn refresh(&mut self, workspace: &Workspace, filter: &str) {
        let source = (workspace.file_index, workspace.generation, workspace.keychain_available());
        if self.all_for != Some(source) {
            self.all = build_rows(workspace);
            self.checked.retain(|key| self.all.iter().any(|row| row.key == *key));
            self.all_for = Some(source);
        }
        let wanted = (self.all_for, filter.to_owned());
        if self.rows_for.as_ref() == Some(&wanted) {
            return;
        }
        let filter = filter.to_lowercase();
        let matches = |row: &ListRow| {
            filter.is_empty()
                || row.key.to_lowercase().contains(&filter)
                || row.username.as_deref().is_some_and(|u| u.to_lowercase().contains(&filter))
        };
        self.rows = self.all.iter().filter(|row| matches(row)).cloned().collect();
        self.rows_for = Some(wanted);
    }

    /// The table: title and actions, filter, column header, rows, the ticked line.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        (filter_text, compact): (&mut String, &mut bool),
        selected: Option<&str>,
        status: &RowStatus<'_>,
        commands: &mut Vec<Command>,
    ) {
        self.refresh(workspace, filter_text);
        header_ui(ui, !self.all.is_empty(), self.has_plaintext(), workspace, compact, commands);
        ui.add_space(GRID);
        let label = ui.label(egui::RichText::new("Filter").size(theme::SMALL).color(ui.visuals().weak_text_color()));
        let filter = ui
            .add(
                egui::TextEdit::singleline(filter_text)
                    .hint_text("registry or user (Ctrl+F)")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut self.focus_filter) {
            filter.request_focus();
        }
        // Esc in the filter clears it (a second Esc leaves it).
        if filter.has_focus() && !filter_text.is_empty() && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            filter_text.clear();
            filter.request_focus();
        }
        self.filter_focused = filter.has_focus();
        self.refresh(workspace, filter_text);
        if !filter_text.is_empty() {
            theme::weak(ui, &format!("{} of {} shown (Esc in the filter shows all)", self.rows.len(), self.all.len()));
        }
        ui.add_space(GRID);
        if self.rows.is_empty() {
            empty_ui(ui, workspace, filter_text);
            return;
        }
        let two_lines = ui.available_width() < TWO_LINES_BELOW;
        let height = row_height(two_lines, *compact);
        if !two_lines {
            columns_ui(ui);
        }
        // The ticked line sits at the bottom, always one line, so ticking never moves the rows.
        let footer = 10.0 * GRID;
        let list_height = (ui.available_height() - footer).max(height);
        ui.allocate_ui(egui::vec2(ui.available_width(), list_height), |ui| {
            self.rows_ui(ui, selected, status, (two_lines, height), commands);
        });
        self.ticked_ui(ui);
    }

    fn rows_ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<&str>,
        status: &RowStatus<'_>,
        (two_lines, height): (bool, f32),
        commands: &mut Vec<Command>,
    ) {
        let mut area = egui::ScrollArea::vertical().id_salt("registries").auto_shrink(false);
        if let Some(index) = self.scroll_to.take() {
            #[expect(clippy::cast_precision_loss, reason = "a row index")]
            let (top, bottom) = (index as f32 * height, (index + 1) as f32 * height);
            let (offset, view) = self.view;
            if top < offset {
                area = area.vertical_scroll_offset(top);
            } else if bottom > offset + view {
                area = area.vertical_scroll_offset(bottom - view);
            }
        }
        let (rows, checked) = (&self.rows, &mut self.checked);
        let list = ui.scope(|ui| {
            let list_id = ui.unique_id();
            ui.ctx().accesskit_node_builder(list_id, |node| {
                node.set_role(egui::accesskit::Role::List);
                node.set_label("Registries");
            });
            ui.spacing_mut().item_spacing.y = 0.0;
            area.show_rows(ui, height, rows.len(), |ui, range| {
                for index in range {
                    let row = &rows[index];
                    let is_selected = selected == Some(row.key.as_str());
                    row_ui(ui, row, is_selected, (two_lines, height), checked, status, commands);
                }
            })
        });
        let output = list.inner;
        self.view = (output.state.clamped_offset().y, output.inner_rect.height());
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a count of rows")]
        let per_page = (output.inner_rect.height() / height).floor().max(1.0) as usize;
        self.rows_per_page = per_page;
    }

    fn ticked_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(GRID);
        ui.horizontal(|ui| {
            ui.set_min_height(6.0 * GRID);
            match self.checked.len() {
                0 => {
                    theme::weak(ui, "Tick rows to put several registries in one Secret");
                }
                count => {
                    let registries = if count == 1 { "registry" } else { "registries" };
                    theme::badge(ui, Tone::Info, format!("{count} {registries} ticked: one Secret (Kubernetes tab)"));
                    if ui.button("Clear").clicked() {
                        self.checked.clear();
                    }
                }
            }
        });
    }
}

fn row_height(two_lines: bool, compact: bool) -> f32 {
    match (two_lines, compact) {
        (false, false) => 11.0 * GRID,
        (false, true) => 8.0 * GRID,
        (true, false) => 15.0 * GRID,
        (true, true) => 12.0 * GRID,
    }
}

/// The rows of the shown file.
fn build_rows(workspace: &Workspace) -> Vec<ListRow> {
    let Some(file) = workspace.file() else { return Vec::new() };
    let homes = SecretHomes::new(file);
    let users = workspace.keychain_users.as_ref();
    let shadows = crate::resolve::PodmanShadows::new(&workspace.sources);
    let path = workspace.shown().map(|source| source.path.clone()).unwrap_or_default();
    file.entries()
        .into_iter()
        .map(|entry| {
            let home = homes.of(&entry);
            let problems: Vec<String> = entry.problems.iter().map(ToString::to_string).collect();
            let mut username = entry.username.clone();
            let mut not_in_keychain = false;
            let in_keychain =
                matches!(&home, SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER);
            if in_keychain && let Some(users) = users {
                match keychain_user(users, &entry.key) {
                    Some(user) => username = username.or(Some(user)),
                    None => not_in_keychain = true,
                }
            }
            let expiry = entry.password.as_ref().and_then(|secret| {
                crate::expiry::expiry_of(
                    entry.username.as_deref().unwrap_or(""),
                    secret,
                    &entry.key,
                    std::time::SystemTime::now(),
                )
            });
            let keychain_down = in_keychain && !workspace.keychain_available();
            let shown = match crate::untrusted::inert(&entry.key, 200) {
                shown if shown.is_empty() => "(empty key)".to_owned(),
                shown => shown,
            };
            let preset = crate::presets::detect(&entry.key).map(|p| p.id);
            let shadowed_by = entry
                .server
                .as_ref()
                .and_then(|server| shadows.shadowed_by(&path, server))
                .map(std::path::Path::to_path_buf);
            ListRow {
                key: entry.key,
                shown,
                username,
                home,
                problems,
                expiry,
                not_in_keychain,
                keychain_down,
                preset,
                shadowed_by,
            }
        })
        .collect()
}

/// The keychain's user for an entry key, under any spelling of the registry.
fn keychain_user(users: &HashMap<String, String>, key: &str) -> Option<String> {
    if let Some(user) = users.get(key) {
        return Some(user.clone());
    }
    let server = crate::auth_files::ServerKey::parse(key).ok()?;
    users
        .iter()
        .find(|(item, _)| crate::auth_files::ServerKey::parse(item).is_ok_and(|i| i.same_target(&server)))
        .map(|(_, u)| u.clone())
}

/// "Registries", Add registry (the one primary action), Test all, and More (the file's other
/// actions and the density).
fn header_ui(
    ui: &mut egui::Ui,
    has_rows: bool,
    plaintext: bool,
    workspace: &Workspace,
    compact: &mut bool,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        theme::title(ui, "Registries");
        // Left to right at the row's end: Tab reaches Add registry, Test all, then More….
        theme::at_right_end(ui, egui::Id::unique("registries-header-actions"), |ui| {
            // One primary action on screen: with no rows, the welcome's own button is it.
            let add = if has_rows { theme::primary(ui, "Add registry") } else { egui::Button::new("Add registry") };
            if ui.add(add).on_hover_text("Ctrl+N").clicked() {
                commands.push(Command::NewEntry);
            }
            let test_all = ui
                .add_enabled(has_rows, egui::Button::new("Test all"))
                .on_hover_text("Test every registry listed (at most 4 at a time per registry host, 16 in all)");
            if test_all.clicked() {
                commands.push(Command::TestAll);
            }
            let more = ui.button("More…").on_hover_text("Open a file, reload, move plaintext, orphans, density");
            egui::Popup::menu(&more).show(|ui| {
                if ui.button("Open file…  (Ctrl+O)").clicked() {
                    commands.push(Command::AskOpenFile);
                }
                if ui.button("Reload").clicked() {
                    commands.push(Command::Reload);
                }
                ui.separator();
                let file_loaded = workspace.file().is_some();
                let migrate =
                    ui.add_enabled(file_loaded && plaintext, egui::Button::new("Move plaintext to keychain…"));
                if migrate.on_disabled_hover_text("No secret of this file is in plaintext").clicked() {
                    commands.push(Command::AskMigrate);
                }
                if ui.button("Orphans…").clicked() {
                    commands.push(Command::FindOrphans);
                }
                ui.separator();
                ui.checkbox(compact, "Compact rows");
            });
        });
    });
}

/// The column widths of a one-line row of `width`: tick, registry, user, secret, last test,
/// expiry, Test, menu.
fn columns(width: f32) -> [f32; 8] {
    let fixed = [7.0 * GRID, 0.0, 0.0, 30.0 * GRID, 0.0, 27.0 * GRID, 17.0 * GRID, 8.0 * GRID];
    let rest = (width - fixed.iter().sum::<f32>()).max(120.0);
    [fixed[0], rest * 0.38, rest * 0.17, fixed[3], rest * 0.45, fixed[5], fixed[6], fixed[7]]
}

fn columns_ui(ui: &mut egui::Ui) {
    let widths = columns(ui.available_width());
    let names = ["", "Registry", "User", "Secret", "Last test", "Expiry", "", ""];
    let (rect, _) = ui.allocate_exact_size(egui::vec2(ui.available_width(), 6.0 * GRID), egui::Sense::hover());
    let mut x = rect.left();
    let color = ui.visuals().weak_text_color();
    for (name, width) in names.iter().zip(widths) {
        let indent = if *name == "Registry" { 7.0 * GRID } else { 0.0 };
        ui.painter().text(
            egui::pos2(x + indent, rect.center().y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(theme::SMALL),
            color,
        );
        x += width;
    }
    let line = ui.visuals().widgets.noninteractive.bg_stroke;
    ui.painter().hline(rect.x_range(), rect.bottom(), line);
}

/// Nothing to list, in neutral words (the next step is the welcome's, in the detail pane).
fn empty_ui(ui: &mut egui::Ui, workspace: &Workspace, filter: &str) {
    ui.add_space(3.0 * GRID);
    if !filter.is_empty() {
        theme::empty_state(ui, "No registry matches the filter.");
        return;
    }
    let exists = matches!(workspace.shown().map(|s| &s.status), Some(crate::auth_files::SourceStatus::Loaded(_)));
    theme::empty_state(
        ui,
        if exists {
            "No registries in this file yet."
        } else {
            "This file does not exist yet: saving your first registry creates it (mode 0600, only you can read it)."
        },
    );
}

/// What a row's cells say, computed once for drawing and for the screen reader's description.
struct RowWords {
    user: String,
    secret: (Tone, Icon, String, String),
    test: (Tone, Icon, String, String),
    expiry: Option<(Tone, String, String)>,
}

fn row_words(row: &ListRow, status: &RowStatus<'_>) -> RowWords {
    let user = row.username.clone().unwrap_or_else(|| "–".to_owned());
    let mut secret = secret_words(row, status.facts);
    if let Some(earlier) = &row.shadowed_by {
        secret.2.push_str(" · shadowed");
        secret.3 = format!(
            "{}\nShadowed for Podman and skopeo: they read {} first, and take this registry's login from there.",
            secret.3,
            earlier.display()
        );
    }
    RowWords {
        user,
        secret,
        test: test_words((status.running)(&row.key), super::state::record_for(status.results, &row.key, status.shown)),
        expiry: row.expiry.as_ref().or_else(|| status.facts.expiries.get(&row.key)).map(expiry_words),
    }
}

/// Where the secret lives: (tone, icon, words, what it means).
fn secret_words(row: &ListRow, facts: &RowFacts) -> (Tone, Icon, String, String) {
    if !row.problems.is_empty() {
        return (Tone::Bad, Icon::Warn, "broken entry".to_owned(), row.problems.join("\n"));
    }
    if row.keychain_down {
        let why = "The secret is in the OS keychain, which is not running or not answering now.";
        return (Tone::Warn, Icon::Keychain, "keychain (not answering)".to_owned(), why.to_owned());
    }
    if row.not_in_keychain {
        let why = "The file sends this registry to the keychain, which has no secret for it: log in again, or remove the entry (More…, Orphans… lists them all).";
        return (Tone::Bad, Icon::Keychain, "not in the keychain".to_owned(), why.to_owned());
    }
    match &row.home {
        SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => {
            (Tone::Good, Icon::Keychain, "keychain".to_owned(), "In the OS keychain.".to_owned())
        }
        SecretHome::Helper { helper, .. } if facts.missing_helpers.contains(helper) => (
            Tone::Bad,
            Icon::Helper,
            format!("{helper} (not installed)"),
            format!(
                "The file routes this registry to docker-credential-{helper}, which is not on PATH: Docker, Podman and the tests cannot read the secret until it is installed."
            ),
        ),
        SecretHome::Helper { helper, .. } => (
            Tone::Info,
            Icon::Helper,
            format!("helper {helper}"),
            format!("Kept by the credential helper docker-credential-{helper}."),
        ),
        SecretHome::Plaintext => (
            Tone::Warn,
            Icon::Plaintext,
            "plaintext".to_owned(),
            "The password is in the file, base64-encoded but not encrypted: use More…, Move plaintext to keychain…"
                .to_owned(),
        ),
        SecretHome::Missing => (Tone::Bad, Icon::Cross, "no secret".to_owned(), "The entry has no secret.".to_owned()),
    }
}

/// The last test in full words with its age: (tone, icon, words, whole text).
fn test_words(running: bool, record: Option<&TestRecord>) -> (Tone, Icon, String, String) {
    if running {
        return (Tone::Info, Icon::Untested, "testing…".to_owned(), "A test is running.".to_owned());
    }
    let Some(record) = record else {
        return (Tone::Neutral, Icon::Untested, "untested".to_owned(), "Not tested yet: Test tries it.".to_owned());
    };
    let age = theme::age(theme::now().saturating_sub(record.at));
    let (tone, icon, words) = match &record.verdict {
        TestVerdict::Pulls => (Tone::Good, Icon::Check, format!("pulls · {age}")),
        TestVerdict::LoginWorks => (Tone::Good, Icon::Check, format!("login works · {age}")),
        TestVerdict::Fails(reason) => (Tone::Bad, Icon::Cross, format!("{reason} · {age}")),
    };
    let whole = match &record.image {
        Some(image) => format!("{words} (image {image})"),
        None => format!("{words} (login check)"),
    };
    (tone, icon, words, whole)
}

/// `expires in 3 h`, red once expired: (tone, words, when and what to do).
fn expiry_words(expiry: &Expiry) -> (Tone, String, String) {
    let now = std::time::SystemTime::now();
    let tone = if expiry.at <= now {
        Tone::Bad
    } else if crate::expiry::within(expiry, now, std::time::Duration::from_hours(24)) {
        Tone::Warn
    } else {
        Tone::Info
    };
    let hover = format!("{} — {}", crate::expiry::rfc3339(expiry.at), crate::expiry::renewal_advice(expiry));
    (tone, crate::expiry::describe(expiry, now), hover)
}

/// One row: its background (selected, hovered) is the click target; the tick, Test and the menu
/// sit on top. The row is a list item whose description is everything it shows.
fn row_ui(
    ui: &mut egui::Ui,
    row: &ListRow,
    selected: bool,
    (two_lines, height): (bool, f32),
    checked: &mut BTreeSet<String>,
    status: &RowStatus<'_>,
    commands: &mut Vec<Command>,
) {
    let words = row_words(row, status);
    let rect = egui::Rect::from_min_size(ui.cursor().min, egui::vec2(ui.available_width(), height));
    let scope = ui.scope_builder(
        egui::UiBuilder::new().max_rect(rect).id_salt(("row", &row.key)).sense(egui::Sense::click()),
        |ui| {
            // A click anywhere on the row's words selects the row (selectable labels would take it).
            ui.style_mut().interaction.selectable_labels = false;
            let palette = theme::palette(ui.visuals());
            let hovered = ui.response().hovered();
            let fill = if selected {
                palette.selected
            } else if hovered {
                palette.hover
            } else {
                egui::Color32::TRANSPARENT
            };
            ui.painter().rect_filled(rect.shrink2(egui::vec2(0.0, 1.0)), 6.0, fill);
            if selected {
                ui.painter().rect_stroke(
                    rect.shrink2(egui::vec2(1.0, 1.0)),
                    6.0,
                    egui::Stroke::new(1.5, palette.link),
                    egui::StrokeKind::Inside,
                );
            } else if ui.response().has_focus() {
                // Reached by Tab: outlined, as every focused control is.
                let stroke = ui.visuals().selection.stroke;
                ui.painter().rect_stroke(rect.shrink2(egui::vec2(1.0, 1.0)), 6.0, stroke, egui::StrokeKind::Inside);
            }
            let cells = Cells { row, words: &words, checked, status, commands };
            if two_lines {
                two_line_cells(ui, rect, cells);
            } else {
                one_line_cells(ui, rect, cells);
            }
            ui.advance_cursor_after_rect(rect);
        },
    );
    let response = scope.response;
    let description = describe(row, &words);
    response.ctx.accesskit_node_builder(response.id, |node| {
        node.set_role(egui::accesskit::Role::ListItem);
        node.set_label(description.as_str());
        node.set_selected(selected);
        node.set_bounds(egui::accesskit::Rect {
            x0: rect.min.x.into(),
            y0: rect.min.y.into(),
            x1: rect.max.x.into(),
            y1: rect.max.y.into(),
        });
        node.add_action(egui::accesskit::Action::Click);
    });
    if response.clicked() {
        commands.push(Command::Select(row.key.clone()));
    }
    if response.double_clicked() {
        commands.push(Command::ShowTab(super::command::Tab::Login));
    }
}

/// The row's description for screen readers: every cell in words.
fn describe(row: &ListRow, words: &RowWords) -> String {
    let mut text =
        format!("{} — user {} — secret: {} — last test: {}", row.shown, words.user, words.secret.2, words.test.2);
    if let Some((_, expiry, _)) = &words.expiry {
        text.push_str(" — ");
        text.push_str(expiry);
    }
    text
}

/// Runs `content` in `rect`, laid out left to right, centred vertically, clipped to the cell.
fn cell<R>(ui: &mut egui::Ui, rect: egui::Rect, content: impl FnOnce(&mut egui::Ui) -> R) -> R {
    ui.scope_builder(
        egui::UiBuilder::new().max_rect(rect).layout(egui::Layout::left_to_right(egui::Align::Center)),
        |ui| {
            ui.set_clip_rect(rect.intersect(ui.clip_rect()));
            content(ui)
        },
    )
    .inner
}

/// What a row's cells draw from, for either layout.
struct Cells<'a> {
    row: &'a ListRow,
    words: &'a RowWords,
    checked: &'a mut BTreeSet<String>,
    status: &'a RowStatus<'a>,
    commands: &'a mut Vec<Command>,
}

fn one_line_cells(ui: &mut egui::Ui, rect: egui::Rect, cells: Cells<'_>) {
    let Cells { row, words, checked, status, commands } = cells;
    let widths = columns(rect.width());
    let mut x = rect.left();
    let mut next = |width: f32| {
        let cell = egui::Rect::from_min_max(egui::pos2(x, rect.top()), egui::pos2(x + width - GRID, rect.bottom()));
        x += width;
        cell
    };
    let tick = next(widths[0]);
    cell(ui, tick.shrink2(egui::vec2(GRID, 0.0)), |ui| tick_ui(ui, row, checked));
    cell(ui, next(widths[1]), |ui| name_ui(ui, row));
    cell(ui, next(widths[2]), |ui| {
        ui.add(egui::Label::new(words.user.as_str()).truncate()).on_hover_text(words.user.as_str());
    });
    let (tone, icon, text, hover) = &words.secret;
    cell(ui, next(widths[3]), |ui| theme::status(ui, *tone, *icon, text).on_hover_text(hover));
    let (tone, icon, text, hover) = &words.test;
    let rows = if rect.height() > 9.0 * GRID { 2 } else { 1 };
    cell(ui, next(widths[4]), |ui| theme::status_lines(ui, *tone, *icon, text, rows).on_hover_text(hover));
    cell(ui, next(widths[5]), |ui| match &words.expiry {
        Some((tone, text, hover)) => {
            theme::status(ui, *tone, Icon::Clock, text).on_hover_text(hover);
        }
        None => {
            ui.weak("–");
        }
    });
    cell(ui, next(widths[6]), |ui| test_button_ui(ui, row, status, commands));
    cell(ui, next(widths[7]), |ui| menu_ui(ui, row, commands));
}

fn two_line_cells(ui: &mut egui::Ui, rect: egui::Rect, cells: Cells<'_>) {
    let Cells { row, words, checked, status, commands } = cells;
    let (top, bottom) = rect.split_top_bottom_at_fraction(0.5);
    let right = 25.0 * GRID;
    let tick = egui::Rect::from_min_size(top.min, egui::vec2(7.0 * GRID, top.height()));
    cell(ui, tick.shrink2(egui::vec2(GRID, 0.0)), |ui| tick_ui(ui, row, checked));
    let name =
        egui::Rect::from_min_max(egui::pos2(tick.right(), top.top()), egui::pos2(top.right() - right, top.bottom()));
    cell(ui, name, |ui| name_ui(ui, row));
    let actions = egui::Rect::from_min_max(egui::pos2(top.right() - right, top.top()), top.max);
    cell(ui, actions, |ui| {
        theme::at_right_end(ui, egui::Id::unique(("row-actions", &row.shown)), |ui| {
            test_button_ui(ui, row, status, commands);
            menu_ui(ui, row, commands);
        });
    });
    let facts = egui::Rect::from_min_max(egui::pos2(tick.right() + 7.0 * GRID, bottom.top()), bottom.max);
    cell(ui, facts, |ui| {
        let user = egui::RichText::new(words.user.as_str()).color(ui.visuals().weak_text_color());
        ui.add(egui::Label::new(user).truncate()).on_hover_text(words.user.as_str());
        let (tone, icon, text, hover) = &words.secret;
        theme::status(ui, *tone, *icon, text).on_hover_text(hover);
        if let Some((tone, text, hover)) = &words.expiry {
            theme::status(ui, *tone, Icon::Clock, text).on_hover_text(hover);
        }
        let (tone, icon, text, hover) = &words.test;
        theme::status(ui, *tone, *icon, text).on_hover_text(hover);
    });
}

fn tick_ui(ui: &mut egui::Ui, row: &ListRow, checked: &mut BTreeSet<String>) {
    let mut ticked = checked.contains(&row.key);
    let tick = ui.checkbox(&mut ticked, "");
    let name = row.shown.clone();
    tick.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, ticked, format!("Tick {name}")));
    if tick.changed() {
        if ticked {
            checked.insert(row.key.clone());
        } else {
            checked.remove(&row.key);
        }
    }
}

/// The preset's mark (its initial in a circle), or a neutral registry icon; then the name,
/// elided, whole on hover.
fn name_ui(ui: &mut egui::Ui, row: &ListRow) {
    mark_ui(ui, row.preset);
    ui.add(egui::Label::new(egui::RichText::new(row.shown.as_str()).strong()).truncate()).on_hover_text(&row.shown);
}

/// A small mark for a known preset (its initials on a tinted disc), a neutral icon otherwise.
pub(super) fn mark_ui(ui: &mut egui::Ui, preset: Option<crate::presets::PresetId>) {
    use crate::presets::PresetId;
    let size = 6.0 * GRID;
    let visuals = ui.visuals().clone();
    let Some(id) = preset else {
        theme::icon(ui, Icon::Registry, visuals.weak_text_color(), size - GRID);
        return;
    };
    let initials = match id {
        PresetId::DockerHub => "D",
        PresetId::Ghcr => "GH",
        PresetId::Gitlab => "GL",
        PresetId::Quay => "Q",
        PresetId::Harbor => "H",
        PresetId::Ecr => "E",
        PresetId::Gcr => "G",
        PresetId::Acr => "A",
    };
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let palette = theme::palette(&visuals);
    ui.painter().circle_filled(rect.center(), size / 2.0, Tone::Info.fill(&visuals));
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        initials,
        egui::FontId::proportional(if initials.len() > 1 { 10.0 } else { theme::SMALL }),
        palette.text,
    );
    response.on_hover_text(id.preset().name);
}

/// The row's own Test button, `Test pull HOST` for screen readers.
fn test_button_ui(ui: &mut egui::Ui, row: &ListRow, status: &RowStatus<'_>, commands: &mut Vec<Command>) {
    let running = (status.running)(&row.key);
    let test = ui.add_enabled(!running, egui::Button::new("Test"));
    let name = row.shown.clone();
    test.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, !running, format!("Test pull {name}")));
    if test.on_hover_text("Test pull the image remembered for it (or check the login)").clicked() {
        commands.push(Command::TestRow(row.key.clone()));
    }
}

/// The row menu: Duplicate · Remove….
fn menu_ui(ui: &mut egui::Ui, row: &ListRow, commands: &mut Vec<Command>) {
    // Frameless until hovered or focused (a frame on every row would be loud), and as narrow as
    // its column: a frame keeps its padding even when not drawn.
    let button = ui
        .scope(|ui| {
            ui.spacing_mut().button_padding = egui::vec2(2.0, 1.0);
            ui.add(egui::Button::new(theme::icon_text(Icon::More, theme::HEADING)).frame_when_inactive(false))
        })
        .inner;
    let name = row.shown.clone();
    button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, format!("Actions for {name}")));
    let popup = egui::Popup::default_response_id(&button);
    let was_open = egui::Popup::is_id_open(ui.ctx(), popup);
    egui::Popup::menu(&button).show(|ui| {
        if ui.button("Duplicate").clicked() {
            commands.push(Command::Select(row.key.clone()));
            commands.push(Command::Duplicate);
        }
        if ui.add(theme::destructive_item(ui, "Remove…")).clicked() {
            commands.push(Command::AskRemove(row.key.clone()));
        }
    });
    // Closed with Esc: the keyboard goes back to ⋮, as it does from a dialog.
    if was_open && !egui::Popup::is_id_open(ui.ctx(), popup) && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
        button.request_focus();
    }
}
