//! The set of files being tailed: identity, rotation, bounded descriptors, fair reading.
//!
//! A tailed file is known by its identity (device and inode), not its name. At every scan each
//! discovered name is checked: when it now names another file (kubelet renamed the old one and created a
//! new one, or the symlink was re-pointed), the old file is read to its end under its old identity and
//! the new one is read from its start, after the old one has reached its end. Files whose name is gone
//! are read to their end and closed `close_removed_after` later, so a deleted file's space is freed.
//! A file whose name is gone while the file itself stays where it was (the symlink was removed, or hidden
//! by a remount) is kept, with its offset, for as long as it exists: a name that leads to it again
//! resumes it where reading stopped instead of reading it again from its start.
//! Descriptors are bounded by `max_open_files`: idle files are closed and reopened (by identity) when they
//! grow.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::progress::{Mark, Progress};
use super::reader::{FileReader, ReadStatus};
use super::siblings::{find_rotated, is_next_file, Found};
use super::Line;
use crate::config::{deadline, StartAt};
use crate::discover::DirWatcher;
use crate::registry::{Entry, FileIdentity, Fingerprint, FINGERPRINT_BYTES};

/// Names a tailed file for as long as it is tailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey(u64);

impl FileKey {
    pub fn new(n: u64) -> FileKey {
        FileKey(n)
    }
}

/// A file as it was opened: what the registry records for it.
#[derive(Debug, Clone)]
pub struct OpenedFile {
    /// As discovered (the /var/log/containers symlink): `log.file.path`.
    pub path: PathBuf,
    /// The file itself.
    pub target: PathBuf,
    pub identity: FileIdentity,
    pub fingerprint: Fingerprint,
    /// Where reading starts.
    pub offset: u64,
}

impl OpenedFile {
    /// The registry record for this file, read up to where reading starts.
    pub fn to_entry(&self, updated: i64) -> Entry {
        Entry {
            identity: self.identity,
            fingerprint: self.fingerprint,
            path: self.path.clone(),
            target: self.target.clone(),
            offset: self.offset,
            updated,
        }
    }
}

/// Receives what the tailer reads, so tailing knows nothing of what lines become.
pub trait LineSink {
    /// A file is tailed from now on; lines for `key` follow.
    fn opened(&mut self, key: FileKey, file: &OpenedFile);
    fn line(&mut self, key: FileKey, line: Line);
    /// The file grew past the fingerprint it had when opened.
    fn fingerprint_grew(&mut self, key: FileKey, fingerprint: Fingerprint);
    /// The file is done for good (rotated away, deleted, or the run ends): no more lines for `key`, and
    /// every byte up to `end` was handed out.
    fn finished(&mut self, key: FileKey, end: u64);
    /// The registry records the tailer started with are all matched to files, or known to be gone.
    fn known_resolved(&mut self);
    /// Asked before each turn of reading a file: `Some(t)` leaves it unread until `t`, when it is asked
    /// again (sooner if the file changes). Holding one file never holds up another.
    fn hold(&mut self, _key: FileKey) -> Option<Instant> {
        None
    }
    /// A discovered name resolves outside the log roots (a symlink to /etc/shadow, say): it is not
    /// opened. Said once per name and target.
    fn refused(&mut self, _path: &Path, _target: &Path) {}
    /// A file that had lost its name is tailed under another one now (`file.path`); lines for `key`
    /// continue where they stopped.
    fn renamed(&mut self, _key: FileKey, _file: &OpenedFile) {}
    /// `next`, read from `start`, is the file that took `previous`'s place in a rotation (kubelet's
    /// `0.log` after `0.log` became `0.log.<time>`), and `previous` has been read to its end: a line the
    /// rotation split between them continues in `next`. Said once, before `next`'s first line (and
    /// before `previous` is finished).
    fn continues(&mut self, _next: FileKey, _previous: FileKey, _start: u64) {}
}

#[derive(Debug, Error)]
#[error("cannot open {path}: {cause}")]
pub struct OpenError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

#[derive(Debug, Clone)]
pub struct TailerConfig {
    pub max_line_bytes: usize,
    /// For files found at the first scan with no registry record; later files start at their beginning.
    pub start_at: StartAt,
    /// Bytes asked of the kernel per read call.
    pub read_chunk: usize,
    /// Bytes read from one file before the others get a turn, so one busy file cannot starve the rest.
    pub file_budget: usize,
    pub close_removed_after: Duration,
    pub close_inactive: Duration,
    pub max_open_files: usize,
    /// Canonical directories a discovered file must resolve into; `None` allows any.
    pub roots: Option<Vec<PathBuf>>,
}

