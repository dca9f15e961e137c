//! "Check cluster…": the Pods that cannot pull now (each with the node's Event beside regcred's,
//! its pull Secrets and its ServiceAccount's), then every live workload's check as "Check
//! manifests…" shows it, and where the credentials came from — the same check as
//! `regcred check --cluster`.

use eframe::egui;

use super::cluster::ClusterTarget;
use super::jobs::Slot;
use super::state::State;
use super::theme::{self, GRID, Icon, Tone};
use super::workspace::Workspace;
use crate::check::CheckOptions;
use crate::cluster::{FailingPod, LiveCheck, LiveOptions};

/// The view's state.
#[derive(Default)]
pub(super) struct LivePanel {
    /// Whether the view is open.
    pub(crate) open: bool,
    /// Its own cluster choice (starting from the Kubernetes tab's): changing it here never
    /// retargets Apply or Verify.
    pub(crate) target: ClusterTarget,
    /// Every namespace instead of one.
    pub(crate) all_namespaces: bool,
    /// The check running.
    pub(crate) job: Slot<Result<LiveCheck, String>>,
    /// The last check, or why there is none.
    pub(crate) report: Option<Result<LiveCheck, String>>,
}

impl LivePanel {
    /// Takes a finished check.
    pub(super) fn poll(&mut self) {
        self.target.poll();
        if let Some(report) = self.job.poll() {
            self.report = Some(report);
        }
    }

    /// Opens the view on the cluster the Kubernetes tab has chosen.
    pub(super) fn open_from(&mut self, chosen: &ClusterTarget) {
        self.target.context.clone_from(&chosen.context);
        self.target.namespace.clone_from(&chosen.namespace);
        self.open = true;
    }

    /// The view, as a window over the app.
    pub(super) fn ui(&mut self, ctx: &egui::Context, workspace: &Workspace, state: &State) {
        if !self.open {
            return;
        }
        let mut target = std::mem::take(&mut self.target);
        self.open = theme::view_window(ctx, "Check cluster", |ui| self.contents(ui, &mut target, workspace, state));
        self.target = target;
    }

    fn contents(&mut self, ui: &mut egui::Ui, target: &mut ClusterTarget, workspace: &Workspace, state: &State) {
        theme::empty_state(
            ui,
            "Which Pods cannot pull now, and why: each with the node's own Event beside regcred's, then every workload's images test-pulled with the pull Secrets the cluster holds.",
        );
        target.row_ui(ui, workspace, "live", !self.all_namespaces);
        ui.checkbox(&mut self.all_namespaces, "All namespaces");
        let running = self.job.busy();
        // No cluster to read (no kubeconfig): the row above says so, and Check waits.
        let ready = target.unavailable().is_none();
        if super::check::run_row(ui, ready, running, "reading the cluster and test-pulling every image…") {
            self.start(target, workspace, state);
        }
        super::check::outcome_ui(ui, self.report.as_ref(), running, |ui, live| {
            egui::ScrollArea::vertical().id_salt("live-results").auto_shrink([false, true]).show(ui, |ui| {
                live_ui(ui, live);
                theme::keep_focus_in_view(ui);
            });
        });
    }

    fn start(&mut self, target: &ClusterTarget, workspace: &Workspace, state: &State) {
        let target = target.target();
        let all_namespaces = self.all_namespaces;
        let (sources, opener) = (workspace.sources.clone(), workspace.opener.clone());
        let pull = state.pull_options(workspace.env.home.as_deref(), None);
        self.report = None;
        self.job.start_async(&workspace.runtime, workspace.repaint.clone(), async move {
            // Your own credentials stand in for the Secrets only when reading them is forbidden.
            let local = Some(crate::cluster::LocalCredentials::new(move || {
                crate::check::local_keyring(&sources, &*opener).ok().map(|(keyring, _)| keyring)
            }));
            let check = CheckOptions { pull, ..CheckOptions::default() };
            let cluster = crate::cluster::connect(&target).await.map_err(|e| with_advice(&e))?;
            let options = LiveOptions { all_namespaces, check, local, runtime_from_nodes: true };
            let live = crate::cluster::check_cluster(&cluster, options).await.map_err(|e| with_advice(&e))?;
            // Shown, never exported: every text from the cluster made inert at once.
            Ok(live.inert())
        });
    }
}

