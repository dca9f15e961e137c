//! The window's cluster actions: Apply to cluster… (the server's dry run, then the write) and
//! Verify in cluster (the test Pod followed in a job, its steps sent as they come, Cancel, Clean
//! up). The panels (`cluster.rs`, `verify.rs`) draw; these start and stop the jobs.

use std::sync::mpsc::channel;

use super::super::app::App;
use super::super::cluster::ApplyStage;
use super::super::verify::{Heard, TIMEOUT};
use crate::cluster::{ApplyRequest, Progress, Target, VerifyRequest};
use crate::pull_secret::{KubectlStyle, SecretRequest, SecretType};

impl App {
    /// "Verify in cluster": the Test pull tab's image, the Kubernetes tab's Secret, the chosen
    /// cluster; steps and leftovers sent as they come.
    pub(super) fn start_verify(&mut self) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let image = self.pull.image_for(&self.state, draft).trim().to_owned();
        if image.is_empty() || self.verify.job.busy() {
            return;
        }
        let secret = Some(self.state.secret_name.trim().to_owned()).filter(|name| !name.is_empty());
        let pull = self.state.pull_options(self.workspace.env.home.as_deref(), None);
        let target = self.cluster.target.target();
        let (sources, opener) = (self.workspace.sources.clone(), self.workspace.opener.clone());
        let (sender, receiver) = channel();
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        let repaint = self.workspace.repaint.clone();
        self.verify.for_inputs = Some((target.clone(), image.clone(), secret.clone()));
        self.verify.heard = Some(receiver);
        self.verify.cancel = Some(cancel);
        self.verify.steps.clear();
        self.verify.report = None;
        self.verify.job.start_async(&self.workspace.runtime, self.workspace.repaint.clone(), async move {
            // Read only if the Secret cannot be (a keychain may be slow or stopped).
            let local = Some(crate::cluster::LocalCredentials::new(move || {
                crate::check::local_keyring(&sources, &*opener).ok().map(|(keyring, _)| keyring)
            }));
            let cluster = crate::cluster::connect(&target).await?;
            if let Ok(left) = crate::cluster::leftover_pods(&cluster).await {
                let _ = sender.send(Heard::Leftovers(left));
            }
            let request = VerifyRequest { image, secret, timeout: TIMEOUT, pull, runtime: None, platform: None, local };
            let progress = move |step: Progress| {
                let _ = sender.send(Heard::Step(step));
                repaint.request_repaint();
            };
            let cancel = async {
                // A dropped sender (the window closing) cancels too: the Pod never outlives it.
                let _ = cancelled.await;
            };
            Box::pin(crate::cluster::verify(&cluster, &request, &progress, cancel)).await
        });
    }

    /// Cancel: the run deletes its Pod and reports.
    pub(super) fn cancel_verify(&mut self) {
        if let Some(cancel) = self.verify.cancel.take() {
            let _ = cancel.send(());
        }
    }

    /// "Clean up": deletes the test Pods earlier runs left.
    pub(super) fn cleanup_test_pods(&mut self) {
        let target = self.cluster.target.target();
        self.verify.cleanup.start_async(&self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let cluster = crate::cluster::connect(&target).await?;
            crate::cluster::cleanup(&cluster).await
        });
    }
}

impl App {
    /// The Secret the Kubernetes tab shows, as an apply request (none when it has no registry).
    fn apply_request(&self) -> Option<ApplyRequest> {
        let source = super::super::app::yaml_source(
            self.editor.draft.as_ref(),
            self.workspace.file(),
            &self.list.checked,
            self.yaml.selection.as_ref(),
        );
        let registries = match source {
            super::super::yaml::Source::Draft(registry) => vec![registry],
            super::super::yaml::Source::Ticked(selection) => selection.registries.clone().ok()?,
            super::super::yaml::Source::Nothing | super::super::yaml::Source::Waiting(_) => return None,
        };
        let secret_type = if self.state.yaml_tab == super::super::state::YamlTab::Dockercfg {
            SecretType::DockerCfg
        } else {
            SecretType::DockerConfigJson
        };
        let account = self.cluster.account.trim();
        Some(ApplyRequest {
            secret: SecretRequest {
                name: self.state.secret_name.trim().to_owned(),
                namespace: None,
                secret_type,
                registries,
                style: KubectlStyle::WithoutCreationTimestamp,
            },
            service_account: self
                .cluster
                .add_to_account
                .then(|| if account.is_empty() { "default".to_owned() } else { account.to_owned() }),
            dry_run: true,
            force_conflicts: false,
        })
    }

    /// "Apply to cluster…": the server's dry run of what the tab shows.
    pub(super) fn plan_apply(&mut self) {
        let Some(request) = self.apply_request() else {
            self.toast("Nothing to apply: select a registry (or tick several) first", true);
            return;
        };
        let target = self.cluster.target.target();
        self.cluster.request = Some((target.clone(), request.clone()));
        self.start_apply(target, request);
        self.cluster.stage = ApplyStage::Planning;
    }

    /// "Apply": what the plan was made for, written. "Take over (force)": the plan again, taking
    /// the fields another manager owns (Apply then writes with `force_conflicts`).
    pub(super) fn apply_planned(&mut self, force: bool) {
        let Some((target, request)) = self.cluster.request.as_mut() else { return };
        request.dry_run = force;
        request.force_conflicts |= force;
        let (target, request) = (target.clone(), request.clone());
        self.start_apply(target, request);
        self.cluster.stage = if force { ApplyStage::Planning } else { ApplyStage::Applying };
    }

    fn start_apply(&mut self, target: Target, request: ApplyRequest) {
        let dry_run = request.dry_run;
        self.cluster.job.start_async(&self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let result = async {
                let cluster = crate::cluster::connect(&target).await?;
                crate::cluster::apply(&cluster, &request).await
            }
            .await;
            (dry_run, result)
        });
    }

    /// A plan, result or verification made for other inputs than those shown now (another
    /// context, namespace, Secret, registry or image) is dropped: Apply never writes what the
    /// fields no longer say.
    pub(crate) fn forget_stale_cluster_results(&mut self) {
        if !self.cluster.job.busy()
            && let Some((target, request)) = &self.cluster.request
        {
            let current = self.apply_request();
            let same = *target == self.cluster.target.target()
                && current
                    .as_ref()
                    .is_some_and(|now| now.secret == request.secret && now.service_account == request.service_account);
            if !same {
                self.cluster.request = None;
                self.cluster.stage = ApplyStage::Idle;
            }
        }
        if !self.verify.job.busy()
            && let Some(inputs) = &self.verify.for_inputs
        {
            let image =
                self.editor.draft.as_ref().map(|draft| self.pull.image_for(&self.state, draft).trim().to_owned());
            let secret = Some(self.state.secret_name.trim().to_owned()).filter(|name| !name.is_empty());
            let now = (self.cluster.target.target(), image.unwrap_or_default(), secret);
            if *inputs != now {
                self.verify.for_inputs = None;
                self.verify.report = None;
                self.verify.steps.clear();
            }
        }
    }
}
