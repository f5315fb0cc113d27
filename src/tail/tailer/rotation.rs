//! A name that changes its file: rotation (renamed away, the name taken by a new file), removal, a name
//! lost and found again, and truncation in place (copytruncate). The file that had a name is read to
//! its end before the file that has it now, and a line a rotation split between them is handed over.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use super::{still_at, OpenError, Phase, Tailer};
use crate::discover::DirWatcher;
use crate::tail::reader::FileReader;
use crate::tail::siblings::is_next_file;
use crate::tail::{FileEvent, FileIdentity, FileKey, Fingerprint, LineSink, OpenedFile};
use crate::telemetry;

/// A name whose file was renamed away before the new file was created.
pub(super) struct Vacated {
    /// The file that had the name; the next one waits for it.
    last: FileKey,
    /// When it was last written: rotations after that were never seen under the name.
    since: Option<SystemTime>,
    origin: OpenedFile,
}

impl Tailer {
    /// Whether `path` still names the file tailed as it; handles a rotation or removal when not.
    pub(super) fn check_name(
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
    pub(super) fn rotated_away(&mut self, key: FileKey) {
        let Some(tailed) = self.files.get_mut(&key) else {
            return;
        };
        tailed.phase = Phase::Rotated {
            since: Instant::now(),
        };
        // Whatever was written before the rename is read before the successor.
        tailed.reached_eof = false;
        // Closed, it may have been rotated more than once since it was last looked at.
        let since = match &tailed.reader {
            Some(reader) => reader.modified(),
            None => Some(tailed.closed_at),
        };
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
    pub(super) fn take_up_vacated(
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
    pub(super) fn read_skipped_rotations(
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
            self.free_descriptor();
            let Ok(fingerprint) = File::open(&target).and_then(|f| Fingerprint::of_file(&f)) else {
                continue;
            };
            telemetry::rotated_unseen(&origin.path, &target);
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

    /// Whether a file at `target` took the place of `before` in a rotation (see `is_next_file`).
    pub(super) fn takes_place_of(&self, target: &Path, before: FileKey) -> bool {
        self.files
            .get(&before)
            .is_some_and(|b| is_next_file(&b.file.target, target))
    }

    /// Before `next` is first read: tells the sink that it continues the file whose place it took.
    /// That file is read to its end first: the runtime wrote all of it before it created `next`, so a
    /// line split between them is complete on that side when `next` continues it.
    pub(super) fn hand_over(&mut self, next: FileKey, sink: &mut impl LineSink) {
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
    pub(super) fn announce(&mut self, next: FileKey, previous: FileKey, sink: &mut impl LineSink) {
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
        sink.file(FileEvent::Continues {
            next,
            previous,
            start,
        });
    }

    /// A truncated file is, for what follows, a new file under the same name: what was read of it is
    /// finished, and it is read again from its start under a new key, so offsets acknowledged for the old
    /// content can never be recorded against the new.
    pub(super) fn restart_truncated(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        let Some(mut reader) = tailed.reader.take() else {
            return false;
        };
        self.open -= 1;
        // Lines read before the truncation ship; a line limit may have left some buffered.
        while let Some(line) = reader.next_buffered() {
            sink.line(key, line);
        }
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
    pub(super) fn waiting_for(&self, key: FileKey) -> Vec<FileKey> {
        self.files
            .iter()
            .filter(|(_, t)| t.after == Some(key))
            .map(|(k, _)| *k)
            .collect()
    }

    /// A file that lost its name, found again under `path`: tailed as that name from where reading
    /// stopped. Returns `file` back when it is not such a file. One whose first bytes changed is another
    /// file that reused the inode: the old one is finished, and `file` is read as new.
    pub(super) fn take_up_unnamed(
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
        telemetry::file_renamed_again(path, tailed.resume);
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
            sink.file(FileEvent::Renamed {
                key,
                file: &self.files[&key].file,
            });
        }
        if self.files[&key].reader.is_none() {
            self.attach_reader(key, Some(file));
        } else {
            self.publish(key);
        }
        None
    }
}
