//! The application: it owns the persisted [`State`], the [`Workspace`] every panel reads, the
//! panels (table, detail with its tabs, dialogs) and the background jobs; panels push
//! [`Command`]s, applied after the frame (see `actions/`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use super::card::Answer;
use super::command::{Command, Tab};
use super::dialogs::Dialogs;
use super::editor::EditorPanel;
use super::jobs::{Keyed, Slot};
use super::list::{ListPanel, RowFacts};
use super::pull::PullPanel;
use super::state::{State, TestRecord};
use super::workspace::{Opener, Workspace};
use super::yaml::YamlPanel;
use crate::auth_files::{AuthFileError, Env, SaveReport, Sources};
use crate::credentials::{CredentialsError, Orphan};
use crate::expiry::Expiry;
use crate::keychain::{KeychainError, KeychainState};
use crate::registry::{PullReport, Puller};

/// A secret read from its store, for the registry it was read for.
pub(super) type SecretRead = Result<Option<crate::keychain::Credential>, KeychainError>;

/// A notification in the status line.
pub(super) struct Toast {
    /// When it appeared.
    pub(crate) since: Instant,
    /// The text.
    pub(crate) text: String,
    /// Whether it reports an error.
    pub(crate) error: bool,
}

/// What a save did, for the user.
pub(super) struct Saved {
    /// The entry to show afterwards.
    pub(crate) key: Option<String>,
    /// The message.
    pub(crate) message: String,
    /// What the save changed besides the content (mode tightened, file created, backup).
    pub(crate) report: Option<SaveReport>,
}

/// Why a save did not happen, typed: a conflict opens the keep mine / keep theirs dialog
/// whichever save path met it.
#[derive(Debug)]
pub(super) enum SaveFailure {
    /// A credential operation failed (store, file, conflict).
    Credentials(CredentialsError),
    /// A file operation failed.
    File(AuthFileError),
    /// There is no file to write (HOME not set, an unusable file).
    NoFile(String),
}

impl From<CredentialsError> for SaveFailure {
    fn from(error: CredentialsError) -> Self {
        Self::Credentials(error)
    }
}

impl From<AuthFileError> for SaveFailure {
    fn from(error: AuthFileError) -> Self {
        Self::File(error)
    }
}

impl SaveFailure {
    /// Whether another program changed the same entry.
    pub(super) fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::File(AuthFileError::Conflict { .. })
                | Self::Credentials(CredentialsError::File(AuthFileError::Conflict { .. }))
        )
    }

    /// The words for the user: never `Debug` text; a keychain that does not work is explained.
    pub(super) fn text(&self) -> String {
        match self {
            Self::Credentials(CredentialsError::Store(store)) => super::workspace::keychain_error_advice(store),
            Self::Credentials(error) => error.to_string(),
            Self::File(error) => error.to_string(),
            Self::NoFile(why) => why.clone(),
        }
    }
}

/// A row test's outcome.
pub(super) struct RowTest {
    /// What to remember (not for a cancelled or impossible test).
    pub(crate) record: Option<TestRecord>,
    /// The answer for the registry's card.
    pub(crate) answer: Option<Answer>,
    /// The expiry of the credential used, when it says.
    pub(crate) expiry: Option<Expiry>,
    /// The file on screen when it started (its entry is the one tested).
    pub(crate) file: Option<std::path::PathBuf>,
}

/// The background jobs, one slot per kind.
#[derive(Default)]
pub(super) struct Jobs {
    pub(super) load: Slot<Sources>,
    pub(super) save: Slot<Result<Saved, SaveFailure>>,
    /// Secrets being read, one per registry: picking B while A's loads never leaves B waiting.
    pub(super) secret: Keyed<String, SecretRead>,
    /// The rows' background facts (keychain expiries, helpers not installed), after each load.
    pub(super) facts: Slot<RowFacts>,
    pub(super) export: Slot<Result<Option<PathBuf>, crate::atomic_file::PrivateWriteError>>,
    pub(super) orphans: Slot<Result<Vec<Orphan>, CredentialsError>>,
    pub(super) keychain: Slot<KeychainState>,
    pub(super) keychain_users: Slot<Option<HashMap<String, String>>>,
    pub(super) open_dialog: Slot<Option<PathBuf>>,
}

