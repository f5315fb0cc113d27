//! Writes acknowledged offsets to disk every `registry_flush`, and once more at the end.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{lock, SharedTracker, Store};

/// Saving runs on its own thread so an fsync never stalls reading or delivery. At most one flush
/// interval of acknowledged lines is read again after a crash.
pub struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// `flushed` hears how long each write of the registry took.
    pub fn start(
        store: Store,
        tracker: SharedTracker,
        every: Duration,
        flushed: impl Fn(Duration) + Send + 'static,
    ) -> Checkpointer {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("loglynk-registry".into())
            .spawn(move || loop {
                let last = !matches!(
                    stopped.recv_timeout(every),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                let snapshot = if last {
                    Some(lock(&tracker).snapshot())
                } else {
                    lock(&tracker).take_snapshot()
                };
                if let Some(snapshot) = snapshot {
                    let started = std::time::Instant::now();
                    let saved = store.save(&snapshot);
                    flushed(started.elapsed());
                    if let Err(error) = saved {
                        // Offsets stay in memory and are written at the next flush: a full disk delays
                        // the registry, it does not stop shipping.
                        tracing::warn!(%error, "cannot write the registry");
                    }
                }
                if last {
                    break;
                }
            })
            .expect("spawning a thread");
        Checkpointer { stop, thread }
    }

    /// Writes the registry a last time and stops.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
