//! Operations that change where secrets live — login, logout, migrate, adopt — keeping a
//! credential file and a secret store consistent: each one either completes or leaves both as
//! they were. And the orphans check: stubs with no secret behind them, and keychain items that
//! no file refers to.

use std::str::FromStr;

use crate::auth_files::{
    AuthFile, AuthFileError, ConflictPolicy, FileKind, SaveReport, ServerKey, SourceFile, Sources, backup_path,
};
use crate::keychain::{Credential, KeychainError, KeyringStore, REGCRED_HELPER, SecretStore};
use crate::resolve::{SecretHome, SecretHomes, secret_home};
use crate::secret::Secret;

/// Where `login` and `migrate` put a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// regcred's OS keychain (served to Docker by `docker-credential-regcred`).
    Keychain,
    /// An existing credential helper, `docker-credential-NAME`.
    Helper(String),
    /// Plaintext in the file (only when chosen explicitly).
    File,
}

impl StoreChoice {
    /// The helper name that routes to this store (`None` for the file).
    pub(crate) fn helper(&self) -> Option<&str> {
        match self {
            Self::Keychain => Some(REGCRED_HELPER),
            Self::Helper(name) => Some(name),
            Self::File => None,
        }
    }
}

impl FromStr for StoreChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "keychain" => Ok(Self::Keychain),
            "file" => Ok(Self::File),
            other => match other.strip_prefix("helper:") {
                Some(name) if !name.is_empty() && !name.contains(['/', '\\']) => Ok(Self::Helper(name.to_owned())),
                _ => Err(format!("unknown store {other:?}: use keychain, helper:NAME or file")),
            },
        }
    }
}

pub(crate) use crate::keychain::StoreOpener;

/// Why an operation did not happen. Whatever it had already changed was put back.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read, edited or saved.
    #[error(transparent)]
    File(#[from] AuthFileError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] KeychainError),
    /// The secret read back from the store is not the one written.
    #[error("{store} returned a different secret for {server} than was stored; nothing was changed")]
    ReadBackDiffers {
        /// The store.
        store: String,
        /// The registry key.
        server: String,
    },
    /// The legacy `.dockercfg` has no place for a route to the keychain or a helper.
    #[error(
        "the legacy .dockercfg is a bare map of server to {{auth, email}} with no place for a route to the keychain or a credential helper, so nothing was changed; store the secret in it with --store file, or log in to Docker's config.json instead (leave out --file), which Docker, Podman and skopeo all read before .dockercfg: {}",
        path.display()
    )]
    LegacyHasNoRoutes {
        /// The legacy file.
        path: std::path::PathBuf,
    },
    /// A namespace-scoped key cannot route to a helper: helpers answer per registry host.
    #[error(
        "{key} is scoped to a path, and credential helpers (the keychain included) answer per registry host, so the secret would apply to every repository of {host}; keep it in the file (--store file), or log in to {host} itself"
    )]
    ScopedKeyNeedsFile {
        /// The entry key, with its path.
        key: String,
        /// Its registry host.
        host: String,
    },
    /// Nothing to migrate.
    #[error("no plaintext entries to move{}", if selection.is_empty() { String::new() } else { format!(" among {}", selection.join(", ")) })]
    NothingToMigrate {
        /// The servers asked for.
        selection: Vec<String>,
    },
    /// An entry asked for does not exist.
    #[error("the file has no entry for {0}")]
    NoEntry(String),
    /// Putting things back after a failure also failed: the message says what is where.
    #[error("{original}; restoring the previous secret in {store} also failed ({restore}): check {server} there")]
    RollbackFailed {
        /// The first failure.
        original: Box<CredentialsError>,
        /// The store.
        store: String,
        /// The server.
        server: String,
        /// The restore failure.
        restore: KeychainError,
    },
}

