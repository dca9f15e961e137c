//! How many pulls run at once: a few per registry host, a few more in all — as a node's runtime
//! does not open hundreds of connections to one registry, and so that a run of hundreds of
//! images (`regcred check`, the window's Test all) neither trips a registry's rate limit nor
//! starves the machine. One limiter, owned by the [`super::Puller`], for every face.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pulls to one registry host at once.
pub(crate) const PER_HOST: usize = 4;
/// Pulls at once in all.
pub(crate) const IN_ALL: usize = 16;

/// The bounds, per host and in all.
#[derive(Debug)]
pub(crate) struct Limits {
    all: Arc<Semaphore>,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Default for Limits {
    fn default() -> Self {
        Self { all: Arc::new(Semaphore::new(IN_ALL)), per_host: Mutex::default() }
    }
}

/// A slot: the pull runs while it is held.
#[derive(Debug)]
pub(crate) struct Slot {
    _host: Option<OwnedSemaphorePermit>,
    _all: Option<OwnedSemaphorePermit>,
}

impl Limits {
    /// Waits for a slot for `host` (the host's first, then one in all).
    pub(crate) async fn acquire(&self, host: &str) -> Slot {
        let host_limit = self
            .per_host
            .lock()
            .map(|mut map| map.entry(host.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(PER_HOST))).clone())
            .ok();
        let host = match host_limit {
            Some(limit) => limit.acquire_owned().await.ok(),
            None => None,
        };
        let all = self.all.clone().acquire_owned().await.ok();
        Slot { _host: host, _all: all }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_host_gets_at_most_its_share_and_others_go_on() {
        let limits = Limits::default();
        let mut held = Vec::new();
        for _ in 0..PER_HOST {
            held.push(limits.acquire("a.example").await);
        }
        let more = tokio::time::timeout(std::time::Duration::from_millis(50), limits.acquire("a.example")).await;
        assert!(more.is_err(), "a fifth pull to one host waits");
        let other = tokio::time::timeout(std::time::Duration::from_secs(5), limits.acquire("b.example")).await;
        assert!(other.is_ok(), "another host is not held up");
        drop(held);
        assert!(tokio::time::timeout(std::time::Duration::from_secs(5), limits.acquire("a.example")).await.is_ok());
    }
}
