//! The set of files being tailed, known by identity (device and inode), not by name.
//!
//! At every scan each discovered name is checked: when it now names another file (kubelet renamed the
//! old one and created a new one, or the symlink was re-pointed), the old file is read to its end under
//! its old identity and the new one is read from its start, after the old one has reached its end. Files
//! whose name is gone are read to their end and closed `close_removed_after` later, so a deleted file's
//! space is freed. A file whose name is gone while the file itself stays where it was (the symlink was
//! removed, or hidden by a remount) is kept, with its offset, for as long as it exists: a name that leads
//! to it again resumes it where reading stopped instead of reading it again from its start.
//!
//! The parts, one a file: `rotation` (a name that changes its file), `restart` (taking up the files of
//! an earlier run), `budget` (descriptors bounded by `max_open_files`), `schedule` (which file is read
//! when, and the read gate), `roots` (the log-root checks).
//! What stays here, a little over 400 lines, is the set itself: adding, opening, syncing with a scan and
//! finishing files, which every part above works through.

mod budget;
mod config;
mod restart;
mod roots;
mod rotation;
mod schedule;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use thiserror::Error;

pub use self::config::TailerConfig;
use self::roots::LogRoots;
use self::rotation::Vacated;
use super::progress::{Mark, Progress};
use super::reader::FileReader;
use super::{FileEvent, FileIdentity, FileKey, Fingerprint, LineSink, OpenedFile, Resume};
use crate::config::StartAt;
use crate::discover::DirWatcher;
use crate::telemetry::{self, TailedFiles, Telemetry};

#[derive(Debug, Error)]
#[error("cannot open {path}: {cause}")]
pub struct OpenError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Tailed under its discovered name.
    Active,
    /// Its name now belongs to another file: read to the end, and closed once rotated for
    /// `close_removed_after` (the runtime writes to it until kubelet has it reopen its log).
    Rotated { since: Instant },
    /// Its name is gone: read to the end, closed once removed for `close_removed_after`.
    Removed { since: Instant },
    /// Its name is gone but the file is not (still at its target): read as it grows, its descriptor
    /// closed once it was idle for `close_removed_after`, and kept until the file is deleted, so that a
    /// name leading to it again (kubelet recreates links) resumes it where reading stopped.
    Unnamed { since: Instant },
    /// Found again after rotating while it was not open (see `siblings`): read to the end, then closed.
    Orphan,
}

struct Tailed {
    file: OpenedFile,
    phase: Phase,
    /// `None` while closed (inactive, or waiting for a free descriptor); reopened by identity.
    reader: Option<FileReader>,
    /// Where to reopen when `reader` is `None`.
    resume: u64,
    /// The file's length when last looked at while closed: beyond `resume`, what its deletion loses.
    seen_len: u64,
    gzip: bool,
    /// Not read until this file has been read to its end: the rotated predecessor of the same name.
    after: Option<FileKey>,
    /// `after`, when this file took its place (same directory, kubelet's names), until the sink was
    /// told that this file's lines continue it.
    continues: Option<FileKey>,
    reached_eof: bool,
    last_data: Instant,
    /// Its modification time when its reader was last closed, or about when it was tracked if it never
    /// had one: a rotation of its name written after this was not seen while it was closed (see
    /// `rotated_away`).
    closed_at: SystemTime,
    /// What /metrics sees of it.
    mark: Arc<Mark>,
}

/// Tails many files. Reading is driven from outside: `read_ready` reads the files that changed (or all,
/// on a poll), each up to its byte budget, and reports whether any file has more to read right now.
pub struct Tailer {
    config: TailerConfig,
    files: BTreeMap<FileKey, Tailed>,
    /// Discovered name -> the file tailed as it.
    by_path: HashMap<PathBuf, FileKey>,
    by_target: HashMap<PathBuf, FileKey>,
    ready: BTreeSet<FileKey>,
    open: usize,
    /// The most log files open at once, counted before each open: the readers and the one being
    /// opened. Tests hold it to `max_open_files`.
    #[cfg(test)]
    most_open: usize,
    next_key: u64,
    /// Records of an earlier run not matched to an open file yet.
    known: Vec<Resume>,
    first_scan_done: bool,
    /// Files inotify reported on, to check for rotation.
    to_check: BTreeSet<FileKey>,
    /// Files read to their end and closed in this run: never read again as a skipped rotation.
    finished_ids: HashSet<FileIdentity>,
    /// Targets renamed away whose name has no file yet.
    vacated: HashMap<PathBuf, Vacated>,
    /// Vacated targets inotify saw a file appear at.
    reappeared: BTreeSet<PathBuf>,
    /// Files the gate asked to leave unread, until when.
    held: BTreeMap<FileKey, Instant>,
    roots: LogRoots,
    progress: Arc<Progress>,
}