/// What `login` did.
#[derive(Debug)]
pub struct LoginReport {
    /// The entry's key in the file.
    pub key: String,
    /// Where the secret went.
    pub home: SecretHome,
    /// The file save.
    pub save: SaveReport,
    /// A warning for the user (e.g. `credsStore` overriding a plaintext entry).
    pub warning: Option<String>,
}

/// A store write that can be undone.
struct Undo {
    store: Box<dyn SecretStore>,
    server: String,
    previous: Option<Credential>,
}

impl Undo {
    fn run(self, original: CredentialsError) -> CredentialsError {
        let restored = match &self.previous {
            Some(previous) => self.store.store(&self.server, previous),
            None => self.store.erase(&self.server),
        };
        match restored {
            Ok(()) => original,
            Err(restore) => CredentialsError::RollbackFailed {
                original: Box::new(original),
                store: self.store.label(),
                server: self.server,
                restore,
            },
        }
    }
}

/// Stores `credential` under `server` in `store`, reads it back and compares.
fn store_verified(
    store: Box<dyn SecretStore>,
    server: &str,
    credential: &Credential,
) -> Result<Undo, CredentialsError> {
    let previous = store.get(server)?;
    store.store(server, credential)?;
    let undo = Undo { store, server: server.to_owned(), previous };
    match undo.store.get(server) {
        Ok(Some(read)) if read == *credential => Ok(undo),
        Ok(_) => {
            let error = CredentialsError::ReadBackDiffers { store: undo.store.label(), server: server.to_owned() };
            Err(undo.run(error))
        }
        Err(error) => Err(undo.run(error.into())),
    }
}

fn undo_all(undos: Vec<Undo>, error: CredentialsError) -> CredentialsError {
    undos.into_iter().rev().fold(error, |error, undo| undo.run(error))
}

/// The store a file routes `server` to, if any (`credHelpers`, then `credsStore`).
pub(crate) fn routed_helper(file: &AuthFile, server: &ServerKey) -> Option<String> {
    match secret_home(file, &file.helper_key(server)) {
        SecretHome::Helper { helper, .. } => Some(helper),
        SecretHome::Plaintext | SecretHome::Missing => None,
    }
}

/// Points the file at `helper` for `server`, unless `credsStore` already does.
fn route(file: &mut AuthFile, server: &ServerKey, helper: &str) {
    let helper_key = file.helper_key(server);
    if file.creds_store() == Some(helper) && file.kind() == FileKind::DockerConfig {
        file.set_cred_helper(&helper_key, None);
    } else {
        file.set_cred_helper(&helper_key, Some(helper));
    }
}

/// Logs in: stores the credential where `choice` says (default: where the file already routes
/// the registry, else the keychain), verifies it, then writes the stub and route (or, for
/// `File`, the plaintext entry) and saves. A failure at any step leaves file and store as they were.
pub fn login(
    file: &mut AuthFile,
    server: &ServerKey,
    credential: &Credential,
    choice: Option<StoreChoice>,
    open: &StoreOpener<'_>,
) -> Result<LoginReport, CredentialsError> {
    login_with_policy(file, server, credential, choice, open, ConflictPolicy::Refuse)
}

/// [`login`], settling a conflict with another program's write by `policy` (the window's
/// "keep mine" / "keep theirs" choice) instead of refusing.
pub(crate) fn login_with_policy(
    file: &mut AuthFile,
    server: &ServerKey,
    credential: &Credential,
    choice: Option<StoreChoice>,
    open: &StoreOpener<'_>,
    policy: ConflictPolicy,
) -> Result<LoginReport, CredentialsError> {
    let login = Login { server, credential, email: None };
    with_rollback(file, |file| login_inner(file, &login, choice, open, policy))
}

