//! inotify (through `notify`) on directories, feeding [`Changes`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::{RecursiveMode, Watcher as _};

use super::Changes;
use crate::telemetry;

/// Watches directories without recursion: the glob bases (new files) and the directories tailed files
/// live in (growth). When inotify cannot be had, or its watch limit is hit, callers fall back to polling,
/// which finds the same changes a little later; that is said once in the agent's log.
pub struct DirWatcher {
    inner: Option<notify::RecommendedWatcher>,
    watched: HashSet<PathBuf>,
    limit_reported: bool,
}

impl DirWatcher {
    pub fn new(changes: Arc<Changes>) -> DirWatcher {
        let handler = move |result: notify::Result<notify::Event>| match result {
            Ok(event) => {
                if event.need_rescan() {
                    changes.rescan();
                }
                for path in event.paths {
                    changes.path_changed(path);
                }
            }
            Err(_) => changes.rescan(),
        };
        let inner = match notify::recommended_watcher(handler) {
            Ok(w) => Some(w),
            Err(error) => {
                telemetry::inotify_unavailable(&error);
                None
            }
        };
        DirWatcher {
            inner,
            watched: HashSet::new(),
            limit_reported: false,
        }
    }

    /// A watcher that never watches: everything is polled.
    pub fn polling_only() -> DirWatcher {
        DirWatcher {
            inner: None,
            watched: HashSet::new(),
            limit_reported: true,
        }
    }

    /// Starts watching `dir`; `false` when it is not watched and must be polled.
    pub fn watch(&mut self, dir: &Path) -> bool {
        if self.watched.contains(dir) {
            return true;
        }
        let Some(inner) = self.inner.as_mut() else {
            return false;
        };
        match inner.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(dir.to_path_buf());
                true
            }
            Err(error) => {
                self.watch_failed(dir, &error);
                false
            }
        }
    }

    /// A directory could not be watched: it is polled. Hitting the watch limit is said once, since
    /// every further directory would say it again.
    fn watch_failed(&mut self, dir: &Path, error: &notify::Error) {
        if matches!(error.kind, notify::ErrorKind::MaxFilesWatch) {
            if !self.limit_reported {
                self.limit_reported = true;
                telemetry::inotify_limit_reached(self.watched.len());
            }
        } else {
            telemetry::directory_not_watched(dir, error);
        }
    }

    pub fn unwatch(&mut self, dir: &Path) {
        if self.watched.remove(dir) {
            if let Some(inner) = self.inner.as_mut() {
                // The directory may be gone already, which removed the watch with it.
                let _ = inner.unwatch(dir);
            }
        }
    }

    pub fn is_active(&self) -> bool {
        self.inner.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_watch_limit_is_reported_once() {
        let mut watcher = DirWatcher::new(Arc::new(Changes::default()));
        watcher.limit_reported = false;
        let limit = notify::Error::new(notify::ErrorKind::MaxFilesWatch);
        watcher.watch_failed(Path::new("/a"), &limit);
        assert!(watcher.limit_reported);
        watcher.watch_failed(Path::new("/b"), &limit);
        assert!(watcher.limit_reported);
        let missing = DirWatcher::new(Arc::new(Changes::default()))
            .watch(Path::new("/nonexistent/loglynk-test"));
        assert!(!missing, "an unwatchable directory is left to polling");
    }

    #[test]
    fn reports_writes_in_a_watched_directory() {
        let dir = tempfile::tempdir().unwrap();
        let changes = Arc::new(Changes::default());
        let mut watcher = DirWatcher::new(Arc::clone(&changes));
        if !watcher.is_active() {
            return; // no inotify in this sandbox: the poll fallback covers it, tested elsewhere
        }
        assert!(watcher.watch(dir.path()));
        let file = dir.path().join("a.log");
        std::fs::write(&file, "x\n").unwrap();
        let mut seen = HashSet::new();
        for _ in 0..50 {
            seen.extend(changes.wait(Duration::from_millis(100)).paths);
            if seen.contains(&file) {
                return;
            }
        }
        panic!("no change seen for {}: {seen:?}", file.display());
    }
}
