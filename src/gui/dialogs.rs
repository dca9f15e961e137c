//! The dialogs: each says what will change before anything does, fits inside the window (its
//! content scrolls), and closes with Esc. Help is a view over the window, as Check manifests is.

use std::path::PathBuf;

use eframe::egui;

use super::command::Command;
use super::theme;
use crate::auth_files::ConflictPolicy;
use crate::credentials::Orphan;

/// The dialog open, if any (one at a time).
pub(super) enum Dialog {
    /// Remove a registry and its secret? (The key, and where its secret lives, in words.)
    Remove(String, String),
    /// Move these plaintext secrets to the keychain? (And is docker-credential-regcred missing?)
    Migrate(crate::credentials::MigrationPlan, bool),
    /// Stubs without a secret and keychain items without an entry.
    Orphans(Vec<Orphan>),
    /// Apply this orphan's fix?
    ConfirmOrphan(Orphan, String),
    /// Another program changed the same entry.
    Conflict(String),
    /// The editor has unsaved changes; then do this. (And the last test of them failed: how.)
    Unsaved(Box<Command>, Option<String>),
    /// Replace the existing file with the export?
    ReplaceExport(PathBuf),
    /// A new registry's key is already in the file: open that entry, or replace it?
    Exists(String),
    /// A path to open (where no file dialog opens), and the recent files.
    OpenFile(String, Vec<PathBuf>),
    /// The secret would go to plaintext and the user has not chosen that themselves.
    Plaintext {
        /// The key the entry will have.
        key: String,
        /// Whether it is plaintext because the key has a path.
        scoped: bool,
        /// The whole registry, when the keychain could keep its secret instead.
        whole: Option<String>,
    },
}

/// The dialogs' state.
#[derive(Default)]
pub(super) struct Dialogs {
    /// The one open.
    pub(crate) open: Option<Dialog>,
    /// Whether the help window is shown.
    pub(crate) help: bool,
    /// What was shown last frame, and the number of the modal showing it: each dialog opened is
    /// a new modal (its own size and place), not the previous one's area reused.
    shown: Option<String>,
    serial: u64,
    /// What had the keyboard before the first dialog opened: it gets it back when the dialogs are
    /// dismissed (Esc, Cancel, Keep), not when one went on to do something.
    return_focus: Option<egui::Id>,
    /// Given back on the next frame (the Esc that closed the dialog would make a text field drop
    /// it again in this one).
    give_back: Option<egui::Id>,
}

impl Dialog {
    /// What tells one dialog from the next (not what is typed into it).
    fn signature(&self) -> String {
        match self {
            Self::OpenFile(..) => "open-file".to_owned(),
            Self::Remove(key, _) | Self::Exists(key) => format!("{:?} {key}", std::mem::discriminant(self)),
            Self::Migrate(plan, _) => format!("migrate {plan:?}"),
            Self::Orphans(orphans) => format!("orphans {orphans:?}"),
            Self::ConfirmOrphan(orphan, _) => format!("confirm {orphan:?}"),
            Self::Conflict(message) => format!("conflict {message}"),
            Self::Unsaved(then, _) => format!("unsaved {then:?}"),
            Self::ReplaceExport(path) => format!("replace {}", path.display()),
            Self::Plaintext { key, .. } => format!("plaintext {key}"),
        }
    }
}