/// An entry as the window's Save writes it: possibly renamed, its login and its email.
#[cfg_attr(not(feature = "gui"), allow(dead_code, reason = "used by the window only"))]
pub(crate) struct EntryEdit<'a> {
    /// The entry's key before the edit (`None` for a new entry).
    pub(crate) old_key: Option<&'a str>,
    /// The registry it is for now.
    pub(crate) server: &'a ServerKey,
    /// Its user name and secret.
    pub(crate) credential: &'a Credential,
    /// Its email (empty: none).
    pub(crate) email: &'a str,
    /// Where the secret goes.
    pub(crate) choice: StoreChoice,
}

/// Saves an edited entry in one write and one rollback: the rename (when the server changed), the
/// login (the secret stored, verified, routed) and the email. A failure at any step leaves the
/// file on disk, the in-memory file and the store as they were.
#[cfg_attr(not(feature = "gui"), allow(dead_code, reason = "used by the window only"))]
pub(crate) fn save_entry(
    file: &mut AuthFile,
    edit: &EntryEdit<'_>,
    open: &StoreOpener<'_>,
    policy: ConflictPolicy,
) -> Result<LoginReport, CredentialsError> {
    with_rollback(file, |file| {
        // Renamed: the old key names another registry or scope (or was not a registry at all).
        let renamed = edit.old_key.filter(|old| !ServerKey::parse(old).is_ok_and(|o| o.same_target(edit.server)));
        if let Some(old) = renamed {
            file.rename_entry(old, edit.server)?;
        }
        let login = Login { server: edit.server, credential: edit.credential, email: Some(edit.email) };
        login_inner(file, &login, Some(edit.choice.clone()), open, policy)
    })
}

/// What a login writes.
struct Login<'a> {
    server: &'a ServerKey,
    credential: &'a Credential,
    /// The email to set with it (`None`: leave the entry's as it is).
    email: Option<&'a str>,
}

/// Runs an operation on `file`, putting the in-memory file back as it was when it fails.
fn with_rollback<T>(
    file: &mut AuthFile,
    operation: impl FnOnce(&mut AuthFile) -> Result<T, CredentialsError>,
) -> Result<T, CredentialsError> {
    let before = file.clone();
    let result = operation(file);
    if result.is_err() {
        *file = before;
    }
    result
}

fn login_inner(
    file: &mut AuthFile,
    login: &Login<'_>,
    choice: Option<StoreChoice>,
    open: &StoreOpener<'_>,
    policy: ConflictPolicy,
) -> Result<LoginReport, CredentialsError> {
    let Login { server, credential, email } = *login;
    let choice = choice
        .or_else(|| {
            routed_helper(file, server)
                .map(|h| if h == REGCRED_HELPER { StoreChoice::Keychain } else { StoreChoice::Helper(h) })
        })
        .unwrap_or(StoreChoice::Keychain);
    let key = match file.find_key(server) {
        Some(key) => key,
        None => file.add_entry(server)?,
    };
    if let Some(email) = email {
        file.set_email(&key, Some(email))?;
    }
    let helper_key = file.helper_key(server);
    let Some(helper) = choice.helper() else {
        file.set_credentials(&key, &credential.username, &credential.secret)?;
        // A route answers for the whole registry host: a key with a path must leave the host's
        // own route (and the login behind it) alone.
        if server.scope().is_empty() {
            file.set_cred_helper(&helper_key, None);
        }
        let warning = file.creds_store().filter(|_| file.kind() == FileKind::DockerConfig).map(|store| {
            let missing = if crate::keychain::find_helper(store).is_none() { " (which is not installed)" } else { "" };
            format!(
                "credsStore is {store:?}: Docker will ask docker-credential-{store}{missing}, not this plaintext entry"
            )
        });
        let save = file.save(policy)?;
        return Ok(LoginReport { home: SecretHome::Plaintext, key, save, warning });
    };
    if file.kind() == FileKind::LegacyDockercfg {
        return Err(CredentialsError::LegacyHasNoRoutes { path: file.path().to_path_buf() });
    }
    if !server.scope().is_empty() {
        return Err(CredentialsError::ScopedKeyNeedsFile { key, host: server.registry().to_owned() });
    }
    let undo = store_verified(open(helper)?, &helper_key, credential)?;
    let traces = file.secret_traces(&key);
    file.clear_credentials(&key)?;
    route(file, server, helper);
    match file.save(policy) {
        Ok(mut save) => {
            forget_secret_in_backup(file, &traces, &mut save);
            Ok(LoginReport { home: secret_home(file, &key), key, save, warning: helper_missing(helper) })
        }
        Err(error) => Err(undo.run(error.into())),
    }
}

