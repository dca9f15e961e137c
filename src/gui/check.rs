//! "Check manifests…": will these pods pull? Paste Kubernetes YAML (or name files), and every
//! container's image is test-pulled with the credentials the kubelet would use — the same check
//! as `regcred check`, its results failures first, each failure opening to the kubelet's words.

use eframe::egui;

use super::jobs::Slot;
use super::state::State;
use super::theme::{self, GRID, Icon, Tone};
use super::workspace::Workspace;
use crate::check::{CheckOptions, CheckReport, CheckResult, Verdict};

/// The view's state.
#[derive(Default)]
pub(super) struct CheckPanel {
    /// Whether the view is open.
    pub(crate) open: bool,
    /// Pasted manifests.
    pub(crate) text: String,
    /// Files or directories, separated by spaces.
    pub(crate) paths: String,
    /// The namespace of objects that name none.
    pub(crate) namespace: String,
    /// Check missing Secrets with the user's own credentials.
    pub(crate) local: bool,
    /// The check running.
    pub(crate) job: Slot<Result<CheckReport, String>>,
    /// The last report, or why there is none.
    pub(crate) report: Option<Result<CheckReport, String>>,
    /// Just opened: the keyboard goes to Files (not to the window behind).
    focus_files: bool,
    /// What the last check read (text, files, namespace, own credentials): its results are of
    /// that, and say so once the fields change.
    checked: Option<(String, String, String, bool)>,
}

impl CheckPanel {
    /// Opens the view with the keyboard in its first field.
    pub(super) fn show(&mut self) {
        self.open = true;
        self.focus_files = true;
    }

    /// Takes a finished check's report.
    pub(super) fn poll(&mut self) {
        if let Some(report) = self.job.poll() {
            self.report = Some(report);
        }
    }

    /// The view, as a window over the app.
    pub(super) fn ui(&mut self, ctx: &egui::Context, workspace: &Workspace, state: &State) {
        if !self.open {
            return;
        }
        self.open = theme::view_window(ctx, "Check manifests", |ui| self.contents(ui, workspace, state));
    }

