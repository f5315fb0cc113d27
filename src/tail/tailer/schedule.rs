//! The read scheduler: which file is read when. Files inotify reported on, or all of them at a poll,
//! are read in turn, each up to its byte budget, so one busy file cannot starve the rest. A file waits
//! for the file it follows in a rotation to reach its end, and for the [`ReadGate`] to admit it (pod
//! metadata, say); holding one file never holds up another.

use std::path::Path;
use std::time::Instant;

use super::{Phase, Tailer};
use crate::config::deadline;
use crate::tail::reader::ReadStatus;
use crate::tail::{Admit, FileEvent, FileKey, Fingerprint, LineSink, ReadGate, FINGERPRINT_BYTES};
use crate::telemetry;

impl Tailer {
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
    /// `sink` is also the gate asked before each turn (see [`ReadGate`]).
    pub fn read_ready<S: LineSink + ReadGate>(&mut self, sink: &mut S) -> bool {
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
            let admitted = sink.admit(key, Instant::now());
            if let Some(tailed) = self.files.get(&key) {
                tailed
                    .mark
                    .waiting_for_metadata(matches!(admitted, Admit::Later(_)));
            }
            if let Admit::Later(until) | Admit::Ahead(until) = admitted {
                self.held.insert(key, until);
                continue;
            }
            self.held.remove(&key);
            let closed = self.files.get(&key).is_some_and(|t| t.reader.is_none());
            if closed && !self.reopen(key, sink) {
                continue;
            }
            let turn = sink.turn_bytes(key);
            more |= self.read_turn(key, turn, sink);
        }
        more
    }

    /// Open files whose name went `close_removed_after` ago get a look (closing happens at a file's
    /// end), so the deadline `next_deadline` woke the loop for is acted on, not slept through in a
    /// busy loop until the next poll.
    pub(super) fn ready_to_close(&mut self, now: Instant) {
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

    /// Reads one open file up to its budget; returns whether it has more.
    pub(super) fn read_one(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
        self.read_turn(key, None, sink)
    }

    /// Reads one open file up to its budget, or `turn` bytes when less (what the gate allows).
    fn read_turn(&mut self, key: FileKey, turn: Option<usize>, sink: &mut impl LineSink) -> bool {
        let budget = turn.map_or(self.config.file_budget, |t| t.min(self.config.file_budget));
        let chunk = self.config.read_chunk.min(budget.max(1));
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
            telemetry::file_truncated(&tailed.file.path);
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
                tailed.mark.reached_end();
                self.at_eof(key, now, sink)
            }
            Err(error) => {
                telemetry::file_read_failed(&tailed.file.target, &error);
                self.finish(key, sink);
                false
            }
        }
    }

    /// What to do with a file read to its current end; returns whether it has more to read.
    pub(super) fn at_eof(&mut self, key: FileKey, now: Instant, sink: &mut impl LineSink) -> bool {
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
                sink.file(FileEvent::FingerprintGrew { key, fingerprint });
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
