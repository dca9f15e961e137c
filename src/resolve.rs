//! Which source answers for an image: the credential helper, the `credsStore`, or an `auths`
//! entry — decided exactly as the Docker CLI (and, for `auth.json`, containers/image) decides,
//! so regcred can say *where* a credential comes from, not only what it is.

use std::collections::HashMap;

use serde::Serialize;

use crate::auth_files::{AuthFile, FileKind, ServerKey, Sources};
use crate::image_ref::ImageRef;
use crate::keychain::{Credential, KeychainError, open_store};

/// How an `auths` key matched the image's registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyMatch {
    /// The key is exactly the lookup key.
    Exact,
    /// Docker's fallback: the key's host (scheme and path stripped) is the registry.
    Hostname,
    /// Podman: a namespace-scoped key (`host/ns`) that covers the image.
    Scope,
    /// Podman: a key that normalizes to the registry (`https://index.docker.io/v1/` → `docker.io`).
    Normalized,
}

/// Where the credential for a registry comes from within one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum CredentialSource {
    /// `credHelpers[key]` routes the registry to `docker-credential-<helper>`.
    CredHelper {
        /// The helper's name.
        helper: String,
        /// The `credHelpers` key that matched.
        key: String,
    },
    /// `credsStore` routes every other registry to `docker-credential-<helper>`.
    CredsStore {
        /// The helper's name.
        helper: String,
    },
    /// An `auths` entry holds it (possibly a stub whose secret is elsewhere or missing).
    Auths {
        /// The matching key.
        key: String,
        /// How it matched.
        matched: KeyMatch,
    },
    /// No credential: the pull is anonymous.
    Nothing,
}

/// The answer of one file for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// The key the tool looks up (`https://index.docker.io/v1/`, `host:port`, `host/ns/repo` …).
    pub lookup_key: String,
    /// Who answers.
    #[serde(flatten)]
    pub source: CredentialSource,
    /// An entry for the same registry under a spelling this tool does not match, if any: a
    /// common reason a credential "is there" yet is not used.
    pub ignored_spelling: Option<String>,
}

impl Resolution {
    /// Whether some source answers (a helper, or an entry).
    pub fn found(&self) -> bool {
        self.source != CredentialSource::Nothing
    }
}

/// Resolves `image` in one file with the rules of the tool that owns its format.
pub(crate) fn resolve_in(file: &AuthFile, image: &ImageRef) -> Resolution {
    match file.kind() {
        FileKind::DockerConfig | FileKind::LegacyDockercfg => resolve_docker(file, image),
        FileKind::ContainersAuth => resolve_podman(file, image),
    }
}

/// Docker CLI: `credHelpers[key]` > `credsStore` > `auths[key]` > `auths` by hostname.
fn resolve_docker(file: &AuthFile, image: &ImageRef) -> Resolution {
    let lookup_key = image.docker_auth_key().to_owned();
    let keys = file.keys();
    let source = if let Some((key, helper)) = file.cred_helpers().into_iter().find(|(k, _)| *k == lookup_key) {
        CredentialSource::CredHelper { helper: helper.to_owned(), key: key.to_owned() }
    } else if let Some(helper) = file.creds_store() {
        CredentialSource::CredsStore { helper: helper.to_owned() }
    } else if keys.contains(&lookup_key) {
        CredentialSource::Auths { key: lookup_key.clone(), matched: KeyMatch::Exact }
    } else if let Some(key) = keys.iter().find(|k| docker_hostname(k) == lookup_key) {
        CredentialSource::Auths { key: key.clone(), matched: KeyMatch::Hostname }
    } else {
        CredentialSource::Nothing
    };
    let ignored_spelling = ignored_spelling(&source, &keys, image.domain());
    Resolution { lookup_key, source, ignored_spelling }
}

/// containers/image: `credHelpers[registry]` > scoped `auths` keys, most specific first >
/// keys that normalize to the registry.
fn resolve_podman(file: &AuthFile, image: &ImageRef) -> Resolution {
    PodmanIndex::new(file).lookup(image.domain(), &image.podman_scopes())
}