/// The warning when the file now routes to `docker-credential-HELPER` but no such program is on
/// `PATH`: Docker, Podman and skopeo would fail on this registry until it is installed.
pub fn helper_missing(helper: &str) -> Option<String> {
    crate::keychain::find_helper(helper).is_none().then(|| {
        let install = if helper == REGCRED_HELPER {
            "install regcred's package, or put docker-credential-regcred on PATH"
        } else {
            "install it"
        };
        format!(
            "docker-credential-{helper} is not on PATH: Docker, Podman and skopeo cannot read this secret until it is ({install})"
        )
    })
}

/// Which plaintext entries a migration moves, and which it leaves in the file and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationPlan {
    /// The entries that move, by key.
    pub(crate) moving: Vec<String>,
    /// The plaintext entries that stay, by key, with the reason in words.
    pub staying: Vec<(String, String)>,
}

/// Plans a migration of the plaintext entries (all, or those in `selection`).
pub fn migration_plan(file: &AuthFile, selection: &[ServerKey]) -> MigrationPlan {
    let mut plan = MigrationPlan::default();
    for (key, candidate) in migration_candidates(file, selection) {
        match candidate {
            Ok(_) => plan.moving.push(key),
            Err(reason) => plan.staying.push((key, reason)),
        }
    }
    plan
}

/// A plaintext entry's part in a migration: what it moves as, or why it stays.
type Candidate = Result<(ServerKey, Credential), String>;

/// Each plaintext entry asked for: what it moves as, or why it cannot.
fn migration_candidates(file: &AuthFile, selection: &[ServerKey]) -> Vec<(String, Candidate)> {
    let homes = SecretHomes::new(file);
    let mut out = Vec::new();
    for entry in file.entries() {
        if homes.of(&entry) != SecretHome::Plaintext {
            continue;
        }
        let chosen = entry
            .server
            .as_ref()
            .is_none_or(|server| selection.is_empty() || selection.iter().any(|s| s.same_target(server)));
        if !chosen {
            continue;
        }
        let candidate = match (entry.server, entry.username, entry.password) {
            (None, ..) => Err("its key is not a registry".to_owned()),
            (Some(server), ..) if !server.scope().is_empty() => Err(format!(
                "it is scoped to a path, and the keychain answers per registry host ({}): it stays in the file",
                server.registry()
            )),
            (Some(server), Some(username), Some(secret)) if entry.problems.is_empty() => {
                Ok((server, Credential { username, secret }))
            }
            (Some(_), ..) => Err(entry.problems.first().map_or_else(
                || "it has no complete user name and password".to_owned(),
                |problem| format!("it cannot be read: {problem}"),
            )),
        };
        out.push((entry.key, candidate));
    }
    out
}

/// What `logout` did.
#[derive(Debug)]
pub struct LogoutReport {
    /// Whether there was anything to remove.
    pub found: bool,
    /// The file save.
    pub save: SaveReport,
    /// What the user should know (a configured helper that could not be asked).
    pub warnings: Vec<String>,
}

