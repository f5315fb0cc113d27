//! The descriptor budget: at most `max_open_files` files open at once. The least recently active idle
//! file is closed to make room, and a closed file is reopened, by identity, when it changes; reading
//! position and everything else about it are kept meanwhile.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use super::{Phase, Tailer};
use crate::tail::reader::FileReader;
use crate::tail::siblings::{find_rotated, Found};
use crate::tail::{FileIdentity, FileKey, LineSink};
use crate::telemetry;

impl Tailer {
    /// Opens (or reopens) the file's reader when a descriptor is free. `file` is an already open handle.
    pub(super) fn attach_reader(&mut self, key: FileKey, file: Option<File>) -> bool {
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
                telemetry::file_reopen_failed(&tailed.file.target, &error);
                false
            }
        }
    }

    /// Closes the least recently active idle file to free a descriptor for `for_key`.
    pub(super) fn evict_idle(&mut self, for_key: FileKey) -> bool {
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
    pub(super) fn detach_reader(&mut self, key: FileKey) {
        if let Some(tailed) = self.files.get_mut(&key) {
            if let Some(reader) = tailed.reader.take() {
                tailed.resume = reader.resume_position();
                self.open -= 1;
            }
        }
        self.publish(key);
    }

    /// A closed file is reopened when it grew (or was truncated); its rotation or removal while closed
    /// is handled by finding it by identity. Returns whether it is open now.
    pub(super) fn reopen(&mut self, key: FileKey, sink: &mut impl LineSink) -> bool {
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
        if let Some(tailed) = self.files.get(&key) {
            tailed.mark.limited(!opened);
        }
        opened
    }
}