/// The regcred window.
pub struct App {
    /// Persisted settings.
    pub state: State,
    pub(super) workspace: Workspace,
    pub(super) list: ListPanel,
    /// The detail pane's tab shown.
    pub(super) tab: Tab,
    pub(super) editor: EditorPanel,
    pub(super) pull: PullPanel,
    pub(super) yaml: YamlPanel,
    pub(super) dialogs: Dialogs,
    pub(super) check: super::check::CheckPanel,
    /// Which cluster, and Apply.
    pub(super) cluster: super::cluster::ClusterPanel,
    /// Verify in cluster.
    pub(super) verify: super::verify::VerifyPanel,
    /// Check cluster.
    pub(super) live: super::live::LivePanel,
    pub(super) commands: Vec<Command>,
    pub(super) toasts: Vec<Toast>,
    pub(super) jobs: Jobs,
    pub(super) row_tests: Keyed<String, RowTest>,
    pub(super) puller: Arc<Puller>,
    /// Each registry's latest answer, in full (this run only).
    pub(super) answers: HashMap<String, Answer>,
    /// Facts about rows learnt in the background (keychain expiries, missing helpers).
    pub(super) facts: RowFacts,
    /// The facts were asked for again while their job ran.
    pub(super) facts_again: bool,
    /// What to do once the running save succeeds.
    pub(super) after_save: Option<Command>,
    /// The window may close (the user confirmed, or nothing is unsaved).
    pub(super) allow_close: bool,
    /// The title last sent to the window system.
    pub(super) shown_title: Option<String>,
    pub(super) select_after_load: Option<String>,
    /// A file just opened by path: once loaded, say how its kind was decided when it was a guess.
    pub(super) opened_now: Option<std::path::PathBuf>,
    /// Input held for the next frame (after a Tab: see `raw_input_hook`).
    pub(super) deferred_input: Vec<egui::Event>,
}

impl App {
    /// A window over the files `env` points to, with secrets behind `opener`.
    pub fn new(
        ctx: &egui::Context,
        state: State,
        env: Env,
        runtime: tokio::runtime::Handle,
        opener: Opener,
        native_dialogs: bool,
    ) -> Self {
        let workspace = Workspace {
            env,
            runtime,
            opener,
            repaint: ctx.clone(),
            native_dialogs,
            sources: Arc::new(Sources { files: Vec::new(), podman: crate::auth_files::PodmanChain::default() }),
            file_index: 0,
            generation: 0,
            keychain: None,
            keychain_users: None,
            opened: state.last_file.clone().into_iter().collect(),
        };
        let mut app = Self {
            state,
            workspace,
            list: ListPanel::default(),
            tab: Tab::default(),
            editor: EditorPanel::default(),
            pull: PullPanel::default(),
            yaml: YamlPanel::default(),
            dialogs: Dialogs::default(),
            check: super::check::CheckPanel::default(),
            cluster: super::cluster::ClusterPanel::default(),
            verify: super::verify::VerifyPanel::default(),
            live: super::live::LivePanel::default(),
            commands: vec![Command::Reload],
            toasts: Vec::new(),
            jobs: Jobs::default(),
            row_tests: Keyed::default(),
            puller: Arc::new(Puller::default()),
            answers: HashMap::new(),
            facts: RowFacts::default(),
            facts_again: false,
            after_save: None,
            allow_close: false,
            shown_title: None,
            select_after_load: None,
            opened_now: None,
            deferred_input: Vec::new(),
        };
        super::theme::install(ctx, app.state.theme);
        app.jobs.keychain.start(&app.workspace.runtime, ctx.clone(), crate::keychain::KeyringStore::state);
        app
    }

    /// The file shown, when it loaded.
    pub fn file(&self) -> Option<&crate::auth_files::AuthFile> {
        self.workspace.file()
    }

    /// The registry keys listed (filtered).
    pub fn visible_keys(&self) -> Vec<String> {
        self.list.rows().iter().map(|row| row.key.clone()).collect()
    }

    /// The entry being edited.
    pub fn draft(&self) -> Option<&super::editor::Draft> {
        self.editor.draft.as_ref()
    }

