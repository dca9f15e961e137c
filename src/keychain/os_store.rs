//! regcred's own home for secrets: the OS keychain through keyring-core.
//!
//! On Linux (Secret Service) items carry Docker's schema — label = server, attributes
//! `server`, `username`, `docker_cli=1`, `label=Docker Credentials`,
//! `xdg:schema=io.docker.Credentials` — so `docker-credential-secretservice` reads what regcred
//! writes and regcred finds what that helper wrote (by attribute search). Elsewhere (macOS
//! Keychain, Windows Credential Manager) an item per server holds the user name and secret.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use super::{Credential, KeychainError, SecretStore, deadline};
use crate::secret::Secret;

/// The OS keychain. Every call runs within a deadline (`super::deadline`).
pub struct KeyringStore {
    raw: RawKeychain,
}

/// The keychain calls themselves, without deadlines (cheap to clone onto a worker thread).
#[derive(Clone)]
struct RawKeychain {
    store: Arc<CredentialStore>,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyringStore")
    }
}

/// The keychain's state, for the window's status line and `regcred keychain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeychainState {
    /// Reachable and unlocked.
    Available,
    /// Reachable but locked (or no default collection exists yet).
    Locked(String),
    /// Not reachable (no Secret Service, no session bus, unsupported platform).
    Absent(String),
    /// Reachable but not answering within the deadline (a stopped or hung daemon).
    NotAnswering(String),
}

fn keyring_error(error: &keyring_core::Error) -> KeychainError {
    match error {
        keyring_core::Error::NoStorageAccess(_) => {
            KeychainError::Locked { message: error.to_string().lines().next().unwrap_or_default().to_owned() }
        }
        other => {
            KeychainError::Unavailable { message: other.to_string().lines().next().unwrap_or_default().to_owned() }
        }
    }
}

#[cfg(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(unix, target_os = "windows")))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore("this platform has no supported keychain".to_owned()))
}

/// Whether items follow Docker's Secret Service schema (Linux) or one item per server.
const DOCKER_SCHEMA: bool = cfg!(all(unix, not(any(target_os = "macos", target_os = "ios", target_os = "android"))));
/// Service prefix of items on platforms without Docker's schema.
const SERVICE_PREFIX: &str = "regcred:";

impl KeyringStore {
    /// Connects to the OS keychain. Fails fast (no hang) when it is absent, and within the
    /// deadline when it does not answer.
    pub fn open() -> Result<Self, KeychainError> {
        let store = deadline::run(|| platform_store().map_err(|e| keyring_error(&e)))?;
        Ok(Self { raw: RawKeychain { store } })
    }

    /// Whether the keychain is usable now: a listing succeeds only when it is unlocked.
    pub fn state() -> KeychainState {
        match Self::open().and_then(|store| store.list()) {
            Ok(_) => KeychainState::Available,
            Err(KeychainError::Locked { message }) => KeychainState::Locked(message),
            Err(timeout @ KeychainError::Timeout { .. }) => KeychainState::NotAnswering(timeout.to_string()),
            Err(other) => KeychainState::Absent(other.to_string()),
        }
    }

    /// Runs one call on the raw keychain within the deadline.
    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&RawKeychain) -> Result<T, KeychainError> + Send + 'static,
    ) -> Result<T, KeychainError> {
        let raw = self.raw.clone();
        deadline::run(move || work(&raw))
    }
}

impl SecretStore for KeyringStore {
    fn label(&self) -> String {
        "the OS keychain".to_owned()
    }

    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        let server = server.to_owned();
        self.call(move |raw| raw.get(&server))
    }

    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        let (server, credential) = (server.to_owned(), credential.clone());
        self.call(move |raw| raw.store(&server, &credential))
    }

    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        let server = server.to_owned();
        self.call(move |raw| raw.erase(&server))
    }

    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        self.call(RawKeychain::list)
    }
}

impl RawKeychain {
    fn docker_items(&self, server: Option<&str>) -> Result<Vec<Entry>, KeychainError> {
        let mut spec = HashMap::from([("docker_cli", "1")]);
        if let Some(server) = server {
            spec.insert("server", server);
        }
        Entry::search_in_store(&self.store, &spec).map_err(|e| keyring_error(&e))
    }