impl Tailer {
    /// A tailer resuming the files in `known` (the registry) at their recorded offsets.
    pub fn new(config: TailerConfig, known: Vec<Resume>) -> Tailer {
        Tailer {
            config,
            files: BTreeMap::new(),
            by_path: HashMap::new(),
            by_target: HashMap::new(),
            ready: BTreeSet::new(),
            open: 0,
            #[cfg(test)]
            most_open: 0,
            next_key: 0,
            known,
            first_scan_done: false,
            to_check: BTreeSet::new(),
            finished_ids: HashSet::new(),
            vacated: HashMap::new(),
            reappeared: BTreeSet::new(),
            held: BTreeMap::new(),
            roots: LogRoots::default(),
            progress: Arc::default(),
        }
    }

    /// Publishes what is read of each file to `telemetry`, for /metrics and /status.
    pub fn report_to(&mut self, telemetry: &Telemetry) {
        telemetry.watch_files(Arc::clone(&self.progress) as Arc<dyn TailedFiles>);
    }

    /// Starts tailing a discovered file.
    pub fn add(
        &mut self,
        path: &Path,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
    ) -> Result<(), OpenError> {
        if self.by_path.contains_key(path) {
            return Ok(());
        }
        self.open_discovered(path, None, watcher, sink)
            .map_err(|cause| OpenError {
                path: path.to_path_buf(),
                cause,
            })
    }

    fn open_discovered(
        &mut self,
        path: &Path,
        after: Option<FileKey>,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
    ) -> std::io::Result<()> {
        let target = std::fs::canonicalize(path)?;
        if !self.roots.allows(&target) {
            self.refuse(path, &target, sink);
            return Ok(());
        }
        // Should none be freed (every open file rotated and still being drained), the file is
        // looked at anyway: it cannot wait unknown, and the look is a moment.
        self.free_descriptor();
        let file = File::open(&target)?;
        if let Some(outside) = self.roots.escaped(&target, &file) {
            self.refuse(path, &outside, sink);
            return Ok(());
        }
        self.roots.accept(path);
        let meta = file.metadata()?;
        let identity = FileIdentity::of(&meta);
        let fingerprint = Fingerprint::of_file(&file)?;
        let file = match self.take_up_unnamed(identity, path, &target, file, watcher, sink) {
            Some(file) => file,
            None => return Ok(()),
        };
        let offset = match self.take_known(identity, &file) {
            Some(known) if known.offset > meta.len() => {
                telemetry::file_truncated_while_down(path, known.offset, meta.len());
                0
            }
            Some(known) => known.offset,
            None if !self.first_scan_done && self.config.start_at == StartAt::End => meta.len(),
            None => 0,
        };
        if let Some(dir) = target.parent() {
            watcher.watch(dir);
        }
        let opened = OpenedFile {
            path: path.to_path_buf(),
            target,
            identity,
            fingerprint,
            offset,
        };
        let key = self.insert(opened, Phase::Active, after, false, sink);
        self.attach_reader(key, Some(file));
        Ok(())
    }

    fn insert(
        &mut self,
        file: OpenedFile,
        phase: Phase,
        after: Option<FileKey>,
        gzip: bool,
        sink: &mut impl LineSink,
    ) -> FileKey {
        let key = FileKey::new(self.next_key);
        self.next_key += 1;
        sink.file(FileEvent::Opened { key, file: &file });
        let continues = after.filter(|before| self.takes_place_of(&file.target, *before));
        let mark = self.progress.track(key);
        mark.place(None, &file.target, false, gzip);
        mark.read_to(file.offset);
        if phase == Phase::Active {
            self.by_path.insert(file.path.clone(), key);
            self.by_target.insert(file.target.clone(), key);
        }
        self.files.insert(
            key,
            Tailed {
                resume: file.offset,
                seen_len: file.offset,
                file,
                phase,
                reader: None,
                gzip,
                after,
                continues,
                reached_eof: false,
                last_data: Instant::now(),
                closed_at: a_moment_ago(),
                mark,
            },
        );
        self.ready.insert(key);
        key
    }

    /// Tells /metrics where the file is now and how far it was read (see `Progress`).
    fn publish(&self, key: FileKey) {
        if let Some(tailed) = self.files.get(&key) {
            let reader = tailed.reader.as_ref();
            tailed.mark.place(
                reader.and_then(FileReader::shared_file),
                &tailed.file.target,
                reader.is_some(),
                tailed.gzip,
            );
            tailed
                .mark
                .read_to(reader.map_or(tailed.resume, FileReader::position));
        }
    }