impl Dialogs {
    /// Draws the open dialog; pushes what the user chose.
    pub(super) fn ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        self.help_ui(ctx);
        if let Some(back) = self.give_back.take() {
            ctx.memory_mut(|memory| memory.request_focus(back));
        }
        let Some(mut dialog) = self.open.take() else {
            self.shown = None;
            return;
        };
        let signature = dialog.signature();
        let fresh = self.shown.as_ref() != Some(&signature);
        if fresh {
            if self.shown.is_none() {
                self.return_focus = ctx.memory(egui::Memory::focused);
            }
            self.serial += 1;
            self.shown = Some(signature);
        }
        ctx.data_mut(|data| data.insert_temp(fresh_id(), fresh));
        let mut keep = true;
        let asked_before = commands.len();
        let id = egui::Id::unique(("regcred-dialog", self.serial));
        // Anchored at the top: a dialog whose content grows extends downwards instead of
        // re-centring under the pointer. The backdrop dims the window behind it.
        let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, 96.0]);
        let response = egui::Modal::new(id).area(area).show(ctx, |ui| {
            let max = ctx.content_rect().size();
            // A fixed width: the text wraps the same way every frame, so the dialog neither
            // jitters nor keeps the size of the dialog shown before it.
            ui.set_width((max.x - 80.0).clamp(240.0, 520.0));
            egui::ScrollArea::vertical().max_height((max.y - 140.0).max(120.0)).show(ui, |ui| {
                keep = dialog_ui(ui, &mut dialog, commands);
                theme::keep_focus_in_view(ui);
            });
        });
        let chose = commands.len() > asked_before;
        if response.should_close() {
            keep = false;
        }
        if keep && self.open.is_none() {
            self.open = Some(dialog);
        }
        let dismissed = !keep && !chose && self.open.is_none();
        if dismissed {
            self.give_back = self.return_focus;
            ctx.request_repaint();
        }
        if !keep {
            self.return_focus = None;
        }
    }

    /// The keyboard's shortcuts, as a view over the window: the keyboard stays inside it, and Esc
    /// (or Close) gives it back to what had it.
    fn help_ui(&mut self, ctx: &egui::Context) {
        if !self.help {
            return;
        }
        self.help = theme::view_window(ctx, "Keyboard", |ui| {
            egui::ScrollArea::vertical().id_salt("shortcuts").show(ui, |ui| {
                theme::page_keys(ui);
                egui::Grid::new("shortcuts").min_col_width(110.0).spacing([16.0, 6.0]).show(ui, |ui| {
                    for (keys, what) in SHORTCUTS {
                        ui.monospace(*keys);
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            });
        });
    }
}

/// What a keychain save means while `docker-credential-regcred` is not on `PATH`.
pub(super) const HELPER_MISSING: &str = "docker-credential-regcred is not on PATH: Docker, Podman and skopeo will not find secrets kept in the keychain until it is (install regcred's package, or put the helper on PATH).";

/// The keyboard, as Help lists it.
pub(super) const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+N", "Add a registry (the cursor goes to Server)"),
    ("Tab", "Server, Username, Password, Email"),
    ("Ctrl+S", "Save the registry"),
    ("Ctrl+T", "Test the registry open (its image, or its login)"),
    ("Ctrl+1 2 3", "The Login, Test pull and Kubernetes tabs"),
    ("Ctrl+Shift+C", "Copy the Kubernetes YAML"),
    (
        "Ctrl+3, Tab",
        "The Secret's name and namespace, then Export YAML…, Copy, and Apply to cluster… (the server's dry run first; Apply writes)",
    ),
    (
        "Ctrl+2, Tab",
        "The image, its options (Quick or Full, platform, runtime), Run test pull, then Verify in cluster (Esc cancels a verification)",
    ),
    ("Up Down", "Select the previous or next registry (the detail follows)"),
    ("Home End", "Select the first or last registry"),
    ("PgUp PgDn", "Move the selection a page"),
    ("Enter", "Open the selected registry's Login tab"),
    ("Delete", "Remove the selected registry (asks first)"),
    ("Ctrl+F", "Filter the list (Down goes back to the rows)"),
    ("Ctrl+O", "Open a credential file"),
    ("Esc", "Close a dialog or this help"),
    ("Ctrl+Q", "Quit (asks first about unsaved changes)"),
    ("F1", "This help"),
];

/// One dialog's content; `false` when it closed.
fn dialog_ui(ui: &mut egui::Ui, dialog: &mut Dialog, commands: &mut Vec<Command>) -> bool {
    match dialog {
        Dialog::Remove(key, secret) => {
            theme::heading(ui, "Remove this registry?");
            wrapped(ui, &format!("Removes {key}: its entry in this file{secret}."));
            buttons(ui, &[(Some(Command::Remove(key.clone())), "Remove", true), (None, "Keep", false)], commands)
        }
        Dialog::Migrate(plan, helper_missing) => migrate_ui(ui, plan, *helper_missing, commands),
        Dialog::Orphans(orphans) => orphans_ui(ui, orphans, commands),
        Dialog::ConfirmOrphan(orphan, shown) => {
            let (title, change, action) = orphan_change(orphan, shown);
            theme::heading(ui, title);
            wrapped(ui, &change);
            buttons(ui, &[(Some(Command::FixOrphan(orphan.clone())), action, false), (None, "Cancel", false)], commands)
        }
        Dialog::Conflict(message) => {
            theme::heading(ui, "The file changed on disk");
            wrapped(ui, message);
            wrapped(ui, "Your edits are kept until you choose. Changes to other entries are merged either way.");
            buttons(
                ui,
                &[
                    (Some(Command::SaveWith(ConflictPolicy::KeepOurs)), "Keep mine", false),
                    (Some(Command::SaveWith(ConflictPolicy::KeepTheirs)), "Keep theirs", false),
                    (Some(Command::Reload), "Reload", false),
                ],
                commands,
            )
        }
        Dialog::Unsaved(then, failed) => {
            theme::heading(ui, "Save your changes?");
            let before = match then.as_ref() {
                Command::Quit => "before quitting",
                Command::Select(_) => "before opening another registry",
                Command::NewEntry | Command::Duplicate => "before adding a registry",
                Command::Reload => "before reloading the file",
                Command::SelectFile(_) | Command::OpenFile(_) => "before showing another file",
                _ => "before going on",
            };
            wrapped(ui, &format!("The registry you are editing has changes that are not saved. Save them {before}?"));
            let choices = [
                (Some(Command::SaveThen(then.clone())), "Save", false),
                (Some(Command::DiscardThen(then.clone())), "Discard", true),
                (None, "Cancel", false),
            ];
            match failed {
                // Saving what the registry refused is a choice, not the default: Cancel has the keyboard.
                Some(failed) => {
                    theme::message(ui, theme::Tone::Warn, &format!("Careful: {failed}."));
                    buttons_focusing(ui, &choices, Some(2), commands)
                }
                None => buttons(ui, &choices, commands),
            }
        }
        Dialog::Exists(key) => {
            theme::heading(ui, "This registry is already in the file");
            wrapped(
                ui,
                &format!(
                    "{key} already has an entry. Replacing it overwrites its user name, secret and email with what you typed; its last test result is forgotten."
                ),
            );
            buttons(
                ui,
                &[
                    (
                        Some(Command::DiscardThen(Box::new(Command::Select(key.clone())))),
                        "Open the existing entry",
                        false,
                    ),
                    (Some(Command::SaveReplacing), "Replace it", true),
                    (None, "Cancel", false),
                ],
                commands,
            )
        }
        Dialog::ReplaceExport(path) => {
            theme::heading(ui, "Replace the file?");
            wrapped(ui, &format!("{} exists. Replace it with the YAML (mode 0600)?", path.display()));
            buttons(
                ui,
                &[(Some(Command::ExportReplace(path.clone())), "Replace", true), (None, "Cancel", false)],
                commands,
            )
        }
        Dialog::OpenFile(path, recent) => open_file_ui(ui, path, recent, commands),
        Dialog::Plaintext { key, scoped, whole } => plaintext_ui(ui, key, *scoped, whole.as_deref(), commands),
    }
}

fn migrate_ui(
    ui: &mut egui::Ui,
    plan: &crate::credentials::MigrationPlan,
    helper_missing: bool,
    commands: &mut Vec<Command>,
) -> bool {
    theme::heading(ui, "Move the plaintext secrets to the keychain?");
    if helper_missing && !plan.moving.is_empty() {
        theme::message(ui, theme::Tone::Warn, HELPER_MISSING);
    }
    let count = plan.moving.len();
    if count > 0 {
        let these =
            if count == 1 { "This entry holds its".to_owned() } else { format!("These {count} entries hold their") };
        wrapped(ui, &format!("{these} secret in plaintext in the file and will move:"));
        for key in &plan.moving {
            ui.monospace(key);
        }
        wrapped(
            ui,
            "Each secret is stored in the OS keychain and read back; then its entry becomes an empty stub and the registry is routed to docker-credential-regcred (credHelpers). If any step fails, the file and the keychain stay as they are.",
        );
    }
    if !plan.staying.is_empty() {
        wrapped(ui, "These stay in the file as they are:");
        for (key, reason) in &plan.staying {
            theme::message(ui, theme::Tone::Warn, &format!("{key}: {reason}"));
        }
    }
    if count == 0 {
        return buttons(ui, &[(None, "Close", false)], commands);
    }
    let label = if count == 1 { "Move it".to_owned() } else { format!("Move {count}") };
    buttons(ui, &[(Some(Command::Migrate), &label, false), (None, "Cancel", false)], commands)
}

fn orphans_ui(ui: &mut egui::Ui, orphans: &[Orphan], commands: &mut Vec<Command>) -> bool {
    theme::heading(ui, "Orphans");
    if orphans.is_empty() {
        wrapped(ui, "None: every entry has its secret and every keychain item has an entry.");
    }
    let mut keep = true;
    for orphan in orphans {
        let (name, fix) = match orphan {
            Orphan::Stub { key, .. } => (key.clone(), "Remove the empty entry"),
            Orphan::KeychainItem { server, .. } => (server.clone(), "Add an entry that uses it"),
        };
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{name}: {}", orphan.problem()));
            if ui.button(fix).clicked() {
                commands.push(Command::AskFixOrphan(orphan.clone()));
                keep = false;
            }
        });
    }
    keep && buttons(ui, &[(None, "Close", false)], commands)
}

