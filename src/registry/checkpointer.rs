//! Writes acknowledged offsets to disk every `registry_flush`, and once more at the end.

use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::{lock, RegistryError, SharedTracker, Store};
use crate::telemetry::Telemetry;

/// A failed save is tried again this soon (or after `registry_flush`, when that is shorter), whether
/// or not anything was acknowledged since: once a full disk has room again, the registry catches up
/// by itself rather than at the next acknowledgement.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the outcome of each save goes (the agent's telemetry: its log, metrics and readiness).
pub trait SaveReport: Send + Sync {
    /// The registry was written, in `took`.
    fn saved(&self, took: Duration);
    /// Writing it failed after `took`; it is tried again. `unsaved`: events whose offsets the registry
    /// on disk lacks.
    fn failed(&self, took: Duration, error: &RegistryError, unsaved: u64);
    /// The last write, at exit, failed after `took`.
    fn last_failed(&self, took: Duration, failed: &SaveFailed);
}

impl SaveReport for Telemetry {
    fn saved(&self, took: Duration) {
        self.registry_saved(took);
    }

    fn failed(&self, took: Duration, error: &RegistryError, unsaved: u64) {
        self.registry_save_failed(took, error, unsaved);
    }

    fn last_failed(&self, took: Duration, failed: &SaveFailed) {
        self.registry_last_save_failed(took, &failed.path, &failed.source, failed.unsaved, failed);
    }
}

/// The last save, at exit, failed: what a restart reads again is more than it should be.
#[derive(Debug, Error)]
#[error(
    "cannot save the registry {}: {source}; {unsaved} events read since the last save will be sent \
     again at the next start",
    path.display()
)]
pub struct SaveFailed {
    pub path: PathBuf,
    #[source]
    pub source: RegistryError,
    /// Events whose offsets the registry on disk lacks.
    pub unsaved: u64,
}

/// Saving runs on its own thread so an fsync never stalls reading or delivery. After a crash, what is
/// read again is what the registry on disk lacks: one flush interval of acknowledged events, or more
/// while saves fail.
pub struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<Result<(), SaveFailed>>,
}

impl Checkpointer {
    pub fn start(
        store: Store,
        tracker: SharedTracker,
        every: Duration,
        report: Arc<dyn SaveReport>,
    ) -> Checkpointer {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("loglynk-registry".into())
            .spawn(move || {
                let mut failing = false;
                loop {
                    let wait = if failing {
                        every.min(RETRY_AFTER)
                    } else {
                        every
                    };
                    let last = !matches!(
                        stopped.recv_timeout(wait),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    );
                    let checkpoint = if last {
                        Some(lock(&tracker).checkpoint())
                    } else {
                        lock(&tracker).changed_checkpoint()
                    };
                    if let Some(checkpoint) = checkpoint {
                        let started = Instant::now();
                        match store.save(&checkpoint.snapshot) {
                            Ok(()) => {
                                lock(&tracker).saved(&checkpoint);
                                report.saved(started.elapsed());
                                failing = false;
                            }
                            Err(error) => {
                                let took = started.elapsed();
                                let unsaved = lock(&tracker).unsaved_events();
                                if last {
                                    let failed = SaveFailed {
                                        path: store.path().to_owned(),
                                        source: error,
                                        unsaved,
                                    };
                                    report.last_failed(took, &failed);
                                    return Err(failed);
                                }
                                report.failed(took, &error, unsaved);
                                failing = true;
                            }
                        }
                    }
                    if last {
                        return Ok(());
                    }
                }
            })
            .expect("spawning a thread");
        Checkpointer { stop, thread }
    }

    /// Writes the registry a last time and stops; an error when that write failed.
    pub fn stop(self) -> Result<(), SaveFailed> {
        let _ = self.stop.send(());
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Entry, Tracker};
    use crate::tail::{FileIdentity, FileKey, Fingerprint};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::{Arc, Mutex};

    fn entry(offset: u64) -> Entry {
        Entry {
            identity: FileIdentity { dev: 1, ino: 7 },
            fingerprint: Fingerprint::of_bytes(b"x"),
            path: PathBuf::from("/var/log/containers/a.log"),
            target: PathBuf::from("/var/log/pods/p/c/0.log"),
            offset,
            updated: 0,
        }
    }

    #[test]
    fn a_failed_save_is_retried_until_it_succeeds() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        let store = Store::open(&dir).unwrap();
        let file = store.path().to_owned();
        let tracker: SharedTracker = Arc::new(Mutex::new(Tracker::new(None)));
        lock(&tracker).track(FileKey::new(0), entry(42));
        // Every write fails while the directory is gone, as on a full disk.
        std::fs::remove_dir(&dir).unwrap();
        let report = Arc::new(Outcomes::default());
        let checkpointer = Checkpointer::start(
            store,
            Arc::clone(&tracker),
            Duration::from_millis(20),
            Arc::clone(&report) as Arc<dyn SaveReport>,
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while report.failed.load(Relaxed) < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            report.failed.load(Relaxed) >= 3,
            "retried with nothing new acknowledged"
        );
        assert_eq!(report.saved.load(Relaxed), 0);
        std::fs::create_dir(&dir).unwrap();
        // The report comes after the file is in place (renamed, directory synced).
        while report.saved.load(Relaxed) == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            report.saved.load(Relaxed) >= 1 && file.exists(),
            "not saved once the directory was back"
        );
        assert_eq!(lock(&tracker).unsaved_events(), 0);
        assert!(checkpointer.stop().is_ok());
    }

    #[test]
    fn a_failed_last_save_is_an_error_with_the_events_it_leaves_unsaved() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        let store = Store::open(&dir).unwrap();
        let tracker: SharedTracker = Arc::new(Mutex::new(Tracker::new(None)));
        let a = FileKey::new(0);
        lock(&tracker).track(a, entry(0));
        let id = lock(&tracker).register(vec![(a, 42)], 7);
        lock(&tracker).ack(id);
        std::fs::remove_dir(&dir).unwrap();
        let report = Arc::new(Outcomes::default());
        let checkpointer = Checkpointer::start(
            store,
            tracker,
            Duration::from_secs(3600),
            Arc::clone(&report) as Arc<dyn SaveReport>,
        );
        let failed = checkpointer.stop().expect_err("the last save failed");
        assert_eq!(failed.unsaved, 7);
        assert_eq!(failed.path, dir.join("registry.json"));
        let message = failed.to_string();
        assert!(
            message.contains("registry.json") && message.contains("7 events"),
            "{message}"
        );
        assert_eq!(report.failed.load(Relaxed), 1);
    }

    #[derive(Default)]
    struct Outcomes {
        saved: AtomicU64,
        failed: AtomicU64,
    }

    impl SaveReport for Outcomes {
        fn saved(&self, _: Duration) {
            self.saved.fetch_add(1, Relaxed);
        }
        fn failed(&self, _: Duration, _: &RegistryError, _: u64) {
            self.failed.fetch_add(1, Relaxed);
        }
        fn last_failed(&self, _: Duration, _: &SaveFailed) {
            self.failed.fetch_add(1, Relaxed);
        }
    }
}
