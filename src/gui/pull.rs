//! The Test pull tab: the image for the registry open, Quick or Full (per registry), the node's
//! platform and runtime, the credential it will be tested with (only ever the image's own
//! registry's), and progress in bytes and percent. The answer appears in the card above the tabs,
//! filed under the registry it was started for.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use eframe::egui;

use super::command::Command;
use super::editor::Draft;
use super::jobs::Slot;
use super::state::State;
use super::theme::{self, Tone};
use super::workspace::Workspace;
use crate::registry::{BlobProgress, PullReport, Runtime};

/// A finished pull from the card: the registry and image it was for, and its report.
pub(super) struct Finished {
    /// The registry key.
    pub(crate) key: String,
    /// The image.
    pub(crate) image: String,
    /// The report.
    pub(crate) report: PullReport,
    /// The file on screen when it started.
    pub(crate) file: Option<std::path::PathBuf>,
    /// The draft's fingerprint when it tested what was typed, not what is saved.
    pub(crate) draft: Option<u64>,
}

/// The test-pull section's state.
#[derive(Default)]
pub(super) struct PullPanel {
    /// The pull started from the card.
    pub(crate) job: Slot<Finished>,
    /// What it was started for.
    pub(crate) running: Option<(String, String)>,
    /// Set to stop it.
    pub(crate) cancel: Arc<AtomicBool>,
    /// Per-blob progress of a full pull.
    pub(crate) progress: Arc<Mutex<Vec<BlobProgress>>>,
    /// The image typed for a registry not saved yet (remembered only once it is).
    pub(crate) new_image: String,
    /// Put the cursor in Image on the next frame (an answer's "Fix the image").
    pub(crate) focus_image: bool,
}

impl PullPanel {
    /// The image typed for the draft's registry.
    pub(super) fn image_for(&self, state: &State, draft: &Draft) -> String {
        match &draft.key {
            Some(key) => state.images.get(key).cloned().unwrap_or_default(),
            None => self.new_image.clone(),
        }
    }

    /// The tab.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        state: &mut State,
        draft: &Draft,
        verify_blocked: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        let key = draft.answer_key();
        let focus = std::mem::take(&mut self.focus_image);
        ui.horizontal(|ui| {
            let label = ui.label("Image");
            let mut edit = |image: &mut String, ui: &mut egui::Ui| {
                let width = ui.available_width().clamp(200.0, 480.0);
                let mut output = egui::TextEdit::singleline(image)
                    .id_salt("image")
                    .hint_text("registry.example.com/team/app:1.0")
                    .desired_width(width)
                    .show(ui);
                let field = output.response.response.clone().labelled_by(label.id);
                if focus {
                    // The cursor at the end of what is there (a name just completed by "Use …").
                    field.request_focus();
                    let end = egui::text::CCursor::new(image.chars().count());
                    output.state.cursor.set_char_range(Some(egui::text::CCursorRange::one(end)));
                    output.state.store(ui.ctx(), field.id);
                }
                // Enter in the image runs the test pull, as a search field runs its search.
                if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    commands.push(Command::TestPull);
                }
            };
            match &draft.key {
                Some(key) => edit(state.images.entry(key.clone()).or_default(), ui),
                None => edit(&mut self.new_image, ui),
            }
        });
        let image = self.image_for(state, draft);
        if let Some(fixed) = elsewhere_ui(ui, draft, &image) {
            // The button goes with the warning: the cursor goes back to the image.
            self.focus_image = true;
            match &draft.key {
                Some(key) => {
                    state.images.insert(key.clone(), fixed);
                }
                None => self.new_image = fixed,
            }
        }
        tested_with_ui(ui, workspace, draft, &image);
        options_ui(ui, state, &key);
        let running = self.job.busy();
        ui.add_space(theme::GRID);
        ui.horizontal(|ui| {
            let platform_ok = state.platform.parse::<crate::registry::Platform>().is_ok();
            let enabled = !running && !image.trim().is_empty() && platform_ok;
            if ui
                .add_enabled(enabled, theme::primary_when(ui, enabled, "Run test pull"))
                .on_hover_text("Ctrl+T")
                .clicked()
            {
                commands.push(Command::TestPull);
            }
            if running {
                if ui.button("Cancel").clicked() {
                    commands.push(Command::CancelPull);
                }
                ui.spinner();
            }
            let verify = ui
                .add_enabled(
                    verify_blocked.is_none() && !image.trim().is_empty(),
                    egui::Button::new("Verify in cluster"),
                )
                .on_hover_text(
                    "Pull it in the cluster with a test Pod and the Kubernetes tab's Secret, then delete the Pod",
                )
                .on_disabled_hover_text(verify_blocked.unwrap_or_else(|| "Type an image first".to_owned()));
            if verify.clicked() {
                commands.push(Command::Verify);
            }
        });
        if running {
            self.progress_ui(ui);
        }
        theme::weak(ui, "The test pull's answer appears in the card above, under this registry.");
    }

    fn progress_ui(&self, ui: &mut egui::Ui) {
        let Ok(progress) = self.progress.lock() else { return };
        for blob in progress.iter() {
            #[expect(clippy::cast_precision_loss, reason = "a progress fraction")]
            let fraction = if blob.total == 0 { 0.0 } else { blob.done as f32 / blob.total as f32 };
            let short = blob.digest.get(7..19).unwrap_or(&blob.digest);
            ui.add(egui::ProgressBar::new(fraction).text(format!(
                "{short}  {} of {}  ({:.0} %)",
                crate::registry::report::human_size(blob.done),
                crate::registry::report::human_size(blob.total),
                fraction * 100.0
            )));
        }
    }
}