    fn plain_entry(&self, server: &str) -> Result<Entry, KeychainError> {
        Entry::new_in_store(&self.store, &format!("{SERVICE_PREFIX}{server}"), "docker-credential-regcred")
            .map_err(|e| keyring_error(&e))
    }

    fn create_docker_item(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        let modifiers = HashMap::from([("label", server)]);
        let entry = Entry::new_in_store_with_modifiers(&self.store, server, &credential.username, &modifiers)
            .map_err(|e| keyring_error(&e))?;
        entry.set_password(credential.secret.expose()).map_err(|e| keyring_error(&e))?;
        let attributes = HashMap::from([
            ("server", server),
            ("docker_cli", "1"),
            ("label", "Docker Credentials"),
            ("xdg:schema", "io.docker.Credentials"),
        ]);
        if let Err(error) = entry.update_attributes(&attributes) {
            // Without Docker's attributes the item could never be found again: remove it.
            let _ = entry.delete_credential();
            return Err(keyring_error(&error));
        }
        Ok(())
    }

    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        if !DOCKER_SCHEMA {
            let entry = self.plain_entry(server)?;
            return match entry.get_password() {
                Ok(payload) => Ok(Some(decode_payload(&Zeroizing::new(payload))?)),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(error) => Err(keyring_error(&error)),
            };
        }
        let Some(item) = self.docker_items(Some(server))?.into_iter().next() else { return Ok(None) };
        let secret = Secret::new(item.get_password().map_err(|e| keyring_error(&e))?);
        let attributes = item.get_attributes().map_err(|e| keyring_error(&e))?;
        let username = attributes.get("username").cloned().unwrap_or_default();
        Ok(Some(Credential { username, secret }))
    }

    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        if !DOCKER_SCHEMA {
            let payload = encode_payload(credential);
            return self.plain_entry(server)?.set_password(&payload).map_err(|e| keyring_error(&e));
        }
        let items = self.docker_items(Some(server))?;
        let Some((first, duplicates)) = items.split_first() else {
            return self.create_docker_item(server, credential);
        };
        first.set_password(credential.secret.expose()).map_err(|e| keyring_error(&e))?;
        first
            .update_attributes(&HashMap::from([("username", credential.username.as_str())]))
            .map_err(|e| keyring_error(&e))?;
        for duplicate in duplicates {
            duplicate.delete_credential().map_err(|e| keyring_error(&e))?;
        }
        Ok(())
    }

    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        if !DOCKER_SCHEMA {
            return match self.plain_entry(server)?.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(error) => Err(keyring_error(&error)),
            };
        }
        for item in self.docker_items(Some(server))? {
            item.delete_credential().map_err(|e| keyring_error(&e))?;
        }
        Ok(())
    }

    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        if !DOCKER_SCHEMA {
            let spec =
                if cfg!(target_os = "windows") { HashMap::from([("pattern", "^regcred:")]) } else { HashMap::new() };
            let entries = Entry::search_in_store(&self.store, &spec).map_err(|e| keyring_error(&e))?;
            let mut listing = BTreeMap::new();
            for entry in entries {
                let Some((service, _)) = entry.get_specifiers() else { continue };
                let Some(server) = service.strip_prefix(SERVICE_PREFIX) else { continue };
                if let Ok(payload) = entry.get_password() {
                    listing.insert(server.to_owned(), decode_payload(&Zeroizing::new(payload))?.username);
                }
            }
            return Ok(listing);
        }
        let mut listing = BTreeMap::new();
        for item in self.docker_items(None)? {
            let attributes = item.get_attributes().map_err(|e| keyring_error(&e))?;
            if let Some(server) = attributes.get("server") {
                listing.insert(server.clone(), attributes.get("username").cloned().unwrap_or_default());
            }
        }
        Ok(listing)
    }
}

fn encode_payload(credential: &Credential) -> Zeroizing<String> {
    let value = serde_json::json!({ "Username": credential.username, "Secret": credential.secret.expose() });
    Zeroizing::new(value.to_string())
}

fn decode_payload(payload: &str) -> Result<Credential, KeychainError> {
    let value: serde_json::Value = serde_json::from_str(payload)
        .map_err(|_| KeychainError::Unavailable { message: "a keychain item is not regcred's format".to_owned() })?;
    Ok(Credential {
        username: value["Username"].as_str().unwrap_or_default().to_owned(),
        secret: Secret::new(value["Secret"].as_str().unwrap_or_default()),
    })
}