/// One file as containers/image reads it (`findCredentialsInFile`), indexed once so that a
/// list of thousands of entries asks it in constant time per entry.
struct PodmanIndex<'a> {
    /// `credHelpers` (not read in the legacy format).
    helpers: HashMap<&'a str, &'a str>,
    /// Every `auths` key, in file order.
    keys: Vec<String>,
    /// The first key (in file order) that normalizes to each registry.
    normalized: HashMap<String, usize>,
    /// The legacy `.dockercfg` format: looked up by registry alone, never by scope.
    legacy: bool,
}

impl<'a> PodmanIndex<'a> {
    fn new(file: &'a AuthFile) -> Self {
        let legacy = file.kind() == FileKind::LegacyDockercfg;
        let helpers = if legacy { HashMap::new() } else { file.cred_helpers().into_iter().rev().collect() };
        let keys = file.keys();
        let mut normalized = HashMap::new();
        for (position, key) in keys.iter().enumerate() {
            normalized.entry(podman_normalized(key, legacy)).or_insert(position);
        }
        Self { helpers, keys, normalized, legacy }
    }

    /// Who answers for `domain`, looked up by `scopes` (most specific first, the registry last).
    fn lookup(&self, domain: &str, scopes: &[String]) -> Resolution {
        let lookup_key = scopes.first().cloned().unwrap_or_default();
        let exact = |wanted: &str| self.keys.iter().find(|key| *key == wanted);
        let scope_hit = if self.legacy {
            exact(domain).map(|key| (key, KeyMatch::Exact))
        } else {
            scopes.iter().find_map(|scope| {
                exact(scope).map(|key| (key, if scope == domain { KeyMatch::Exact } else { KeyMatch::Scope }))
            })
        };
        let source = if let Some(helper) = self.helpers.get(domain) {
            CredentialSource::CredHelper { helper: (*helper).to_owned(), key: domain.to_owned() }
        } else if let Some((key, matched)) = scope_hit {
            CredentialSource::Auths { key: key.clone(), matched }
        } else if let Some(&position) = self.normalized.get(&podman_normalized(domain, false)) {
            CredentialSource::Auths { key: self.keys[position].clone(), matched: KeyMatch::Normalized }
        } else {
            CredentialSource::Nothing
        };
        let ignored_spelling = ignored_spelling(&source, &self.keys, domain);
        Resolution { lookup_key, source, ignored_spelling }
    }
}

/// containers/image's `normalizeAuthFileKey`: the scheme goes, and with it (or in the legacy
/// format) the path; Docker Hub's names become one. Case and a trailing `/` stay: `REG.example.com`
/// and `reg.example.com/` do not match `reg.example.com` for Podman.
fn podman_normalized(key: &str, legacy: bool) -> String {
    let stripped = key.strip_prefix("http://").or_else(|| key.strip_prefix("https://"));
    let host = match stripped {
        Some(rest) => rest.split('/').next().unwrap_or(rest),
        None if legacy => key.split('/').next().unwrap_or(key),
        None => key,
    };
    match host {
        "registry-1.docker.io" | "docker.io" => "index.docker.io".to_owned(),
        other => other.to_owned(),
    }
}

/// Whether containers/image gets a credential from `file` with this answer: a helper answers;
/// an entry only when its `auth` or `identitytoken` is there (it reads no other field: an empty
/// stub, or `username`/`password` alone, sends it on to the next file).
fn podman_gives(file: &AuthFile, resolution: &Resolution) -> bool {
    match &resolution.source {
        CredentialSource::CredHelper { .. } => true,
        CredentialSource::Auths { key, .. } => {
            let entries = match file.kind() {
                FileKind::LegacyDockercfg => Some(file.document()),
                FileKind::DockerConfig | FileKind::ContainersAuth => {
                    file.document().get("auths").and_then(serde_json::Value::as_object)
                }
            };
            let field = |name: &str| {
                entries
                    .and_then(|map| map.get(key))
                    .and_then(|entry| entry.get(name))
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|text| !text.is_empty())
            };
            field("auth") || field("identitytoken")
        }
        CredentialSource::CredsStore { .. } | CredentialSource::Nothing => false,
    }
}

