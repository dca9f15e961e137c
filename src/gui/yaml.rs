//! The Kubernetes tab: the Secret, the dockercfg Secret, the Pod, the ServiceAccount patch and the
//! node recipe — for the registry open, or one Secret for every ticked registry — masked until
//! revealed, Export YAML… (the one primary action; it asks before replacing a file) and Copy.

use std::collections::BTreeSet;

use eframe::egui;

use super::command::Command;
use super::jobs::Slot;
use super::state::{State, YamlTab};
use super::theme::{self, GRID, Tone};
use crate::pull_secret::{
    KubectlStyle, NodeFileFormat, PodRequest, RegistryAuth, SecretRequest, SecretType, render_node_recipe, render_pod,
    render_secret, render_service_account_patch,
};

const MASK: &str = "••••••••  (masked)";

/// What Copy says it did (the preview masks the secrets; the copy does not).
pub(super) const COPIED: &str = "Copied the YAML (secrets in clear) to the clipboard";

/// The ticked registries' secrets, fetched in the background (they may be in the keychain).
pub(super) struct Selection {
    /// Which keys they are for.
    pub(crate) keys: BTreeSet<String>,
    /// The registries, or why they could not be read.
    pub(crate) registries: Result<Vec<RegistryAuth>, String>,
}

/// The panel's state.
#[derive(Default)]
pub(super) struct YamlPanel {
    /// Show the secrets in clear.
    pub(crate) reveal: bool,
    /// The path field of Export (shown where no save dialog opens).
    pub(crate) export_path: Option<String>,
    /// The ticked registries' secrets.
    pub(crate) selection: Option<Selection>,
    /// Fetching them.
    pub(crate) selection_job: Slot<Selection>,
    /// The tab was just opened from the keyboard: the Secret name takes the focus.
    pub(crate) focus_name: bool,
    /// The Export path field was just shown: it takes the focus.
    focus_export_path: bool,
    /// This frame's [`super::app::App::yaml_caveats`], said above the YAML.
    pub(crate) caveats: Vec<String>,
}

impl YamlPanel {
    /// Shows the Export path field (where no save dialog opens) with the keyboard in it.
    pub(super) fn ask_export_path(&mut self, default: String) {
        if self.export_path.is_none() {
            self.export_path = Some(default);
            self.focus_export_path = true;
        }
    }
}

/// What the preview is made of.
pub(super) enum Source<'a> {
    /// Nothing to show yet.
    Nothing,
    /// The registry being edited, whose secret is not there (being read, or unreadable): why.
    Waiting(String),
    /// The registry being edited.
    Draft(RegistryAuth),
    /// The ticked registries.
    Ticked(&'a Selection),
}

impl YamlPanel {
    /// The preview's text for `source`, or why there is none.
    pub(super) fn preview(state: &State, source: &Source<'_>, image: &str) -> Result<String, String> {
        let registries = match source {
            Source::Nothing => return Err("Select a registry (or tick several) to see its pull Secret.".to_owned()),
            Source::Waiting(why) => return Err(why.clone()),
            Source::Draft(registry) => vec![registry.clone()],
            Source::Ticked(selection) => selection.registries.clone()?,
        };
        render(state, registries, image)
    }

