//! What the tailer tells whoever consumes it: lines, what happens to files, and the question it asks
//! before reading a file.
//!
//! Lines have a call of their own, so the hot path builds no value per line; everything else that
//! happens to a file is one [`FileEvent`], so a consumer that keeps the registry (pipeline's adapter)
//! and one that only parses see the same small vocabulary. Whether a file may be read now is asked of a
//! [`ReadGate`] by the scheduler, rather than being a side effect of a callback.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{FileIdentity, FileKey, Fingerprint, Line};

/// A file as it was opened: what the registry records for it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A file known from an earlier run (the registry's record): taken up at `offset` if the file with
/// `identity` still starts with the bytes of `fingerprint`, found where it was or next to it if it
/// rotated meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The name it was tailed as.
    pub path: PathBuf,
    /// Where the file was.
    pub target: PathBuf,
    pub identity: FileIdentity,
    pub fingerprint: Fingerprint,
    /// Every byte before it was delivered.
    pub offset: u64,
}

impl From<&OpenedFile> for Resume {
    fn from(file: &OpenedFile) -> Resume {
        Resume {
            path: file.path.clone(),
            target: file.target.clone(),
            identity: file.identity,
            fingerprint: file.fingerprint,
            offset: file.offset,
        }
    }
}

impl From<Resume> for OpenedFile {
    fn from(resume: Resume) -> OpenedFile {
        OpenedFile {
            path: resume.path,
            target: resume.target,
            identity: resume.identity,
            fingerprint: resume.fingerprint,
            offset: resume.offset,
        }
    }
}

/// What happens to tailed files, in the order it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEvent<'a> {
    /// A file is tailed from now on; lines for `key` follow.
    Opened { key: FileKey, file: &'a OpenedFile },
    /// A file that had lost its name is tailed under another one now (`file.path`); lines for `key`
    /// continue where they stopped.
    Renamed { key: FileKey, file: &'a OpenedFile },
    /// The file grew past the fingerprint it had when opened.
    FingerprintGrew {
        key: FileKey,
        fingerprint: Fingerprint,
    },
    /// `next`, read from `start`, is the file that took `previous`'s place in a rotation (kubelet's
    /// `0.log` after `0.log` became `0.log.<time>`), and `previous` has been read to its end: a line the
    /// rotation split between them continues in `next`. Said once, before `next`'s first line (and
    /// before `previous` is finished).
    Continues {
        next: FileKey,
        previous: FileKey,
        start: u64,
    },
    /// A discovered name resolves outside the log roots (a symlink to /etc/shadow, say): it is not
    /// opened. Said once per name and target.
    Refused { path: &'a Path, target: &'a Path },
    /// The records the tailer started with are all matched to files, or known to be gone.
    Resolved,
    /// A closed file was deleted (its rotation went on without it) `bytes` before the end it was
    /// last seen with: those bytes are lost. Said before it is finished.
    Lost { key: FileKey, bytes: u64 },
    /// The file is done for good (rotated away, deleted, or the run ends): no more lines for `key`, and
    /// every byte up to `end` was handed out.
    Finished { key: FileKey, end: u64 },
}

/// Receives what the tailer reads, so tailing knows nothing of what lines become.
pub trait LineSink {
    fn line(&mut self, key: FileKey, line: Line);
    fn file(&mut self, event: FileEvent<'_>);
}

/// Whether a file may be read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Now,
    /// Left unread until then, when the gate is asked again (sooner if the file changes).
    Later(Instant),
    /// Left unread until then because enough of it is read and not yet delivered (its read-ahead):
    /// the file is the buffer, and what it has unread must not stand in front of other files' lines.
    Ahead(Instant),
    /// Left unread until then because a rate limit with the `delay` policy is spent.
    Limited(Instant),
}

/// Asked by the scheduler before each turn of reading a file. Holding one file never holds up another.
pub trait ReadGate {
    fn admit(&mut self, key: FileKey, now: Instant) -> Admit;

    /// At most this many bytes of the file in the turn just admitted; `None`: the tailer's own turn.
    fn turn_bytes(&self, _key: FileKey) -> Option<usize> {
        None
    }

    /// At most this many lines in the turn just admitted; `None`: no limit in lines.
    fn turn_lines(&self, _key: FileKey) -> Option<usize> {
        None
    }
}
