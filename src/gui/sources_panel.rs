//! The left panel: the files found, and the registries of the shown file (virtualized rows).

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
                    crate::auth_files::SourceStatus::Loaded(file) => match file.entry_count() {
                        1 => "1 entry".to_owned(),
                        count => format!("{count} entries"),
                    },
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
        self.registries_ui(ui);
    }

    /// The filter, the actions and the virtualized list of registries.
    fn registries_ui(&mut self, ui: &mut egui::Ui) {
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
                && let Some(key) = selected.clone()
            {
                self.commands.push(Command::AskRemove(key));
            }
            if ui.add_enabled(selected.is_some(), egui::Button::new("Duplicate")).clicked() {
                self.commands.push(Command::Duplicate);
            }
            if ui.button("Reload").clicked() {
                self.commands.push(Command::Reload);
            }
        });
        if ui.button("Move plaintext secrets to the keychain…").clicked() {
            self.commands.push(Command::AskMigrate);
        }
        if ui.button("Orphans…").clicked() {
            self.commands.push(Command::FindOrphans);
        }
        if self.file().is_none() {
            ui.label("This file does not exist yet; adding a registry creates it (mode 0600).");
            return;
        }
        self.refresh_list();
        if self.list.is_empty() {
            ui.label("No registries here yet.");
        }
        let selected = self.draft.as_ref().and_then(|d| d.key.clone());
        let mut clicked = None;
        let (list, results) = (&self.list, &self.results);
        egui::ScrollArea::vertical().id_salt("registries").auto_shrink(false).show_rows(
            ui,
            ROW_HEIGHT,
            list.len(),
            |ui, rows| {
                for index in rows {
                    let row = &list[index];
                    let badge = match results.get(&row.key) {
                        Some(report) if report.succeeded() => "  [pull OK]",
                        Some(_) => "  [pull failed]",
                        None => "",
                    };
                    let warning = if row.problems.is_empty() { "" } else { "  (!) problem" };
                    let text = format!(
                        "{}{badge}{warning}\n{} · {}",
                        if row.key.is_empty() { "(empty key)" } else { row.key.as_str() },
                        row.username.as_deref().unwrap_or("-"),
                        row.home
                    );
                    let button = egui::Button::selectable(selected.as_deref() == Some(row.key.as_str()), text)
                        .min_size(egui::vec2(0.0, ROW_HEIGHT - 4.0));
                    let response =
                        ui.with_layout(egui::Layout::top_down_justified(egui::Align::LEFT), |ui| ui.add(button)).inner;
                    let response = if row.problems.is_empty() {
                        response
                    } else {
                        response.on_hover_text(row.problems.join("\n"))
                    };
                    if response.clicked() {
                        clicked = Some(row.key.clone());
                    }
                }
            },
        );
        if let Some(key) = clicked {
            self.commands.push(Command::Select(key));
        }
    }
}