    fn contents(&mut self, ui: &mut egui::Ui, workspace: &Workspace, state: &State) {
        theme::empty_state(
            ui,
            "Will these pods pull? Every image of the manifests is test-pulled with the credentials the kubelet would use: the pods' imagePullSecrets (or their ServiceAccount's) found among the manifests.",
        );
        let entered_fields = ui.horizontal(|ui| {
            let label = ui.label("Files");
            let files = ui
                .add(
                    egui::TextEdit::singleline(&mut self.paths)
                        .hint_text("app.yaml ~/k8s/ \"my dir/x.yaml\"")
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_files) {
                files.request_focus();
            }
            let label = ui.label("Namespace");
            let namespace = ui
                .add(egui::TextEdit::singleline(&mut self.namespace).hint_text("default").desired_width(110.0))
                .labelled_by(label.id);
            // Enter in either field runs the check, as a search field runs its search; the
            // keyboard stays in the field (Enter would have made it drop it).
            let entered = |field: &egui::Response| {
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if entered {
                    field.request_focus();
                }
                entered
            };
            entered(&files) | entered(&namespace)
        });
        let label = ui.label("Manifests");
        let entered_text = egui::ScrollArea::vertical().id_salt("check-text").max_height(130.0).show(ui, |ui| {
            // Monospace, but Tab leaves the field (YAML indents with spaces; the keyboard must
            // reach the box and the Check button). Ctrl+Enter runs the check.
            let id = ui.make_persistent_id("manifests");
            let run = ui.memory(|m| m.has_focus(id))
                && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter));
            let hint = "Paste YAML or JSON: kubectl get deploy,sts,ds,cronjob,job,pod,sa,secret -o yaml, helm template, kustomize build …";
            let text = egui::TextEdit::multiline(&mut self.text)
                .id(id)
                .font(egui::TextStyle::Monospace)
                .hint_text(hint)
                .desired_rows(5)
                .desired_width(f32::INFINITY);
            ui.add(text).labelled_by(label.id).on_hover_text("Ctrl+Enter: Check");
            run
        });
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.local, "Check Secrets missing from the manifests with my own credentials");
        });
        let running = self.job.busy();
        let ready = !self.text.trim().is_empty() || !self.paths.trim().is_empty();
        let entered = (entered_fields.inner || entered_text.inner) && ready && !running;
        if run_row(ui, ready, running, "test-pulling every image…") || entered {
            self.start(workspace, state);
        }
        let now = (self.text.clone(), self.paths.clone(), self.namespace.clone(), self.local);
        if self.report.is_some() && !running && self.checked.as_ref().is_some_and(|checked| *checked != now) {
            theme::message(
                ui,
                Tone::Warn,
                "These results are of the manifests as they were when checked: Check again for what is entered now.",
            );
        }
        outcome_ui(ui, self.report.as_ref(), running, report_ui);
    }

    fn start(&mut self, workspace: &Workspace, state: &State) {
        let namespace =
            if self.namespace.trim().is_empty() { "default".to_owned() } else { self.namespace.trim().to_owned() };
        let (text, paths, local) = (self.text.clone(), self.paths.clone(), self.local);
        self.checked = Some((text.clone(), paths.clone(), self.namespace.clone(), local));
        let (sources, opener) = (workspace.sources.clone(), workspace.opener.clone());
        let home = workspace.env.home.clone();
        let pull = state.pull_options(workspace.env.home.as_deref(), None);
        self.report = None;
        self.job.start_async(&workspace.runtime, workspace.repaint.clone(), async move {
            let prepared = tokio::task::spawn_blocking(move || {
                let inputs = read_manifests(&text, &paths, &namespace, home.as_deref());
                // Entries whose secret cannot be read (a keychain that does not answer) are left
                // out, and said in the report, as `regcred check --local` says them.
                let (local, unread) = if local {
                    let (keyring, unread) =
                        crate::check::local_keyring(&sources, &*opener).map_err(|e| e.to_string())?;
                    (Some(keyring), unread)
                } else {
                    (None, Vec::new())
                };
                Ok::<_, String>((inputs, local, unread))
            })
            .await
            .map_err(|e| e.to_string())?;
            let (inputs, local, unread) = prepared?;
            let options = CheckOptions { pull, node: None, local, ..CheckOptions::default() };
            let mut report = crate::check::check(&inputs, &options).await;
            report.warnings.extend(unread);
            // Shown, never exported as JSON: every text from the manifests made inert at once.
            Ok(report.inert())
        });
    }
}

/// The pasted text and the named files, read as `regcred check -f` reads them.
fn read_manifests(
    text: &str,
    paths: &str,
    namespace: &str,
    home: Option<&std::path::Path>,
) -> crate::check::manifests::Inputs {
    let texts: Vec<(&str, &str)> = if text.trim().is_empty() { Vec::new() } else { vec![("pasted", text)] };
    let paths: Vec<std::path::PathBuf> = split_paths(paths)
        .iter()
        .map(|path| crate::atomic_file::expand_home(std::path::Path::new(path), home))
        .collect();
    let paths: Vec<&std::path::Path> = paths.iter().map(std::path::PathBuf::as_path).collect();
    crate::check::manifests::read_inputs(&texts, &paths, namespace)
}

/// The Files field's paths as a shell would split them: by spaces, a path with spaces quoted
/// (`"my charts/app.yaml"`) or escaped; an unclosed quote splits by spaces alone.
fn split_paths(paths: &str) -> Vec<String> {
    shlex::split(paths).unwrap_or_else(|| paths.split_whitespace().map(str::to_owned).collect())
}

