//! What happened on disk since the reader last looked, coalesced.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Paths that changed, whether a full rescan is needed, and whether to stop, gathered from the inotify
/// thread and signal handlers for the reading thread. A busy file produces an inotify event per write;
/// collecting them in a set (rather than a queue) keeps memory and wake-ups bounded however busy it is.
#[derive(Debug, Default)]
pub struct Changes {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Debug, Default)]
pub struct Pending {
    pub paths: HashSet<PathBuf>,
    pub rescan: bool,
    pub shutdown: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.rescan && !self.shutdown
    }
}

impl Changes {
    pub fn path_changed(&self, path: PathBuf) {
        self.update(|p| {
            p.paths.insert(path);
        });
    }

    /// Something may have been missed (inotify queue overflow, a watcher error): look at everything.
    pub fn rescan(&self) {
        self.update(|p| p.rescan = true);
    }

    pub fn shutdown(&self) {
        self.update(|p| p.shutdown = true);
    }

    fn update(&self, f: impl FnOnce(&mut Pending)) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let was_empty = pending.is_empty();
        f(&mut pending);
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Waits until something is pending or `timeout` passes, then takes what is pending.
    /// `shutdown` stays set once set, so every later call sees it.
    pub fn wait(&self, timeout: Duration) -> Pending {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut pending, _) = self
            .wake
            .wait_timeout_while(pending, timeout, |p| p.is_empty())
            .unwrap_or_else(PoisonError::into_inner);
        let shutdown = pending.shutdown;
        let taken = std::mem::take(&mut *pending);
        pending.shutdown = shutdown;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn coalesces_and_wakes() {
        let changes = Arc::new(Changes::default());
        for _ in 0..1000 {
            changes.path_changed(PathBuf::from("/a"));
        }
        let p = changes.wait(Duration::from_secs(5));
        assert_eq!(p.paths.len(), 1);

        let c = Arc::clone(&changes);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c.shutdown();
        });
        let start = Instant::now();
        assert!(changes.wait(Duration::from_secs(30)).shutdown);
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(changes.wait(Duration::ZERO).shutdown, "shutdown stays set");
        t.join().unwrap();
    }

    #[test]
    fn times_out_empty() {
        let p = Changes::default().wait(Duration::from_millis(10));
        assert!(p.paths.is_empty() && !p.rescan && !p.shutdown);
    }
}