/// The loaded files that hold a login for `server`: an entry under one of its spellings, or (for
/// a whole registry) a `credHelpers` route — where a logout without a file named has to act.
pub fn files_holding<'a>(sources: &'a Sources, server: &ServerKey) -> Vec<&'a SourceFile> {
    sources
        .files
        .iter()
        .filter(|source| {
            source.file().is_some_and(|file| {
                let helper_key = file.helper_key(server);
                file.find_key(server).is_some()
                    || (server.scope().is_empty() && file.cred_helpers().iter().any(|(host, _)| *host == helper_key))
            })
        })
        .collect()
}

/// Logs out: erases the secret wherever it lives, then removes the entry and the registry's
/// `credHelpers` route (to regcred's keychain or any helper), as the matching login added them.
pub fn logout(
    file: &mut AuthFile,
    server: &ServerKey,
    open: &StoreOpener<'_>,
) -> Result<LogoutReport, CredentialsError> {
    with_rollback(file, |file| logout_inner(file, server, open))
}

fn logout_inner(
    file: &mut AuthFile,
    server: &ServerKey,
    open: &StoreOpener<'_>,
) -> Result<LogoutReport, CredentialsError> {
    let helper_key = file.helper_key(server);
    // A key with a path keeps its secret in the file: the helper routed for its host answers for
    // the host's own login, which this logout must not touch.
    let scoped = !server.scope().is_empty();
    let helper = if scoped { None } else { routed_helper(file, server) };
    let key = file.find_key(server);
    let traces = key.as_deref().map(|key| file.secret_traces(key)).unwrap_or_default();
    let has_route = !scoped && file.cred_helpers().iter().any(|(host, _)| *host == helper_key);
    let mut warnings = Vec::new();
    let store = match helper.as_deref().map(open) {
        Some(Ok(store)) => Some(store),
        Some(Err(KeychainError::HelperMissing { name })) if key.is_some() => {
            let removed = if has_route { "the entry and its credHelpers route were" } else { "the entry was" };
            warnings.push(format!(
                "docker-credential-{name} is configured but not installed, so it could not be asked to erase a secret it may hold for {helper_key}; {removed} removed from the file"
            ));
            None
        }
        Some(Err(error)) => return Err(error.into()),
        None => None,
    };
    let previous = match &store {
        Some(store) => store.get(&helper_key)?,
        None => None,
    };
    let found = key.is_some() || previous.is_some();
    if let Some(key) = &key {
        file.remove_entry(key)?;
    }
    // The route goes with the login, whichever store it names: add-then-remove of any store gives
    // the file back as it was. A route with nothing behind it is not a login, and stays.
    if found && has_route {
        file.set_cred_helper(&helper_key, None);
    }
    // The secret goes first, and comes back if the file cannot be saved: either both are gone, or
    // both are as they were.
    let undo = match store {
        Some(store) if previous.is_some() => {
            store.erase(&helper_key)?;
            Some(Undo { store, server: helper_key.clone(), previous })
        }
        _ => None,
    };
    match file.save(ConflictPolicy::Refuse) {
        Ok(mut save) => {
            forget_secret_in_backup(file, &traces, &mut save);
            Ok(LogoutReport { found, save, warnings })
        }
        Err(error) => Err(match undo {
            Some(undo) => undo.run(error.into()),
            None => error.into(),
        }),
    }
}

/// Removes the file's backup when it still holds one of `traces` (a secret the operation just took
/// off the file: logout, a login or migration into a store), and says so in `save`. A backup that
/// holds none of them stays.
fn forget_secret_in_backup(file: &AuthFile, traces: &[zeroize::Zeroizing<String>], save: &mut SaveReport) {
    if traces.is_empty() {
        return;
    }
    let Ok(target) = crate::atomic_file::resolve_symlinks(file.path()) else { return };
    let backup = backup_path(&target);
    let Ok(Some(bytes)) = crate::atomic_file::read_if_exists(&backup, crate::auth_files::MAX_FILE_BYTES) else {
        return;
    };
    let bytes = zeroize::Zeroizing::new(bytes);
    let text = String::from_utf8_lossy(&bytes);
    if traces.iter().any(|trace| text.contains(trace.as_str())) && std::fs::remove_file(&backup).is_ok() {
        if save.backup.as_ref() == Some(&backup) {
            save.backup = None;
        }
        save.backup_removed = Some(backup);
    }
}

