//! `regcred resolve IMAGE`.

use std::process::ExitCode;

use serde::Serialize;

use regcred::image_ref::ImageRef;
use regcred::resolve::{
    ChainAnswer, CredentialSource, FileResolution, KeyMatch, PodmanView, docker_choice, podman_view, resolve_all,
};

use super::print_json;
use regcred::auth_files::{FileKind, Sources};

#[derive(Serialize)]
struct Report<'a> {
    image: String,
    /// Each file's answer by its own tool's rules.
    files: &'a [FileResolution],
    docker_uses: Option<&'a std::path::Path>,
    podman_uses: Option<&'a std::path::Path>,
    /// Podman's chain, file by file, by containers/image's rules.
    podman: &'a PodmanView,
}

/// Prints who answers for the image: Docker's file, then every file of Podman's chain in its
/// order, marking the one each tool uses and the ones Podman's first answer shadows.
pub fn resolve(sources: &Sources, image: &str, json: bool) -> anyhow::Result<ExitCode> {
    let image = ImageRef::parse(image)?;
    super::warn_unusable(sources);
    let answers = resolve_all(sources, &image);
    let docker = docker_choice(&answers);
    let podman = podman_view(sources, &image);
    if json {
        print_json(&Report {
            image: image.to_string(),
            files: &answers,
            docker_uses: docker.map(|a| a.path.as_path()),
            podman_uses: podman.uses.as_deref(),
            podman: &podman,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{image}");
    let docker_files: Vec<&FileResolution> = answers.iter().filter(|a| a.kind != FileKind::ContainersAuth).collect();
    outln!("Docker reads:");
    if docker_files.is_empty() {
        outln!("  no Docker credential file: the pull is anonymous");
    }
    for answer in docker_files {
        let used = if docker.is_some_and(|d| std::ptr::eq(d, answer)) { "  [used by Docker]" } else { "" };
        outln!("  {} — {}{used}", answer.kind, answer.path.display());
        print_answer(&answer.resolution)?;
    }
    outln!("Podman and skopeo read, in order (the first with a credential answers):");
    if podman.chain.is_empty() {
        outln!("  no credential file: the pull is anonymous");
    }
    for answer in &podman.chain {
        outln!("  {}. {} — {}{}", answer.place + 1, answer.kind, answer.path.display(), podman_mark(&podman, answer));
        match &answer.error {
            Some(error) => {
                outln!(
                    "    cannot be read: Podman and skopeo stop here with an error ({})",
                    super::inert_message(error)
                );
            }
            None => print_answer(&answer.resolution)?,
        }
    }
    if podman.chain.iter().any(|a| a.error.is_some()) && podman.uses.is_none() {
        outln!("  Podman and skopeo fail before they find a credential: a file they read cannot be read");
    } else if podman.chain.iter().any(|a| a.gives) && podman.uses.is_none() {
        outln!("  Podman 4.4+ and skopeo 1.11+ read only $REGISTRY_AUTH_FILE: the pull is anonymous");
    }
    Ok(ExitCode::SUCCESS)
}

/// `[used by Podman/skopeo]`, `[shadowed: …]`, or why a matching entry is passed over.
fn podman_mark(view: &PodmanView, answer: &ChainAnswer) -> String {
    let is = |path: &Option<std::path::PathBuf>| path.as_deref() == Some(answer.path.as_path());
    if is(&view.uses) {
        return "  [used by Podman/skopeo]".to_owned();
    }
    if is(&view.older_uses) {
        return "  [used by Podman 4.3 and older, skopeo 1.10 and older]".to_owned();
    }
    let stopped = view.chain.iter().any(|a| a.place < answer.place && a.error.is_some());
    match (&answer.resolution.source, answer.gives) {
        (_, true) if stopped => "  [not reached: an earlier file cannot be read]".to_owned(),
        (_, true) => "  [shadowed: an earlier file answers]".to_owned(),
        (CredentialSource::Auths { .. }, false) => "  [the entry holds no credential: read on]".to_owned(),
        _ => String::new(),
    }
}

fn print_answer(resolution: &regcred::resolve::Resolution) -> anyhow::Result<()> {
    outln!("    looks up {:?}: {}", resolution.lookup_key, describe(&resolution.source));
    if let Some(spelling) = &resolution.ignored_spelling {
        outln!(
            "    \u{26a0} an entry {spelling:?} exists for this registry but this tool does not match that spelling"
        );
    }
    Ok(())
}

fn describe(source: &CredentialSource) -> String {
    match source {
        CredentialSource::CredHelper { helper, key } => {
            format!("credHelpers[{key:?}] → docker-credential-{}", super::inert_message(helper))
        }
        CredentialSource::CredsStore { helper } => {
            format!("credsStore → docker-credential-{}", super::inert_message(helper))
        }
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
