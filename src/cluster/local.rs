//! Your own credentials, standing in for a cluster's pull Secrets that cannot be read — read only
//! then: reading them may ask the keychain, which can be slow, locked or stopped.

use std::sync::Arc;

use crate::kubelet::Keyring;

/// How to read your local credentials when they are needed (never before).
#[derive(Clone)]
pub struct LocalCredentials(Arc<dyn Fn() -> Option<Keyring> + Send + Sync>);

impl LocalCredentials {
    /// `read` gives the keyring, or none when the credentials cannot be read; it may block (it
    /// runs on a blocking thread).
    pub fn new(read: impl Fn() -> Option<Keyring> + Send + Sync + 'static) -> Self {
        Self(Arc::new(read))
    }

    /// Reads them, off the async threads.
    pub(crate) async fn read(&self) -> Option<Keyring> {
        let read = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || read()).await.ok().flatten()
    }
}

impl std::fmt::Debug for LocalCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalCredentials(read when needed)")
    }
}
