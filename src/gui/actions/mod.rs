//! What the window does: commands applied after each frame (guarded against losing unsaved
//! edits), and the background jobs they start, split by what they act on: the files
//! (`files.rs`), the entries (`entries.rs`) and the tests (`tests.rs`). No I/O happens here on
//! the UI thread: files, keychain and network are jobs.

mod cluster;
mod entries;
mod files;
mod tests;

use std::sync::atomic::Ordering;

use eframe::egui;

use super::app::App;
use super::command::Command;
use super::dialogs::Dialog;
use crate::auth_files::ConflictPolicy;

impl App {
    pub(super) fn apply(&mut self, command: Command, ctx: &egui::Context) {
        if self.would_lose_edits(&command) {
            let failed = self.draft_failed();
            self.dialogs.open = Some(Dialog::Unsaved(Box::new(command), failed));
            return;
        }
        match command {
            Command::Reload => self.start_load(),
            Command::SelectFile(index) => self.select_file(index),
            Command::AskOpenFile => self.ask_open_file(),
            Command::OpenFile(path) => self.open_file(&path),
            Command::Select(key) => self.open_entry(&key),
            Command::NewEntry => {
                self.answers.remove(&self.slot_here(super::editor::NEW_REGISTRY));
                self.editor.start_new(self.workspace.keychain_available());
                self.tab = super::command::Tab::Login;
            }
            Command::Duplicate => self.duplicate(),
            Command::CancelNew => self.editor.draft = None,
            Command::AskRemove(key) => self.ask_remove(key),
            Command::Remove(key) => self.remove(key),
            Command::AskMigrate => self.ask_migrate(),
            Command::Migrate => self.migrate(),
            Command::FindOrphans => self.find_orphans(),
            Command::AskFixOrphan(orphan) => {
                let shown = self.workspace.shown().map(|s| s.path.display().to_string()).unwrap_or_default();
                self.dialogs.open = Some(Dialog::ConfirmOrphan(orphan, shown));
            }
            Command::FixOrphan(orphan) => self.fix_orphan(orphan),
            Command::TestRow(key) => self.test_row(key, super::card::AnswerSource::RowTest),
            Command::TestAll => {
                for key in self.visible_keys() {
                    self.test_row(key, super::card::AnswerSource::TestAll);
                }
            }
            Command::TestSelected => self.test_selected(),
            Command::Save => self.save(ConflictPolicy::Refuse, false),
            Command::SavePlaintext => {
                if let Some(draft) = self.editor.draft.as_mut() {
                    draft.plaintext_seen = true;
                }
                self.save(ConflictPolicy::Refuse, false);
            }
            Command::SaveWholeRegistry => self.save_whole_registry(),
            Command::ShowTab(tab) => {
                self.tab = tab;
                self.yaml.focus_name = tab == super::command::Tab::Kubernetes;
            }
            Command::Fix(field) => {
                self.tab = field.tab();
                self.editor.focus = Some(field);
                self.pull.focus_image = field == super::command::FixField::Image;
            }
            Command::SaveWith(policy) => self.save(policy, false),
            Command::SaveReplacing => self.save(ConflictPolicy::Refuse, true),
            Command::SaveThen(then) => {
                self.after_save = Some(*then);
                self.save(ConflictPolicy::Refuse, false);
            }
            Command::DiscardThen(then) => {
                self.editor.draft = None;
                self.apply(*then, ctx);
            }
            Command::Revert => {
                if let Some(draft) = self.editor.draft.as_mut() {
                    draft.current = draft.loaded.clone();
                }
            }
            Command::TestPull => self.test_pull(),
            Command::CancelPull => self.pull.cancel.store(true, Ordering::Relaxed),
            Command::PlanApply => self.plan_apply(),
            Command::Apply { force } => self.apply_planned(force),
            Command::CancelApply => self.cluster.stage = super::cluster::ApplyStage::Idle,
            Command::Verify => self.start_verify(),
            Command::CancelVerify => self.cancel_verify(),
            Command::CleanupTestPods => self.cleanup_test_pods(),
            Command::Export(path) => self.export(path),
            Command::ExportReplace(path) => self.write_export(path, true),
            Command::Toast(text) => self.toast(text, false),
            Command::CopyYaml => match self.preview() {
                Ok(text) => {
                    ctx.copy_text(text);
                    let said = super::yaml::with_caveats(super::yaml::COPIED, &self.yaml_caveats());
                    self.toast(said, false);
                }
                Err(why) => self.toast(why, true),
            },
            Command::Quit => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    /// Whether `command` would throw the editor's unsaved changes away.
    fn would_lose_edits(&self, command: &Command) -> bool {
        let Some(draft) = self.editor.draft.as_ref().filter(|d| d.dirty()) else { return false };
        match command {
            Command::Select(key) => draft.key.as_deref() != Some(key.as_str()),
            Command::NewEntry
            | Command::Duplicate
            | Command::Reload
            | Command::SelectFile(_)
            | Command::OpenFile(_)
            | Command::Quit => true,
            _ => false,
        }
    }

    pub(super) fn poll_jobs(&mut self) {
        self.poll_files();
        self.poll_saves();
        self.poll_tests();
        if let Some(result) = self.jobs.orphans.poll() {
            match result {
                Ok(found) => self.dialogs.open = Some(Dialog::Orphans(found)),
                Err(error) => self.toast(error.to_string(), true),
            }
        }
        if let Some(result) = self.jobs.export.poll() {
            match result {
                Ok(Some(path))
                    if self.workspace.native_dialogs && path.is_absolute() && self.yaml.export_path.is_none() =>
                {
                    self.write_export(path, true);
                }
                Ok(Some(path)) => {
                    let done = format!("Exported (mode 0600): {}", path.display());
                    let said = super::yaml::with_caveats(&done, &self.yaml_caveats());
                    self.toast(said, false);
                }
                Ok(None) => {
                    let default = format!("~/{}.yaml", self.state.secret_name.trim());
                    self.yaml.ask_export_path(default);
                }
                Err(crate::atomic_file::PrivateWriteError::Exists { path }) => {
                    self.dialogs.open = Some(Dialog::ReplaceExport(path));
                }
                Err(error) => self.toast(error.to_string(), true),
            }
        }
        if let Some(path) = self.jobs.open_dialog.poll() {
            match path {
                Some(path) => self.commands.push(Command::OpenFile(path)),
                None => self.dialogs.open = Some(Dialog::OpenFile(String::new(), self.offered_files())),
            }
        }
        if let Some(selection) = self.yaml.selection_job.poll() {
            self.yaml.selection = Some(selection);
        }
    }
}
