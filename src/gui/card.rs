//! The answer card that leads the detail pane: the selected registry's latest answer, the same
//! card whether it came from a login check, a row's Test, Test all or a Test pull — verdict,
//! stage and request, the registry's error, the credential used, the kubelet's line where a pull
//! was made, what to do with a button that jumps to the field to fix, and Copy report.

use eframe::egui;

use super::command::{Command, FixField};
use super::state::{TestRecord, TestVerdict};
use super::theme::{self, GRID, Icon, Tone};
use crate::registry::{FailureClass, Outcome, PullReport};

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnswerSource {
    /// A row's Test with no image: `GET /v2/` with the credential, as `docker login` checks.
    LoginCheck,
    /// A row's Test of its remembered image.
    RowTest,
    /// Test all.
    TestAll,
    /// The Test pull tab.
    TestPull,
}

impl AnswerSource {
    /// How the card names it.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::LoginCheck => "Login check,",
            Self::RowTest => "Row test,",
            Self::TestAll => "Test all,",
            Self::TestPull => "Test pull,",
        }
    }
}

/// A registry's latest answer, in full.
pub(super) struct Answer {
    /// Where it came from.
    pub(crate) source: AnswerSource,
    /// When it finished (seconds since the epoch).
    pub(crate) at: u64,
    /// The report.
    pub(crate) report: PullReport,
    /// The file whose entry was tested (see [`super::state::TestRecord::file`]).
    pub(crate) file: Option<std::path::PathBuf>,
    /// What was typed, for a test of a draft ([`super::editor::Draft::fingerprint`]): not what is
    /// saved, and no longer what is typed once a field changed.
    pub(crate) draft: Option<u64>,
    /// The fields it tested have changed since.
    pub(crate) stale: bool,
}

/// The card: the latest answer in full; else the remembered one-line verdict; else an invitation.
pub(super) fn ui(
    ui: &mut egui::Ui,
    registry: &str,
    answer: Option<&Answer>,
    remembered: Option<&TestRecord>,
    running: bool,
    commands: &mut Vec<Command>,
) {
    if running {
        theme::card(ui, Tone::Info, |ui| {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Testing… the answer appears here.");
            });
        });
        return;
    }
    match (answer, remembered) {
        (Some(answer), _) => answer_ui(ui, registry, answer, commands),
        (None, Some(record)) => remembered_ui(ui, record, commands),
        (None, None) => {
            theme::card(ui, Tone::Neutral, |ui| {
                theme::status(ui, Tone::Neutral, Icon::Untested, "Not tested yet");
                theme::weak(
                    ui,
                    "Test checks the login (or pulls the image you set in Test pull) the way a node would, and the answer appears here.",
                );
                if ui.button("Test now").on_hover_text("Ctrl+T").clicked() {
                    commands.push(Command::TestSelected);
                }
            });
        }
    }
}

/// A verdict remembered from an earlier run (the report itself is not kept: it may hold what the
/// registry said, and the preferences file never holds more than the verdict).
fn remembered_ui(ui: &mut egui::Ui, record: &TestRecord, commands: &mut Vec<Command>) {
    let age = theme::age(theme::now().saturating_sub(record.at));
    let what = record.image.as_deref().map_or_else(|| "login check".to_owned(), |image| format!("image {image}"));
    let (tone, icon, verdict) = match &record.verdict {
        TestVerdict::Pulls => (Tone::Good, Icon::Check, "Would pull".to_owned()),
        TestVerdict::LoginWorks => (Tone::Good, Icon::Check, "The registry accepts the login".to_owned()),
        TestVerdict::Fails(reason) => (Tone::Bad, Icon::Cross, reason.clone()),
    };
    theme::card(ui, tone, |ui| {
        theme::verdict(ui, tone, icon, &verdict);
        theme::weak(ui, &format!("Remembered from {age} ({what}). Test again for the whole answer."));
        if ui.button("Test again").on_hover_text("Ctrl+T").clicked() {
            commands.push(Command::TestSelected);
        }
    });
}

