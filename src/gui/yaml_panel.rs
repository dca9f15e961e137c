//! The YAML preview: tabs for the Secret, the dockercfg Secret, the Pod, the ServiceAccount
//! patch and the node recipe; masked until revealed; Export and Copy.

use crate::pull_secret::{
    KubectlStyle, NodeFileFormat, PodRequest, RegistryAuth, SecretRequest, SecretType, render_node_recipe, render_pod,
    render_secret, render_service_account_patch,
};
use crate::secret::Secret;
use eframe::egui;

use super::app::{App, Command};
use super::state::YamlTab;

/// A rendered preview.
pub struct Preview {
    /// The text (secrets in it as they would be exported).
    pub text: String,
}

const MASK: &str = "••••••••  (masked: Reveal to show)";

impl App {
    fn registry(&self) -> Option<RegistryAuth> {
        let draft = self.draft.as_ref()?;
        let server = crate::auth_files::parse_server(&draft.server).ok()?;
        let key = draft
            .key
            .clone()
            .unwrap_or_else(|| self.file().map_or_else(|| server.docker_key(), |f| f.entry_key_for(&server)));
        Some(RegistryAuth {
            server: key,
            username: draft.username.clone(),
            password: Secret::new(draft.password.as_str()),
            email: Some(draft.email.clone()).filter(|e| !e.is_empty()),
        })
    }

    /// The preview of the current tab, or the validation error that stops it.
    pub fn preview(&self) -> Result<Preview, String> {
        let registry = self.registry().ok_or("Select or add a registry to preview its YAML")?;
        let namespace = Some(self.state.namespace.trim().to_owned()).filter(|n| !n.is_empty());
        let style = if self.state.kubectl_134 {
            KubectlStyle::WithoutCreationTimestamp
        } else {
            KubectlStyle::WithCreationTimestamp
        };
        let secret = |secret_type| SecretRequest {
            name: self.state.secret_name.trim().to_owned(),
            namespace: namespace.clone(),
            secret_type,
            registries: vec![registry.clone()],
            style,
        };
        let text = match self.state.yaml_tab {
            YamlTab::Secret => render_secret(&secret(SecretType::DockerConfigJson)).map_err(|e| e.to_string())?.yaml,
            YamlTab::Dockercfg => render_secret(&secret(SecretType::DockerCfg)).map_err(|e| e.to_string())?.yaml,
            YamlTab::Pod => {
                let key = registry.server.clone();
                let image = self.state.images.get(&key).cloned().unwrap_or_default();
                let pod = PodRequest {
                    namespace,
                    pull_policy: self.state.pull_policy.parse().unwrap_or_default(),
                    ..PodRequest::verification(image.trim(), self.state.secret_name.trim())
                };
                render_pod(&pod).map_err(|e| e.to_string())?.yaml
            }
            YamlTab::ServiceAccount => {
                let patch = render_service_account_patch(
                    self.state.service_account.trim(),
                    namespace.as_deref(),
                    self.state.secret_name.trim(),
                )
                .map_err(|e| e.to_string())?;
                format!("# {}\n# or, to append:\n# {}\n{}", patch.command, patch.append_command, patch.patch.yaml)
            }
            YamlTab::Nodes => render_node_recipe(&[registry], NodeFileFormat::ConfigJson)
                .map_err(|e| e.to_string())?
                .to_commented_text(),
        };
        Ok(Preview { text })
    }

    /// The preview as shown: with secrets masked unless revealed.
    fn shown_preview(&self) -> Result<String, String> {
        let preview = self.preview()?;
        if self.reveal_yaml {
            return Ok(preview.text);
        }
        Ok(preview
            .text
            .lines()
            .map(|line| {
                let sensitive =
                    [".dockerconfigjson:", ".dockercfg:", "\"auth\":"].iter().find(|marker| line.contains(*marker));
                match sensitive {
                    Some(marker) => format!("{}{marker} {MASK}", &line[..line.find(marker).unwrap_or(0)]),
                    None => line.to_owned(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// The right-hand panel.
    pub fn yaml_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Kubernetes YAML");
        ui.horizontal_wrapped(|ui| {
            for (tab, label) in [
                (YamlTab::Secret, "Secret (dockerconfigjson)"),
                (YamlTab::Dockercfg, "Secret (dockercfg)"),
                (YamlTab::Pod, "Pod"),
                (YamlTab::ServiceAccount, "ServiceAccount"),
                (YamlTab::Nodes, "Nodes"),
            ] {
                ui.selectable_value(&mut self.state.yaml_tab, tab, label);
            }
        });
        egui::Grid::new("yaml-fields").num_columns(2).show(ui, |ui| {
            let label = ui.label("Secret name");
            ui.text_edit_singleline(&mut self.state.secret_name).labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Namespace");
            ui.add(egui::TextEdit::singleline(&mut self.state.namespace).hint_text("(none)")).labelled_by(label.id);
            ui.end_row();
            match self.state.yaml_tab {
                YamlTab::Pod => {
                    let label = ui.label("Pull policy");
                    let combo = egui::ComboBox::from_id_salt("pull-policy")
                        .selected_text(self.state.pull_policy.clone())
                        .show_ui(ui, |ui| {
                            for policy in ["Always", "IfNotPresent", "Never"] {
                                ui.selectable_value(&mut self.state.pull_policy, policy.to_owned(), policy);
                            }
                        });
                    combo.response.labelled_by(label.id);
                    ui.end_row();
                }
                YamlTab::ServiceAccount => {
                    let label = ui.label("ServiceAccount");
                    ui.text_edit_singleline(&mut self.state.service_account).labelled_by(label.id);
                    ui.end_row();
                }
                _ => {}
            }
        });
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.reveal_yaml, "Reveal secrets");
            ui.checkbox(&mut self.state.kubectl_134, "kubectl 1.34+ style");
        });
        let shown = self.shown_preview();
        ui.horizontal(|ui| {
            let ok = shown.is_ok();
            if ui.add_enabled(ok && !self.export_job.busy(), egui::Button::new("Export YAML…")).clicked() {
                self.commands.push(Command::Export(None));
            }
            if ui.add_enabled(ok, egui::Button::new("Copy")).clicked()
                && let Ok(preview) = self.preview()
            {
                ui.ctx().copy_text(preview.text);
                self.toast("Copied the YAML to the clipboard", false);
            }
        });
        if let Some(path) = self.export_path.as_mut() {
            let mut export = None;
            ui.horizontal(|ui| {
                let label = ui.label("Export to");
                ui.add(egui::TextEdit::singleline(path).hint_text("/path/to/regcred.yaml")).labelled_by(label.id);
                if ui.add_enabled(!path.trim().is_empty(), egui::Button::new("Write")).clicked() {
                    export = Some(std::path::PathBuf::from(path.trim()));
                }
            });
            if let Some(path) = export {
                self.commands.push(Command::Export(Some(path)));
            }
        }
        ui.separator();
        match shown {
            Ok(text) => {
                egui::ScrollArea::both().id_salt("yaml-scroll").show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(text).monospace()).selectable(true));
                });
            }
            Err(error) => {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
        }
    }
}
