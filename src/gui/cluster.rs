//! The cluster the window works with, and Apply: the kubeconfig's contexts (read in a job, the
//! current one chosen), the namespace (the context's unless typed), and in the Kubernetes tab
//! "Apply to cluster…": the API server's dry run first, its plan in words (never a value), then one
//! primary Apply; the result, or the API's refusal in its words with what to do (a field conflict
//! offers to take the fields over).

use std::path::PathBuf;

use eframe::egui;

use super::command::Command;
use super::jobs::Slot;
use super::theme::{self, GRID, Icon, Tone};
use super::workspace::Workspace;
use crate::cluster::{ApplyPlan, ApplyRequest, ClusterError, Contexts, Target};

/// What the window says when there is no cluster to talk to.
const NO_KUBECONFIG: &str = "No kubeconfig found: kubectl's ~/.kube/config, or the files KUBECONFIG names (Apply, Verify and Check cluster need one)";

/// The kubeconfig as read: its contexts, and the file `connect` is to use.
pub(super) struct Kubeconfig {
    /// The file (none: `KUBECONFIG`'s files, or in-cluster).
    pub(crate) path: Option<PathBuf>,
    /// Its contexts.
    pub(crate) contexts: Contexts,
}

/// Which cluster: the context and namespace chosen, shared by Apply, Verify and Check cluster.
#[derive(Default)]
pub(super) struct ClusterTarget {
    /// Reading the kubeconfig.
    job: Slot<Result<Kubeconfig, String>>,
    /// The kubeconfig, once read, or why not.
    pub(crate) kubeconfig: Option<Result<Kubeconfig, String>>,
    /// The context chosen.
    pub(crate) context: String,
    /// The namespace typed (empty: the context's).
    pub(crate) namespace: String,
}

impl ClusterTarget {
    /// Reads the kubeconfig in the background the first time the cluster is needed.
    pub(super) fn load(&mut self, workspace: &Workspace) {
        if self.kubeconfig.is_some() || self.job.busy() {
            return;
        }
        let home = workspace.env.home.clone();
        self.job.start(&workspace.runtime, workspace.repaint.clone(), move || {
            // `KUBECONFIG` wins, as kubectl has it; else this window's home's ~/.kube/config.
            let from_env = std::env::var_os("KUBECONFIG").is_some_and(|value| !value.is_empty());
            let path =
                if from_env { None } else { home.map(|home| home.join(".kube").join("config")).filter(|p| p.exists()) };
            let contexts = crate::cluster::contexts(path.as_deref()).map_err(|error| error.to_string())?;
            Ok(Kubeconfig { path, contexts })
        });
    }

    /// Takes the kubeconfig once read (the current context chosen).
    pub(super) fn poll(&mut self) {
        if let Some(read) = self.job.poll() {
            if let Ok(kubeconfig) = &read
                && self.context.is_empty()
            {
                self.context = kubeconfig.contexts.current.clone().unwrap_or_default();
            }
            self.kubeconfig = Some(read);
        }
    }

    /// Whether the kubeconfig is being read.
    pub(super) fn busy(&self) -> bool {
        self.job.busy()
    }

    /// Why no cluster can be reached yet, if none can: the kubeconfig is being read, cannot be
    /// read, or there is none (and this is not a Pod with a ServiceAccount). Said beside the
    /// buttons that need a cluster, which stay disabled until then.
    pub(super) fn unavailable(&self) -> Option<String> {
        match &self.kubeconfig {
            None => Some("reading the kubeconfig…".to_owned()),
            Some(Err(why)) => Some(why.clone()),
            Some(Ok(kubeconfig))
                if kubeconfig.contexts.contexts.is_empty() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() =>
            {
                Some(NO_KUBECONFIG.to_owned())
            }
            Some(Ok(_)) => None,
        }
    }

    /// The namespace used: the one typed, else the context's.
    pub(super) fn namespace(&self) -> String {
        let typed = self.namespace.trim();
        if !typed.is_empty() {
            return typed.to_owned();
        }
        match &self.kubeconfig {
            Some(Ok(kubeconfig)) => kubeconfig.contexts.namespace_of(&self.context).to_owned(),
            _ => "default".to_owned(),
        }
    }

