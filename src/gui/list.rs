//! The left panel: which file, the actions, and the registries — one row each with its user, where
//! its secret lives, problems, expiry, the last test with its age, and its own Test button.
//! Rows are computed once per load and filter and drawn virtualized.

use std::collections::{BTreeSet, HashMap};

use eframe::egui;

use super::app::Command;
use super::state::{TestRecord, TestVerdict};
use super::theme::{self, Icon, Tone};
use super::workspace::Workspace;
use crate::auth_files::SourceStatus;
use crate::expiry::Expiry;
use crate::resolve::{SecretHome, SecretHomes};

const ROW_HEIGHT: f32 = 46.0;

/// One row, computed once per load and filter.
#[derive(Clone)]
pub struct ListRow {
    /// The entry's key.
    pub key: String,
    /// Its user name (from the file, or the keychain's item).
    pub username: Option<String>,
    /// Where its secret lives.
    pub home: SecretHome,
    /// Its problems, in words.
    pub problems: Vec<String>,
    /// When its secret stops working, when the secret says.
    pub expiry: Option<Expiry>,
    /// Routed to regcred's keychain, which has no item for it (an orphan).
    pub not_in_keychain: bool,
    /// Routed to regcred's keychain, which is not answering now.
    pub keychain_down: bool,
}

/// What the rows are built from: the file shown, its content's generation, whether the keychain
/// answers.
type RowsSource = (usize, u64, bool);

/// The list's state.
#[derive(Default)]
pub struct ListPanel {
    /// Every row of the file (built when the file, its content or the keychain listing change).
    all: Vec<ListRow>,
    all_for: Option<RowsSource>,
    /// The rows the filter lets through.
    rows: Vec<ListRow>,
    rows_for: Option<(Option<RowsSource>, String)>,
    /// Rows ticked for a Secret holding several registries.
    pub checked: BTreeSet<String>,
    /// The row the arrow keys are on.
    pub cursor: Option<usize>,
    /// Put the cursor in the filter on the next frame (Ctrl+F).
    pub focus_filter: bool,
    /// The registry the cursor last followed, and whether to follow it again (rows rebuilt).
    followed: Option<String>,
    refollow: bool,
}

/// What a row shows about tests: running, or the last result.
pub struct TestStatus<'a> {
    /// Tests running now, by registry key.
    pub running: &'a dyn Fn(&str) -> bool,
    /// The last results.
    pub results: &'a std::collections::BTreeMap<String, TestRecord>,
    /// Expiries learnt from secrets read from the keychain or a helper (a file's own secrets
    /// give theirs in the row).
    pub expiries: &'a std::collections::HashMap<String, crate::expiry::Expiry>,
}

impl ListPanel {
    /// The rows shown.
    pub fn rows(&self) -> &[ListRow] {
        &self.rows
    }

    /// Whether any secret of the file is in plaintext.
    pub fn has_plaintext(&self) -> bool {
        self.all.iter().any(|row| row.home.is_plaintext())
    }

    /// Rebuilds the rows when the file, its content or the keychain listing changed, and filters
    /// them again when the filter changed. Ticks stay on rows the filter hides.
    pub fn refresh(&mut self, workspace: &Workspace, filter: &str) {
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
        self.refollow = true;
        if self.cursor.is_some_and(|c| c >= self.rows.len()) {
            self.cursor = None;
        }
        self.rows_for = Some(wanted);
    }

    /// Puts the cursor on `key`'s row (the registry just opened), so ↑/↓ go on from there.
    pub fn follow(&mut self, key: &str) {
        if let Some(at) = self.rows.iter().position(|row| row.key == key) {
            self.cursor = Some(at);
        }
    }

    /// The key under the cursor.
    pub fn cursor_key(&self) -> Option<String> {
        self.cursor.and_then(|c| self.rows.get(c)).map(|row| row.key.clone())
    }