fn answer_ui(ui: &mut egui::Ui, registry: &str, answer: &Answer, commands: &mut Vec<Command>) {
    let report = &answer.report;
    let age = theme::age(theme::now().saturating_sub(answer.at));
    let tone = match &report.outcome {
        Outcome::Success(_) => Tone::Good,
        Outcome::Failure(failure) if failure.class == FailureClass::Cancelled => Tone::Neutral,
        Outcome::Failure(_) => Tone::Bad,
    };
    theme::card(ui, tone, |ui| {
        ui.spacing_mut().item_spacing.y = 1.5 * GRID;
        if answer.stale {
            theme::message(
                ui,
                Tone::Info,
                "This answered what was typed before your last change: Test again (Ctrl+T) for what is typed now.",
            );
        }
        match &report.outcome {
            Outcome::Success(success) => success_ui(ui, answer, success, &age),
            Outcome::Failure(failure) if failure.class == FailureClass::Cancelled => {
                theme::verdict(ui, Tone::Neutral, Icon::Info, "Cancelled");
                theme::weak(
                    ui,
                    &format!("{} {age}: the test stopped before the end (nothing is known).", answer.source.label()),
                );
            }
            Outcome::Failure(failure) => {
                // An image on another registry, tried from this one's tab: its host is not this
                // registry's server to fix, the image is.
                let elsewhere = answer.source == AnswerSource::TestPull
                    && super::pull::image_elsewhere(&report.image, registry).is_some();
                failure_ui(ui, answer, failure, &age, elsewhere, commands);
            }
        }
        if let Some(limit) = &report.rate_limit {
            theme::weak(ui, &format!("Rate limit: {}", limit.describe()));
        }
        if let Some(note) = &report.runtimes_differ {
            // A clause in the report's `runtimes` line; a sentence here.
            let mut chars = note.chars();
            let sentence: String =
                chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default();
            theme::weak(ui, &in_window_words(&format!("{sentence}.")));
        }
        ui.horizontal_wrapped(|ui| {
            if ui.button("Copy report").clicked() {
                ui.ctx().copy_text(report.to_text());
                commands.push(Command::Toast("Copied the report to the clipboard".to_owned()));
            }
            if ui.button("Test again").on_hover_text("Ctrl+T").clicked() {
                commands.push(Command::TestSelected);
            }
        });
        requests_ui(ui, report);
    });
}

fn success_ui(ui: &mut egui::Ui, answer: &Answer, success: &crate::registry::Success, age: &str) {
    let report = &answer.report;
    if answer.source == AnswerSource::LoginCheck {
        theme::verdict(ui, Tone::Good, Icon::Check, "The registry accepts the login");
        theme::weak(ui, &format!("{} {age} · tested with {}", answer.source.label(), report.credential_source));
        return;
    }
    theme::verdict(ui, Tone::Good, Icon::Check, &format!("Would pull {}", report.reference));
    theme::weak(ui, &format!("{} {age} · tested with {}", answer.source.label(), report.credential_source));
    ui.horizontal(|ui| {
        ui.label("Digest");
        let short = success.digest.get(..19).map_or_else(|| success.digest.clone(), |s| format!("{s}…"));
        ui.add(egui::Label::new(egui::RichText::new(short).monospace()).truncate()).on_hover_text(&success.digest);
        if ui.small_button("Copy digest").clicked() {
            ui.ctx().copy_text(success.digest.clone());
        }
    });
    if !success.platforms.is_empty() {
        ui.add(egui::Label::new(format!("Platforms {}", success.platforms.join(", "))).wrap());
    }
    ui.add(
        egui::Label::new(format!(
            "{} · {} layer{} · {} · {}",
            success.platform,
            success.layers,
            if success.layers == 1 { "" } else { "s" },
            crate::registry::report::human_size(success.total_size),
            if success.full { "every blob downloaded and verified" } else { "quick: blobs checked" }
        ))
        .wrap(),
    );
}