/// One file of Podman's chain and its answer for an image, by containers/image's rules (which
/// Podman and skopeo apply to Docker's files too: no `credsStore`, scoped keys allowed).
#[derive(Debug, Clone, Serialize)]
pub struct ChainAnswer {
    /// Its place in the chain (0: read first).
    pub place: usize,
    /// The file's format.
    pub kind: FileKind,
    /// The file.
    pub path: std::path::PathBuf,
    /// Its answer.
    #[serde(flatten)]
    pub resolution: Resolution,
    /// Whether that answer is a credential (else Podman goes on to the next file).
    pub gives: bool,
    /// The file exists but cannot be read: Podman stops here with an error, reading no further.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What Podman and skopeo decide for an image: every file of their chain that exists, and the
/// one that answers.
#[derive(Debug, Clone, Serialize)]
pub struct PodmanView {
    /// The files, in Podman's order (with `$REGISTRY_AUTH_FILE` set, those after it are read
    /// only by Podman 4.3 and older).
    pub chain: Vec<ChainAnswer>,
    /// The file Podman 4.4+ and skopeo 1.11+ take the credential from.
    pub uses: Option<std::path::PathBuf>,
    /// The file Podman 4.3 and older (containers/image before 5.24) take it from, when that
    /// differs: they go on past `$REGISTRY_AUTH_FILE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older_uses: Option<std::path::PathBuf>,
}

/// Podman's and skopeo's answer for `image`, file by file.
pub fn podman_view(sources: &Sources, image: &ImageRef) -> PodmanView {
    let scopes = image.podman_scopes();
    let chain: Vec<ChainAnswer> = sources
        .podman_order(true)
        .into_iter()
        .filter_map(|(place, source)| {
            let (kind, path) = (source.kind, source.path.clone());
            if let crate::auth_files::SourceStatus::Failed(error) = &source.status {
                let nothing = Resolution {
                    lookup_key: scopes.first().cloned().unwrap_or_default(),
                    source: CredentialSource::Nothing,
                    ignored_spelling: None,
                };
                let error = Some(format!("{error:#}"));
                return Some(ChainAnswer { place, kind, path, resolution: nothing, gives: false, error });
            }
            let file = source.file()?;
            let resolution = PodmanIndex::new(file).lookup(image.domain(), &scopes);
            let gives = podman_gives(file, &resolution);
            Some(ChainAnswer { place, kind, path, resolution, gives, error: None })
        })
        .collect();
    let modern_end = if sources.podman.override_ends { 1 } else { usize::MAX };
    // The first file with a credential answers; a file that cannot be read before it ends the
    // search with an error (Podman fails the pull), so nothing answers.
    let first = |end: usize| {
        chain
            .iter()
            .filter(|a| a.place < end)
            .find(|a| a.gives || a.error.is_some())
            .filter(|a| a.error.is_none())
            .map(|a| a.path.clone())
    };
    let uses = first(modern_end);
    let older_uses = Some(first(usize::MAX)).filter(|older| *older != uses).flatten();
    PodmanView { chain, uses, older_uses }
}

/// For an entry of the file at `path`: the earlier file of Podman's chain whose credential
/// Podman and skopeo use instead for the entry's registry and scope, if one does.
pub struct PodmanShadows<'a> {
    /// The loaded files of the chain (as Podman 4.4+ reads it), indexed.
    files: Vec<(&'a std::path::Path, &'a AuthFile, PodmanIndex<'a>)>,
}

impl<'a> PodmanShadows<'a> {
    /// Indexes every loaded file of `sources`' Podman chain.
    pub fn new(sources: &'a Sources) -> Self {
        let files = sources
            .podman_order(false)
            .into_iter()
            .filter_map(|(_, source)| {
                let file = source.file()?;
                Some((source.path.as_path(), file, PodmanIndex::new(file)))
            })
            .collect();
        Self { files }
    }

    /// The file that answers for `server` before the file at `path`, when the file at `path` is
    /// in the chain.
    pub fn shadowed_by(&self, path: &std::path::Path, server: &ServerKey) -> Option<&'a std::path::Path> {
        let own = self.files.iter().position(|(p, ..)| *p == path)?;
        let key = server.podman_key();
        let scopes: Vec<String> =
            std::iter::successors(Some(key.as_str()), |scope| scope.rfind('/').map(|cut| &scope[..cut]))
                .map(str::to_owned)
                .collect();
        self.files[..own]
            .iter()
            .find(|(_, file, index)| podman_gives(file, &index.lookup(server.registry(), &scopes)))
            .map(|(path, ..)| *path)
    }
}