    /// The panel.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        filter_text: &mut String,
        selected: Option<&str>,
        status: &TestStatus<'_>,
        commands: &mut Vec<Command>,
    ) {
        files_ui(ui, workspace, commands);
        ui.add_space(4.0);
        toolbar_ui(ui, workspace, (!self.rows.is_empty(), self.has_plaintext()), selected, commands);
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
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
        });
        self.refresh(workspace, filter_text);
        // The arrow keys go on from the registry opened (by a click, Enter or a save).
        if selected != self.followed.as_deref() || self.refollow {
            if let Some(key) = selected {
                self.follow(key);
            }
            self.followed = selected.map(str::to_owned);
            self.refollow = false;
        }
        // Always one line, so ticking never moves the rows under the pointer.
        ui.horizontal(|ui| {
            ui.set_min_height(20.0);
            match self.checked.len() {
                0 => {
                    ui.weak("Tick registries for one Secret holding them all");
                }
                count => {
                    let registries = if count == 1 { "registry" } else { "registries" };
                    theme::badge(ui, Tone::Info, format!("{count} {registries} ticked: one Secret"));
                    if ui.small_button("Clear").clicked() {
                        self.checked.clear();
                    }
                }
            }
        });
        if self.rows.is_empty() {
            empty_ui(ui, workspace, filter_text, commands);
            return;
        }
        self.rows_ui(ui, selected, status, commands);
    }

    fn rows_ui(
        &mut self,
        ui: &mut egui::Ui,
        selected: Option<&str>,
        status: &TestStatus<'_>,
        commands: &mut Vec<Command>,
    ) {
        let (rows, checked, cursor) = (&self.rows, &mut self.checked, self.cursor);
        egui::ScrollArea::vertical().id_salt("registries").auto_shrink(false).show_rows(
            ui,
            ROW_HEIGHT,
            rows.len(),
            |ui, range| {
                for index in range {
                    let row = &rows[index];
                    let mark = if selected == Some(row.key.as_str()) {
                        Mark::Open
                    } else if cursor == Some(index) {
                        Mark::Cursor
                    } else {
                        Mark::None
                    };
                    row_ui(ui, row, mark, checked, status, commands);
                }
            },
        );
    }
}

/// The rows of the shown file.
fn build_rows(workspace: &Workspace) -> Vec<ListRow> {
    let Some(file) = workspace.file() else { return Vec::new() };
    let homes = SecretHomes::new(file);
    let users = workspace.keychain_users.as_ref();
    file.entries()
        .into_iter()
        .map(|entry| {
            let home = homes.of(&entry);
            let problems: Vec<String> = entry.problems.iter().map(ToString::to_string).collect();
            let mut username = entry.username.clone();
            let mut not_in_keychain = false;
            if matches!(&home, SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER)
                && let Some(users) = users
            {
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
            let keychain_down = matches!(&home, SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER)
                && !workspace.keychain_available();
            ListRow { key: entry.key, username, home, problems, expiry, not_in_keychain, keychain_down }
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

/// Which file is shown: a choice of the files found (and opened), with its path.
fn files_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    theme::heading(ui, "Registries");
    let describe = |source: &crate::auth_files::SourceFile| {
        let status = match &source.status {
            SourceStatus::Loaded(file) => match file.entry_count() {
                1 => "1 entry".to_owned(),
                count => format!("{count} entries"),
            },
            SourceStatus::Missing => "not created yet".to_owned(),
            SourceStatus::Failed(_) => "cannot be used".to_owned(),
        };
        // The kind's usual name is enough; another name (an auth.json elsewhere) is said.
        let name = source.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if matches!(name.as_str(), "config.json" | ".dockercfg" | "auth.json") {
            format!("{} — {status}", source.kind)
        } else {
            format!("{name} ({}) — {status}", source.kind)
        }
    };
    let current = workspace.shown().map_or_else(|| "no files".to_owned(), describe);
    ui.horizontal(|ui| {
        let label = ui.label("File");
        let combo = egui::ComboBox::from_id_salt("file")
            .width(ui.available_width() - 8.0)
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (index, source) in workspace.sources.files.iter().enumerate() {
                    if ui.selectable_label(index == workspace.file_index, describe(source)).clicked() {
                        commands.push(Command::SelectFile(index));
                    }
                }
            });
        combo.response.labelled_by(label.id);
    });
    if let Some(shown) = workspace.shown() {
        ui.add(egui::Label::new(egui::RichText::new(shown.path.display().to_string()).small().weak()).wrap());
        if let SourceStatus::Failed(error) = &shown.status {
            theme::message(ui, Tone::Bad, &format!("{error:#}"));
        }
    }
}

/// The actions on the list.
fn toolbar_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    (has_rows, plaintext): (bool, bool),
    selected: Option<&str>,
    commands: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        if ui.button("Add registry").on_hover_text("Ctrl+N").clicked() {
            commands.push(Command::NewEntry);
        }
        if ui
            .add_enabled(has_rows, egui::Button::new("Test all"))
            .on_hover_text("Test every registry of this file")
            .clicked()
        {
            commands.push(Command::TestAll);
        }
        if ui.button("Open file…").on_hover_text("Ctrl+O").clicked() {
            commands.push(Command::AskOpenFile);
        }
        if ui.button("Reload").clicked() {
            commands.push(Command::Reload);
        }
    });
    ui.horizontal_wrapped(|ui| {
        let file_loaded = workspace.file().is_some();
        if ui.add_enabled(selected.is_some(), egui::Button::new("Duplicate")).clicked() {
            commands.push(Command::Duplicate);
        }
        if ui.add_enabled(selected.is_some(), theme::destructive(ui, "Remove…")).clicked()
            && let Some(key) = selected
        {
            commands.push(Command::AskRemove(key.to_owned()));
        }
        let migrate = ui.add_enabled(file_loaded && plaintext, egui::Button::new("Move plaintext to keychain…"));
        if migrate.on_disabled_hover_text("No secret of this file is in plaintext").clicked() {
            commands.push(Command::AskMigrate);
        }
        if ui.button("Orphans…").clicked() {
            commands.push(Command::FindOrphans);
        }
    });
}