    /// The panel.
    pub(super) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut State,
        source: &Source<'_>,
        image: &str,
        commands: &mut Vec<Command>,
        cluster: &mut dyn FnMut(&mut egui::Ui, bool),
    ) {
        // Before anything is copied or exported: this YAML is not what is saved, or was refused.
        let caveats = std::mem::take(&mut self.caveats);
        for caveat in &caveats {
            theme::message(ui, Tone::Warn, &format!("This Secret: {caveat}."));
        }
        if let Source::Ticked(selection) = source {
            theme::badge(ui, Tone::Info, format!("one Secret for {} ticked registries", selection.keys.len()));
        }
        tabs_ui(ui, state);
        ui.add_space(GRID);
        fields_ui(ui, state, std::mem::take(&mut self.focus_name));
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.reveal, "Reveal secrets");
            ui.checkbox(&mut state.kubectl_134, "kubectl 1.34+ style");
        });
        let preview = Self::preview(state, source, image);
        ui.horizontal(|ui| {
            let ok = preview.is_ok();
            if ui.add_enabled(ok, theme::primary_when(ui, ok, "Export YAML…")).clicked() {
                commands.push(Command::Export(None));
            }
            if ui.add_enabled(ok, egui::Button::new("Copy")).on_hover_text("Ctrl+Shift+C").clicked()
                && let Ok(text) = &preview
            {
                ui.ctx().copy_text(text.clone());
                commands.push(Command::Toast(with_caveats(COPIED, &caveats)));
            }
        });
        self.export_path_ui(ui, commands);
        for warning in warnings(source) {
            theme::message(ui, Tone::Warn, &warning);
        }
        ui.separator();
        match preview {
            Ok(text) => {
                let shown = if self.reveal { text } else { masked(&text) };
                // Long lines scroll sideways here; the pane itself scrolls down.
                egui::ScrollArea::horizontal().id_salt("yaml-scroll").auto_shrink([false, true]).show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(shown).monospace()).selectable(true).extend());
                });
            }
            Err(why) if self.selection_job.busy() => {
                ui.spinner();
                theme::empty_state(ui, &why);
            }
            Err(why) if matches!(source, Source::Nothing | Source::Waiting(_)) => theme::empty_state(ui, &why),
            // Nothing is wrong with a field not typed in yet: the Pod waits for an image.
            Err(_) if state.yaml_tab == YamlTab::Pod && image.trim().is_empty() => {
                theme::empty_state(ui, "Type an image in the Test pull tab to see the Pod that pulls it.");
            }
            Err(why) => {
                theme::message(ui, Tone::Bad, &why);
            }
        }
        // The YAML first (what the tab is for), then where it can go: the cluster.
        ui.add_space(2.0 * GRID);
        cluster(ui, matches!(source, Source::Draft(_) | Source::Ticked(_)));
    }

    fn export_path_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some(path) = self.export_path.as_mut() else { return };
        ui.horizontal(|ui| {
            let label = ui.label("Export to");
            let edit = ui.add(egui::TextEdit::singleline(path).desired_width(220.0)).labelled_by(label.id);
            if std::mem::take(&mut self.focus_export_path) {
                edit.request_focus();
            }
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let write = ui.add_enabled(!path.trim().is_empty(), egui::Button::new("Write"));
            if (write.clicked() || entered) && !path.trim().is_empty() {
                commands.push(Command::Export(Some(std::path::PathBuf::from(path.trim()))));
            }
        });
    }
}

/// `done`, and what the YAML must be said with ([`super::app::App::yaml_caveats`]).
pub(super) fn with_caveats(done: &str, caveats: &[String]) -> String {
    if caveats.is_empty() { done.to_owned() } else { format!("{done} — {}", caveats.join("; ")) }
}

/// What the user should know about the Secret's credentials ([`crate::pull_secret::warnings`]).
fn warnings(source: &Source<'_>) -> Vec<String> {
    let registries: Vec<&RegistryAuth> = match source {
        Source::Nothing | Source::Waiting(_) => Vec::new(),
        Source::Draft(registry) => vec![registry],
        Source::Ticked(selection) => selection.registries.as_ref().map(|r| r.iter().collect()).unwrap_or_default(),
    };
    crate::pull_secret::warnings(&registries, std::time::SystemTime::now())
}

/// The preview of the current tab for `registries`.
fn render(state: &State, registries: Vec<RegistryAuth>, image: &str) -> Result<String, String> {
    let namespace = Some(state.namespace.trim().to_owned()).filter(|n| !n.is_empty());
    let name = state.secret_name.trim().to_owned();
    let style =
        if state.kubectl_134 { KubectlStyle::WithoutCreationTimestamp } else { KubectlStyle::WithCreationTimestamp };
    let secret = |secret_type, registries| SecretRequest {
        name: name.clone(),
        namespace: namespace.clone(),
        secret_type,
        registries,
        style,
    };
    let error = |e: &dyn std::fmt::Display| e.to_string();
    Ok(match state.yaml_tab {
        YamlTab::Secret => {
            render_secret(&secret(SecretType::DockerConfigJson, registries)).map_err(|e| error(&e))?.yaml
        }
        YamlTab::Dockercfg => render_secret(&secret(SecretType::DockerCfg, registries)).map_err(|e| error(&e))?.yaml,
        YamlTab::Pod => {
            let pod = PodRequest {
                namespace,
                pull_policy: state.pull_policy,
                ..PodRequest::verification(image.trim(), &name)
            };
            render_pod(&pod).map_err(|e| error(&e))?.yaml
        }
        YamlTab::ServiceAccount => {
            let patch = render_service_account_patch(state.service_account.trim(), namespace.as_deref(), &name)
                .map_err(|e| error(&e))?;
            format!("# {}\n# or, to append:\n# {}\n{}", patch.command, patch.append_command, patch.patch.yaml)
        }
        YamlTab::Nodes => {
            render_node_recipe(&registries, NodeFileFormat::ConfigJson).map_err(|e| error(&e))?.to_commented_text()
        }
    })
}