/// The summary, then every container, failures first, each failure opening to its details.
pub(super) fn report_ui(ui: &mut egui::Ui, report: &CheckReport) {
    let s = &report.summary;
    let (tone, icon) = if s.fails > 0 || s.unfinished > 0 {
        (Tone::Bad, Icon::Cross)
    } else if s.containers == 0 {
        (Tone::Warn, Icon::Warn)
    } else {
        (Tone::Good, Icon::Check)
    };
    theme::verdict(
        ui,
        tone,
        icon,
        &format!(
            "{} of {} container{} would pull, {} would fail, {} skipped ({} distinct pull{}{})",
            s.pulls,
            s.containers,
            if s.containers == 1 { "" } else { "s" },
            s.fails,
            s.skipped,
            s.pulls_made,
            if s.pulls_made == 1 { "" } else { "s" },
            // The time is worth a look when it is long; under a second it only flickers.
            if s.seconds >= 1.0 { format!(", {:.1} s", s.seconds) } else { String::new() }
        ),
    );
    // The input errors, as regcred check says them (a path, a document, no workloads).
    for error in &report.errors {
        theme::message(ui, Tone::Bad, error);
    }
    for warning in &report.warnings {
        theme::message(ui, Tone::Warn, warning);
    }
    if let Some(words) = s.not_read_words() {
        ui.weak(words);
    }
    let mut rows: Vec<&CheckResult> = report.results.iter().collect();
    rows.sort_by_key(|r| match r.verdict {
        Verdict::Fails | Verdict::Unfinished => 0,
        Verdict::Skipped => 1,
        Verdict::Pulls => 2,
    });
    egui::ScrollArea::vertical().id_salt("check-results").auto_shrink([false, true]).show(ui, |ui| {
        for (index, result) in rows.into_iter().enumerate() {
            row_ui(ui, index, result);
        }
        theme::keep_focus_in_view(ui);
        theme::page_keys(ui);
    });
}

/// One container: its verdict and where it runs, opening (Enter, or a click) to why — the
/// credential it pulled with, why it was skipped, or the kubelet's words and what to do.
fn row_ui(ui: &mut egui::Ui, index: usize, result: &CheckResult) {
    let title = format!("{}/{} · {} · {}", result.namespace, result.workload, result.container, result.image);
    let with = super::card::in_window_words(&crate::check::UsedCredential::describe_used(result.credential.as_ref()));
    let (tone, word) = match result.verdict {
        Verdict::Pulls => (Tone::Good, "pulls"),
        Verdict::Skipped => (Tone::Neutral, "skipped"),
        Verdict::Unfinished => (Tone::Warn, "unfinished"),
        Verdict::Fails => (Tone::Bad, "fails"),
    };
    // The verdict in its colour, the container in the text's: calm rows that still read at a glance.
    let mut header = egui::text::LayoutJob::default();
    let font = egui::TextStyle::Body.resolve(ui.style());
    let format = |color| egui::TextFormat::simple(font.clone(), color);
    header.append(word, 0.0, format(tone.text(ui.visuals())));
    header.append(&format!(" · {title}"), 0.0, format(ui.visuals().text_color()));
    // One line, elided (whole on hover): a long image reference never widens the view.
    // (Laid out here: a header re-wraps a text or a layout job to its whole length.)
    header.wrap = egui::text::TextWrapping::truncate_at_width(ui.available_width() - ui.spacing().indent - 2.0 * GRID);
    let header = ui.ctx().fonts_mut(|fonts| fonts.layout_job(header));
    let row = egui::CollapsingHeader::new(header).id_salt(("check-row", index)).show(ui, |ui| match result.verdict {
        Verdict::Pulls => {
            ui.label(format!("with {with}"));
        }
        Verdict::Skipped => {
            for note in &result.notes {
                ui.add(egui::Label::new(super::card::in_window_words(note)).wrap());
            }
        }
        Verdict::Unfinished => {
            let cause = result.cause.as_deref().unwrap_or(crate::check::run::UNFINISHED);
            ui.add(egui::Label::new(cause).wrap());
        }
        Verdict::Fails => failure_ui(ui, result, &with),
    });
    let row = egui::collapsing_header::CollapsingResponse {
        header_response: row.header_response.on_hover_text(&title),
        ..row
    };
    // The row the keyboard is on is outlined (a header without a frame shows no focus).
    theme::outline_focus(ui, &row.header_response);
    // Opened: its details are brought into view (the last rows' open below the fold).
    if row.header_response.clicked() && row.openness < 0.5 {
        ui.ctx().data_mut(|data| data.insert_temp(egui::Id::unique("check-row-opened"), row.header_response.id));
    }
    if let Some(body) = &row.body_response
        && ui.ctx().data(|data| data.get_temp::<egui::Id>(egui::Id::unique("check-row-opened")))
            == Some(row.header_response.id)
    {
        // Its header at the top, as much of the details below it as fits.
        ui.scroll_to_rect(row.header_response.rect.union(body.rect), Some(egui::Align::TOP));
        if row.fully_open() {
            ui.ctx().data_mut(|data| data.remove::<egui::Id>(egui::Id::unique("check-row-opened")));
        }
    }
    for note in &result.notes {
        if result.verdict != Verdict::Skipped {
            theme::message(ui, Tone::Warn, &format!("    {}", super::card::in_window_words(note)));
        }
    }
}