/// Nothing to list: one obvious next step, in neutral words.
fn empty_ui(ui: &mut egui::Ui, workspace: &Workspace, filter: &str, commands: &mut Vec<Command>) {
    ui.add_space(12.0);
    if !filter.is_empty() {
        theme::empty_state(ui, "No registry matches the filter.");
        return;
    }
    let exists = matches!(workspace.shown().map(|s| &s.status), Some(SourceStatus::Loaded(_)));
    theme::empty_state(
        ui,
        if exists {
            "No registries in this file yet."
        } else {
            "This file does not exist yet: saving your first registry creates it (mode 0600, only you can read it)."
        },
    );
    ui.add_space(8.0);
    if ui.add(theme::primary("Add your first registry")).clicked() {
        commands.push(Command::NewEntry);
    }
}

/// How a row stands out: the registry open in the editor (filled), or the arrow keys' row (an
/// outline), or neither.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Open,
    Cursor,
    None,
}

/// One row: tick, registry (opens it), Test; then user, badges and the last test.
fn row_ui(
    ui: &mut egui::Ui,
    row: &ListRow,
    mark: Mark,
    checked: &mut BTreeSet<String>,
    status: &TestStatus<'_>,
    commands: &mut Vec<Command>,
) {
    // A key is the file's text: control and bidirectional characters shown as escapes.
    let shown = crate::untrusted::inert(&row.key, 200);
    let name = if row.key.is_empty() { "(empty key)" } else { shown.as_str() };
    ui.horizontal(|ui| {
        let mut ticked = checked.contains(&row.key);
        let tick = ui.checkbox(&mut ticked, "");
        tick.widget_info(|| egui::WidgetInfo::selected(egui::Role::CheckBox, true, ticked, format!("Tick {name}")));
        if tick.changed() {
            if ticked {
                checked.insert(row.key.clone());
            } else {
                checked.remove(&row.key);
            }
        }
        let width = (ui.available_width() - 64.0).max(80.0);
        // The growing atom after the name puts it on the left, as a list reads; the scope keeps a
        // long name to its width (truncated, whole on hover), so the list never widens.
        let mut button = egui::Button::selectable(mark == Mark::Open, (name, egui::Atom::grow()))
            .truncate()
            .min_size(egui::vec2(width, 20.0));
        if mark == Mark::Cursor {
            button = button.stroke(ui.visuals().selection.stroke);
        }
        let open = ui.scope(|ui| {
            ui.set_max_width(width);
            ui.add(button)
        });
        let open = open.inner.on_hover_text(name);
        if open.clicked() {
            commands.push(Command::Select(row.key.clone()));
        }
        let running = (status.running)(&row.key);
        let test = ui.add_enabled(!running, egui::Button::new("Test"));
        test.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, !running, format!("Test pull {name}")));
        if test.on_hover_text("Test pull the image remembered for it (or check the login)").clicked() {
            commands.push(Command::TestRow(row.key.clone()));
        }
    });
    ui.horizontal(|ui| {
        ui.add_space(24.0);
        // A long user name (an ACR GUID, a service account) is cut to leave the badges room, so
        // the list never widens.
        let user = row.username.as_deref().unwrap_or("–");
        let room = (ui.available_width() * 0.4).max(40.0);
        ui.scope(|ui| {
            ui.set_max_width(room);
            ui.add(egui::Label::new(egui::RichText::new(user).weak()).truncate().show_tooltip_when_elided(false))
                .on_hover_text(user);
        });
        if row.keychain_down {
            theme::badge(ui, Tone::Warn, "keychain (not answering)")
                .on_hover_text("The secret is in the OS keychain, which is not running or not answering now: see the chip at the top.");
        } else if row.not_in_keychain {
            theme::badge(ui, Tone::Bad, "not in the keychain")
                .on_hover_text("The file sends this registry to the keychain, which has no secret for it: log in again, or remove the entry (Orphans… lists them all).");
        } else {
            home_badge(ui, &row.home);
        }
        if !row.problems.is_empty() {
            theme::badge(ui, Tone::Bad, "problem").on_hover_text(row.problems.join("\n"));
        }
        if let Some(expiry) = row.expiry.as_ref().or_else(|| status.expiries.get(&row.key)) {
            expiry_badge(ui, expiry);
        }
        test_badge(ui, (status.running)(&row.key), status.results.get(&row.key));
    });
    ui.add_space(2.0);
}