/// What `migrate` moved.
#[derive(Debug)]
pub struct MigrateReport {
    /// The entries moved, by key.
    pub moved: Vec<String>,
    /// The store they went to.
    pub store: String,
    /// The file save.
    pub save: SaveReport,
}

/// Moves plaintext entries (all, or those in `selection`) into the store of `to`: every secret
/// is stored and read back first, then the entries become stubs routed to the store and the
/// file is saved. Any failure puts every store item back and leaves the file untouched.
pub fn migrate(
    file: &mut AuthFile,
    selection: &[ServerKey],
    to: &StoreChoice,
    open: &StoreOpener<'_>,
) -> Result<MigrateReport, CredentialsError> {
    let helper = to.helper().unwrap_or(REGCRED_HELPER);
    if file.kind() == FileKind::LegacyDockercfg {
        return Err(CredentialsError::LegacyHasNoRoutes { path: file.path().to_path_buf() });
    }
    // Only what can move: a path-scoped key or an unreadable entry stays in the file (the plan
    // says why, before anything happens).
    let chosen: Vec<_> = migration_candidates(file, selection)
        .into_iter()
        .filter_map(|(key, candidate)| candidate.ok().map(|(server, credential)| (key, server, credential)))
        .collect();
    if chosen.is_empty() {
        return Err(CredentialsError::NothingToMigrate {
            selection: selection.iter().map(ToString::to_string).collect(),
        });
    }
    let before = file.clone();
    let mut undos = Vec::new();
    for (_, server, credential) in &chosen {
        let store = match open(helper) {
            Ok(store) => store,
            Err(error) => return Err(undo_all(undos, error.into())),
        };
        match store_verified(store, &file.helper_key(server), credential) {
            Ok(undo) => undos.push(undo),
            Err(error) => return Err(undo_all(undos, error)),
        }
    }
    let label = undos.first().map(|u| u.store.label()).unwrap_or_default();
    let traces: Vec<_> = chosen.iter().flat_map(|(key, ..)| file.secret_traces(key)).collect();
    for (key, server, _) in &chosen {
        if let Err(error) = file.clear_credentials(key) {
            *file = before;
            return Err(undo_all(undos, error.into()));
        }
        route(file, server, helper);
    }
    match file.save(ConflictPolicy::Refuse) {
        Ok(mut save) => {
            forget_secret_in_backup(file, &traces, &mut save);
            Ok(MigrateReport { moved: chosen.into_iter().map(|(key, ..)| key).collect(), store: label, save })
        }
        Err(error) => {
            *file = before;
            Err(undo_all(undos, error.into()))
        }
    }
}

/// Removes an entry that has no secret behind it (an orphaned stub), with its route to regcred's
/// helper if it has one; routes to other helpers are theirs and stay.
#[cfg_attr(not(feature = "gui"), allow(dead_code, reason = "used by the window only"))]
pub(crate) fn remove_stub(file: &mut AuthFile, key: &str) -> Result<SaveReport, CredentialsError> {
    with_rollback(file, |file| {
        file.remove_entry(key)?;
        if let Ok(server) = ServerKey::parse(key) {
            let helper_key = file.helper_key(&server);
            if file.cred_helpers().contains(&(helper_key.as_str(), REGCRED_HELPER)) {
                file.set_cred_helper(&helper_key, None);
            }
        }
        Ok(file.save(ConflictPolicy::Refuse)?)
    })
}