/// Docker's `ConvertToHostname`: strip `http://`/`https://`, keep up to the first `/`.
fn docker_hostname(key: &str) -> &str {
    let stripped = key.strip_prefix("http://").or_else(|| key.strip_prefix("https://")).unwrap_or(key);
    stripped.split('/').next().unwrap_or(stripped)
}

/// An unmatched key for the same registry, when nothing matched.
fn ignored_spelling(source: &CredentialSource, keys: &[String], domain: &str) -> Option<String> {
    if *source != CredentialSource::Nothing {
        return None;
    }
    keys.iter().find(|key| ServerKey::parse(key).is_ok_and(|k| k.registry() == domain)).cloned()
}

/// The longest helper name shown, in characters.
pub const HELPER_NAME_CAP: usize = 100;

/// Where the secret of an entry lives, as the file's own tool would look for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "home", rename_all = "kebab-case")]
pub enum SecretHome {
    /// A credential helper answers (`credHelpers` for this registry, or `credsStore`).
    Helper {
        /// The helper's name (`docker-credential-<name>`).
        helper: String,
        /// Whether `credHelpers` (rather than `credsStore`) routes it.
        per_registry: bool,
        /// Whether the entry also holds a plaintext credential, which the tool then ignores.
        plaintext_ignored: bool,
    },
    /// The credential is in the file itself, base64-encoded but not encrypted.
    Plaintext,
    /// A stub with no credential and no helper behind it.
    Missing,
}

impl SecretHome {
    /// Short words for lists: `keychain`, `helper ecr-login`, `plaintext`, `missing` (each face
    /// adds its own marks, such as a warning glyph for plaintext). The helper's name comes from a
    /// credential file: it is shown inert.
    pub fn label(&self) -> String {
        match self {
            Self::Helper { helper, .. } if helper == crate::keychain::REGCRED_HELPER => "keychain".to_owned(),
            Self::Helper { helper, .. } => format!("helper {}", crate::untrusted::inert(helper, HELPER_NAME_CAP)),
            Self::Plaintext => "plaintext".to_owned(),
            Self::Missing => "missing".to_owned(),
        }
    }

    /// Whether the secret is readable by anyone who can read the file.
    pub fn is_plaintext(&self) -> bool {
        *self == Self::Plaintext
    }
}

/// Where the secret for `entry_key` of `file` lives.
pub(crate) fn secret_home(file: &AuthFile, entry_key: &str) -> SecretHome {
    let has_secret = file.entry_alone(entry_key).is_some_and(|entry| !entry.is_stub());
    home_for(file, entry_key, has_secret)
}

/// The secret homes of every entry of one file: `credHelpers` is indexed once, so a list of all
/// entries costs time linear in the file (20,000 entries in milliseconds), not quadratic.
pub struct SecretHomes<'a> {
    file: &'a AuthFile,
    /// `credHelpers` by exact key: (position in the file, helper).
    by_key: HashMap<&'a str, (usize, &'a str)>,
    /// `credHelpers` by registry and scope, first in file order.
    by_target: HashMap<(String, String), (usize, &'a str)>,
}

impl<'a> SecretHomes<'a> {
    /// Indexes `file`'s routes.
    pub fn new(file: &'a AuthFile) -> Self {
        let mut by_key = HashMap::new();
        let mut by_target = HashMap::new();
        for (position, (key, helper)) in file.cred_helpers().into_iter().enumerate() {
            by_key.entry(key).or_insert((position, helper));
            if let Ok(server) = ServerKey::parse(key) {
                by_target.entry(target(&server)).or_insert((position, helper));
            }
        }
        Self { file, by_key, by_target }
    }

    /// Where the secret of `entry` lives (as `secret_home`, from an index built once).
    pub fn of(&self, entry: &crate::auth_files::Entry) -> SecretHome {
        let exact = self.by_key.get(entry.key.as_str()).copied();
        let same = entry.server.as_ref().and_then(|server| self.by_target.get(&target(server)).copied());
        let route = match (exact, same) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        home_from(self.file, route.map(|(_, helper)| helper), !entry.is_stub())
    }
}

fn target(server: &ServerKey) -> (String, String) {
    (server.registry().to_owned(), server.scope().to_owned())
}

