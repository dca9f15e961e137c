//! `regcred presets`: the registries whose login rules regcred knows, with a login command each.

use std::process::ExitCode;

use regcred::presets::{self, PresetId, shell_quote};

use super::print_json;

/// A user name of the preset's form, for the example command.
fn example_username(id: PresetId) -> &'static str {
    match id {
        PresetId::DockerHub | PresetId::Ghcr => "USER",
        PresetId::Gitlab => "gitlab+deploy-token-1",
        PresetId::Quay => "myorg+puller",
        PresetId::Harbor => "robot$myproject+puller",
        PresetId::Ecr => "AWS",
        PresetId::Gcr => "_json_key",
        PresetId::Acr => presets::ACR_TOKEN_USERNAME,
    }
}

/// The login command for a preset, with the user name quoted for a POSIX shell (`robot$…`).
fn example_command(preset: &presets::Preset) -> String {
    let server = match preset.default_server {
        Some(_) => String::new(),
        None => format!(" {}", preset.server_hint.split([',', ' ']).next().unwrap_or(preset.server_hint)),
    };
    let user = match preset.fixed_username {
        Some(_) => String::new(),
        None => format!(" -u {}", shell_quote(example_username(preset.id))),
    };
    format!("regcred login --preset {}{server}{user} --password-stdin", preset.cli_names[0])
}

/// `regcred presets`.
pub fn presets(json: bool) -> anyhow::Result<ExitCode> {
    if json {
        let rows: Vec<_> = presets::all()
            .iter()
            .map(|preset| serde_json::json!({ "preset": preset, "example": example_command(preset) }))
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    for preset in presets::all() {
        outln!("{} ({})", preset.name, preset.cli_names.join(", "));
        outln!("  server     {}", preset.server_hint);
        outln!("  user name  {}", preset.username_hint);
        outln!("  token      {}", preset.token_source);
        outln!("  login      {}", example_command(preset));
        outln!("  docs       {}", preset.docs_url);
    }
    Ok(ExitCode::SUCCESS)
}