fn open_file_ui(ui: &mut egui::Ui, path: &mut String, recent: &[PathBuf], commands: &mut Vec<Command>) -> bool {
    theme::heading(ui, "Open a credential file");
    wrapped(
        ui,
        "Its kind comes from its name (config.json, *.dockercfg, auth.json), else from its content. It is listed beside your own files, which stay.",
    );
    let mut keep = true;
    ui.horizontal(|ui| {
        let label = ui.label("Path");
        let edit = ui.add(egui::TextEdit::singleline(path).desired_width(320.0)).labelled_by(label.id);
        // Ctrl+O then typing: the path field has the cursor from the start.
        if path.is_empty() && !edit.has_focus() && !edit.lost_focus() {
            edit.request_focus();
        }
        let named = !path.trim().is_empty();
        // Enter in an empty field opens nothing (a file with no name is not a file).
        let entered = named && edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.add_enabled(named, theme::primary_when(ui, named, "Open")).clicked() || entered {
            commands.push(Command::OpenFile(PathBuf::from(path.trim())));
            keep = false;
        }
    });
    if !recent.is_empty() {
        ui.label(egui::RichText::new("Your files and recent ones").strong());
        for file in recent {
            if ui.link(file.display().to_string()).clicked() {
                commands.push(Command::OpenFile(file.clone()));
                keep = false;
            }
        }
    }
    keep && buttons(ui, &[(None, "Cancel", false)], commands)
}

