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
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::FileKey;
use crate::telemetry::{FileNow, FileState, FilesNow, TailedFiles};

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
    /// Unix milliseconds when reading was last at the file's end (or when tracking began): how long
    /// a file with bytes behind has been behind. One store per read turn that reaches the end.
    at_end_ms: AtomicU64,
    /// `WAITING`, `LIMITED` or 0: what holds the file back besides the data itself.
    held: AtomicU8,
    place: Mutex<Place>,
}

/// Not read until its pod's metadata is cached (at most `kubernetes.metadata_wait`).
const WAITING: u8 = 1;
/// Closed, and no descriptor free to reopen it (`max_open_files`).
const LIMITED: u8 = 2;

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
        mark.at_end_ms
            .store(unix_ms(SystemTime::now()), Ordering::Relaxed);
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

impl Progress {
    /// Every tailed file, measured now (one `fstat` or `stat` each), furthest behind first.
    pub fn files(&self) -> Vec<FileNow> {
        let marks: Vec<Arc<Mark>> = lock(&self.files).values().cloned().collect();
        let now = unix_ms(SystemTime::now());
        let mut files: Vec<FileNow> = marks
            .iter()
            .map(|mark| {
                let (size, open) = mark.size();
                let offset = mark.position.load(Ordering::Relaxed);
                let behind = size.map_or(0, |size| size.saturating_sub(offset));
                let state = match mark.held.load(Ordering::Relaxed) {
                    WAITING => FileState::WaitingForMetadata,
                    LIMITED if !open && behind > 0 => FileState::Limited,
                    _ if behind > 0 => FileState::Reading,
                    _ if open => FileState::Idle,
                    _ => FileState::Closed,
                };
                let behind_for = if behind > 0 {
                    let since = mark.at_end_ms.load(Ordering::Relaxed);
                    Duration::from_millis(now.saturating_sub(since))
                } else {
                    Duration::ZERO
                };
                FileNow {
                    path: lock(&mark.place).path.clone(),
                    offset,
                    size,
                    behind,
                    behind_for,
                    state,
                }
            })
            .collect();
        files.sort_by(|a, b| b.behind.cmp(&a.behind).then_with(|| a.path.cmp(&b.path)));
        files
    }
}

impl Mark {
    /// Reading is at the file's end now.
    pub(super) fn reached_end(&self) {
        self.at_end_ms
            .store(unix_ms(SystemTime::now()), Ordering::Relaxed);
    }

    /// The file waits for its pod's metadata (`true`), or no longer does.
    pub(super) fn waiting_for_metadata(&self, waiting: bool) {
        self.set_held(WAITING, waiting);
    }

    /// The file is closed and waits for a free descriptor (`true`), or no longer does.
    pub(super) fn limited(&self, limited: bool) {
        self.set_held(LIMITED, limited);
    }

    fn set_held(&self, what: u8, on: bool) {
        if on {
            self.held.store(what, Ordering::Relaxed);
        } else {
            let _ = self
                .held
                .compare_exchange(what, 0, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

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

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data, consistent after every operation: a panic elsewhere leaves nothing half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TailedFiles for Progress {
    fn measure(&self) -> FilesNow {
        Progress::measure(self)
    }

    fn files(&self) -> Vec<FileNow> {
        Progress::files(self)
    }
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

    #[test]
    fn each_file_shows_its_state_and_how_long_it_has_been_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "0123456789").unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let progress = Progress::default();
        let mark = progress.track(FileKey::new(0));
        mark.place(Some(Arc::downgrade(&file)), &path, true, false);
        mark.read_to(10);
        mark.reached_end();
        let [idle] = progress.files().try_into().unwrap();
        assert_eq!(
            (
                idle.state,
                idle.offset,
                idle.size,
                idle.behind,
                idle.behind_for
            ),
            (FileState::Idle, 10, Some(10), 0, Duration::ZERO)
        );
        std::fs::write(&path, "0123456789abc").unwrap();
        mark.at_end_ms.store(
            unix_ms(SystemTime::now() - Duration::from_secs(30)),
            Ordering::Relaxed,
        );
        let [reading] = progress.files().try_into().unwrap();
        assert_eq!((reading.state, reading.behind), (FileState::Reading, 3));
        assert!(reading.behind_for >= Duration::from_secs(30), "{reading:?}");
        mark.waiting_for_metadata(true);
        assert_eq!(progress.files()[0].state, FileState::WaitingForMetadata);
        mark.waiting_for_metadata(false);
        drop(file);
        mark.place(None, &path, false, false);
        mark.limited(true);
        assert_eq!(progress.files()[0].state, FileState::Limited);
        mark.limited(false);
        mark.read_to(13);
        assert_eq!(progress.files()[0].state, FileState::Closed);
    }
}