fn home_for(file: &AuthFile, entry_key: &str, has_secret: bool) -> SecretHome {
    let registry = ServerKey::parse(entry_key).ok();
    let helper_key = |k: &str| {
        k == entry_key || registry.as_ref().is_some_and(|r| ServerKey::parse(k).is_ok_and(|h| h.same_target(r)))
    };
    let per_registry = file.cred_helpers().into_iter().find(|(k, _)| helper_key(k));
    home_from(file, per_registry.map(|(_, helper)| helper), has_secret)
}

/// The home, given the entry's `credHelpers` route (if any).
fn home_from(file: &AuthFile, per_registry: Option<&str>, has_secret: bool) -> SecretHome {
    let store = match file.kind() {
        FileKind::DockerConfig => file.creds_store(),
        FileKind::LegacyDockercfg | FileKind::ContainersAuth => None,
    };
    match (per_registry, store) {
        (Some(helper), _) => {
            SecretHome::Helper { helper: helper.to_owned(), per_registry: true, plaintext_ignored: has_secret }
        }
        (None, Some(helper)) => {
            SecretHome::Helper { helper: helper.to_owned(), per_registry: false, plaintext_ignored: has_secret }
        }
        (None, None) if has_secret => SecretHome::Plaintext,
        (None, None) => SecretHome::Missing,
    }
}

/// A credential fetched from wherever it lives, with where that was.
#[derive(Debug, Clone)]
pub struct FoundCredential {
    /// The file that routed to it.
    pub kind: FileKind,
    /// That file's path.
    pub path: std::path::PathBuf,
    /// The registry key (the entry's key, or the key the helper was asked for).
    pub key: String,
    /// The user name and password (or token).
    pub credential: Credential,
    /// The entry's email, if any.
    pub email: Option<String>,
    /// Where the secret came from.
    pub home: SecretHome,
}

/// Why no credential could be fetched for a registry.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No file has an entry or a helper route for the registry.
    #[error("no credential for {0} in any credential file")]
    NotFound(String),
    /// The entry is a stub and no helper answers for it.
    #[error("the entry {key:?} has no secret: it is a stub and no credential helper is configured for it")]
    NoSecret {
        /// The entry's key.
        key: String,
    },
    /// The entry is broken.
    #[error("the entry {key:?} cannot be used: {problem}")]
    Broken {
        /// The entry's key.
        key: String,
        /// The first problem.
        problem: String,
    },
    /// The helper has nothing for the registry.
    #[error("docker-credential-{helper} has no credential for {key:?}")]
    HelperEmpty {
        /// The helper.
        helper: String,
        /// The key asked for.
        key: String,
    },
    /// The helper failed (missing, locked keychain …).
    #[error(transparent)]
    Keychain(#[from] KeychainError),
}

/// Fetches the credential for `server` from the first file (Docker, legacy, Podman) that has an
/// entry or a helper route for it, asking the helper when the file routes to one.
pub fn fetch_credential(sources: &Sources, server: &ServerKey) -> Result<FoundCredential, FetchError> {
    fetch_credential_with(sources, server, &open_store)
}

