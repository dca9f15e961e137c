//! Actions that test: the Test pull tab's pull, a row's Test (its remembered image, or the login
//! check), Test all, and filing each answer under the registry it was started for.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::super::app::{App, RowTest};
use super::super::card::{Answer, AnswerSource};
use super::super::state::{TestRecord, TestVerdict};
use super::super::theme;
use crate::auth_files::{Sources, parse_server};
use crate::keychain::Credential;
use crate::registry::{Outcome, PullOptions, PullReport};
use crate::resolve::{DraftCredential, test_credential_from};
use crate::secret::Secret;

impl App {
    /// Ctrl+T: the open registry's image; with no image typed, a saved registry gets the row's
    /// test (its remembered image, or the login check), and a new or changed one the login check
    /// with what is typed; with nothing open, the list's selection.
    pub(in crate::gui) fn test_selected(&mut self) {
        let open =
            self.editor.draft.as_ref().map(|d| {
                (d.key.clone(), self.pull.image_for(&self.state, d).trim().is_empty(), d.credentials_changed())
            });
        match open {
            Some((Some(key), true, false)) => self.test_row(key, AnswerSource::RowTest),
            Some((_, true, _)) => self.check_draft_login(),
            Some(_) => self.test_pull(),
            None => {}
        }
    }

