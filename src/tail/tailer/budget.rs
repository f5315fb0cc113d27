//! The descriptor budget: at most `max_open_files` files open at once. The least recently active idle
//! file is closed to make room, and a closed file is reopened, by identity, when it changes; reading
//! position and everything else about it are kept meanwhile.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use super::{Phase, Tailed, Tailer};
use crate::tail::reader::FileReader;
use crate::tail::siblings::{find_rotated, Found};
use crate::tail::{FileEvent, FileIdentity, FileKey, LineSink};
use crate::telemetry;

impl Tailer {
    /// Opens (or reopens) the file's reader when a descriptor is free. `file` is an already open handle.
    pub(super) fn attach_reader(&mut self, key: FileKey, file: Option<File>) -> bool {
        if self.open >= self.config.max_open_files && !self.evict_idle(key) {
            return false;
        }
        // Opened now, or already open for a look: one descriptor more than the readers either way.
        self.opening();
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
                telemetry::file_reopen_failed(&tailed.file.target, &error);
                false
            }
        }
    }

    /// Closes the least recently active idle file to free a descriptor for `for_key`.
    pub(super) fn evict_idle(&mut self, for_key: FileKey) -> bool {
        self.evict(|k, t| k != for_key && idle(t))
    }

    /// Frees a descriptor, when none is, for a file found by name: it must be opened to be identified
    /// (its fingerprint is its first bytes), and opening it first would hold one descriptor more than
    /// `max_open_files` for that moment; at a first scan that found more files than the limit, none of
    /// them read yet, that was every file past the limit. The least recently active idle file is
    /// closed, else the least recently active file being read: closing one costs nothing but reading
    /// its unfinished line again, as it resumes after its last complete line when reopened. With
    /// every open file rotated and still being drained, none is closed. The file the caller opens
    /// next is counted (`opening`).
    pub(super) fn free_descriptor(&mut self) {
        if self.open >= self.config.max_open_files && !self.evict(|_, t| idle(t)) {
            self.evict(|_, _| true);
        }
        self.opening();
    }

    /// A log file is about to be opened, for a look or to be read.
    pub(super) fn opening(&mut self) {
        #[cfg(test)]
        {
            self.most_open = self.most_open.max(self.open + 1);
        }
    }

    /// Closes the least recently active file still under its name, open, and chosen by `may`.
    fn evict(&mut self, may: impl Fn(FileKey, &Tailed) -> bool) -> bool {
        let victim = self
            .files
            .iter()
            .filter(|(k, t)| t.reader.is_some() && t.phase == Phase::Active && may(**k, t))
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
    pub(super) fn detach_reader(&mut self, key: FileKey) {
        if let Some(tailed) = self.files.get_mut(&key) {
            if let Some(reader) = tailed.reader.take() {
                tailed.resume = reader.resume_position();
                tailed.closed_at = reader.modified().unwrap_or_else(super::a_moment_ago);
                self.open -= 1;
            }
        }
        self.publish(key);
    }

    /// A closed file is reopened when it grew (or was truncated); its rotation or removal while closed
    /// is handled by finding it by identity. Returns whether it is open now.
    pub(super) fn reopen(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        let in_place = match self.files.get(&key) {
            Some(t) => std::fs::metadata(&t.file.target)
                .ok()
                .filter(|m| FileIdentity::of(m) == t.file.identity),
            None => return false,
        };
        if in_place.is_none() {
            // Finding it opens its neighbours, one at a time.
            self.free_descriptor();
        }
        let Some(tailed) = self.files.get_mut(&key) else {
            return false;
        };
        match in_place {
            Some(m) => {
                tailed.seen_len = m.len();
                if m.len() == tailed.resume {
                    return false; // unchanged: stay closed
                }
            }
            None => {
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
                        let bytes = tailed.seen_len.saturating_sub(tailed.resume);
                        if bytes > 0 {
                            sink.file(FileEvent::Lost { key, bytes });
                        }
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
        if let Some(tailed) = self.files.get(&key) {
            tailed.mark.limited(!opened);
        }
        opened
    }
}

/// Read to its end, or waiting for the file it continues to be read to its end. A file waiting holds
/// its descriptor for nothing; were it not closed for others, the files it waits for, once closed and
/// rotated, could never be reopened while their successors held every descriptor, and reading stopped
/// for good (the tailer test `a_file_found_while_every_descriptor_is_taken_is_not_opened_beyond_the_limit`
/// hung without it).
fn idle(t: &Tailed) -> bool {
    t.reached_eof || t.after.is_some()
}