/// A failing container's details: the cause, the credential, the kubelet's words, what to do.
fn failure_ui(ui: &mut egui::Ui, result: &CheckResult, with: &str) {
    if let Some(cause) = &result.cause {
        theme::message(ui, Tone::Bad, cause);
    }
    ui.weak(format!("with {with}"));
    if let Some(kubelet) = &result.kubelet {
        ui.label(egui::RichText::new("What the kubelet will report").strong());
        let reason = result.reason.as_deref().unwrap_or("ErrImagePull");
        ui.add(egui::Label::new(egui::RichText::new(kubelet).monospace()).wrap());
        ui.weak(crate::registry::report::pod_status(reason));
    }
    if let Some(what) = &result.what_to_do {
        ui.label(egui::RichText::new("What to do").strong());
        ui.add(egui::Label::new(super::card::in_window_words(what)).wrap());
    }
    for attempt in result.tried.iter().filter(|_| result.tried.len() > 1) {
        let with =
            super::card::in_window_words(&crate::check::UsedCredential::describe_used(attempt.credential.as_ref()));
        ui.add(egui::Label::new(format!("tried {with}: {}", attempt.error)).wrap());
    }
}

/// A check view's Check button and, while it runs, what it is doing; whether Check was pressed.
pub(super) fn run_row(ui: &mut egui::Ui, ready: bool, running: bool, doing: &str) -> bool {
    ui.horizontal(|ui| {
        let pressed = ui.add_enabled(ready && !running, theme::primary_when(ui, ready && !running, "Check")).clicked();
        if running {
            ui.spinner();
            ui.weak(doing);
        }
        pressed
    })
    .inner
}

/// A check view's last outcome under a rule: nothing yet, why it failed, or its report.
pub(super) fn outcome_ui<T>(
    ui: &mut egui::Ui,
    outcome: Option<&Result<T, String>>,
    running: bool,
    show: impl FnOnce(&mut egui::Ui, &T),
) {
    ui.separator();
    match outcome {
        None if !running => theme::empty_state(ui, "Nothing checked yet."),
        None => {}
        Some(Err(why)) => {
            theme::message(ui, Tone::Bad, why);
        }
        Some(Ok(report)) => show(ui, report),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_are_split_as_a_shell_splits_them() {
        let split = super::split_paths(r#"app.yaml "my charts/web.yaml" k8s\ prod/ ~/x.yaml"#);
        assert_eq!(split, ["app.yaml", "my charts/web.yaml", "k8s prod/", "~/x.yaml"]);
        // An unclosed quote is not a reason to read nothing.
        assert_eq!(super::split_paths(r#"a.yaml "b.yaml"#), ["a.yaml", "\"b.yaml"]);
    }

    #[test]
    fn a_file_under_home_is_read_from_home() -> std::io::Result<()> {
        let home = tempfile::tempdir()?;
        std::fs::write(
            home.path().join("pod.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: r.example/a:1\n",
        )?;
        let inputs = super::read_manifests("", "~/pod.yaml", "default", Some(home.path()));
        assert!(inputs.unreadable.is_empty(), "{:?}", inputs.unreadable);
        assert_eq!(inputs.manifests.workloads.len(), 1);
        Ok(())
    }
}