    /// The login check `docker login` makes, with the server, user name and password as typed
    /// (not saved): its answer goes to the card; nothing is remembered for the row.
    fn check_draft_login(&mut self) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let Ok(server) = parse_server(draft.current.server.trim()) else {
            return self.toast(
                "Enter a server to check the login: the registry's address, such as registry.example.com:5000",
                true,
            );
        };
        if draft.current.username.is_empty() || draft.current.password.is_empty() {
            return self.toast("Type a user name and a password (or token) to check the login", true);
        }
        let credential = Credential {
            username: draft.current.username.clone(),
            secret: Secret::new(draft.current.password.as_str()),
        };
        let (key, fingerprint) = (draft.answer_key(), draft.fingerprint());
        if self.row_tests.is_running(&key) {
            return;
        }
        self.answers.remove(&self.slot_here(&key));
        let options = self.pull_options(&key);
        let puller = self.puller.clone();
        let shown = self.workspace.shown().map(|file| file.path.clone());
        self.row_tests.start_async(key, &self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let report = puller.check_login(server.endpoint_host(), &credential, "unsaved draft", &options).await;
            let at = theme::now();
            let answer = Answer {
                source: AnswerSource::LoginCheck,
                at,
                report,
                file: None,
                draft: Some(fingerprint),
                stale: false,
            };
            RowTest { record: None, answer: Some(answer), expiry: None, file: shown }
        });
    }

    /// The current options for a test pull of `key`'s registry (Quick or Full is per registry).
    pub(in crate::gui) fn pull_options(&self, key: &str) -> PullOptions {
        self.state.pull_options(self.workspace.env.home.as_deref(), Some(key))
    }

    /// The card's test pull: the image typed for the open registry, with the credential a node
    /// would use for the image's own registry (the draft's only when it is that registry).
    pub(in crate::gui) fn test_pull(&mut self) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let key = draft.answer_key();
        let image = self.pull.image_for(&self.state, draft).trim().to_owned();
        if image.is_empty() {
            return self.toast("Type an image to test-pull", true);
        }
        let candidate =
            (!draft.current.username.is_empty() && !draft.current.password.is_empty()).then(|| Credential {
                username: draft.current.username.clone(),
                secret: Secret::new(draft.current.password.as_str()),
            });
        let server = parse_server(draft.current.server.trim()).ok();
        let unsaved = draft.dirty() || draft.key.is_none();
        let typed = unsaved.then(|| draft.fingerprint());
        let options = self.pull_options(&key);
        self.pull.cancel.store(false, Ordering::Relaxed);
        if let Ok(mut progress) = self.pull.progress.lock() {
            progress.clear();
        }
        self.answers.remove(&self.slot_here(&key));
        self.pull.running = Some((key.clone(), image.clone()));
        let (sources, opener, puller) =
            (self.workspace.sources.clone(), self.workspace.opener.clone(), self.puller.clone());
        let shown = self.workspace.shown().map(|file| file.path.clone());
        let first = shown.clone();
        let (cancel, progress, repaint) =
            (self.pull.cancel.clone(), self.pull.progress.clone(), self.workspace.repaint.clone());
        self.pull.job.start_async(&self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let chosen = tokio::task::spawn_blocking({
                let image = image.clone();
                move || {
                    let reference = crate::image_ref::ImageRef::parse(&image).ok()?;
                    let draft = server.as_ref().map(|server| DraftCredential {
                        server,
                        credential: candidate.as_ref(),
                        unsaved,
                    });
                    Some(test_credential_from(&sources, first.as_deref(), &reference, draft.as_ref(), &*opener))
                }
            })
            .await
            .ok()
            .flatten();
            let report_progress = move |update: crate::registry::BlobProgress| {
                if let Ok(mut all) = progress.lock() {
                    match all.iter_mut().find(|p| p.digest == update.digest) {
                        Some(existing) => *existing = update,
                        None => all.push(update),
                    }
                }
                repaint.request_repaint();
            };
            let report = match chosen {
                Some(Err(error)) => crate::registry::credential_failure(&image, &error.to_string(), options.runtime),
                Some(Ok((credential, tested))) => {
                    let source = tested.describe();
                    puller
                        .pull(&image, credential.as_ref(), &source, &options, Some(&cancel), Some(&report_progress))
                        .await
                }
                None => puller.pull(&image, None, "anonymous", &options, Some(&cancel), Some(&report_progress)).await,
            };
            super::super::pull::Finished { key, image, report, file: shown, draft: typed }
        });
    }

    /// A row's test: its remembered image with its saved credential, or, with no image, the
    /// login check `docker login` makes (the puller bounds its pulls per registry host and in all).
    pub(in crate::gui) fn test_row(&mut self, key: String, source: AnswerSource) {
        if self.row_tests.is_running(&key) {
            return;
        }
        // The remembered image, when it is on this registry; else the login is what is tested.
        let image = self
            .state
            .images
            .get(&key)
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty() && super::super::pull::image_elsewhere(i, &key).is_none());
        let Ok(server) = parse_server(&key) else {
            return self.toast(format!("{key} is not a registry key that can be tested"), true);
        };
        let (sources, opener, puller) =
            (self.workspace.sources.clone(), self.workspace.opener.clone(), self.puller.clone());
        let options = self.pull_options(&key);
        let runtime = self.workspace.runtime.clone();
        let shown = self.workspace.shown().map(|file| file.path.clone());
        self.row_tests.start_async(key, &self.workspace.runtime, self.workspace.repaint.clone(), async move {
            let test = RowTestRun { sources, shown, opener, server, image, source };
            row_test(&runtime, &puller, test, &options).await
        });
    }

    pub(in crate::gui) fn poll_tests(&mut self) {
        if let Some(finished) = self.pull.job.poll() {
            self.pull.running = None;
            let super::super::pull::Finished { key, image, report, file, draft } = finished;
            let slot = super::super::state::slot(&key, file.as_deref());
            let cancelled =
                matches!(&report.outcome, Outcome::Failure(f) if f.class == crate::registry::FailureClass::Cancelled);
            if !cancelled {
                let verdict = verdict_of(&report);
                let text = match &verdict {
                    TestVerdict::Fails(reason) => format!("Test pull failed: {reason}"),
                    _ => format!("Test pull succeeded: {}", report.reference),
                };
                self.toast(text, matches!(verdict, TestVerdict::Fails(_)));
                // Remembered for the row only when it tested what is saved, on its own registry
                // (an image on Docker Hub tried from this registry's tab says nothing of it).
                let own = super::super::pull::image_elsewhere(&image, &key).is_none();
                if own && draft.is_none() && self.workspace.file().is_some_and(|f| f.entry_alone(&key).is_some()) {
                    let record = TestRecord { at: theme::now(), image: Some(image), verdict, file: file.clone() };
                    self.state.results.insert(slot.clone(), record);
                }
            }
            let answer = Answer { source: AnswerSource::TestPull, at: theme::now(), report, file, draft, stale: false };
            self.answers.insert(slot, answer);
        }
        for (key, test) in self.row_tests.poll() {
            let slot = super::super::state::slot(&key, test.file.as_deref());
            if let Some(mut record) = test.record {
                record.file.clone_from(&test.file);
                self.state.results.insert(slot.clone(), record);
            }
            if let Some(mut answer) = test.answer {
                answer.file = test.file;
                self.answers.insert(slot, answer);
            }
            if let Some(expiry) = test.expiry {
                self.facts.expiries.insert(key, expiry);
            }
        }
    }
}