impl TailerConfig {
    /// 64 KiB reads amortise the syscall; a 256 KiB turn per file keeps latency fair across 2,000 files.
    pub fn new(max_line_bytes: usize, start_at: StartAt) -> TailerConfig {
        TailerConfig {
            max_line_bytes,
            start_at,
            read_chunk: 64 * 1024,
            file_budget: 256 * 1024,
            close_removed_after: crate::config::DEFAULT_CLOSE_REMOVED_AFTER,
            close_inactive: crate::config::DEFAULT_CLOSE_INACTIVE,
            max_open_files: crate::config::DEFAULT_MAX_OPEN_FILES,
            roots: None,
        }
    }
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

/// A name whose file was renamed away before the new file was created.
struct Vacated {
    /// The file that had the name; the next one waits for it.
    last: FileKey,
    /// When it was last written: rotations after that were never seen under the name.
    since: Option<std::time::SystemTime>,
    origin: OpenedFile,
}

struct Tailed {
    file: OpenedFile,
    phase: Phase,
    /// `None` while closed (inactive, or waiting for a free descriptor); reopened by identity.
    reader: Option<FileReader>,
    /// Where to reopen when `reader` is `None`.
    resume: u64,
    gzip: bool,
    /// Not read until this file has been read to its end: the rotated predecessor of the same name.
    after: Option<FileKey>,
    /// `after`, when this file took its place (same directory, kubelet's names), until the sink was
    /// told that this file's lines continue it.
    continues: Option<FileKey>,
    reached_eof: bool,
    last_data: Instant,
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
    next_key: u64,
    /// Registry records not matched to an open file yet.
    known: Vec<Entry>,
    first_scan_done: bool,
    /// Files inotify reported on, to check for rotation.
    to_check: BTreeSet<FileKey>,
    /// Files read to their end and closed in this run: never read again as a skipped rotation.
    finished_ids: HashSet<FileIdentity>,
    /// Targets renamed away whose name has no file yet.
    vacated: HashMap<PathBuf, Vacated>,
    /// Vacated targets inotify saw a file appear at.
    reappeared: BTreeSet<PathBuf>,
    /// Files the sink asked to leave unread, until when.
    held: BTreeMap<FileKey, Instant>,
    /// Names refused for resolving outside the log roots, with the target they resolved to.
    refused: HashMap<PathBuf, PathBuf>,
    progress: Arc<Progress>,
}

impl Tailer {
    /// A tailer resuming the files in `known` (the registry) at their recorded offsets.
    pub fn new(config: TailerConfig, known: Vec<Entry>) -> Tailer {
        Tailer {
            config,
            files: BTreeMap::new(),
            by_path: HashMap::new(),
            by_target: HashMap::new(),
            ready: BTreeSet::new(),
            open: 0,
            next_key: 0,
            known,
            first_scan_done: false,
            to_check: BTreeSet::new(),
            finished_ids: HashSet::new(),
            vacated: HashMap::new(),
            reappeared: BTreeSet::new(),
            held: BTreeMap::new(),
            refused: HashMap::new(),
            progress: Arc::default(),
        }
    }

