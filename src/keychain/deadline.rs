//! Deadlines for calls into the OS keychain.
//!
//! The Secret Service is a D-Bus daemon: when it is stopped (SIGSTOP), hung, or the bus accepts
//! and never answers, a call would wait forever. Every keychain call therefore runs on a named
//! thread of its own and is given up after [`deadline`]; the caller gets
//! [`KeychainError::Timeout`] and nothing is stored anywhere else instead. While a given-up call
//! is still hanging, further calls fail at once rather than pile up behind it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use super::KeychainError;

/// How long a keychain call may take unless `REGCRED_KEYCHAIN_TIMEOUT` says otherwise: a healthy
/// keychain answers in milliseconds, a locked one refuses at once.
const DEFAULT_SECONDS: u64 = 5;

/// Calls given up on whose threads have not returned yet.
static HANGING: AtomicUsize = AtomicUsize::new(0);

/// Where a call stands, shared by the caller and the thread doing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Progress {
    Running,
    GivenUp,
    Done,
}

/// The deadline of one keychain call: `REGCRED_KEYCHAIN_TIMEOUT` seconds (1–3600), else 5 s.
pub fn deadline() -> Duration {
    let configured = std::env::var("REGCRED_KEYCHAIN_TIMEOUT").ok().and_then(|text| text.trim().parse::<u64>().ok());
    Duration::from_secs(configured.filter(|seconds| (1..=3600).contains(seconds)).unwrap_or(DEFAULT_SECONDS))
}

/// Runs `work` (one keychain call) within [`deadline`].
pub(super) fn run<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    run_within(deadline(), work)
}

fn run_within<T: Send + 'static>(
    limit: Duration,
    work: impl FnOnce() -> Result<T, KeychainError> + Send + 'static,
) -> Result<T, KeychainError> {
    let timeout = |earlier| KeychainError::Timeout { seconds: limit.as_secs(), earlier };
    if HANGING.load(Ordering::SeqCst) > 0 {
        return Err(timeout(true));
    }
    let progress = Arc::new(Mutex::new(Progress::Running));
    let (sender, receiver) = mpsc::sync_channel(1);
    let worker_progress = Arc::clone(&progress);
    let spawned = std::thread::Builder::new().name("regcred-keychain".into()).spawn(move || {
        let result = work();
        let mut state = worker_progress.lock().unwrap_or_else(PoisonError::into_inner);
        if *state == Progress::GivenUp {
            HANGING.fetch_sub(1, Ordering::SeqCst);
        }
        *state = Progress::Done;
        drop(state);
        let _ = sender.send(result);
    });
    if let Err(error) = spawned {
        return Err(KeychainError::Unavailable { message: format!("cannot start a thread for it: {error}") });
    }
    if let Ok(result) = receiver.recv_timeout(limit) {
        return result;
    }
    let mut state = progress.lock().unwrap_or_else(PoisonError::into_inner);
    if *state == Progress::Done {
        drop(state);
        return receiver.recv().unwrap_or_else(|_| Err(timeout(false)));
    }
    *state = Progress::GivenUp;
    HANGING.fetch_add(1, Ordering::SeqCst);
    Err(timeout(false))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::{HANGING, Ordering, run_within};
    use crate::keychain::KeychainError;

    #[test]
    fn a_call_that_hangs_is_given_up_and_the_next_fails_at_once_until_it_returns() {
        let limit = Duration::from_millis(100);
        let (release, wait) = mpsc::channel::<()>();
        let hung = run_within(limit, move || {
            let _ = wait.recv();
            Ok(1)
        });
        assert!(matches!(hung, Err(KeychainError::Timeout { earlier: false, .. })), "{hung:?}");
        let behind = run_within(limit, || Ok(2));
        assert!(matches!(behind, Err(KeychainError::Timeout { earlier: true, .. })), "{behind:?}");
        release.send(()).unwrap();
        while HANGING.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(run_within(limit, || Ok(3)).unwrap(), 3);
        let text = run_within(limit, || Err::<(), _>(KeychainError::Locked { message: "x".into() }));
        assert!(matches!(text, Err(KeychainError::Locked { .. })));
    }
}
