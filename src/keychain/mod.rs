//! Where secrets live outside the files: the [`SecretStore`] trait and its homes.
//!
//! * `HelperStore` speaks the Docker credential-helper protocol to any
//!   `docker-credential-NAME` on `PATH` (`secretservice`, `pass`, `osxkeychain`, `wincred`,
//!   `desktop`, `ecr-login`, `gcloud`, `regcred` …).
//! * [`KeyringStore`] is regcred's own: the OS keychain (Secret Service with Docker's schema,
//!   macOS Keychain, Windows Credential Manager). `docker-credential-regcred` serves it to
//!   Docker, Podman and skopeo.
//! * [`MemoryStore`] keeps secrets in memory, for unit tests only.

mod deadline;
mod helper;
mod helper_server;
mod memory;
mod os_store;

use std::collections::BTreeMap;

pub use deadline::deadline as keychain_deadline;
pub(crate) use helper::HelperStore;
pub use helper::find_helper;
pub use helper_server::{HelperReply, serve};
pub use memory::MemoryStore;
pub use os_store::{KeychainState, KeyringStore};

use crate::secret::Secret;

/// The helper name that routes a registry to regcred's keychain (`docker-credential-regcred`).
pub const REGCRED_HELPER: &str = "regcred";

/// The store behind a helper name: regcred's own keychain in-process for `regcred`, else the
/// helper program. A configured helper that is missing is an error, never a fallback.
pub fn open_store(helper: &str) -> Result<Box<dyn SecretStore>, KeychainError> {
    if helper == REGCRED_HELPER {
        return Ok(Box::new(KeyringStore::open()?));
    }
    Ok(Box::new(HelperStore::new(helper)?))
}

/// Opens the store behind a helper name. Production code passes [`open_store`]; tests pass
/// stores of their own.
pub(crate) type StoreOpener<'a> = dyn Fn(&str) -> Result<Box<dyn SecretStore>, KeychainError> + 'a;

/// The user name helpers use to mark an identity token instead of a password.
pub(crate) const IDENTITY_TOKEN_USERNAME: &str = "<token>";

/// A credential as stored for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The user name (`<token>` for an identity token).
    pub username: String,
    /// The password or token.
    pub secret: Secret,
}

/// Why a store could not answer. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// `docker-credential-NAME` is not on `PATH`. Never a reason to look elsewhere.
    #[error("the credential helper docker-credential-{name} is configured but not installed (not found on PATH)")]
    HelperMissing {
        /// The helper's name.
        name: String,
    },
    /// The helper ran but failed.
    #[error("docker-credential-{name} {action} failed: {message}")]
    HelperFailed {
        /// The helper's name.
        name: String,
        /// `get`, `store`, `erase` or `list`.
        action: &'static str,
        /// What it printed (its error line), or how it ended.
        message: String,
    },
    /// The helper did not answer in time and was stopped.
    #[error("docker-credential-{name} {action} did not answer within {seconds} s and was stopped")]
    HelperTimeout {
        /// The helper's name.
        name: String,
        /// The action.
        action: &'static str,
        /// The limit.
        seconds: u64,
    },
    /// The helper answered something that is not the protocol's JSON.
    #[error("docker-credential-{name} {action} answered something that is not valid protocol JSON")]
    HelperProtocol {
        /// The helper's name.
        name: String,
        /// The action.
        action: &'static str,
    },
    /// The keychain is locked; nothing was read or written.
    #[error("the keychain is locked: unlock it (for example by logging in to the desktop) and try again ({message})")]
    Locked {
        /// The keychain's own words.
        message: String,
    },
    /// The keychain cannot be reached (no Secret Service, no session bus …).
    #[error(
        "the OS keychain is not available ({message}); start it (GNOME Keyring, KeePassXC, KWallet), or keep the secret elsewhere: `regcred login --store file` (plaintext) or `--store helper:NAME`"
    )]
    Unavailable {
        /// The keychain's own words.
        message: String,
    },
    /// The OS keychain did not answer in time (its daemon stopped or hung, a bus that never
    /// answers, an unlock prompt nobody answered). Nothing was stored anywhere else instead.
    #[error(
        "the OS keychain did not answer within {seconds} s{}; regcred stopped waiting and stored nothing anywhere else (set REGCRED_KEYCHAIN_TIMEOUT=SECONDS to wait longer, e.g. for an unlock prompt)",
        if *earlier { " (an earlier request to it is still unanswered)" } else { " (is its daemon stopped or hung?)" }
    )]
    Timeout {
        /// The deadline.
        seconds: u64,
        /// Whether this call was refused at once because an earlier one is still hanging.
        earlier: bool,
    },
    /// Starting or talking to the helper failed.
    #[error("cannot run docker-credential-{name}: {source}")]
    HelperIo {
        /// The helper's name.
        name: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A place that holds secrets by server.
pub trait SecretStore {
    /// What to call this store in messages (`docker-credential-secretservice`, `keychain`).
    fn label(&self) -> String;
    /// The credential for `server`, or `None` when there is none.
    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError>;
    /// Stores (replaces) the credential for `server`.
    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError>;
    /// Erases the credential for `server`; erasing a missing one is not an error.
    fn erase(&self, server: &str) -> Result<(), KeychainError>;
    /// Every server with its user name.
    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError>;
}