/// What a row's test needs, moved onto the runtime.
struct RowTestRun {
    sources: Arc<Sources>,
    /// The file on screen: its entry is the one tested.
    shown: Option<std::path::PathBuf>,
    opener: super::super::workspace::Opener,
    server: crate::auth_files::ServerKey,
    image: Option<String>,
    source: AnswerSource,
}

/// A row's test, off the UI thread: the remembered image's pull, or the login check, each with
/// its whole report for the card, told as the test of the file on screen when it started.
async fn row_test(
    runtime: &tokio::runtime::Handle,
    puller: &crate::registry::Puller,
    test: RowTestRun,
    options: &PullOptions,
) -> RowTest {
    let file = test.shown.clone();
    RowTest { file, ..test_the_row(runtime, puller, test, options).await }
}

/// [`row_test`]'s test itself.
async fn test_the_row(
    runtime: &tokio::runtime::Handle,
    puller: &crate::registry::Puller,
    test: RowTestRun,
    options: &PullOptions,
) -> RowTest {
    let RowTestRun { sources, shown, opener, server, image, source } = test;
    let fetch_server = server.clone();
    let image_for_lookup = image.clone();
    let chosen = runtime
        .spawn_blocking(move || match image_for_lookup.as_deref().map(crate::image_ref::ImageRef::parse) {
            Some(Ok(reference)) => test_credential_from(&sources, shown.as_deref(), &reference, None, &*opener)
                .map(|(c, t)| (c, t.describe())),
            Some(Err(_)) => Ok((None, "anonymous".to_owned())),
            None => crate::resolve::fetch_credential_from(&sources, shown.as_deref(), &fetch_server, &*opener)
                .map(|found| (Some(found.credential), found.home.label())),
        })
        .await;
    let now = std::time::SystemTime::now();
    let subject = image.clone().unwrap_or_else(|| server.endpoint_host().to_owned());
    let (credential, credential_source) = match chosen {
        Ok(Ok(chosen)) => chosen,
        Ok(Err(error)) => {
            return failed_row(&subject, &format!("cannot read the credential: {error}"), image, source, options);
        }
        Err(_) => return failed_row(&subject, "the test could not run", image, source, options),
    };
    let expiry =
        credential.as_ref().and_then(|c| crate::expiry::expiry_of(&c.username, &c.secret, server.registry(), now));
    let Some(image) = image else {
        let Some(credential) = credential else {
            return failed_row(
                &subject,
                "no credential to check the login with",
                None,
                AnswerSource::LoginCheck,
                options,
            );
        };
        let report = puller.check_login(server.endpoint_host(), &credential, &credential_source, options).await;
        let verdict = match &report.outcome {
            Outcome::Success(_) => TestVerdict::LoginWorks,
            Outcome::Failure(failure) => TestVerdict::Fails(failure.verdict.clone()),
        };
        let at = theme::now();
        return RowTest {
            record: Some(TestRecord { at, image: None, verdict, file: None }),
            answer: Some(Answer {
                source: AnswerSource::LoginCheck,
                at,
                report,
                file: None,
                draft: None,
                stale: false,
            }),
            expiry,
            file: None,
        };
    };
    let report = puller.pull(&image, credential.as_ref(), &credential_source, options, None, None).await;
    let at = theme::now();
    let record = TestRecord { at, image: Some(image), verdict: verdict_of(&report), file: None };
    RowTest {
        record: Some(record),
        answer: Some(Answer { source, at, report, file: None, draft: None, stale: false }),
        expiry,
        file: None,
    }
}

/// A test that could not start: its report says why, in the runtime's words where it can.
fn failed_row(
    subject: &str,
    cause: &str,
    image: Option<String>,
    source: AnswerSource,
    options: &PullOptions,
) -> RowTest {
    let report = crate::registry::credential_failure(subject, cause, options.runtime);
    let at = theme::now();
    RowTest {
        record: Some(TestRecord { at, image, verdict: verdict_of(&report), file: None }),
        answer: Some(Answer { source, at, report, file: None, draft: None, stale: false }),
        expiry: None,
        file: None,
    }
}

/// The remembered verdict of a report.
fn verdict_of(report: &PullReport) -> TestVerdict {
    match &report.outcome {
        Outcome::Success(_) => TestVerdict::Pulls,
        Outcome::Failure(failure) => TestVerdict::Fails(failure.verdict.clone()),
    }
}