    /// What `connect` is given.
    pub(super) fn target(&self) -> Target {
        let kubeconfig = match &self.kubeconfig {
            Some(Ok(kubeconfig)) => kubeconfig.path.clone(),
            _ => None,
        };
        let context = Some(self.context.clone()).filter(|c| !c.is_empty());
        Target { kubeconfig, context, namespace: Some(self.namespace()) }
    }

    /// `context C, namespace N` for the words beside a button.
    pub(super) fn describe(&self) -> String {
        let context = if self.context.is_empty() { "(no context)" } else { self.context.as_str() };
        format!("context {context}, namespace {}", self.namespace())
    }

    /// The row: Context (a list of the kubeconfig's) and Cluster namespace (editable unless
    /// `namespace_enabled` is false: every namespace is meant).
    pub(super) fn row_ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace, salt: &str, namespace_enabled: bool) {
        self.load(workspace);
        // Label and field in columns, as the Secret's fields above: a label never wraps in two.
        egui::Grid::new(("cluster-row", salt)).num_columns(2).show(ui, |ui| {
            let label = ui.label("Context");
            match &self.kubeconfig {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.weak("reading the kubeconfig…");
                    });
                }
                Some(Err(why)) => {
                    theme::message(ui, Tone::Bad, why);
                }
                Some(Ok(kubeconfig)) if kubeconfig.contexts.contexts.is_empty() => {
                    ui.add(
                        egui::Label::new(egui::RichText::new(NO_KUBECONFIG).color(ui.visuals().weak_text_color()))
                            .wrap(),
                    );
                }
                Some(Ok(kubeconfig)) => {
                    let shown = if self.context.is_empty() { "(choose)" } else { self.context.as_str() };
                    let combo = egui::ComboBox::from_id_salt(("context", salt))
                        .selected_text(shown.to_owned())
                        .show_ui(ui, |ui| {
                            for (name, _) in &kubeconfig.contexts.contexts {
                                ui.selectable_value(&mut self.context, name.clone(), name);
                            }
                        });
                    combo.response.labelled_by(label.id);
                }
            }
            ui.end_row();
            let label = ui.label("Cluster namespace");
            let hint = self.namespace();
            ui.add_enabled(
                namespace_enabled,
                egui::TextEdit::singleline(&mut self.namespace)
                    .id_salt(("cluster-ns", salt))
                    .hint_text(hint)
                    .desired_width(140.0),
            )
            .on_hover_text("Where Apply, Verify and Check cluster work (the context's namespace unless typed); the YAML's own Namespace field is only what the preview writes")
            .labelled_by(label.id);
            ui.end_row();
        });
    }
}

/// Where Apply stands.
#[derive(Default)]
pub(super) enum ApplyStage {
    /// Nothing asked yet.
    #[default]
    Idle,
    /// The dry run is running.
    Planning,
    /// The plan, waiting for Apply or Cancel.
    Planned(ApplyPlan),
    /// Applying.
    Applying,
    /// Applied (or nothing to change), or refused.
    Done(Result<ApplyPlan, ClusterError>),
}

/// The Kubernetes tab's cluster section.
#[derive(Default)]
pub(super) struct ClusterPanel {
    /// Which cluster.
    pub(crate) target: ClusterTarget,
    /// Also add the Secret to a ServiceAccount.
    pub(crate) add_to_account: bool,
    /// Which one.
    pub(crate) account: String,
    /// The dry run or the apply running: (dry run, result).
    pub(crate) job: Slot<(bool, Result<ApplyPlan, ClusterError>)>,
    /// Where it stands.
    pub(crate) stage: ApplyStage,
    /// What the plan was made for (applied as is after the user saw the plan).
    pub(crate) request: Option<(Target, ApplyRequest)>,
    /// A result just arrived: its primary button (or the card) takes the keyboard focus and is
    /// scrolled into view once.
    focus_result: bool,
}

impl ClusterPanel {
    /// Takes a finished dry run or apply.
    pub(super) fn poll(&mut self) {
        self.target.poll();
        if let Some((dry_run, result)) = self.job.poll() {
            self.stage = match result {
                Ok(plan) if dry_run => ApplyStage::Planned(plan),
                other => ApplyStage::Done(other),
            };
            self.focus_result = true;
        }
    }

    /// Whether a job runs.
    pub(super) fn busy(&self) -> bool {
        self.job.busy() || self.target.busy()
    }