fn with_advice(error: &crate::cluster::ClusterError) -> String {
    match error.what_to_do() {
        Some(what) => format!("{error}. What to do: {what}"),
        None => error.to_string(),
    }
}

/// The cluster, where the credentials came from, the failing Pods, then the workloads' check.
fn live_ui(ui: &mut egui::Ui, live: &LiveCheck) {
    let inert = |text: &str| crate::untrusted::inert(text, 2000);
    theme::weak(ui, &format!("Cluster: {}", inert(&live.cluster)));
    let local = matches!(live.secrets, crate::cluster::SecretsRead::Local(_));
    let tone = if matches!(live.secrets, crate::cluster::SecretsRead::Cluster) { Tone::Neutral } else { Tone::Warn };
    let words = format!("Credentials: {}", live.secrets.words(inert));
    if local {
        theme::message(ui, tone, &words)
    } else {
        theme::weak(ui, &words)
    };
    for note in &live.notes {
        theme::message(ui, Tone::Warn, &inert(note));
    }
    ui.add_space(GRID);
    if live.failing.is_empty() {
        theme::status(ui, Tone::Good, Icon::Check, "No Pod is failing to pull now.");
    } else {
        let count = live.failing.len();
        theme::heading(ui, &format!("Failing to pull now ({count} container{})", if count == 1 { "" } else { "s" }));
        for pod in &live.failing {
            failing_ui(ui, pod);
        }
    }
    ui.add_space(2.0 * GRID);
    theme::heading(ui, "Workloads");
    if let Some(words) = live.not_listed_words() {
        theme::message(ui, Tone::Warn, &theme::sentence(&inert(&words)));
    }
    if live.report.results.is_empty() && !live.not_listed.is_empty() {
        // Nothing was read, so nothing can be said about the workloads.
    } else if live.report.results.is_empty() {
        // A namespace without workloads is not an input error, as it is for manifests.
        theme::empty_state(ui, "No workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods) here.");
        for warning in &live.report.warnings {
            theme::message(ui, Tone::Warn, warning);
        }
    } else {
        super::check::report_ui(ui, &live.report);
    }
}

fn failing_ui(ui: &mut egui::Ui, pod: &FailingPod) {
    let inert = |text: &str| crate::untrusted::inert(text, 2000);
    theme::card(ui, Tone::Bad, |ui| {
        let node = pod.node.as_ref().map(|node| format!(", node {node}")).unwrap_or_default();
        theme::status(
            ui,
            Tone::Bad,
            Icon::Cross,
            &format!("{}/{} · {} · {}", pod.namespace, pod.pod, pod.container, inert(&pod.image)),
        );
        theme::weak(ui, &format!("{}{node}", pod.reason));
        if let Some(event) = &pod.node_event {
            theme::caption(ui, "Node (kubelet) said");
            ui.add(egui::Label::new(egui::RichText::new(inert(event)).monospace()).wrap().selectable(true));
        }
        if let Some(event) = &pod.predicted_event {
            theme::caption(ui, "regcred predicted");
            ui.add(egui::Label::new(egui::RichText::new(inert(event)).monospace()).wrap().selectable(true));
        }
        match pod.matches {
            Some(true) => {
                theme::status(ui, Tone::Good, Icon::Check, "Same text");
            }
            Some(false) => {
                theme::status(ui, Tone::Warn, Icon::Cross, "Not the same: see the workloads' diagnosis below");
            }
            None => {}
        }
        theme::weak(ui, &pod.secrets_words());
        for note in &pod.notes {
            theme::message(ui, Tone::Info, &inert(note));
        }
    });
}