/// Before a secret goes to plaintext that the user did not choose themselves: what it means, and
/// the honest other route where there is one.
fn plaintext_ui(ui: &mut egui::Ui, key: &str, scoped: bool, whole: Option<&str>, commands: &mut Vec<Command>) -> bool {
    theme::heading(ui, "Save this password in plaintext?");
    let why = if scoped {
        format!(
            "{key} has a path. The OS keychain and credential helpers answer for a whole registry, so this key can only keep its password in the file — base64-encoded, not encrypted: anyone who can read the file can read it."
        )
    } else {
        format!(
            "The password for {key} would be written into the file — base64-encoded, not encrypted: anyone who can read the file can read it."
        )
    };
    wrapped(ui, &why);
    let mut choices = vec![(Some(Command::SavePlaintext), "Save in the file".to_owned(), false)];
    if let Some(whole) = whole {
        wrapped(ui, &format!("Or save the login for all of {whole}, with its password in the OS keychain."));
        choices.push((Some(Command::SaveWholeRegistry), format!("Use {whole} and the keychain"), false));
    }
    choices.push((None, "Cancel".to_owned(), false));
    let choices: Vec<(Option<Command>, &str, bool)> =
        choices.iter().map(|(command, label, red)| (command.clone(), label.as_str(), *red)).collect();
    // Not the plaintext file: the keychain's route when there is one, else Cancel.
    buttons_focusing(ui, &choices, Some(1), commands)
}