    /// The section: the cluster row, "Apply to cluster…", the plan or the result.
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, workspace: &Workspace, ready: bool, commands: &mut Vec<Command>) {
        theme::heading(ui, "Cluster");
        self.target.row_ui(ui, workspace, "apply", true);
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.add_to_account, "Also add to a ServiceAccount");
            if self.add_to_account {
                let label = ui.label("ServiceAccount name");
                ui.add(egui::TextEdit::singleline(&mut self.account).hint_text("default").desired_width(140.0))
                    .labelled_by(label.id);
            }
        });
        let running = self.job.busy();
        ui.horizontal(|ui| {
            let unavailable = self.target.unavailable();
            let enabled = ready && !running && !matches!(self.stage, ApplyStage::Planned(_)) && unavailable.is_none();
            let button = ui
                .add_enabled(enabled, egui::Button::new("Apply to cluster…"))
                .on_hover_text("The API server's dry run first: see what would change before anything is written")
                .on_disabled_hover_text(unavailable.unwrap_or_else(|| "Fix the Secret above first".to_owned()));
            if button.clicked() {
                commands.push(Command::PlanApply);
            }
            if running {
                ui.spinner();
                ui.weak(if matches!(self.stage, ApplyStage::Planning) {
                    "asking the API server what would change…"
                } else {
                    "applying…"
                });
            }
        });
        self.stage_ui(ui, commands);
    }

    fn stage_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let focus = std::mem::take(&mut self.focus_result);
        let take_focus = |response: &egui::Response| {
            if focus {
                response.request_focus();
                response.scroll_to_me(Some(egui::Align::Center));
            }
        };
        match &self.stage {
            ApplyStage::Idle | ApplyStage::Planning | ApplyStage::Applying => {}
            ApplyStage::Planned(plan) => {
                theme::card(ui, Tone::Info, |ui| {
                    theme::caption(ui, "The API server's dry run says");
                    for line in plan.lines() {
                        ui.add(egui::Label::new(egui::RichText::new(line).monospace()).wrap().selectable(true));
                    }
                    ui.add_space(GRID);
                    ui.horizontal(|ui| {
                        if plan.changes_anything() {
                            let apply = ui.add(theme::primary(ui, "Apply"));
                            take_focus(&apply);
                            if apply.clicked() {
                                commands.push(Command::Apply { force: false });
                            }
                            if ui.button("Cancel").clicked() {
                                commands.push(Command::CancelApply);
                            }
                        } else {
                            theme::weak(ui, "Nothing to change.");
                            let close = ui.button("Close");
                            take_focus(&close);
                            if close.clicked() {
                                commands.push(Command::CancelApply);
                            }
                        }
                    });
                });
            }
            ApplyStage::Done(Ok(plan)) => {
                theme::card(ui, Tone::Good, |ui| {
                    let verdict = theme::verdict(ui, Tone::Good, Icon::Check, &theme::sentence(plan.outcome_words()));
                    if focus {
                        verdict.scroll_to_me(Some(egui::Align::Center));
                    }
                    if plan.applied {
                        theme::caption(ui, "What was applied");
                    }
                    for line in plan.lines() {
                        ui.add(egui::Label::new(egui::RichText::new(line).monospace()).wrap().selectable(true));
                    }
                });
            }
            ApplyStage::Done(Err(error)) => {
                let conflict = error.refusal().is_some_and(crate::cluster::Refusal::is_field_conflict);
                theme::card(ui, Tone::Bad, |ui| {
                    if focus {
                        ui.scroll_to_cursor(Some(egui::Align::Center));
                    }
                    error_ui(ui, error);
                    if conflict
                        && ui
                            .add(theme::destructive(ui, "Take over (force)"))
                            .on_hover_text("Apply with --force-conflicts: regcred becomes the manager of those fields")
                            .clicked()
                    {
                        commands.push(Command::Apply { force: true });
                    }
                });
            }
        }
    }
}

/// A cluster error: the API's words (or the connection's), then what to do.
pub(super) fn error_ui(ui: &mut egui::Ui, error: &ClusterError) {
    theme::verdict(ui, Tone::Bad, Icon::Cross, &crate::untrusted::inert(&error.to_string(), 2000));
    if let Some(what) = error.what_to_do() {
        theme::caption(ui, "What to do");
        ui.add(egui::Label::new(what).wrap());
    }
}