    /// Publishes what is read of each file to `progress`, for /metrics. Set before the first `sync`.
    pub fn report_to(&mut self, progress: Arc<Progress>) {
        self.progress = progress;
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
        if !self.within_roots(&target) {
            return self.refuse(path, target, sink);
        }
        let file = File::open(&target)?;
        // The name was checked, then opened: make sure what is open is what was checked, should a
        // directory on the way have been swapped for a link in between.
        if let Some(opened) = opened_path(&file) {
            if opened != target && !self.within_roots(&opened) {
                return self.refuse(path, opened, sink);
            }
        }
        self.refused.remove(path);
        let meta = file.metadata()?;
        let identity = FileIdentity::of(&meta);
        let fingerprint = Fingerprint::of_file(&file)?;
        let file = match self.take_up_unnamed(identity, path, &target, file, watcher, sink) {
            Some(file) => file,
            None => return Ok(()),
        };
        let offset = match self.take_known(identity, &file) {
            Some(entry) if entry.offset > meta.len() => {
                tracing::warn!(path = %path.display(), offset = entry.offset, size = meta.len(),
                    "file truncated while loglynk was not running; reading it from the start");
                0
            }
            Some(entry) => entry.offset,
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

    /// A file that lost its name, found again under `path`: tailed as that name from where reading
    /// stopped. Returns `file` back when it is not such a file. One whose first bytes changed is another
    /// file that reused the inode: the old one is finished, and `file` is read as new.
    fn take_up_unnamed(
        &mut self,
        identity: FileIdentity,
        path: &Path,
        target: &Path,
        file: File,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
    ) -> Option<File> {
        let found = self
            .files
            .iter_mut()
            .find(|(_, t)| matches!(t.phase, Phase::Unnamed { .. }) && t.file.identity == identity);
        let Some((&key, tailed)) = found else {
            return Some(file);
        };
        if !tailed.file.fingerprint.matches_file(&file).unwrap_or(false) {
            self.finish(key, sink);
            return Some(file);
        }
        tracing::info!(path = %path.display(), offset = tailed.resume,
            "a file whose name was gone has one again; resuming it where reading stopped");
        let renamed = tailed.file.path != path;
        tailed.file.path = path.to_path_buf();
        tailed.file.target = target.to_path_buf();
        tailed.phase = Phase::Active;
        tailed.last_data = Instant::now();
        self.by_path.insert(path.to_path_buf(), key);
        self.by_target.insert(target.to_path_buf(), key);
        self.ready.insert(key);
        if let Some(dir) = target.parent() {
            watcher.watch(dir);
        }
        if renamed {
            sink.renamed(key, &self.files[&key].file);
        }
        if self.files[&key].reader.is_none() {
            self.attach_reader(key, Some(file));
        } else {
            self.publish(key);
        }
        None
    }

    fn within_roots(&self, target: &Path) -> bool {
        match &self.config.roots {
            None => true,
            Some(roots) => roots.iter().any(|root| target.starts_with(root)),
        }
    }

    /// The log roots now (they are found again at each scan, as directories appear).
    pub fn set_roots(&mut self, roots: Vec<PathBuf>) {
        self.config.roots = Some(roots);
    }

    /// Leaves a name resolving outside the log roots unopened, telling the sink once per target.
    fn refuse(
        &mut self,
        path: &Path,
        target: PathBuf,
        sink: &mut impl LineSink,
    ) -> std::io::Result<()> {
        if self.refused.get(path) != Some(&target) {
            sink.refused(path, &target);
            self.refused.insert(path.to_path_buf(), target);
        }
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
        let key = FileKey(self.next_key);
        self.next_key += 1;
        sink.opened(key, &file);
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
                file,
                phase,
                reader: None,
                gzip,
                after,
                continues,
                reached_eof: false,
                last_data: Instant::now(),
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

    /// The registry record for this file, if it has one: same identity and same first bytes (an inode
    /// reused by a new file has other content).
    /// A record with the same identity but other first bytes is for content that is gone (truncated
    /// while down, or the inode reused): the file is read from its start.
    fn take_known(&mut self, identity: FileIdentity, file: &File) -> Option<Entry> {
        let i = self.known.iter().position(|e| e.identity == identity)?;
        let mut entry = self.known.swap_remove(i);
        if !entry.fingerprint.matches_file(file).unwrap_or(false) {
            tracing::info!(path = %entry.path.display(),
                "file content changed while loglynk was not running; reading it from the start");
            entry.offset = 0;
        }
        Some(entry)
    }

    /// Opens (or reopens) the file's reader when a descriptor is free. `file` is an already open handle.
    fn attach_reader(&mut self, key: FileKey, file: Option<File>) -> bool {
        if self.open >= self.config.max_open_files && !self.evict_idle(key) {
            return false;
        }
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let max = self.config.max_line_bytes;
        let reader = if tailed.gzip {
            FileReader::gzip(&tailed.file.target, tailed.resume, max)
        } else {
            let file = match file {
                Some(file) => Ok(file),
                None => File::open(&tailed.file.target),
            };
            file.and_then(|f| FileReader::plain(f, tailed.resume, max))
        };
        match reader {
            Ok(reader) => {
                tailed.reader = Some(reader);
                self.open += 1;
                self.publish(key);
                true
            }
            Err(error) => {
                tracing::warn!(path = %tailed.file.target.display(), %error, "cannot open file");
                false
            }
        }
    }

    /// Closes the least recently active idle file to free a descriptor for `for_key`.
    fn evict_idle(&mut self, for_key: FileKey) -> bool {
        let victim = self
            .files
            .iter()
            .filter(|(k, t)| {
                **k != for_key && t.reader.is_some() && t.reached_eof && t.phase == Phase::Active
            })
            .min_by_key(|(_, t)| t.last_data)
            .map(|(k, _)| *k);
        match victim {
            Some(key) => {
                self.detach_reader(key);
                true
            }
            None => false,
        }
    }

    /// Closes the descriptor but keeps tailing: reopened when the file changes.
    fn detach_reader(&mut self, key: FileKey) {
        if let Some(tailed) = self.files.get_mut(&key) {
            if let Some(reader) = tailed.reader.take() {
                tailed.resume = reader.resume_position();
                self.open -= 1;
            }
        }
        self.publish(key);
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
            sink.known_resolved();
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
            tracing::warn!(%error, "file skipped; retried at the next scan");
        }
    }

    /// Whether `path` still names the file tailed as it; handles a rotation or removal when not.
    fn check_name(
        &mut self,
        path: PathBuf,
        key: FileKey,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
        errors: &mut Vec<OpenError>,
    ) {
        let current = std::fs::metadata(&path).map(|m| FileIdentity::of(&m));
        let Some(tailed) = self.files.get_mut(&key) else {
            return;
        };
        let deleted = tailed.reader.as_ref().is_some_and(FileReader::is_deleted);
        match current {
            Ok(identity) if identity == tailed.file.identity && !deleted => {}
            Ok(_) => {
                // The name now belongs to another file: finish the old one, then any file rotated in
                // between that was never seen under the name, then read the new one.
                let target = tailed.file.target.clone();
                self.rotated_away(key);
                self.take_up_vacated(&target, watcher, sink, errors);
            }
            Err(_) if still_at(&tailed.file.target, tailed.file.identity) => {
                // The name is gone, not the file: a removed (or hidden) link, not a rotation.
                tailed.phase = Phase::Unnamed {
                    since: Instant::now(),
                };
                self.forget_name(key);
                self.ready.insert(key);
            }
            Err(_) if tailed.reader.as_ref().is_some_and(|r| !r.is_deleted()) => {
                // The name is gone but the file is not: renamed away, with the new file not created yet
                // (kubelet renames, then the runtime reopens). The new one is taken up when it appears.
                self.rotated_away(key);
            }
            Err(_) => {
                tailed.phase = Phase::Removed {
                    since: Instant::now(),
                };
                self.forget_name(key);
                self.ready.insert(key);
            }
        }
    }

    /// The file tailed as `key` no longer has its name: it is read to its end, before whatever takes
    /// the name next (see `take_up_vacated`).
    fn rotated_away(&mut self, key: FileKey) {
        let Some(tailed) = self.files.get_mut(&key) else {
            return;
        };
        tailed.phase = Phase::Rotated {
            since: Instant::now(),
        };
        // Whatever was written before the rename is read before the successor.
        tailed.reached_eof = false;
        let since = tailed
            .reader
            .as_ref()
            .and_then(|r| r.file())
            .and_then(|f| f.metadata().ok())
            .and_then(|m| m.modified().ok());
        self.vacated.insert(
            tailed.file.target.clone(),
            Vacated {
                last: key,
                since,
                origin: tailed.file.clone(),
            },
        );
        self.forget_name(key);
        self.ready.insert(key);
    }

    /// A name left empty by a rotation has a file again: read any rotations in between, then it.
    fn take_up_vacated(
        &mut self,
        target: &Path,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
        errors: &mut Vec<OpenError>,
    ) {
        let Some(vacated) = self.vacated.remove(target) else {
            return;
        };
        let path = vacated.origin.path.clone();
        if self.by_path.contains_key(&path) {
            return;
        }
        if !path.exists() {
            // Still empty: wait, unless the name itself (the symlink) is gone for good.
            if path.symlink_metadata().is_ok() {
                self.vacated.insert(target.to_path_buf(), vacated);
            }
            return;
        }
        let mut last = self
            .files
            .contains_key(&vacated.last)
            .then_some(vacated.last);
        if let (Some(dir), Some(base), Some(since)) = (
            target.parent(),
            target.file_name().map(|n| n.to_os_string()),
            vacated.since,
        ) {
            last = self.read_skipped_rotations(dir, &base, since, &vacated.origin, last, sink);
        }
        if let Err(cause) = self.open_discovered(&path, last, watcher, sink) {
            errors.push(OpenError { path, cause });
        }
    }

    /// Rotated files next to `dir/base` (`0.log.<time>`) written to after `since` that no one read:
    /// the name was rotated more than once before loglynk looked. Each is read whole, oldest first, after
    /// `first`; returns the key the next file must wait for (`first` when there were none). Compressed ones are not looked at: kubelet
    /// keeps the newest rotated file uncompressed.
    fn read_skipped_rotations(
        &mut self,
        dir: &Path,
        base: &std::ffi::OsStr,
        since: std::time::SystemTime,
        origin: &OpenedFile,
        first: Option<FileKey>,
        sink: &mut impl LineSink,
    ) -> Option<FileKey> {
        let mut prefix = base.to_os_string();
        prefix.push(".");
        let prefix = prefix.to_string_lossy().into_owned();
        let tracked: HashSet<FileIdentity> = self.files.values().map(|t| t.file.identity).collect();
        let mut skipped: Vec<(std::time::SystemTime, PathBuf, std::fs::Metadata)> =
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if !name.starts_with(&prefix) || name.ends_with(".gz") {
                        return None;
                    }
                    let meta = std::fs::metadata(e.path()).ok()?;
                    let identity = FileIdentity::of(&meta);
                    let modified = meta.modified().ok()?;
                    let fresh = modified >= since
                        && !tracked.contains(&identity)
                        && !self.finished_ids.contains(&identity);
                    fresh.then(|| (modified, e.path(), meta))
                })
                .collect();
        skipped.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut last = first;
        for (_, target, meta) in skipped {
            let Ok(fingerprint) = File::open(&target).and_then(|f| Fingerprint::of_file(&f)) else {
                continue;
            };
            tracing::info!(path = %origin.path.display(), rotated = %target.display(),
                "reading a file rotated before it was seen under its name");
            last = Some(self.insert(
                OpenedFile {
                    path: origin.path.clone(),
                    target,
                    identity: FileIdentity::of(&meta),
                    fingerprint,
                    offset: 0,
                },
                Phase::Orphan,
                last,
                false,
                sink,
            ));
        }
        last
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

    /// Registry records that matched no discovered file: files rotated while loglynk was down. Each is
    /// looked for next to where it was, and the unread rest read, before the file now under its name.
    /// A file still where it was whose name is gone lost its name, not its place: it is kept as such.
    fn resume_rotated(&mut self, sink: &mut impl LineSink) {
        // Find every record's file first, so none is mistaken for a rotation nobody saw.
        let mut found_all = Vec::new();
        for mut entry in std::mem::take(&mut self.known) {
            let Some(dir) = entry.target.parent().map(Path::to_path_buf) else {
                continue;
            };
            let tailed: Vec<PathBuf> = self
                .files
                .values()
                .map(|t| t.file.target.clone())
                .chain(
                    found_all
                        .iter()
                        .map(|(_, t, _, _): &(Entry, PathBuf, bool, _)| t.clone()),
                )
                .collect();
            let exclude = |p: &Path| tailed.iter().any(|t| t == p);
            let Some(found) = find_rotated(&dir, entry.identity, entry.fingerprint, &exclude)
            else {
                tracing::debug!(path = %entry.path.display(), "registry record of a file that is gone");
                continue;
            };
            let in_place = found == Found::Renamed(entry.target.clone());
            let (target, gzip) = match found {
                Found::Renamed(p) => (p, false),
                Found::Compressed(p) => (p, true),
                Found::Rewritten(p) => {
                    entry.offset = 0;
                    entry.fingerprint = File::open(&p)
                        .and_then(|f| Fingerprint::of_file(&f))
                        .unwrap_or(entry.fingerprint);
                    (p, false)
                }
            };
            if in_place && entry.path.symlink_metadata().is_err() {
                tracing::info!(path = %entry.path.display(), target = %target.display(),
                    "a file's name is gone but the file is not; kept, to resume if a name leads to it again");
                let opened = OpenedFile {
                    path: entry.path,
                    target,
                    identity: entry.identity,
                    fingerprint: entry.fingerprint,
                    offset: entry.offset,
                };
                let since = Instant::now();
                self.insert(opened, Phase::Unnamed { since }, None, false, sink);
                continue;
            }
            let modified = std::fs::metadata(&target).and_then(|m| m.modified()).ok();
            found_all.push((entry, target, gzip, modified));
        }
        // Oldest first, each name's files chained, so lines come out in the order they were written.
        found_all.sort_by(|a, b| (a.3, &a.1).cmp(&(b.3, &b.1)));
        let mut chains: HashMap<PathBuf, (Option<FileKey>, Entry, Option<std::time::SystemTime>)> =
            HashMap::new();
        for (entry, target, gzip, modified) in found_all {
            let chain = chains
                .entry(entry.path.clone())
                .or_insert((None, entry.clone(), None));
            let opened = OpenedFile {
                path: entry.path.clone(),
                target,
                identity: entry.identity,
                fingerprint: entry.fingerprint,
                offset: entry.offset,
            };
            let read_all =
                !gzip && std::fs::metadata(&opened.target).is_ok_and(|m| m.len() <= opened.offset);
            if read_all {
                self.finished_ids.insert(opened.identity);
            } else {
                tracing::info!(path = %opened.path.display(), rotated = %opened.target.display(),
                    offset = opened.offset, "reading the rest of a file rotated while loglynk was not running");
                chain.0 = Some(self.insert(opened, Phase::Orphan, chain.0, gzip, sink));
            }
            chain.1 = entry;
            if !gzip {
                chain.2 = modified;
            }
        }
        for (path, (mut last, entry, since)) in chains {
            // Rotated again while down: files that had the name after the last known one, read whole.
            let (Some(dir), Some(base)) = (entry.target.parent(), entry.target.file_name()) else {
                continue;
            };
            let origin = OpenedFile {
                path: path.clone(),
                target: entry.target.clone(),
                identity: entry.identity,
                fingerprint: entry.fingerprint,
                offset: 0,
            };
            if let Some(since) = since {
                let base = base.to_os_string();
                let dir = dir.to_path_buf();
                last = self.read_skipped_rotations(&dir, &base, since, &origin, last, sink);
            }
            let successor = self.by_path.get(&path).copied();
            if let (Some(successor), Some(last)) = (successor, last) {
                let continues = self
                    .files
                    .get(&successor)
                    .is_some_and(|next| self.takes_place_of(&next.file.target, last));
                if let Some(next) = self.files.get_mut(&successor) {
                    next.after = Some(last);
                    next.continues = continues.then_some(last);
                }
            }
        }
    }

    /// inotify reported a change at `path` (a file's target).
    pub fn changed(&mut self, path: &Path) {
        if let Some(key) = self.by_target.get(path) {
            self.ready.insert(*key);
            self.to_check.insert(*key);
        } else if self.vacated.contains_key(path) {
            self.reappeared.insert(path.to_path_buf());
        }
    }

    /// Marks every file for a look: the poll that catches what inotify did not report.
    pub fn poll_all(&mut self) {
        self.ready.extend(self.files.keys().copied());
    }

    /// Reads every ready file once, up to its budget. Returns `true` when some file has more to read.
    pub fn read_ready(&mut self, sink: &mut impl LineSink) -> bool {
        let now = Instant::now();
        let due: Vec<FileKey> = self
            .held
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            self.held.remove(&key);
            self.ready.insert(key);
        }
        self.ready_to_close(now);
        let keys: Vec<FileKey> = std::mem::take(&mut self.ready).into_iter().collect();
        let mut more = false;
        for key in keys {
            let Some(tailed) = self.files.get(&key) else {
                continue;
            };
            if let Some(before) = tailed.after {
                if self.files.get(&before).is_some_and(|b| !b.reached_eof) {
                    self.ready.insert(key);
                    more = true;
                    continue;
                }
            }
            if tailed.continues.is_some() {
                self.hand_over(key, sink);
            }
            if let Some(until) = sink.hold(key) {
                self.held.insert(key, until);
                continue;
            }
            self.held.remove(&key);
            let closed = self.files.get(&key).is_some_and(|t| t.reader.is_none());
            if closed && !self.reopen(key, sink) {
                continue;
            }
            more |= self.read_one(key, sink);
        }
        more
    }