fn failure_ui(
    ui: &mut egui::Ui,
    answer: &Answer,
    failure: &crate::registry::Failure,
    age: &str,
    elsewhere: bool,
    commands: &mut Vec<Command>,
) {
    let report = &answer.report;
    let headline = if answer.source == AnswerSource::LoginCheck { "Login check failed" } else { "Would not pull" };
    theme::verdict(ui, Tone::Bad, Icon::Cross, &format!("{headline}: {}", failure.verdict));
    let status = failure.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
    let request =
        failure.request.as_ref().map_or_else(String::new, |r| format!(" · {} {} answered {status}", r.method, r.url));
    theme::weak(ui, &format!("{} {age} · stage {}{request}", answer.source.label(), failure.stage.name()));
    for error in &failure.errors {
        ui.add(egui::Label::new(format!("The registry said {}: {}", error.code, error.message)).wrap());
    }
    if let Some(challenge) = &failure.challenge {
        theme::weak(ui, &format!("Challenge: {challenge}"));
    }
    theme::weak(ui, &format!("Tested with {}", report.credential_source));
    if answer.source != AnswerSource::LoginCheck {
        theme::caption(ui, "What the kubelet will report");
        egui::Frame::new()
            .fill(theme::palette(ui.visuals()).field)
            .corner_radius(GRID)
            .inner_margin(egui::Margin::same(8))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.add(
                    egui::Label::new(egui::RichText::new(&failure.kubelet_event).monospace()).wrap().selectable(true),
                );
            });
        let then = crate::registry::report::pod_status(failure.kubelet_reason);
        theme::weak(ui, &format!("{then} · in {}'s words", failure.runtime.label()));
    }
    theme::caption(ui, "What to do");
    ui.add(egui::Label::new(in_window_words(&failure.what_to_do)).wrap());
    let fix = match fix_for(failure.class) {
        Some((FixField::Server, _)) if elsewhere => Some((FixField::Image, "Fix the image")),
        fix => fix,
    };
    if let Some((field, label)) = fix {
        let fix = ui.add(theme::primary(ui, label)).on_hover_text("Opens the field to change");
        if fix.clicked() {
            commands.push(Command::Fix(field));
        }
    }
    theme::weak(ui, &format!("Detail: {}", failure.detail));
}

/// The advice as the window says it: its own actions instead of command-line flags.
pub(super) fn in_window_words(advice: &str) -> String {
    let said = advice
        .replace("; here, pass --ca-dir or put it in ", "; for regcred here, put it in ")
        .replace(" or the --ca-dir directory", "")
        .replace("; here ~/.docker/certs.d/", "; for regcred here ~/.docker/certs.d/")
        .replace(" or --ca-dir)", ")")
        .replace(" and here with --insecure", "")
        .replace(" (and test with --insecure here)", "")
        .replace(" (--insecure)", "")
        .replace("Log in to the registry (regcred login)", "Save a login for the registry (Login tab)")
        .replace(
            "(`regcred check --local`; in the window, the box \"with my own credentials\")",
            "(the box \"with my own credentials\")",
        )
        .replace(
            "(`regcred apply`, or Apply to cluster… in the window's Kubernetes tab)",
            "(Apply to cluster… in the Kubernetes tab)",
        )
        .replace("(regcred yaml writes a correct one)", "(the Kubernetes tab shows a correct one)")
        .replace("(regcred yaml makes the Secret)", "(the Kubernetes tab shows the Secret)")
        .replace("your local credentials (--local)", "your own credentials (the box \"with my own credentials\")")
        .replace(" (--local)", " (with my own credentials)")
        // Markdown's code quotes are plain quotes in the window.
        .replace('`', "\"");
    // "(regcred yaml HOST … makes it)": the registry's Kubernetes tab makes it.
    match said.split_once("(regcred yaml ").and_then(|(before, rest)| Some((before, rest.split_once(" … makes it)")?)))
    {
        Some((before, (_, after))) => format!("{before}(save a login for it: its Kubernetes tab makes it){after}"),
        None => said,
    }
}