/// An image that is not on the open registry says so: a short name (`team/app:1.0`) means Docker
/// Hub, as it does on a node, and is offered with this registry's host in front. Returns the image
/// to use when that is chosen.
/// When `image` is on another registry than `server`'s (a short name is Docker Hub's): the two
/// registries, `server`'s first. A test of it is not a test of `server`.
pub(super) fn image_elsewhere(image: &str, server: &str) -> Option<(String, String)> {
    let reference = crate::image_ref::ImageRef::parse(image.trim()).ok()?;
    let server = crate::auth_files::parse_server(server.trim()).ok()?;
    let theirs = crate::auth_files::parse_server(reference.domain()).ok()?;
    if theirs.registry().eq_ignore_ascii_case(server.registry()) {
        return None;
    }
    Some((server.registry().to_owned(), theirs.registry().to_owned()))
}

fn elsewhere_ui(ui: &mut egui::Ui, draft: &Draft, image: &str) -> Option<String> {
    let image = image.trim();
    let (ours, there) = image_elsewhere(image, &draft.current.server)?;
    let named = crate::image_ref::names_its_registry(image);
    let (ours, there) = (ours.as_str(), there.as_str());
    if named {
        theme::message(
            ui,
            Tone::Info,
            &format!(
                "This image is on {there}, not on {ours}: the test pull goes to {there}, with {there}'s credential."
            ),
        );
        return None;
    }
    let suggestion = format!("{ours}/{image}");
    let mut chosen = None;
    theme::message(
        ui,
        Tone::Warn,
        &format!(
            "{image} is on Docker Hub ({there}), not on {ours}: a name without a registry host means Docker Hub, on a node too."
        ),
    );
    if ui.button(format!("Use {suggestion}")).clicked() {
        chosen = Some(suggestion);
    }
    chosen
}

/// Which credential the test will send: the draft's (when the image is on its registry), the
/// saved one of the image's registry, or none — never another registry's.
fn tested_with_ui(ui: &mut egui::Ui, workspace: &Workspace, draft: &Draft, image: &str) {
    // Always one line, so typing an image never moves the button under the pointer.
    let Ok(reference) = crate::image_ref::ImageRef::parse(image.trim()) else {
        if image.trim().is_empty() {
            ui.weak("tested with: (type an image)");
        } else {
            theme::message(ui, Tone::Bad, "not a valid image reference");
        }
        return;
    };
    let shown = workspace.shown().map(|file| file.path.as_path());
    let server = crate::auth_files::parse_server(draft.current.server.trim()).ok();
    let has_credential = !draft.current.username.is_empty() && !draft.current.password.is_empty();
    let placeholder = crate::keychain::Credential { username: String::new(), secret: crate::secret::Secret::default() };
    let tested = match &server {
        Some(server) => {
            let candidate = crate::resolve::DraftCredential {
                server,
                credential: has_credential.then_some(&placeholder),
                unsaved: draft.dirty() || draft.key.is_none(),
            };
            crate::resolve::tested_with(&workspace.sources, shown, &reference, Some(&candidate))
        }
        None => crate::resolve::tested_with(&workspace.sources, shown, &reference, None),
    };
    ui.weak(format!("tested with: {}", tested.describe()));
}

/// Quick or full (for this registry), the node's platform (checked as typed) and its runtime.
fn options_ui(ui: &mut egui::Ui, state: &mut State, key: &str) {
    ui.horizontal_wrapped(|ui| {
        let mut full = state.full_pull(key);
        ui.radio_value(&mut full, false, "Quick");
        ui.radio_value(&mut full, true, "Full (download every blob)");
        if full {
            state.full_pulls.insert(key.to_owned());
        } else {
            state.full_pulls.remove(key);
        }
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Platform");
        ui.add(egui::TextEdit::singleline(&mut state.platform).desired_width(110.0)).labelled_by(label.id);
        let label = ui.label("Runtime");
        let combo = egui::ComboBox::from_id_salt("runtime").selected_text(state.runtime.label()).show_ui(ui, |ui| {
            for runtime in Runtime::ALL {
                ui.selectable_value(&mut state.runtime, runtime, runtime.label());
            }
        });
        combo.response.labelled_by(label.id).on_hover_text("Whose words the kubelet line uses");
    });
    if let Err(error) = state.platform.parse::<crate::registry::Platform>() {
        theme::message(ui, Tone::Bad, &format!("Platform: {error}"));
    }
}