    /// Whether a file at `target` took the place of `before` in a rotation (see `is_next_file`).
    fn takes_place_of(&self, target: &Path, before: FileKey) -> bool {
        self.files
            .get(&before)
            .is_some_and(|b| is_next_file(&b.file.target, target))
    }

    /// Before `next` is first read: tells the sink that it continues the file whose place it took.
    /// That file is read to its end first: the runtime wrote all of it before it created `next`, so a
    /// line split between them is complete on that side when `next` continues it.
    fn hand_over(&mut self, next: FileKey, sink: &mut impl LineSink) {
        let Some(previous) = self.files.get(&next).and_then(|t| t.continues) else {
            return;
        };
        while self
            .files
            .get(&previous)
            .is_some_and(|t| t.reader.is_some())
            && self.read_one(previous, sink)
        {}
        // Finishing `previous` on the way has told the sink already (see `finish`).
        self.announce(next, previous, sink);
    }

    /// Tells the sink that `next` continues `previous`, once.
    fn announce(&mut self, next: FileKey, previous: FileKey, sink: &mut impl LineSink) {
        let Some(tailed) = self.files.get_mut(&next) else {
            return;
        };
        if tailed.continues != Some(previous) {
            return;
        }
        tailed.continues = None;
        let start = tailed
            .reader
            .as_ref()
            .map_or(tailed.resume, FileReader::position);
        sink.continues(next, previous, start);
    }