/// The field a failure of `class` is fixed in, and the button's words.
pub(super) fn fix_for(class: FailureClass) -> Option<(FixField, &'static str)> {
    Some(match class {
        FailureClass::WrongCredentialsBasic | FailureClass::WrongCredentialsToken => {
            (FixField::Password, "Fix the password")
        }
        FailureClass::NoCredentials => (FixField::Password, "Enter a password"),
        FailureClass::Denied => (FixField::Username, "Use another user"),
        FailureClass::CredentialUnavailable => (FixField::Store, "Choose where the secret lives"),
        FailureClass::DnsFailure
        | FailureClass::DnsTimeout
        | FailureClass::ConnectionRefused
        | FailureClass::Timeout
        | FailureClass::TlsUnknownAuthority
        | FailureClass::TlsFailure
        | FailureClass::HttpToHttps => (FixField::Server, "Fix the server"),
        FailureClass::InvalidReference
        | FailureClass::RepositoryUnknown
        | FailureClass::TagUnknown
        | FailureClass::PlatformMissing
        | FailureClass::PlatformMismatch => (FixField::Image, "Fix the image"),
        _ => return None,
    })
}

/// Every request of the answer, folded.
fn requests_ui(ui: &mut egui::Ui, report: &PullReport) {
    if report.requests.is_empty() {
        return;
    }
    let requests = ui.collapsing(format!("Requests ({})", report.requests.len()), |ui| {
        for request in &report.requests {
            let status = request.status.map_or_else(|| "–".to_owned(), |s| s.to_string());
            ui.add(
                egui::Label::new(
                    egui::RichText::new(format!(
                        "{:<8} {} {} → {status} ({:.0} ms)",
                        request.stage.name(),
                        request.method,
                        request.url,
                        request.millis
                    ))
                    .monospace(),
                )
                .wrap(),
            );
        }
    });
    theme::outline_focus(ui, &requests.header_response);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_window_names_its_own_actions_not_flags() {
        let advice = "Install the registry's CA on every node: /etc/docker/certs.d/h/ca.crt (Docker); here, pass --ca-dir or put it in ~/.docker/certs.d/h/ca.crt.";
        let said = super::in_window_words(advice);
        assert!(!said.contains("--ca-dir") && said.contains("~/.docker/certs.d/h/ca.crt"), "{said}");
        let said = super::in_window_words("Log in to the registry (regcred login), then attach the pull secret.");
        assert!(said.starts_with("Save a login for the registry (Login tab)"), "{said}");
    }

    /// Every piece of advice `regcred check` gives that names a command or a flag is said in the
    /// window's own terms (its Check manifests view shows the same results).
    #[test]
    fn the_check_view_names_the_windows_actions() {
        let advice = [
            "The Secret pull is not in these manifests: add it, apply it first, or check with your own logins (`regcred check --local`; in the window, the box \"with my own credentials\").",
            "The Secret pull does not exist in namespace default: create it (`regcred apply`, or Apply to cluster… in the window's Kubernetes tab), or name the right one in imagePullSecrets.",
            "The Secret s is in these manifests but cannot be read (see the input error): the API server would refuse it, so the kubelet finds none. Fix it (regcred yaml writes a correct one).",
            "The Deployment web names no imagePullSecrets: add one to its pod template (regcred yaml makes the Secret), or to its ServiceAccount.",
            "The pull Secrets the Deployment web uses have no entry that matches r.example: add one for it (regcred yaml r.example … makes it), or check the registry in the image name.",
            "the Secret s is not in the manifests: checked with your local credentials instead (--local)",
            "Check the registry's certificate (host name, expiry, chain), and the CA the nodes trust for it (/etc/docker/certs.d/h/; here ~/.docker/certs.d/h/ or --ca-dir).",
            "CRI-O makes no exception: mark it `insecure = true` in /etc/containers/registries.conf on the node (and test with --insecure here), or serve it over TLS.",
        ];
        for advice in advice {
            let said = super::in_window_words(advice);
            let command = ["\"regcred ", "(regcred ", " --", "`"].iter().any(|c| said.contains(c));
            assert!(!command && !said.contains("in the window"), "{said}");
        }
    }
}
