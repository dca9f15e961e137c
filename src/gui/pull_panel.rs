//! The per-registry test pull: image, quick/full, platform, progress, Cancel, and the result card.

use crate::registry::Outcome;
use eframe::egui;

use super::app::{App, Command};

impl App {
    /// "This image would use: …" for the image typed for `key`, as Docker decides in this file.
    fn resolution_hint(&self, key: &str) -> Option<String> {
        let image = crate::image_ref::ImageRef::parse(self.state.images.get(key)?.trim()).ok()?;
        let file = self.file()?;
        let answer = crate::resolve::resolve_in(file, &image);
        let source = match &answer.source {
            crate::resolve::CredentialSource::CredHelper { helper, .. } => {
                format!("credHelpers, docker-credential-{helper}")
            }
            crate::resolve::CredentialSource::CredsStore { helper } => {
                format!("credsStore, docker-credential-{helper}")
            }
            crate::resolve::CredentialSource::Auths { key, .. } => format!("the auths entry {key}"),
            crate::resolve::CredentialSource::Nothing => "no credential (anonymous)".to_owned(),
        };
        Some(format!("In this file, this image would use: {source}"))
    }

    /// The test-pull section under the editor.
    pub fn pull_ui(&mut self, ui: &mut egui::Ui) {
        let Some(key) = self.draft.as_ref().map(|d| d.key.clone().unwrap_or_else(|| d.server.clone())) else { return };
        ui.heading("Will it pull?");
        let running = self.pull_job.busy();
        ui.horizontal(|ui| {
            let label = ui.label("Image");
            let image = self.state.images.entry(key.clone()).or_default();
            ui.add(
                egui::TextEdit::singleline(image).hint_text("registry.example.com/team/app:1.0").desired_width(280.0),
            )
            .labelled_by(label.id);
        });
        if let Some(hint) = self.resolution_hint(&key) {
            ui.weak(hint);
        }
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.state.full_pull, false, "Quick");
            ui.radio_value(&mut self.state.full_pull, true, "Full (download every blob)");
            let label = ui.label("Platform");
            ui.add(egui::TextEdit::singleline(&mut self.state.platform).desired_width(110.0)).labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!running, egui::Button::new("Test pull")).on_hover_text("Ctrl+T").clicked() {
                self.commands.push(Command::TestPull);
            }
            if running {
                if ui.button("Cancel").clicked() {
                    self.commands.push(Command::CancelPull);
                }
                ui.spinner();
            }
        });
        if running && let Ok(progress) = self.pull_progress.lock() {
            for blob in progress.iter() {
                #[expect(clippy::cast_precision_loss, reason = "a progress fraction")]
                let fraction = if blob.total == 0 { 0.0 } else { blob.done as f32 / blob.total as f32 };
                ui.add(egui::ProgressBar::new(fraction).text(format!(
                    "{} {}",
                    &blob.digest[..blob.digest.len().min(19)],
                    crate::registry::report::human_size(blob.done)
                )));
            }
        }
        let Some(report) = self.results.get(&key) else { return };
        let text = report.to_text();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            match &report.outcome {
                Outcome::Success(success) => {
                    ui.label(
                        egui::RichText::new(format!("Would pull {}", report.reference))
                            .strong()
                            .color(egui::Color32::from_rgb(40, 160, 70)),
                    );
                    // The short form fits the card; the full digest is on hover and in the report.
                    let short = success.digest.get(..19).map_or_else(|| success.digest.clone(), |s| format!("{s}…"));
                    ui.label(format!("digest {short}")).on_hover_text(&success.digest);
                    if !success.platforms.is_empty() {
                        ui.label(format!("platforms {}", success.platforms.join(", ")));
                    }
                    ui.label(format!(
                        "{} · {} layer{} · {}",
                        success.platform,
                        success.layers,
                        if success.layers == 1 { "" } else { "s" },
                        crate::registry::report::human_size(success.total_size)
                    ));
                }
                Outcome::Failure(failure) => {
                    ui.label(
                        egui::RichText::new(format!("Would not pull: {}", failure.verdict))
                            .strong()
                            .color(ui.visuals().error_fg_color),
                    );
                    ui.label(format!(
                        "stage {} · status {}",
                        failure.stage.name(),
                        failure.status.map_or_else(|| "–".to_owned(), |s| s.to_string())
                    ));
                    ui.label(egui::RichText::new("What the kubelet will report").strong());
                    ui.add(egui::Label::new(egui::RichText::new(&failure.kubelet_event).monospace()).wrap());
                    ui.label(egui::RichText::new("What to do").strong());
                    ui.add(egui::Label::new(&failure.what_to_do).wrap());
                }
            }
            ui.collapsing(format!("Requests ({})", report.requests.len()), |ui| {
                for request in &report.requests {
                    let status = request.status.map_or_else(|| "–".to_owned(), |s| s.to_string());
                    ui.monospace(format!(
                        "{:<8} {} {} -> {status} ({:.0} ms)",
                        request.stage.name(),
                        request.method,
                        request.url,
                        request.millis
                    ));
                }
            });
            if ui.button("Copy report").clicked() {
                ui.ctx().copy_text(text);
            }
        });
    }
}
