//! An in-memory [`SecretStore`] for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Credential, KeychainError, SecretStore};

/// Secrets in a map; nothing persists.
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<BTreeMap<String, Credential>>,
}

impl SecretStore for MemoryStore {
    fn label(&self) -> String {
        "in-memory store".to_owned()
    }

    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        Ok(self.items.lock().map(|items| items.get(server).cloned()).unwrap_or_default())
    }

    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        if let Ok(mut items) = self.items.lock() {
            items.insert(server.to_owned(), credential.clone());
        }
        Ok(())
    }

    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        if let Ok(mut items) = self.items.lock() {
            items.remove(server);
        }
        Ok(())
    }

    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        Ok(self
            .items
            .lock()
            .map(|items| items.iter().map(|(k, v)| (k.clone(), v.username.clone())).collect())
            .unwrap_or_default())
    }
}

/// A shared in-memory store, so tests can hand the same store to several openers.
impl SecretStore for std::sync::Arc<MemoryStore> {
    fn label(&self) -> String {
        self.as_ref().label()
    }

    fn get(&self, server: &str) -> Result<Option<Credential>, KeychainError> {
        self.as_ref().get(server)
    }

    fn store(&self, server: &str, credential: &Credential) -> Result<(), KeychainError> {
        self.as_ref().store(server, credential)
    }

    fn erase(&self, server: &str) -> Result<(), KeychainError> {
        self.as_ref().erase(server)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, KeychainError> {
        self.as_ref().list()
    }
}
