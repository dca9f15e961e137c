//! The left panel: the files found, and the registries of the shown file (virtualized rows).

use crate::resolve::secret_home;
use eframe::egui;

use super::app::{App, Command};

const ROW_HEIGHT: f32 = 38.0;

impl App {
    /// The left-hand panel.
    pub fn sources_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Credential files");
        let paths: Vec<(usize, String, String)> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let status = match &f.status {
                    crate::auth_files::SourceStatus::Loaded(file) => format!("{} entries", file.entries().len()),
                    crate::auth_files::SourceStatus::Missing => "not present".to_owned(),
                    crate::auth_files::SourceStatus::Failed(_) => "(!) unusable".to_owned(),
                };
                (i, format!("{}", f.kind), format!("{} — {status}", f.path.display()))
            })
            .collect();
        if self.load_job.busy() && paths.is_empty() {
            ui.spinner();
        }
        for (index, kind, detail) in paths {
            let selected = index == self.file_index;
            if ui.selectable_label(selected, format!("{kind}\n{detail}")).clicked() && !selected {
                self.commands.push(Command::SelectFile(index));
            }
        }
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.state.filter).hint_text("registry or user").desired_width(140.0),
            )
            .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            if ui.button("Add registry").clicked() {
                self.commands.push(Command::NewEntry);
            }
            let selected = self.draft.as_ref().and_then(|d| d.key.clone());
            if ui.add_enabled(selected.is_some(), egui::Button::new("Remove…")).clicked()
                && let Some(key) = selected
            {
                self.commands.push(Command::AskRemove(key));
            }
            if ui.button("Reload").clicked() {
                self.commands.push(Command::Reload);
            }
        });
        let entries = self.visible_entries();
        let Some(file) = self.file() else {
            ui.label("This file does not exist yet; adding a registry creates it (mode 0600).");
            return;
        };
        let homes: Vec<String> =
            entries.iter().map(|e| secret_home(file, &e.key).label().replace('\u{26a0}', "(!)")).collect();
        if entries.is_empty() {
            ui.label("No registries here yet.");
        }
        let selected = self.draft.as_ref().and_then(|d| d.key.clone());
        let mut clicked = None;
        egui::ScrollArea::vertical().id_salt("registries").auto_shrink(false).show_rows(
            ui,
            ROW_HEIGHT,
            entries.len(),
            |ui, rows| {
                for index in rows {
                    let entry = &entries[index];
                    let badge = match self.results.get(&entry.key) {
                        Some(report) if report.succeeded() => "  [pull OK]",
                        Some(_) => "  [pull failed]",
                        None => "",
                    };
                    let warning = if entry.problems.is_empty() { "" } else { "  (!) problem" };
                    let text = format!(
                        "{}{badge}{warning}\n{} · {}",
                        if entry.key.is_empty() { "(empty key)" } else { entry.key.as_str() },
                        entry.username.as_deref().unwrap_or("-"),
                        homes[index]
                    );
                    let row = egui::Button::selectable(selected.as_deref() == Some(entry.key.as_str()), text)
                        .min_size(egui::vec2(0.0, ROW_HEIGHT - 4.0));
                    let response =
                        ui.with_layout(egui::Layout::top_down_justified(egui::Align::LEFT), |ui| ui.add(row)).inner;
                    let response = if entry.problems.is_empty() {
                        response
                    } else {
                        response.on_hover_text(
                            entry.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
                        )
                    };
                    if response.clicked() {
                        clicked = Some(entry.key.clone());
                    }
                }
            },
        );
        if let Some(key) = clicked {
            self.commands.push(Command::Select(key));
        }
    }
}