    /// Open files whose name went `close_removed_after` ago get a look (closing happens at a file's
    /// end), so the deadline `next_deadline` woke the loop for is acted on, not slept through in a
    /// busy loop until the next poll.
    fn ready_to_close(&mut self, now: Instant) {
        let after = self.config.close_removed_after;
        for (key, tailed) in &self.files {
            let since = match tailed.phase {
                Phase::Rotated { since } | Phase::Removed { since } | Phase::Unnamed { since } => {
                    since
                }
                Phase::Active | Phase::Orphan => continue,
            };
            if tailed.reader.is_some() && now.duration_since(since) >= after {
                self.ready.insert(*key);
            }
        }
    }

    /// A closed file is reopened when it grew (or was truncated); its rotation or removal while closed
    /// is handled by finding it by identity. Returns whether it is open now.
    fn reopen(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let meta = std::fs::metadata(&tailed.file.target);
        match meta {
            Ok(m) if FileIdentity::of(&m) == tailed.file.identity => {
                if m.len() == tailed.resume {
                    return false; // unchanged: stay closed
                }
            }
            _ => {
                let dir = tailed.file.target.parent().map(Path::to_path_buf);
                let found = dir.and_then(|d| {
                    find_rotated(&d, tailed.file.identity, tailed.file.fingerprint, &|_| {
                        false
                    })
                });
                match found {
                    Some(Found::Renamed(p)) => tailed.file.target = p,
                    Some(Found::Compressed(p)) => {
                        tailed.file.target = p;
                        tailed.gzip = true;
                    }
                    Some(Found::Rewritten(p)) => {
                        tailed.file.target = p;
                        tailed.resume = 0;
                    }
                    None => {
                        self.finish(key, sink);
                        return false;
                    }
                }
                if matches!(tailed.phase, Phase::Active | Phase::Unnamed { .. }) {
                    tailed.phase = Phase::Rotated {
                        since: Instant::now(),
                    };
                    tailed.reached_eof = false;
                    self.forget_name(key);
                }
                self.publish(key);
            }
        }
        let opened = self.attach_reader(key, None);
        if !opened {
            // No descriptor free: try again at the next poll.
            self.ready.remove(&key);
        }
        opened
    }