    /// Whether any background job is running.
    pub fn busy(&self) -> bool {
        let jobs = &self.jobs;
        jobs.load.busy()
            || jobs.save.busy()
            || !jobs.secret.is_empty()
            || jobs.facts.busy()
            || jobs.export.busy()
            || jobs.orphans.busy()
            || jobs.keychain.busy()
            || jobs.keychain_users.busy()
            || jobs.open_dialog.busy()
            || self.pull.job.busy()
            || self.yaml.selection_job.busy()
            || self.check.job.busy()
            || self.cluster.busy()
            || self.verify.busy()
            || self.live.job.busy()
            || !self.row_tests.is_empty()
            || !self.commands.is_empty()
    }

    /// Shows `state` as the keychain's state (tests and screenshots fix it; the window probes it).
    pub fn set_keychain_state(&mut self, state: KeychainState) {
        self.workspace.keychain = Some(state);
        self.start_keychain_users();
        self.start_facts();
    }

    /// The report of the latest answer for `key` (a login check, a row test or a test pull).
    pub fn pull_result(&self, key: &str) -> Option<&PullReport> {
        self.answer(key).map(|answer| &answer.report)
    }

    /// The latest answer for `key` in the file on screen.
    pub(super) fn answer(&self, key: &str) -> Option<&super::card::Answer> {
        self.answers.get(&self.slot_here(key))
    }

    /// The last test of exactly what the registry open holds (as typed, or as saved when
    /// nothing that a test depends on changed) failed: its verdict.
    pub(super) fn draft_failed(&self) -> Option<String> {
        let draft = self.draft()?;
        let answer = self.answer(&draft.answer_key()).filter(|answer| !answer.stale)?;
        let same = match answer.draft {
            Some(tested) => tested == draft.fingerprint(),
            None => !draft.credentials_changed(),
        };
        match &answer.report.outcome {
            crate::registry::Outcome::Failure(failure)
                if same && failure.class != crate::registry::FailureClass::Cancelled =>
            {
                Some(format!("its last test failed: {}", failure.verdict))
            }
            _ => None,
        }
    }

    /// What the Kubernetes YAML of the registry open must be said with wherever it goes (the tab,
    /// Copy, Export): that it holds changes not saved yet, and that its last test failed.
    pub(super) fn yaml_caveats(&self) -> Vec<String> {
        let Some(draft) = self.draft().filter(|_| self.list.checked.is_empty()) else { return Vec::new() };
        let unsaved =
            draft.credentials_changed().then(|| "it holds what is typed in the Login tab, not saved yet".to_owned());
        unsaved.into_iter().chain(self.draft_failed()).collect()
    }

    /// Where `key`'s answers are kept for the file on screen ([`super::state::slot`]).
    pub(super) fn slot_here(&self, key: &str) -> String {
        super::state::slot(key, self.workspace.shown().map(|file| file.path.as_path()))
    }

    /// Forgets `key`'s answers in the file on screen (its credential changed, or it is gone).
    pub(super) fn forget_answers(&mut self, key: &str) {
        let slot = self.slot_here(key);
        self.state.results.remove(&slot);
        self.answers.remove(&slot);
        // One remembered before files were told apart.
        if self.state.results.get(key).is_some_and(|record| record.file.is_none()) {
            self.state.results.remove(key);
        }
    }

    /// An answer about what was typed goes stale once the server, user name or password change:
    /// the card says so (it no longer answers for what is on screen).
    pub(super) fn mark_stale_draft_answers(&mut self) {
        let Some(draft) = self.editor.draft.as_ref() else { return };
        let (slot, fingerprint) = (self.slot_here(&draft.answer_key()), draft.fingerprint());
        if let Some(answer) = self.answers.get_mut(&slot)
            && answer.draft.is_some_and(|tested| tested != fingerprint)
        {
            answer.stale = true;
        }
    }

    /// The expiry shown for `key` (the file's secret, or the keychain's learnt in the background).
    pub fn expiry_of(&self, key: &str) -> Option<&Expiry> {
        let row = self.list.rows().iter().find(|row| row.key == key);
        row.and_then(|row| row.expiry.as_ref()).or_else(|| self.facts.expiries.get(key))
    }

    /// The registry selected (open in the detail pane).
    pub fn selected(&self) -> Option<String> {
        self.draft().and_then(|draft| draft.key.clone())
    }

    /// The detail pane's tab.
    pub fn tab(&self) -> Tab {
        self.tab
    }