/// [`fetch_credential`], with the stores behind `open` (the window's, a test's).
pub(crate) fn fetch_credential_with(
    sources: &Sources,
    server: &ServerKey,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<FoundCredential, FetchError> {
    fetch_credential_from(sources, None, server, open)
}

/// [`fetch_credential_with`], asking the file at `first` before the others: the window's file on
/// screen, whose entry is the one a row's test, its login check and its Secret mean.
pub(crate) fn fetch_credential_from(
    sources: &Sources,
    first: Option<&std::path::Path>,
    server: &ServerKey,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<FoundCredential, FetchError> {
    let Some(located) = locate(sources, first, server) else { return Err(FetchError::NotFound(server.to_string())) };
    let Located { source, key, home, entry } = located;
    let file = source.file().ok_or_else(|| FetchError::NotFound(server.to_string()))?;
    let email = entry.as_ref().and_then(|e| e.email.clone());
    let (username, password) = match (&home, entry) {
        (SecretHome::Helper { helper, .. }, _) => {
            let lookup = if file.kind() == FileKind::ContainersAuth {
                server.registry().to_owned()
            } else {
                server.docker_key()
            };
            let store = open(helper)?;
            let credential = store
                .get(&lookup)?
                .ok_or_else(|| FetchError::HelperEmpty { helper: helper.clone(), key: lookup.clone() })?;
            (credential.username, credential.secret)
        }
        (_, Some(entry)) if entry.is_broken() => {
            let problem = entry.problems.first().map(ToString::to_string).unwrap_or_default();
            return Err(FetchError::Broken { key, problem });
        }
        (SecretHome::Plaintext, Some(entry)) => match (entry.username.clone(), entry.password.clone()) {
            (Some(username), Some(password)) => (username, password),
            // An identity token (`docker login` to an OAuth2 registry) travels as Docker's
            // credential helpers hand it over: user `<token>`, the token as the secret.
            _ => match entry.identity_token.clone() {
                Some(token) => (crate::keychain::IDENTITY_TOKEN_USERNAME.to_owned(), token),
                None => return Err(FetchError::NoSecret { key }),
            },
        },
        _ => return Err(FetchError::NoSecret { key }),
    };
    let credential = Credential { username, secret: password };
    Ok(FoundCredential { kind: source.kind, path: source.path.clone(), key, credential, email, home })
}

/// Where a registry's credential is, without reading it.
struct Located<'a> {
    source: &'a crate::auth_files::SourceFile,
    key: String,
    home: SecretHome,
    entry: Option<crate::auth_files::Entry>,
}

/// The first file (`first`, then Docker, legacy, Podman) with an entry or a helper route for
/// `server`.
fn locate<'a>(sources: &'a Sources, first: Option<&std::path::Path>, server: &ServerKey) -> Option<Located<'a>> {
    let preferred = sources.files.iter().filter(|source| Some(source.path.as_path()) == first);
    let others = sources.files.iter().filter(|source| Some(source.path.as_path()) != first);
    preferred.chain(others).find_map(|source| {
        let file = source.file()?;
        let entry = file.find_key(server).and_then(|key| file.entry(&key));
        let key = entry.as_ref().map_or_else(|| server.docker_key(), |e| e.key.clone());
        let home = match &entry {
            Some(_) => secret_home(file, &key),
            None => match secret_home(file, &server.docker_key()) {
                home @ SecretHome::Helper { .. } => home,
                SecretHome::Plaintext | SecretHome::Missing => return None,
            },
        };
        Some(Located { source, key, home, entry })
    })
}

/// One file's answer, for [`resolve_all`].
#[derive(Debug, Clone, Serialize)]
pub struct FileResolution {
    /// The file's format.
    pub kind: FileKind,
    /// The file.
    pub path: std::path::PathBuf,
    /// Its answer.
    #[serde(flatten)]
    pub resolution: Resolution,
}

/// Every loaded file's answer by the rules of the tool that owns its format, in the [`Sources`]
/// order (Docker, legacy, Podman); [`podman_view`] reads them as Podman does.
pub fn resolve_all(sources: &Sources, image: &ImageRef) -> Vec<FileResolution> {
    sources
        .files
        .iter()
        .filter_map(|source| {
            let file = source.file()?;
            Some(FileResolution { kind: source.kind, path: source.path.clone(), resolution: resolve_in(file, image) })
        })
        .collect()
}

/// Which file's answer the Docker CLI uses: `config.json` when it exists, else `.dockercfg`.
pub fn docker_choice(answers: &[FileResolution]) -> Option<&FileResolution> {
    answers
        .iter()
        .find(|a| a.kind == FileKind::DockerConfig)
        .or_else(|| answers.iter().find(|a| a.kind == FileKind::LegacyDockercfg))
}

#[cfg(test)]
mod tests {
    use super::{CredentialSource, KeyMatch, resolve_in};
    use crate::auth_files::{AuthFile, FileKind};
    use crate::image_ref::ImageRef;

    fn docker(json: &str) -> AuthFile {
        AuthFile::from_bytes(FileKind::DockerConfig, json.as_bytes()).unwrap()
    }