    /// Reads one open file up to its budget; returns whether it has more.
    fn read_one(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        let chunk = self.config.read_chunk;
        let budget = self.config.file_budget;
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let Some(reader) = tailed.reader.as_mut() else {
            return false;
        };
        if reader
            .was_truncated(&tailed.file.fingerprint)
            .unwrap_or(false)
        {
            tracing::warn!(path = %tailed.file.path.display(),
                "file truncated (copytruncate rotation?); reading it again from the start");
            return self.restart_truncated(key, sink);
        }
        let mut got_data = false;
        let status = reader.read(chunk, budget, |line| {
            got_data = true;
            sink.line(key, line)
        });
        tailed.mark.read_to(reader.position());
        let now = Instant::now();
        if got_data {
            tailed.last_data = now;
        }
        match status {
            Ok(ReadStatus::More) => {
                self.ready.insert(key);
                true
            }
            Ok(ReadStatus::Eof) => {
                tailed.reached_eof = true;
                self.at_eof(key, now, sink)
            }
            Err(error) => {
                tracing::warn!(path = %tailed.file.target.display(), %error, "read failed; closing the file");
                self.finish(key, sink);
                false
            }
        }
    }

    /// What to do with a file read to its current end; returns whether it has more to read.
    fn at_eof(&mut self, key: FileKey, now: Instant, sink: &mut impl LineSink) -> bool {
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let Some(reader) = tailed.reader.as_mut() else {
            return false;
        };
        if tailed.file.fingerprint.len < FINGERPRINT_BYTES as u32
            && reader.position() > u64::from(tailed.file.fingerprint.len)
        {
            if let Some(fingerprint) = reader.file().and_then(|f| Fingerprint::of_file(f).ok()) {
                tailed.file.fingerprint = fingerprint;
                sink.fingerprint_grew(key, fingerprint);
            }
        }
        match tailed.phase {
            Phase::Orphan => self.finish(key, sink),
            Phase::Rotated { since } | Phase::Removed { since }
                if now.duration_since(since) >= self.config.close_removed_after =>
            {
                self.finish(key, sink)
            }
            Phase::Rotated { .. } | Phase::Removed { .. } => {}
            Phase::Unnamed { since }
                if now.duration_since(since) >= self.config.close_removed_after =>
            {
                if reader.is_deleted() {
                    self.finish(key, sink);
                } else {
                    // Kept, closed: `reopen` reads it if it grows, and finishes it once it is gone.
                    self.detach_reader(key);
                }
            }
            Phase::Unnamed { .. } => {}
            Phase::Active => {
                if now.duration_since(tailed.last_data) >= self.config.close_inactive {
                    self.detach_reader(key);
                }
            }
        }
        false
    }

