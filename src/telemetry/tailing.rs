//! The tailer's events: what it found of files through rotation, truncation and restarts, and the reads
//! and opens that failed. Logged only: how many files are tailed, open and behind is measured at each
//! scrape (`files_*`).

use std::fmt::Display;
use std::path::Path;

use super::Telemetry;

impl Telemetry {
    /// A file's recorded offset is past its end: it was truncated while loglynk was stopped.
    pub fn file_truncated_while_stopped(&self, path: &Path, offset: u64, size: u64) {
        tracing::warn!(path = %path.display(), offset, size,
            "file truncated while loglynk was not running; reading it from the start");
    }

    /// A file's first bytes differ from its registry record's: other content under the same identity.
    pub fn file_changed_while_stopped(&self, path: &Path) {
        tracing::info!(path = %path.display(),
            "file content changed while loglynk was not running; reading it from the start");
    }

    /// A file rotated while loglynk was stopped still has lines to read, at `rotated` from `offset`.
    pub fn file_rotated_while_stopped(&self, path: &Path, rotated: &Path, offset: u64) {
        tracing::info!(path = %path.display(), rotated = %rotated.display(), offset,
            "reading the rest of a file rotated while loglynk was not running");
    }

    /// A registry record whose file is nowhere to be found.
    pub fn file_of_record_gone(&self, path: &Path) {
        tracing::debug!(path = %path.display(), "registry record of a file that is gone");
    }

    /// A file's name is gone, the file (at `target`) is not: it is kept unnamed for a while.
    pub fn file_name_gone(&self, path: &Path, target: &Path) {
        tracing::info!(path = %path.display(), target = %target.display(),
            "a file's name is gone but the file is not; kept, to resume if a name leads to it again");
    }

    /// A file that had lost its name has one again and is resumed at `offset`.
    pub fn file_name_back(&self, path: &Path, offset: u64) {
        tracing::info!(path = %path.display(), offset,
            "a file whose name was gone has one again; resuming it where reading stopped");
    }

    /// A file rotated before its name was seen (at `rotated`) is read too.
    pub fn file_rotated_before_seen(&self, path: &Path, rotated: &Path) {
        tracing::info!(path = %path.display(), rotated = %rotated.display(),
            "reading a file rotated before it was seen under its name");
    }

    /// A file shrank under reading (copytruncate): it is read again from its start.
    pub fn file_truncated(&self, path: &Path) {
        tracing::warn!(path = %path.display(),
            "file truncated (copytruncate rotation?); reading it again from the start");
    }

    /// A tailed file could not be (re)opened; it is tried again later.
    pub fn file_open_failed(&self, target: &Path, error: &dyn Display) {
        tracing::warn!(path = %target.display(), %error, "cannot open file");
    }

    /// Reading a file failed: it is closed.
    pub fn file_read_failed(&self, target: &Path, error: &dyn Display) {
        tracing::warn!(path = %target.display(), %error, "read failed; closing the file");
    }
}