    #[test]
    fn docker_precedence() {
        let file = docker(
            r#"{"auths":{"https://index.docker.io/v1/":{},"https://reg.example.com/v1/":{}},
               "credHelpers":{"123.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}"#,
        );
        let ecr = ImageRef::parse("123.dkr.ecr.us-east-1.amazonaws.com/app").unwrap();
        assert_eq!(
            resolve_in(&file, &ecr).source,
            CredentialSource::CredHelper {
                helper: "ecr-login".into(),
                key: "123.dkr.ecr.us-east-1.amazonaws.com".into()
            }
        );
        let hub = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            resolve_in(&file, &hub).source,
            CredentialSource::Auths { key: "https://index.docker.io/v1/".into(), matched: KeyMatch::Exact }
        );
        let legacy_key = ImageRef::parse("reg.example.com/team/app").unwrap();
        assert_eq!(
            resolve_in(&file, &legacy_key).source,
            CredentialSource::Auths { key: "https://reg.example.com/v1/".into(), matched: KeyMatch::Hostname }
        );
        let with_store = docker(r#"{"auths":{"reg.example.com":{}},"credsStore":"desktop"}"#);
        assert_eq!(
            resolve_in(&with_store, &legacy_key).source,
            CredentialSource::CredsStore { helper: "desktop".into() }
        );
    }

    #[test]
    fn an_identity_token_is_handed_over_as_docker_helpers_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths":{"reg.example.com":{"auth":"","identitytoken":"refresh-me"}}}"#).unwrap();
        let sources = crate::auth_files::Sources {
            files: vec![crate::auth_files::SourceFile::load(FileKind::DockerConfig, &path)],
            podman: crate::auth_files::PodmanChain::default(),
        };
        let server = crate::auth_files::ServerKey::parse("reg.example.com").unwrap();
        let found = super::fetch_credential(&sources, &server).unwrap();
        assert_eq!(found.credential.username, crate::registry::authorizer::IDENTITY_TOKEN_USER);
        assert_eq!(found.credential.secret.expose(), "refresh-me");
    }

    #[test]
    fn docker_ignores_hub_spellings_it_does_not_match() {
        let file = docker(r#"{"auths":{"docker.io":{"auth":"dTpw"}}}"#);
        let answer = resolve_in(&file, &ImageRef::parse("nginx").unwrap());
        assert_eq!(answer.source, CredentialSource::Nothing);
        assert_eq!(answer.ignored_spelling.as_deref(), Some("docker.io"));
    }

    #[test]
    fn podman_scopes_most_specific_first() {
        let file = AuthFile::from_bytes(
            FileKind::ContainersAuth,
            br#"{"auths":{"quay.io":{},"quay.io/team":{},"https://index.docker.io/v1/":{}},"credHelpers":{"gcr.io":"gcloud"}}"#,
        )
        .unwrap();
        let team = ImageRef::parse("quay.io/team/app").unwrap();
        assert_eq!(
            resolve_in(&file, &team).source,
            CredentialSource::Auths { key: "quay.io/team".into(), matched: KeyMatch::Scope }
        );
        let other = ImageRef::parse("quay.io/other/app").unwrap();
        assert_eq!(
            resolve_in(&file, &other).source,
            CredentialSource::Auths { key: "quay.io".into(), matched: KeyMatch::Exact }
        );
        let hub = ImageRef::parse("busybox").unwrap();
        assert_eq!(
            resolve_in(&file, &hub).source,
            CredentialSource::Auths { key: "https://index.docker.io/v1/".into(), matched: KeyMatch::Normalized }
        );
        let gcr = ImageRef::parse("gcr.io/p/app").unwrap();
        assert!(matches!(resolve_in(&file, &gcr).source, CredentialSource::CredHelper { .. }));
    }
}

/// Where a test pull's credential came from, in the words every face shows
/// (`tested with: unsaved draft`, `keychain item`, `helper pass`, `plaintext entry`, `anonymous`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum TestedWith {
    /// The editor's credential, not saved yet.
    UnsavedDraft,
    /// What a file holds for the registry.
    Saved {
        /// Where its secret lives.
        home: SecretHome,
        /// The file's format.
        kind: FileKind,
        /// The file.
        path: std::path::PathBuf,
    },
    /// No credential: the pull is anonymous.
    Anonymous,
}