/// Where the secret lives, as a coloured badge; plaintext is a warning.
pub fn home_badge(ui: &mut egui::Ui, home: &SecretHome) -> egui::Response {
    match home {
        SecretHome::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => {
            theme::badge(ui, Tone::Good, "keychain")
        }
        SecretHome::Helper { helper, .. } => theme::badge(ui, Tone::Info, format!("helper {helper}")),
        SecretHome::Plaintext => theme::badge(ui, Tone::Warn, "plaintext").on_hover_text(
            "The password is in the file, base64-encoded but not encrypted: Move plaintext to keychain…",
        ),
        SecretHome::Missing => theme::badge(ui, Tone::Bad, "no secret"),
    }
}

/// `expires in 3 h`, red once expired.
pub fn expiry_badge(ui: &mut egui::Ui, expiry: &Expiry) -> egui::Response {
    let now = std::time::SystemTime::now();
    let expired = expiry.at <= now;
    let soon = crate::expiry::within(expiry, now, std::time::Duration::from_hours(24));
    let tone = if expired {
        Tone::Bad
    } else if soon {
        Tone::Warn
    } else {
        Tone::Info
    };
    theme::badge(ui, tone, crate::expiry::describe(expiry, now)).on_hover_text(format!(
        "{} — {}",
        crate::expiry::rfc3339(expiry.at),
        crate::expiry::renewal_advice(expiry)
    ))
}

/// The last test, with its age; or running; or untested.
fn test_badge(ui: &mut egui::Ui, running: bool, record: Option<&TestRecord>) {
    if running {
        ui.spinner();
        ui.weak("testing…");
        return;
    }
    let Some(record) = record else {
        theme::badge(ui, Tone::Neutral, "untested");
        return;
    };
    let age = theme::age(theme::now().saturating_sub(record.at));
    match &record.verdict {
        TestVerdict::Pulls => theme::icon_badge(ui, Tone::Good, Icon::Check, format!("pulls · {age}")),
        TestVerdict::LoginWorks => theme::icon_badge(ui, Tone::Good, Icon::Check, format!("login works · {age}")),
        TestVerdict::Fails(reason) => {
            theme::icon_badge(ui, Tone::Bad, Icon::Cross, reason.clone()).on_hover_text(format!("{age}: {reason}"))
        }
    };
}
