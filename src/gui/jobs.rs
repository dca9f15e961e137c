//! Background jobs: one slot per kind, results polled each frame, workers wake the window.

use eframe::egui;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A job that may be running, whose result arrives once.
pub(super) struct Slot<T> {
    receiver: Option<Receiver<T>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self { receiver: None }
    }
}

impl<T: Send + 'static> Slot<T> {
    /// Whether a job of this kind is running.
    pub(super) fn busy(&self) -> bool {
        self.receiver.is_some()
    }

    /// Starts `work` on the runtime's blocking pool unless one is already running (then `false`).
    pub(super) fn start(
        &mut self,
        runtime: &tokio::runtime::Handle,
        repaint: egui::Context,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> bool {
        if self.busy() {
            return false;
        }
        let (sender, receiver) = channel();
        runtime.spawn_blocking(move || {
            let _ = sender.send(work());
            repaint.request_repaint();
        });
        self.receiver = Some(receiver);
        true
    }

    /// Starts an async job (network) on the runtime.
    pub(super) fn start_async<F>(&mut self, runtime: &tokio::runtime::Handle, repaint: egui::Context, work: F) -> bool
    where
        F: std::future::Future<Output = T> + Send + 'static,
    {
        if self.busy() {
            return false;
        }
        let (sender, receiver) = channel();
        runtime.spawn(async move {
            let _ = sender.send(work.await);
            repaint.request_repaint();
        });
        self.receiver = Some(receiver);
        true
    }

    /// The result, once, when the job has finished.
    pub(super) fn poll(&mut self) -> Option<T> {
        let receiver = self.receiver.as_ref()?;
        match receiver.try_recv() {
            Ok(value) => {
                self.receiver = None;
                Some(value)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.receiver = None;
                None
            }
        }
    }
}

/// Jobs of one kind running side by side, one per key (a test per registry row): started,
/// polled each frame, each result arriving once.
pub(super) struct Keyed<K, T> {
    running: std::collections::HashMap<K, Receiver<T>>,
}

impl<K, T> Default for Keyed<K, T> {
    fn default() -> Self {
        Self { running: std::collections::HashMap::new() }
    }
}

impl<K: std::hash::Hash + Eq + Clone + Send + 'static, T: Send + 'static> Keyed<K, T> {
    /// Whether the job for `key` is running.
    pub(super) fn is_running(&self, key: &K) -> bool {
        self.running.contains_key(key)
    }

    /// Whether none is running.
    pub(super) fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Starts `work` for `key` on the runtime, unless one for `key` is running (then `false`).
    pub(super) fn start_async<F>(
        &mut self,
        key: K,
        runtime: &tokio::runtime::Handle,
        repaint: egui::Context,
        work: F,
    ) -> bool
    where
        F: std::future::Future<Output = T> + Send + 'static,
    {
        if self.running.contains_key(&key) {
            return false;
        }
        let (sender, receiver) = channel();
        runtime.spawn(async move {
            let _ = sender.send(work.await);
            repaint.request_repaint();
        });
        self.running.insert(key, receiver);
        true
    }

    /// Starts blocking `work` (files, keychain) for `key` on the runtime's blocking pool, unless one
    /// for `key` is running (then `false`: its result will answer).
    pub(super) fn start_blocking(
        &mut self,
        key: K,
        runtime: &tokio::runtime::Handle,
        repaint: egui::Context,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> bool {
        if self.running.contains_key(&key) {
            return false;
        }
        let (sender, receiver) = channel();
        runtime.spawn_blocking(move || {
            let _ = sender.send(work());
            repaint.request_repaint();
        });
        self.running.insert(key, receiver);
        true
    }

    /// Every result that arrived since the last poll.
    pub(super) fn poll(&mut self) -> Vec<(K, T)> {
        let mut done = Vec::new();
        self.running.retain(|key, receiver| match receiver.try_recv() {
            Ok(value) => {
                done.push((key.clone(), value));
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        done
    }
}