    /// A truncated file is, for what follows, a new file under the same name: what was read of it is
    /// finished, and it is read again from its start under a new key, so offsets acknowledged for the old
    /// content can never be recorded against the new.
    fn restart_truncated(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let Some(mut reader) = tailed.reader.take() else {
            return false;
        };
        self.open -= 1;
        let end = reader.position();
        let mut file = tailed.file.clone();
        let phase = tailed.phase;
        tailed.resume = end;
        // Files waiting for the old content wait for the new instead: it is the same file.
        let waiting = self.waiting_for(key);
        self.finish(key, sink);
        if reader.restart().is_err() {
            return false;
        }
        file.offset = 0;
        if let Some(fingerprint) = reader.file().and_then(|f| Fingerprint::of_file(f).ok()) {
            file.fingerprint = fingerprint;
        }
        let new_key = self.insert(file, phase, None, false, sink);
        if let Some(tailed) = self.files.get_mut(&new_key) {
            tailed.reader = Some(reader);
            self.open += 1;
        }
        self.publish(new_key);
        for k in waiting {
            if let Some(t) = self.files.get_mut(&k) {
                t.after = Some(new_key);
            }
        }
        true
    }

    /// Files that are read only after `key` reached its end.
    fn waiting_for(&self, key: FileKey) -> Vec<FileKey> {
        self.files
            .iter()
            .filter(|(_, t)| t.after == Some(key))
            .map(|(k, _)| *k)
            .collect()
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
        sink.finished(key, end);
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

    /// Whether the sink is holding some file unread.
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

    /// When a removed file next needs a look to be closed in time, or a held file is asked again.
    pub fn next_deadline(&self) -> Option<Instant> {
        // Only open files: a closed one has nothing to close, and a deadline already past would spin
        // the reading loop until the next poll.
        let removed = self
            .files
            .values()
            .filter(|t| t.reader.is_some())
            .filter_map(|t| match t.phase {
                Phase::Rotated { since } | Phase::Removed { since } | Phase::Unnamed { since } => {
                    Some(deadline(since, self.config.close_removed_after))
                }
                _ => None,
            });
        removed.chain(self.held.values().copied()).min()
    }
}

/// Whether `target` is still the file with `identity`.
fn still_at(target: &Path, identity: FileIdentity) -> bool {
    std::fs::metadata(target).is_ok_and(|m| FileIdentity::of(&m) == identity)
}

/// The path an open file has now, from the kernel (Linux's /proc).
fn opened_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

#[cfg(test)]
#[path = "tailer_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "model_tests.rs"]
mod model_tests;
