//! Background jobs: one slot per kind, results polled each frame, workers wake the window.

use eframe::egui;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A job that may be running, whose result arrives once.
pub struct Slot<T> {
    receiver: Option<Receiver<T>>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self { receiver: None }
    }
}

impl<T: Send + 'static> Slot<T> {
    /// Whether a job of this kind is running.
    pub fn busy(&self) -> bool {
        self.receiver.is_some()
    }

    /// Starts `work` on the runtime's blocking pool unless one is already running (then `false`).
    pub fn start(
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
    pub fn start_async<F>(&mut self, runtime: &tokio::runtime::Handle, repaint: egui::Context, work: F) -> bool
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
    pub fn poll(&mut self) -> Option<T> {
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
