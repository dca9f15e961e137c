//! "Verify in cluster" (the Test pull tab): the Kubernetes docs' test Pod run in the chosen
//! cluster with the Kubernetes tab's Secret, followed live (each step as it arrives, Cancel deletes
//! the Pod), then the node's own Event beside regcred's prediction, whether they are the same text,
//! the notes, and that the Pod is gone. Test Pods left by earlier runs can be cleaned up.

use std::sync::mpsc::Receiver;

use eframe::egui;

use super::command::Command;
use super::jobs::Slot;
use super::theme::{self, GRID, Icon, Tone};
use crate::cluster::{ClusterError, Progress, VerifyOutcome, VerifyReport};

/// How long the test Pod may take before it is deleted.
pub(super) const TIMEOUT: std::time::Duration = std::time::Duration::from_mins(3);

/// What the running verification tells the window as it goes.
pub(super) enum Heard {
    /// A step of the follow.
    Step(Progress),
    /// Test Pods earlier runs left in the namespace.
    Leftovers(Vec<String>),
}

/// The panel's state.
#[derive(Default)]
pub(super) struct VerifyPanel {
    /// The verification running.
    pub(crate) job: Slot<Result<VerifyReport, ClusterError>>,
    /// Its steps, as they arrive.
    pub(super) heard: Option<Receiver<Heard>>,
    /// The steps so far, in words.
    pub(crate) steps: Vec<String>,
    /// What the shown run was for: cluster, image, Secret (another input drops its result).
    pub(super) for_inputs: Option<(crate::cluster::Target, String, Option<String>)>,
    /// Completing it cancels the run (the Pod is deleted).
    pub(super) cancel: Option<tokio::sync::oneshot::Sender<()>>,
    /// The last result, or why there is none.
    pub(crate) report: Option<Result<VerifyReport, ClusterError>>,
    /// Test Pods left by earlier runs.
    pub(crate) leftovers: Vec<String>,
    /// Deleting them.
    pub(crate) cleanup: Slot<Result<crate::cluster::Cleanup, ClusterError>>,
}

impl VerifyPanel {
    /// Takes the steps heard and a finished run.
    pub(super) fn poll(&mut self) -> Option<String> {
        if let Some(heard) = &self.heard {
            for message in heard.try_iter() {
                match message {
                    Heard::Step(step) => self.steps.push(step.words()),
                    Heard::Leftovers(names) => self.leftovers = names,
                }
            }
        }
        if let Some(report) = self.job.poll() {
            self.report = Some(report);
            self.cancel = None;
        }
        match self.cleanup.poll()? {
            Ok(cleanup) => {
                self.leftovers.retain(|name| !cleanup.deleted.contains(name));
                Some(format!("Deleted {} test Pod(s)", cleanup.deleted.len()))
            }
            Err(error) => Some(error.to_string()),
        }
    }

    /// Whether a job runs.
    pub(super) fn busy(&self) -> bool {
        self.job.busy() || self.cleanup.busy()
    }

    /// The progress or the result, under the Test pull tab's buttons.
    pub(super) fn ui(&self, ui: &mut egui::Ui, cluster: &str, commands: &mut Vec<Command>) {
        if self.job.busy() {
            theme::card(ui, Tone::Info, |ui| {
                // Cancel first, where the keyboard and the eye find it while Events push the list down.
                ui.horizontal_wrapped(|ui| {
                    ui.spinner();
                    theme::caption(ui, &format!("Verifying in {cluster}"));
                    let cancel =
                        ui.button("Cancel verification").on_hover_text("Stops following and deletes the test Pod");
                    if cancel.clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                        commands.push(Command::CancelVerify);
                    }
                });
                for step in &self.steps {
                    ui.add(egui::Label::new(crate::untrusted::inert(step, 2000)).wrap());
                }
            });
        } else {
            match &self.report {
                None => {}
                Some(Ok(report)) => report_ui(ui, report),
                Some(Err(error)) => theme::card(ui, Tone::Bad, |ui| super::cluster::error_ui(ui, error)),
            }
        }
        if !self.leftovers.is_empty() {
            ui.horizontal_wrapped(|ui| {
                theme::message(
                    ui,
                    Tone::Warn,
                    &format!(
                        "{} test Pod(s) from earlier runs are still there: {}",
                        self.leftovers.len(),
                        crate::untrusted::inert(&self.leftovers.join(", "), 2000)
                    ),
                );
                if ui.add_enabled(!self.cleanup.busy(), egui::Button::new("Clean up")).clicked() {
                    commands.push(Command::CleanupTestPods);
                }
            });
        }
    }
}