    /// The last remembered test of `key`.
    pub fn test_record(&self, key: &str) -> Option<&TestRecord> {
        super::state::record_for(&self.state.results, key, self.workspace.shown().map(|file| file.path.as_path()))
    }

    /// What the preferences file keeps: the settings, and an image only for a registry one was
    /// typed for (never an empty one; an entry's field only ever edits an existing registry's).
    pub fn persisted_state(&self) -> State {
        let mut state = self.state.clone();
        state.images.retain(|_, image| !image.trim().is_empty());
        state
    }

    /// The last manifests check, once it finished.
    pub fn check_report(&self) -> Option<&crate::check::CheckReport> {
        self.check.report.as_ref().and_then(|r| r.as_ref().ok())
    }

    /// The notifications shown now.
    pub fn toasts(&self) -> Vec<String> {
        self.toasts.iter().map(|t| t.text.clone()).collect()
    }

    /// The YAML preview as it would be exported (secrets in clear), or why there is none.
    pub fn preview(&self) -> Result<String, String> {
        let source = yaml_source(self.draft(), self.file(), &self.list.checked, self.yaml.selection.as_ref());
        let image = self.draft().map(|d| self.pull.image_for(&self.state, d)).unwrap_or_default();
        super::yaml::YamlPanel::preview(&self.state, &source, &image)
    }

    /// The title: `regcred — PATH •` (the dot when there are unsaved changes).
    pub fn title(&self) -> String {
        let path = self.workspace.shown().map(|f| f.path.display().to_string());
        let dirty = self.draft().is_some_and(super::editor::Draft::dirty);
        match path {
            Some(path) => format!("regcred — {path}{}", if dirty { " •" } else { "" }),
            None => "regcred".to_owned(),
        }
    }

    pub(super) fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast { since: Instant::now(), text: text.into(), error });
    }

    /// Polls jobs and applies the frame's commands (no painting here).
    pub(crate) fn logic(&mut self, ctx: &egui::Context) {
        self.poll_jobs();
        self.check.poll();
        self.cluster.poll();
        self.live.poll();
        if let Some(text) = self.verify.poll() {
            self.toast(text, false);
        }
        self.forget_stale_cluster_results();
        self.mark_stale_draft_answers();
        for command in std::mem::take(&mut self.commands) {
            self.apply(command, ctx);
        }
        self.sync_selection();
        self.toasts.retain(|t| t.since.elapsed() < Duration::from_secs(8));
        if !self.toasts.is_empty() || self.pull.job.busy() || !self.row_tests.is_empty() || self.verify.busy() {
            ctx.request_repaint_after(Duration::from_millis(200));
        }
    }
}

/// What the YAML shows: the ticked registries (once their secrets are read), else the registry
/// being edited.
pub(super) fn yaml_source<'a>(
    draft: Option<&super::editor::Draft>,
    file: Option<&crate::auth_files::AuthFile>,
    checked: &std::collections::BTreeSet<String>,
    selection: Option<&'a super::yaml::Selection>,
) -> super::yaml::Source<'a> {
    if !checked.is_empty() {
        return match selection.filter(|s| s.keys == *checked) {
            Some(selection) => super::yaml::Source::Ticked(selection),
            None => super::yaml::Source::Nothing,
        };
    }
    let Some(draft) = draft else { return super::yaml::Source::Nothing };
    if draft.secret_loading && draft.current.password.is_empty() {
        return super::yaml::Source::Waiting("Reading the secret from its store…".to_owned());
    }
    if let Some(error) = draft.secret_error.as_ref().filter(|_| draft.current.password.is_empty()) {
        return super::yaml::Source::Waiting(format!("No pull Secret without the secret: {error}"));
    }
    let Ok(server) = crate::auth_files::parse_server(draft.current.server.trim()) else {
        return super::yaml::Source::Nothing;
    };
    let key =
        draft.key.clone().unwrap_or_else(|| file.map_or_else(|| server.docker_key(), |f| f.entry_key_for(&server)));
    super::yaml::Source::Draft(crate::pull_secret::RegistryAuth::new(
        key,
        draft.current.username.clone(),
        crate::secret::Secret::new(draft.current.password.as_str()),
        Some(draft.current.email.clone()).filter(|e| !e.is_empty()),
    ))
}
