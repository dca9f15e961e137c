//! `regcred resolve IMAGE`.

use std::process::ExitCode;

use serde::Serialize;

use regcred::image_ref::ImageRef;
use regcred::resolve::{CredentialSource, FileResolution, KeyMatch, docker_choice, podman_choice, resolve_all};

use super::print_json;
use regcred::auth_files::Sources;

#[derive(Serialize)]
struct Report<'a> {
    image: String,
    files: &'a [FileResolution],
    docker_uses: Option<&'a std::path::Path>,
    podman_uses: Option<&'a std::path::Path>,
}

/// Prints, for each file, who answers for the image; marks the files Docker and Podman use.
pub fn resolve(sources: &Sources, image: &str, json: bool) -> anyhow::Result<ExitCode> {
    let image = ImageRef::parse(image)?;
    super::warn_unusable(sources);
    let answers = resolve_all(sources, &image);
    let docker = docker_choice(&answers);
    let podman = podman_choice(&answers);
    if json {
        print_json(&Report {
            image: image.to_string(),
            files: &answers,
            docker_uses: docker.map(|a| a.path.as_path()),
            podman_uses: podman.map(|a| a.path.as_path()),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{image}");
    if answers.is_empty() {
        outln!("  no usable credential files: the pull is anonymous");
    }
    for answer in &answers {
        let mut users = Vec::new();
        if docker.is_some_and(|d| std::ptr::eq(d, answer)) {
            users.push("Docker");
        }
        if podman.is_some_and(|p| std::ptr::eq(p, answer)) {
            users.push("Podman/skopeo");
        }
        let used_by = if users.is_empty() { String::new() } else { format!("  [used by {}]", users.join(", ")) };
        outln!("  {} — {}{used_by}", answer.kind, answer.path.display());
        outln!("    looks up {:?}: {}", answer.resolution.lookup_key, describe(&answer.resolution.source));
        if let Some(spelling) = &answer.resolution.ignored_spelling {
            outln!(
                "    \u{26a0} an entry {spelling:?} exists for this registry but this tool does not match that spelling"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(source: &CredentialSource) -> String {
    match source {
        CredentialSource::CredHelper { helper, key } => {
            format!("credHelpers[{key:?}] → docker-credential-{helper}")
        }
        CredentialSource::CredsStore { helper } => format!("credsStore → docker-credential-{helper}"),
        CredentialSource::Auths { key, matched } => {
            let how = match matched {
                KeyMatch::Exact => "exact key",
                KeyMatch::Hostname => "matched by host name",
                KeyMatch::Scope => "namespace-scoped key",
                KeyMatch::Normalized => "normalized key",
            };
            format!("auths[{key:?}] ({how})")
        }
        CredentialSource::Nothing => "nothing (anonymous pull)".to_owned(),
    }
}