    /// Called after each scan of the globs: new names are tailed, and every tailed name is checked
    /// for rotation (it names another file now) or removal.
    pub fn sync(
        &mut self,
        added: &[PathBuf],
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
    ) -> Vec<OpenError> {
        let mut errors = Vec::new();
        let active: Vec<(PathBuf, FileKey)> =
            self.by_path.iter().map(|(p, k)| (p.clone(), *k)).collect();
        for (path, key) in active {
            self.check_name(path, key, watcher, sink, &mut errors);
        }
        let vacated: Vec<PathBuf> = self.vacated.keys().cloned().collect();
        for target in vacated {
            self.take_up_vacated(&target, watcher, sink, &mut errors);
        }
        for path in added {
            if let Err(error) = self.add(path, watcher, sink) {
                errors.push(error);
            }
        }
        if !self.first_scan_done {
            self.first_scan_done = true;
            self.resume_rotated(sink);
            sink.file(FileEvent::Resolved);
        }
        errors
    }

    /// Checks files inotify reported on (a rename or create in their directory is how a rotation shows),
    /// so a rotation is handled at once rather than at the next scan.
    pub fn check_changed(&mut self, watcher: &mut DirWatcher, sink: &mut impl LineSink) {
        let mut errors = Vec::new();
        for target in std::mem::take(&mut self.reappeared) {
            self.take_up_vacated(&target, watcher, sink, &mut errors);
        }
        for key in std::mem::take(&mut self.to_check) {
            let Some(path) = self.files.get(&key).map(|t| t.file.path.clone()) else {
                continue;
            };
            if self.by_path.get(&path) == Some(&key) {
                self.check_name(path, key, watcher, sink, &mut errors);
            }
        }
        for error in errors {
            telemetry::file_skipped(&error);
        }
    }

    fn forget_name(&mut self, key: FileKey) {
        if let Some(tailed) = self.files.get(&key) {
            if self.by_path.get(&tailed.file.path) == Some(&key) {
                self.by_path.remove(&tailed.file.path);
            }
            if self.by_target.get(&tailed.file.target) == Some(&key) {
                self.by_target.remove(&tailed.file.target);
            }
        }
    }

    /// Whether `path` is tailed under that name now.
    pub fn is_tailed(&self, path: &Path) -> bool {
        self.by_path.contains_key(path)
    }

    /// Closes a file for good, handing out its unterminated last line.
    fn finish(&mut self, key: FileKey, sink: &mut impl LineSink) {
        self.forget_name(key);
        let Some(mut tailed) = self.files.remove(&key) else {
            return;
        };
        self.progress.forget(key);
        self.ready.remove(&key);
        self.held.remove(&key);
        if !tailed.gzip {
            self.finished_ids.insert(tailed.file.identity);
        }
        let mut end = tailed.resume;
        if let Some(mut reader) = tailed.reader.take() {
            self.open -= 1;
            while let Some(line) = reader.next_buffered() {
                sink.line(key, line);
            }
            if let Some(line) = reader.finish() {
                sink.line(key, line);
            }
            end = reader.position();
        }
        // Whatever it left unfinished goes to the file that took its place, before it is finished.
        let waiting = self.waiting_for(key);
        for k in &waiting {
            self.announce(*k, key, sink);
        }
        sink.file(FileEvent::Finished { key, end });
        // Files that waited for this one may go now.
        for k in waiting {
            if let Some(t) = self.files.get_mut(&k) {
                t.after = None;
            }
            self.ready.insert(k);
        }
    }

    /// Hands out every file's unterminated last line and closes all files: the end of a `--no-follow` run.
    pub fn finish_all(&mut self, sink: &mut impl LineSink) {
        let keys: Vec<FileKey> = self.files.keys().copied().collect();
        for key in keys {
            self.finish(key, sink);
        }
    }

    /// Ends the run without finishing files: their partial last lines stay unread, to be read again
    /// after a restart (the registry's offsets stop before them).
    pub fn close_all(&mut self) {
        self.files.clear();
        self.progress.forget_all();
        self.by_path.clear();
        self.by_target.clear();
        self.ready.clear();
        self.held.clear();
        self.open = 0;
    }

    /// Whether the gate is holding some file unread.
    pub fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Descriptors held.
    pub fn open_files(&self) -> usize {
        self.open
    }
}

/// Whether `target` is still the file with `identity`.
fn still_at(target: &Path, identity: FileIdentity) -> bool {
    std::fs::metadata(target).is_ok_and(|m| FileIdentity::of(&m) == identity)
}

/// A wall-clock time safely before anything written from now on: file times come from the kernel's
/// coarse clock, which lags the one `SystemTime::now` reads by up to a few milliseconds, so a file
/// written just after `now` may carry an earlier time.
fn a_moment_ago() -> SystemTime {
    SystemTime::now() - std::time::Duration::from_secs(1)
}

#[cfg(test)]
#[path = "tailer_tests.rs"]
mod tests;
