//! "Will it pull?": the image for the registry being edited, quick or full, the node's platform and
//! runtime, the credential it will be tested with (only ever the image's own registry's), progress
//! in bytes and percent, and the result card — filed under the registry and image it was started
//! for, with everything the CLI reports.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use eframe::egui;

use super::app::Command;
use super::editor::Draft;
use super::jobs::Slot;
use super::state::State;
use super::theme::{self, Icon, Tone};
use super::workspace::Workspace;
use crate::registry::{BlobProgress, FailureClass, Outcome, PullReport, Runtime};

/// A finished pull from the card: the registry and image it was for, and its report.
pub struct Finished {
    /// The registry key.
    pub key: String,
    /// The image.
    pub image: String,
    /// The report.
    pub report: PullReport,
}

/// The test-pull section's state.
#[derive(Default)]
pub struct PullPanel {
    /// Reports by (registry key, image).
    pub reports: HashMap<(String, String), PullReport>,
    /// The pull started from the card.
    pub job: Slot<Finished>,
    /// What it was started for.
    pub running: Option<(String, String)>,
    /// Set to stop it.
    pub cancel: Arc<AtomicBool>,
    /// Per-blob progress of a full pull.
    pub progress: Arc<Mutex<Vec<BlobProgress>>>,
    /// The image typed for a registry not saved yet (remembered only once it is).
    pub new_image: String,
}

impl PullPanel {
    /// The image typed for the draft's registry.
    pub fn image_for(&self, state: &State, draft: &Draft) -> String {
        match &draft.key {
            Some(key) => state.images.get(key).cloned().unwrap_or_default(),
            None => self.new_image.clone(),
        }
    }

    /// The section, under the editor.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        workspace: &Workspace,
        state: &mut State,
        draft: &Draft,
        commands: &mut Vec<Command>,
    ) {
        theme::heading(ui, "Will it pull?");
        let key = draft.registry_key();
        ui.horizontal(|ui| {
            let label = ui.label("Image");
            let edit = |image: &mut String, ui: &mut egui::Ui| {
                ui.add(
                    egui::TextEdit::singleline(image)
                        .hint_text("registry.example.com/team/app:1.0")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
            };
            match &draft.key {
                Some(key) => edit(state.images.entry(key.clone()).or_default(), ui),
                None => edit(&mut self.new_image, ui),
            }
        });
        let image = self.image_for(state, draft);
        tested_with_ui(ui, workspace, draft, &image);
        options_ui(ui, state);
        let running = self.job.busy();
        ui.horizontal(|ui| {
            let platform_ok = state.platform.parse::<crate::registry::Platform>().is_ok();
            let enabled = !running && !image.trim().is_empty() && platform_ok;
            if ui.add_enabled(enabled, theme::primary("Test pull")).on_hover_text("Ctrl+T").clicked() {
                commands.push(Command::TestPull);
            }
            if running {
                if ui.button("Cancel").clicked() {
                    commands.push(Command::CancelPull);
                }
                ui.spinner();
            }
        });
        if running {
            self.progress_ui(ui);
        }
        if self.running.as_ref() == Some(&(key.clone(), image.clone())) && running {
            return;
        }
        if let Some(report) = self.reports.get(&(key, image)) {
            card_ui(ui, report, commands);
        }
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
            crate::resolve::tested_with(&workspace.sources, &reference, Some(&candidate))
        }
        None => crate::resolve::tested_with(&workspace.sources, &reference, None),
    };
    ui.weak(format!("tested with: {}", tested.describe()));
}

/// Quick or full, the node's platform (checked as typed) and its runtime.
fn options_ui(ui: &mut egui::Ui, state: &mut State) {
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut state.full_pull, false, "Quick");
        ui.radio_value(&mut state.full_pull, true, "Full (download every blob)");
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

/// The result card: everything the CLI says, and the request log, and Copy report.
pub fn card_ui(ui: &mut egui::Ui, report: &PullReport, commands: &mut Vec<Command>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        match &report.outcome {
            Outcome::Success(success) => success_ui(ui, report, success),
            Outcome::Failure(failure) if failure.class == FailureClass::Cancelled => {
                theme::message(ui, Tone::Neutral, "Cancelled: the test stopped before the end (nothing is known).");
            }
            Outcome::Failure(failure) => failure_ui(ui, report, failure),
        }
        if let Some(limit) = &report.rate_limit {
            ui.weak(format!("rate limit: {}", limit.describe()));
        }
        ui.collapsing(format!("Requests ({})", report.requests.len()), |ui| {
            for request in &report.requests {
                let status = request.status.map_or_else(|| "–".to_owned(), |s| s.to_string());
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(format!(
                            "{:<8} {} {} → {status} ({:.0} ms)",
                            request.stage.name(),
                            request.method,
                            request.url,
                            request.millis
                        ))
                        .monospace()
                        .small(),
                    )
                    .wrap(),
                );
            }
        });
        if ui.button("Copy report").clicked() {
            ui.ctx().copy_text(report.to_text());
            commands.push(Command::Toast("Copied the report to the clipboard".to_owned()));
        }
    });
}

fn success_ui(ui: &mut egui::Ui, report: &PullReport, success: &crate::registry::Success) {
    theme::verdict(ui, Tone::Good, Icon::Check, &format!("Would pull {}", report.reference));
    ui.weak(format!("tested with {}", report.credential_source));
    let short = success.digest.get(..19).map_or_else(|| success.digest.clone(), |s| format!("{s}…"));
    ui.label(format!("digest {short}")).on_hover_text(&success.digest);
    if !success.platforms.is_empty() {
        ui.add(egui::Label::new(format!("platforms {}", success.platforms.join(", "))).wrap());
    }
    ui.label(format!(
        "{} · {} layer{} · {} · {}",
        success.platform,
        success.layers,
        if success.layers == 1 { "" } else { "s" },
        crate::registry::report::human_size(success.total_size),
        if success.full { "every blob downloaded and verified" } else { "quick: blobs checked" }
    ));
}

fn failure_ui(ui: &mut egui::Ui, report: &PullReport, failure: &crate::registry::Failure) {
    theme::verdict(ui, Tone::Bad, Icon::Cross, &format!("Would not pull: {}", failure.verdict));
    let status = failure.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
    let request = failure.request.as_ref().map_or_else(String::new, |r| format!(" · {} {}: {status}", r.method, r.url));
    ui.add(egui::Label::new(format!("stage {}{request}", failure.stage.name())).wrap());
    for error in &failure.errors {
        ui.add(egui::Label::new(format!("registry {}: {}", error.code, error.message)).wrap());
    }
    if let Some(challenge) = &failure.challenge {
        ui.add(egui::Label::new(format!("challenge {challenge}")).wrap());
    }
    ui.add(egui::Label::new(format!("tested with {}", report.credential_source)).wrap());
    ui.add(egui::Label::new(format!("detail {}", failure.detail)).wrap());
    ui.label(egui::RichText::new("What the kubelet will report").strong());
    ui.add(egui::Label::new(egui::RichText::new(&failure.kubelet_event).monospace()).wrap());
    let then = crate::registry::report::pod_status(failure.kubelet_reason);
    ui.weak(format!("{then} · in {}'s words", failure.runtime.label()));
    ui.label(egui::RichText::new("What to do").strong());
    ui.add(egui::Label::new(&failure.what_to_do).wrap());
}