impl TestedWith {
    /// `unsaved draft`, `keychain item`, `helper pass`, `plaintext entry`, `anonymous`.
    pub fn describe(&self) -> String {
        match self {
            Self::UnsavedDraft => "unsaved draft".to_owned(),
            Self::Saved { home: SecretHome::Plaintext, .. } => "plaintext entry".to_owned(),
            Self::Saved { home, .. } if home.label() == "keychain" => "keychain item".to_owned(),
            Self::Saved { home, .. } => home.label(),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }

    /// [`TestedWith::describe`] with the file it came from, for reports.
    pub fn describe_with_file(&self) -> String {
        match self {
            Self::Saved { kind, path, .. } => format!("{} from {kind} {}", self.describe(), path.display()),
            other => other.describe(),
        }
    }
}

/// A credential being edited: the registry it belongs to, the credential, and whether it differs
/// from what is saved.
pub struct DraftCredential<'a> {
    /// Its registry.
    pub server: &'a ServerKey,
    /// The credential (none while the editor lacks a user name or secret).
    pub credential: Option<&'a crate::keychain::Credential>,
    /// Whether it is not saved yet.
    pub unsaved: bool,
}

/// Which credential a test pull of `image` would send, said without reading any secret (for a
/// hint while typing): see [`test_credential`].
#[cfg_attr(not(feature = "gui"), allow(dead_code, reason = "used by the window only"))]
pub(crate) fn tested_with(
    sources: &Sources,
    first: Option<&std::path::Path>,
    image: &ImageRef,
    draft: Option<&DraftCredential<'_>>,
) -> TestedWith {
    let Ok(registry) = ServerKey::parse(image.domain()) else { return TestedWith::Anonymous };
    if let Some(draft) = draft.filter(|d| d.server.registry() == registry.registry() && d.server.scope().is_empty())
        && draft.unsaved
    {
        return if draft.credential.is_some() { TestedWith::UnsavedDraft } else { TestedWith::Anonymous };
    }
    match locate(sources, first, &registry) {
        Some(located) => {
            TestedWith::Saved { home: located.home, kind: located.source.kind, path: located.source.path.clone() }
        }
        None => TestedWith::Anonymous,
    }
}

/// The credential a test pull of `image` sends, chosen as the runtime would choose it: only a
/// credential of the image's own registry, never another's — the draft when the image's
/// registry is the draft's, else what the files hold for that registry, else none.
pub fn test_credential(
    sources: &Sources,
    image: &ImageRef,
    draft: Option<&DraftCredential<'_>>,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<(Option<crate::keychain::Credential>, TestedWith), FetchError> {
    test_credential_from(sources, None, image, draft, open)
}

/// [`test_credential`], asking the file at `first` before the others (the window's file on
/// screen).
pub(crate) fn test_credential_from(
    sources: &Sources,
    first: Option<&std::path::Path>,
    image: &ImageRef,
    draft: Option<&DraftCredential<'_>>,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<(Option<crate::keychain::Credential>, TestedWith), FetchError> {
    let Ok(registry) = ServerKey::parse(image.domain()) else { return Ok((None, TestedWith::Anonymous)) };
    if let Some(draft) = draft.filter(|d| d.server.registry() == registry.registry() && d.server.scope().is_empty())
        && (draft.unsaved || draft.credential.is_some())
    {
        let Some(credential) = draft.credential else { return Ok((None, TestedWith::Anonymous)) };
        if draft.unsaved {
            return Ok((Some(credential.clone()), TestedWith::UnsavedDraft));
        }
    }
    match fetch_credential_from(sources, first, &registry, open) {
        Ok(found) => {
            let credential = found.credential;
            Ok((Some(credential), TestedWith::Saved { home: found.home, kind: found.kind, path: found.path }))
        }
        Err(FetchError::NotFound(_)) => Ok((None, TestedWith::Anonymous)),
        Err(error) => Err(error),
    }
}

/// The pull-Secret entry for `server`: its credential from wherever it lives, under the key it has
/// in its file — what `regcred yaml` and the window's YAML panel both put in a Secret.
pub fn registry_auth(
    sources: &Sources,
    server: &ServerKey,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<crate::pull_secret::RegistryAuth, FetchError> {
    registry_auth_from(sources, None, server, open)
}

/// [`registry_auth`], asking the file at `first` before the others (the window's file on screen).
pub(crate) fn registry_auth_from(
    sources: &Sources,
    first: Option<&std::path::Path>,
    server: &ServerKey,
    open: &crate::keychain::StoreOpener<'_>,
) -> Result<crate::pull_secret::RegistryAuth, FetchError> {
    let found = fetch_credential_from(sources, first, server, open)?;
    Ok(crate::pull_secret::RegistryAuth { server: found.key, credential: found.credential, email: found.email })
}
