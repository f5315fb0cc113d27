//! How far reading is behind the end of each tailed file, measurable from another thread.
//!
//! `/metrics` computes the file gauges from here at each scrape, rather than showing values the reading
//! thread set between reads: that thread blocks in its send while the output is stalled (inside a
//! tailer callback, with the tailer borrowed), which is exactly when bytes behind grows and an alert on
//! it must fire. Waking the blocked send on a timer to refresh gauges would need the same thing outside
//! the borrowed tailer, the sizes and positions here, and would measure on a timer rather than when
//! asked.
//!
//! The tailer publishes, per file, where reading is (one atomic store per read turn, none per line) and
//! how to find the file's size: its open descriptor, shared with its reader, so measuring costs no
//! descriptor of its own and a renamed or deleted file is still measured; else its path. A scrape
//! costs one `fstat` or `stat` per file, outside any lock the reading thread takes.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::FileKey;
use crate::telemetry::{FilesNow, MeasureFiles};

/// The tailed files, as a scrape sees them.
#[derive(Debug, Default)]
pub struct Progress {
    files: Mutex<HashMap<FileKey, Arc<Mark>>>,
}

/// One file's published state.
#[derive(Debug, Default)]
pub(super) struct Mark {
    /// The offset of the next byte to read.
    position: AtomicU64,
    place: Mutex<Place>,
}

/// Where the file is: changes when it is opened, closed or found renamed, not per read.
#[derive(Debug, Default)]
struct Place {
    /// The reader's descriptor while it is open; dead once the reader closed it.
    file: Option<Weak<File>>,
    path: PathBuf,
    open: bool,
    /// A compressed file is read once to its end and does not grow: not measured.
    compressed: bool,
}

impl Progress {
    /// A file is tailed from now on.
    pub(super) fn track(&self, key: FileKey) -> Arc<Mark> {
        let mark = Arc::new(Mark::default());
        lock(&self.files).insert(key, Arc::clone(&mark));
        mark
    }

    /// The file is done for good.
    pub(super) fn forget(&self, key: FileKey) {
        lock(&self.files).remove(&key);
    }

    pub(super) fn forget_all(&self) {
        lock(&self.files).clear();
    }

    /// Measures every tailed file now. A file that cannot be measured (gone by its path while closed)
    /// counts as read to its end.
    pub fn measure(&self) -> FilesNow {
        let marks: Vec<Arc<Mark>> = lock(&self.files).values().cloned().collect();
        let mut now = FilesNow {
            tailed: marks.len() as u64,
            ..FilesNow::default()
        };
        for mark in marks {
            let (size, open) = mark.size();
            now.open += u64::from(open);
            let position = mark.position.load(Ordering::Relaxed);
            let behind = size.map_or(0, |size| size.saturating_sub(position));
            now.behind += behind;
            now.behind_max = now.behind_max.max(behind);
        }
        now
    }
}

impl MeasureFiles for Progress {
    fn measure(&self) -> FilesNow {
        Progress::measure(self)
    }
}

impl Mark {
    /// Reading reached `position`.
    pub(super) fn read_to(&self, position: u64) {
        self.position.store(position, Ordering::Relaxed);
    }

    /// The file is open through `file` (`None`: closed, or compressed), found at `path`.
    pub(super) fn place(
        &self,
        file: Option<Weak<File>>,
        path: &Path,
        open: bool,
        compressed: bool,
    ) {
        let mut place = lock(&self.place);
        place.file = file;
        if place.path != path {
            place.path = path.to_path_buf();
        }
        place.open = open;
        place.compressed = compressed;
    }

    /// The file's size now (`None` when not measured), and whether it is open.
    fn size(&self) -> (Option<u64>, bool) {
        let (file, path, open, compressed) = {
            let place = lock(&self.place);
            let file = place.file.as_ref().and_then(Weak::upgrade);
            (file, place.path.clone(), place.open, place.compressed)
        };
        if compressed {
            return (None, open);
        }
        let size = match file {
            Some(file) => file.metadata().ok().map(|m| m.len()),
            None => std::fs::metadata(path).ok().map(|m| m.len()),
        };
        (size, open)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data, consistent after every operation: a panic elsewhere leaves nothing half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn an_open_file_is_measured_through_its_descriptor_even_renamed_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "0123456789").unwrap();
        let file = Arc::new(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap(),
        );
        let progress = Progress::default();
        let mark = progress.track(FileKey::new(0));
        mark.place(Some(Arc::downgrade(&file)), &path, true, false);
        mark.read_to(4);
        assert_eq!(
            progress.measure(),
            FilesNow {
                tailed: 1,
                open: 1,
                behind: 6,
                behind_max: 6
            }
        );

        std::fs::rename(&path, dir.path().join("0.log.1")).unwrap();
        std::fs::write(&path, "another file, longer than the first").unwrap();
        (&*file).write_all(b"abc").unwrap();
        assert_eq!(progress.measure().behind, 9, "the renamed file, grown");
        std::fs::remove_file(dir.path().join("0.log.1")).unwrap();
        assert_eq!(progress.measure().behind, 9, "deleted, still open");
    }

    #[test]
    fn a_closed_file_is_measured_by_its_path_and_a_compressed_one_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let closed = dir.path().join("closed.log");
        std::fs::write(&closed, "0123456789").unwrap();
        let progress = Progress::default();
        let file = Arc::new(File::open(&closed).unwrap());
        let mark = progress.track(FileKey::new(0));
        mark.place(Some(Arc::downgrade(&file)), &closed, true, false);
        drop(file);
        mark.place(None, &closed, false, false);
        mark.read_to(10);
        std::fs::write(&closed, "0123456789abcdef").unwrap();
        let gz = progress.track(FileKey::new(1));
        gz.place(None, &dir.path().join("x.log.gz"), true, true);
        assert_eq!(
            progress.measure(),
            FilesNow {
                tailed: 2,
                open: 1,
                behind: 6,
                behind_max: 6
            }
        );
        progress.forget(FileKey::new(0));
        assert_eq!(progress.measure().tailed, 1);
        progress.forget_all();
        assert_eq!(progress.measure(), FilesNow::default());
    }
}
