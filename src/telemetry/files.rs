//! What happens to the tailed files that only the log tells: discovery's watches, the tailer's rotations
//! and truncations, resuming after a restart, files that cannot be opened or read, files left unread.
//!
//! Free functions rather than methods of [`Telemetry`](super::Telemetry): they count nothing, and the
//! tailer and the directory watcher report them from deep inside a scan, with no handle to pass down.
//! An event that is counted is a method (`file_failed` counts what [`file_skipped`] says).

use std::fmt::Display;
use std::path::Path;

use super::Telemetry;

/// Why a file is left unread: the label values of `loglynk_files_excluded_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    /// `kubernetes.include`/`exclude` leave its container out (`config`).
    Config,
    /// Its container's hints say `co.elastic.logs/enabled: false` (`hint`).
    Hint,
}

impl Exclusion {
    pub(super) const ALL: [Exclusion; 2] = [Exclusion::Config, Exclusion::Hint];

    pub(super) fn label(self) -> &'static str {
        match self {
            Exclusion::Config => "config",
            Exclusion::Hint => "hint",
        }
    }
}

impl Telemetry {
    /// A file is left unread from now on, for `exclusion`.
    pub fn file_excluded(&self, exclusion: Exclusion, path: &str) {
        self.files_excluded
            .get_or_create(&vec![("reason", exclusion.label())])
            .inc();
        match exclusion {
            Exclusion::Config => tracing::info!(
                path = %path,
                "not read: kubernetes.include/exclude leave its container out"
            ),
            Exclusion::Hint => {
                tracing::info!(path = %path, "not read: its container's hints say enabled: false")
            }
        }
    }
}

/// A file left unread is read again: its container is no longer excluded.
pub fn file_included_again(path: &str) {
    tracing::info!(path = %path, "read again: its container is no longer excluded");
}

/// Opening or reopening a file failed; the next scan tries again.
pub fn file_skipped(error: &dyn Display) {
    tracing::warn!(%error, "file skipped; retried at the next scan");
}

/// A file to reopen (its descriptor was closed to stay within `max_open_files`) cannot be.
pub fn file_reopen_failed(target: &Path, error: &dyn Display) {
    tracing::warn!(path = %target.display(), %error, "cannot open file");
}

/// Reading a file failed; it is closed.
pub fn file_read_failed(target: &Path, error: &dyn Display) {
    tracing::warn!(path = %target.display(), %error, "read failed; closing the file");
}

/// A file shrank under the reader: read again from its start.
pub fn file_truncated(path: &Path) {
    tracing::warn!(path = %path.display(),
        "file truncated (copytruncate rotation?); reading it again from the start");
}

/// A file is shorter than its registry offset: it was truncated while the agent was down.
pub fn file_truncated_while_down(path: &Path, offset: u64, size: u64) {
    tracing::warn!(path = %path.display(), offset, size,
        "file truncated while loglynk was not running; reading it from the start");
}

/// A file's first bytes are not those its registry record saw: other content under the same inode.
pub fn file_replaced_while_down(path: &Path) {
    tracing::info!(path = %path.display(),
        "file content changed while loglynk was not running; reading it from the start");
}

/// A file rotated while the agent was down has unread lines: they are read before its successor.
pub fn rotated_while_down(path: &Path, rotated: &Path, offset: u64) {
    tracing::info!(path = %path.display(), rotated = %rotated.display(), offset,
        "reading the rest of a file rotated while loglynk was not running");
}

/// A registry record matches no file any more.
pub fn record_gone(path: &Path) {
    tracing::debug!(path = %path.display(), "registry record of a file that is gone");
}

/// A file lost its name (the name is gone, the file is not): kept, in case a name leads to it again.
pub fn file_unnamed(path: &Path, target: &Path) {
    tracing::info!(path = %path.display(), target = %target.display(),
        "a file's name is gone but the file is not; kept, to resume if a name leads to it again");
}

/// A file that lost its name has one again.
pub fn file_renamed_again(path: &Path, offset: u64) {
    tracing::info!(path = %path.display(), offset,
        "a file whose name was gone has one again; resuming it where reading stopped");
}

/// Rotations happened faster than scans: a rotated file never seen under its name is read too.
pub fn rotated_unseen(path: &Path, rotated: &Path) {
    tracing::info!(path = %path.display(), rotated = %rotated.display(),
        "reading a file rotated before it was seen under its name");
}

/// inotify cannot be used at all: every directory is polled.
pub fn inotify_unavailable(error: &dyn Display) {
    tracing::warn!(%error, "inotify is unavailable; files are polled instead");
}

/// The inotify watch limit is reached, said once: further directories are polled.
pub fn inotify_limit_reached(watched: usize) {
    tracing::warn!(
        watched,
        "inotify watch limit reached (fs.inotify.max_user_watches); further directories are polled"
    );
}

/// One directory cannot be watched: it is polled.
pub fn directory_not_watched(dir: &Path, error: &dyn Display) {
    tracing::debug!(dir = %dir.display(), %error, "cannot watch directory; polling it");
}