fn wrapped(ui: &mut egui::Ui, text: &str) {
    ui.add(egui::Label::new(text).wrap());
}

/// Where [`Dialogs::ui`] says whether the dialog is new this frame.
fn fresh_id() -> egui::Id {
    egui::Id::unique("regcred-dialog-fresh")
}

/// A row of buttons: `(command, label, destructive)`; `false` when one was clicked (the dialog
/// closes). A dialog just opened has its first safe choice focused (shown with the focus ring,
/// Enter or Space presses it; a destructive one never is), unless one of its own fields took the
/// cursor.
fn buttons(ui: &mut egui::Ui, choices: &[(Option<Command>, &str, bool)], commands: &mut Vec<Command>) -> bool {
    let first_safe = choices.iter().position(|(_, _, destructive)| !destructive);
    buttons_focusing(ui, choices, first_safe, commands)
}

/// [`buttons`] with the choice that takes the focus named (`None`: none).
fn buttons_focusing(
    ui: &mut egui::Ui,
    choices: &[(Option<Command>, &str, bool)],
    focused: Option<usize>,
    commands: &mut Vec<Command>,
) -> bool {
    let fresh = ui.data(|data| data.get_temp::<bool>(fresh_id())).unwrap_or(false);
    let field_focused = ui
        .memory(egui::Memory::focused)
        .and_then(|id| ui.ctx().read_response(id))
        .is_some_and(|focused| focused.layer_id == ui.layer_id());
    let focus = fresh && !field_focused;
    let mut keep = true;
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        for (index, (command, label, destructive)) in choices.iter().enumerate() {
            let button = if *destructive { theme::destructive(ui, label) } else { egui::Button::new(*label) };
            let response = ui.add(button);
            if focus && focused == Some(index) {
                response.request_focus();
            }
            if response.clicked() {
                commands.extend(command.clone());
                keep = false;
            }
        }
    });
    keep
}

/// What fixing `orphan` will change, said before it happens: the dialog's title, the change,
/// and the confirming button's label. `shown` is the path of the file on screen.
fn orphan_change(orphan: &Orphan, shown: &str) -> (&'static str, String, &'static str) {
    match orphan {
        Orphan::Stub { key, path, .. } => (
            "Remove the empty entry?",
            format!(
                "Removes the entry {key} from {} (and its credHelpers route, if it leads to docker-credential-regcred). Nothing else in the file changes, and no keychain item or helper is touched. Log in again to restore it.",
                path.display()
            ),
            "Remove the entry",
        ),
        Orphan::KeychainItem { server, username } => (
            "Use this keychain item?",
            format!(
                "Adds the entry {server} to {shown}: an empty stub in auths, and credHelpers routing {server} to docker-credential-regcred, so Docker, Podman and skopeo use the keychain item (user {username}). The keychain item itself does not change."
            ),
            "Add the entry",
        ),
    }
}