/// Adds a stub and a route to regcred's keychain for a keychain item no file refers to.
pub fn adopt(file: &mut AuthFile, server: &ServerKey) -> Result<SaveReport, CredentialsError> {
    if file.kind() == FileKind::LegacyDockercfg {
        return Err(CredentialsError::LegacyHasNoRoutes { path: file.path().to_path_buf() });
    }
    if file.find_key(server).is_none() {
        file.add_entry(server)?;
    }
    route(file, server, REGCRED_HELPER);
    Ok(file.save(ConflictPolicy::Refuse)?)
}

/// Something with half of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Orphan {
    /// An entry without a secret: a stub whose helper has nothing, or a stub with no helper.
    Stub {
        /// The file's format.
        kind: FileKind,
        /// The file.
        path: std::path::PathBuf,
        /// The entry's key.
        key: String,
        /// The helper that has nothing for it, if one is configured.
        helper: Option<String>,
    },
    /// A keychain item no file has an entry for.
    KeychainItem {
        /// The item's server.
        server: String,
        /// The item's user name.
        username: String,
    },
}

impl Orphan {
    /// What is wrong, in words: `docker-credential-pass has no secret for it`, `no file has an
    /// entry for it`.
    pub fn problem(&self) -> String {
        match self {
            Self::Stub { helper: Some(helper), .. } => format!("docker-credential-{helper} has no secret for it"),
            Self::Stub { helper: None, .. } => "no secret and no credential helper".to_owned(),
            Self::KeychainItem { .. } => "no file has an entry for it".to_owned(),
        }
    }

    /// What it is: `entry quay.io in the Docker config.json (PATH)`, `keychain item quay.io (user me)`.
    pub fn subject(&self) -> String {
        match self {
            Self::Stub { kind, path, key, .. } => format!("entry {key} in the {kind} ({})", path.display()),
            Self::KeychainItem { server, username } => format!("keychain item {server} (user {username})"),
        }
    }

    /// The one command that fixes it.
    pub fn fix(&self) -> String {
        match self {
            Self::Stub { key, .. } => format!("regcred logout {key}    # remove the empty entry (or log in again)"),
            Self::KeychainItem { server, .. } => {
                format!(
                    "regcred adopt {server}    # add an entry that uses it (or: regcred logout {server} to erase it)"
                )
            }
        }
    }
}

/// Finds orphans in every loaded file and in regcred's keychain (when it is reachable).
pub fn orphans(
    sources: &Sources,
    open: &StoreOpener<'_>,
    keychain: Option<&KeyringStore>,
) -> Result<Vec<Orphan>, CredentialsError> {
    let mut found = Vec::new();
    let mut referenced: std::collections::HashSet<(String, String)> = std::collections::HashSet::new();
    for source in &sources.files {
        let Some(file) = source.file() else { continue };
        let homes = SecretHomes::new(file);
        for entry in file.entries() {
            if let Some(server) = &entry.server {
                referenced.insert((server.registry().to_owned(), server.scope().to_owned()));
            }
            let orphaned_helper = match homes.of(&entry) {
                SecretHome::Helper { helper, .. } => {
                    let Some(server) = &entry.server else { continue };
                    match open(&helper)?.get(&file.helper_key(server))? {
                        Some(_) => continue,
                        None => Some(helper),
                    }
                }
                SecretHome::Missing if !entry.is_broken() => None,
                SecretHome::Missing | SecretHome::Plaintext => continue,
            };
            found.push(Orphan::Stub {
                kind: source.kind,
                path: source.path.clone(),
                key: entry.key,
                helper: orphaned_helper,
            });
        }
    }
    if let Some(keychain) = keychain {
        for (server, username) in keychain.list()? {
            let known = ServerKey::parse(&server)
                .is_ok_and(|key| referenced.contains(&(key.registry().to_owned(), key.scope().to_owned())));
            if !known {
                found.push(Orphan::KeychainItem { server, username });
            }
        }
    }
    Ok(found)
}

/// A credential from a user name and a password or token.
pub fn credential(username: &str, secret: Secret) -> Credential {
    Credential { username: username.to_owned(), secret }
}