/// The preview with the secrets' lines masked.
fn masked(text: &str) -> String {
    text.lines()
        .map(|line| {
            let sensitive =
                [".dockerconfigjson:", ".dockercfg:", "\"auth\":"].iter().find(|marker| line.contains(*marker));
            match sensitive {
                Some(marker) => format!("{}{marker} {MASK}", &line[..line.find(marker).unwrap_or(0)]),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The kinds of YAML: a short name and what it is.
const KINDS: [(YamlTab, &str, &str); 5] = [
    (
        YamlTab::Secret,
        "Secret",
        "The pull Secret, kubernetes.io/dockerconfigjson (what kubectl create secret docker-registry makes)",
    ),
    (YamlTab::Dockercfg, "dockercfg", "The legacy pull Secret, kubernetes.io/dockercfg"),
    (YamlTab::Pod, "Pod", "A Pod that pulls the Test pull image with this Secret"),
    (
        YamlTab::ServiceAccount,
        "ServiceAccount",
        "The patch that adds the Secret to a ServiceAccount's imagePullSecrets",
    ),
    (YamlTab::Nodes, "Nodes", "The per-node recipe: the kubelet's own config.json"),
];

/// Which YAML: one row of short names that never wraps (the full name on hover), or a list where
/// the row would not fit.
fn tabs_ui(ui: &mut egui::Ui, state: &mut State) {
    if ui.available_width() < 460.0 {
        ui.horizontal(|ui| {
            let label = ui.label("Kind");
            let chosen = KINDS.iter().find(|(tab, ..)| *tab == state.yaml_tab).map_or("Secret", |(_, name, _)| name);
            let combo = egui::ComboBox::from_id_salt("yaml-kind").selected_text(chosen).show_ui(ui, |ui| {
                for (tab, name, what) in KINDS {
                    ui.selectable_value(&mut state.yaml_tab, tab, name).on_hover_text(what);
                }
            });
            combo.response.labelled_by(label.id);
        });
        return;
    }
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = GRID;
        for (tab, name, what) in KINDS {
            ui.selectable_value(&mut state.yaml_tab, tab, name).on_hover_text(what);
        }
    });
}

fn fields_ui(ui: &mut egui::Ui, state: &mut State, focus: bool) {
    egui::Grid::new("yaml-fields").num_columns(2).show(ui, |ui| {
        let label = ui.label("Secret name");
        let name = ui.text_edit_singleline(&mut state.secret_name).labelled_by(label.id);
        if focus {
            name.request_focus();
        }
        ui.end_row();
        let label = ui.label("Namespace");
        ui.add(egui::TextEdit::singleline(&mut state.namespace).hint_text("(none)")).labelled_by(label.id);
        ui.end_row();
        match state.yaml_tab {
            YamlTab::Pod => {
                let label = ui.label("Pull policy");
                let combo = egui::ComboBox::from_id_salt("pull-policy")
                    .selected_text(state.pull_policy.as_str())
                    .show_ui(ui, |ui| {
                        for policy in crate::pull_secret::PullPolicy::ALL {
                            ui.selectable_value(&mut state.pull_policy, policy, policy.as_str());
                        }
                    });
                combo.response.labelled_by(label.id);
                ui.end_row();
            }
            YamlTab::ServiceAccount => {
                let label = ui.label("ServiceAccount");
                ui.text_edit_singleline(&mut state.service_account).labelled_by(label.id);
                ui.end_row();
            }
            _ => {}
        }
    });
}