/// The result: the headline, the node's Event beside regcred's prediction, same or not, notes.
fn report_ui(ui: &mut egui::Ui, report: &VerifyReport) {
    let (tone, icon) = match report.outcome {
        VerifyOutcome::Pulled => (Tone::Good, Icon::Check),
        VerifyOutcome::Failed | VerifyOutcome::TimedOut => (Tone::Bad, Icon::Cross),
        VerifyOutcome::Cancelled => (Tone::Neutral, Icon::Info),
    };
    let inert = |text: &str| crate::untrusted::inert(text, 2000);
    // A calm surface: the headline carries the colour, the two texts stay easy to read.
    theme::card(ui, Tone::Neutral, |ui| {
        theme::verdict(ui, tone, icon, &theme::sentence(&inert(&report.headline())));
        if let Some(log) = &report.log {
            theme::weak(ui, &format!("The container printed {}", inert(log)));
        }
        if report.node_words().is_some() || report.prediction.is_some() {
            ui.add_space(GRID);
            let said = report.node_words().map_or_else(|| "(no Event about the pull)".to_owned(), inert);
            let predicted = report.predicted_words().map_or_else(|| "(no prediction)".to_owned(), |w| inert(&w));
            let wide = ui.available_width() >= 640.0;
            if wide {
                ui.columns(2, |columns| {
                    said_ui(&mut columns[0], "Node (kubelet) said", &said);
                    said_ui(&mut columns[1], "regcred predicted", &predicted);
                });
            } else {
                said_ui(ui, "Node (kubelet) said", &said);
                said_ui(ui, "regcred predicted", &predicted);
            }
            theme::weak(ui, &format!("regcred's words: {}", inert(&report.runtime)));
        }
        match report.matches {
            Some(true) => {
                theme::status(ui, Tone::Good, Icon::Check, &theme::sentence(report.agreement().unwrap_or_default()));
            }
            Some(false) => {
                theme::status(ui, Tone::Warn, Icon::Cross, "They differ");
                theme::weak(ui, report.agreement().unwrap_or_default());
            }
            None => {}
        }
        if let Some(prediction) = report.prediction.as_ref().filter(|_| report.outcome == VerifyOutcome::Failed)
            && let Some(what) = &prediction.what_to_do
        {
            ui.add_space(GRID);
            theme::caption(ui, "What to do");
            ui.add(egui::Label::new(inert(what)).wrap());
        }
        for note in &report.notes {
            theme::message(ui, Tone::Info, &inert(note));
        }
        if !report.events.is_empty() {
            egui::CollapsingHeader::new(format!("The Pod's Events ({})", report.events.len()))
                .id_salt("verify-events")
                .show(ui, |ui| {
                    for event in &report.events {
                        ui.add(egui::Label::new(egui::RichText::new(inert(event)).small()).wrap().selectable(true));
                    }
                });
        }
        ui.add_space(GRID);
        let tone = if report.deleted { Tone::Neutral } else { Tone::Warn };
        theme::message(ui, tone, &report.deleted_words());
    });
}

/// One labelled block of monospace text, wrapped and selectable.
fn said_ui(ui: &mut egui::Ui, caption: &str, text: &str) {
    ui.vertical(|ui| {
        theme::caption(ui, caption);
        let palette = theme::palette(ui.visuals());
        egui::Frame::new()
            .fill(palette.field)
            .stroke(egui::Stroke::new(1.0, palette.border))
            .corner_radius(GRID)
            .inner_margin(egui::Margin::same(8))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.add(egui::Label::new(egui::RichText::new(text).monospace()).wrap().selectable(true));
            });
    });
}
