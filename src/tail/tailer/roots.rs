//! The log-root checks: a discovered name is read only if the file it resolves to lies under one of the
//! log roots, so a symlink planted in a log directory cannot make the agent ship /etc/shadow.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::{FileEvent, LineSink, Tailer};

/// The directories discovered files may resolve into, and the names refused so far.
#[derive(Debug, Default)]
pub(super) struct LogRoots {
    /// Canonical directories; `None` allows any (until the first scan sets them, and in tests).
    roots: Option<Vec<PathBuf>>,
    /// Names refused for resolving outside the roots, with the target they resolved to: a name is
    /// reported once per target, not at every scan.
    refused: HashMap<PathBuf, PathBuf>,
}

impl LogRoots {
    pub(super) fn allows(&self, target: &Path) -> bool {
        match &self.roots {
            None => true,
            Some(roots) => roots.iter().any(|root| target.starts_with(root)),
        }
    }

    /// Where `file`, opened at the checked `target`, really is when that lies outside the roots. The
    /// name was checked, then opened: what is open must be what was checked, should a directory on the
    /// way have been swapped for a link in between.
    pub(super) fn escaped(&self, target: &Path, file: &File) -> Option<PathBuf> {
        opened_path(file).filter(|opened| opened != target && !self.allows(opened))
    }

    /// `path` resolves inside the roots (again): a later refusal is reported anew.
    pub(super) fn accept(&mut self, path: &Path) {
        self.refused.remove(path);
    }

    /// Notes `path` refused for `target`; whether that is news.
    fn refuse(&mut self, path: &Path, target: &Path) -> bool {
        if self.refused.get(path).map(PathBuf::as_path) == Some(target) {
            return false;
        }
        self.refused
            .insert(path.to_path_buf(), target.to_path_buf());
        true
    }
}

impl Tailer {
    /// The log roots now (they are found again at each scan, as directories appear).
    pub fn set_roots(&mut self, roots: Vec<PathBuf>) {
        self.roots.roots = Some(roots);
    }

    /// Leaves a name resolving outside the log roots unopened, telling the sink once per target.
    pub(super) fn refuse(&mut self, path: &Path, target: &Path, sink: &mut impl LineSink) {
        if self.roots.refuse(path, target) {
            sink.file(FileEvent::Refused { path, target });
        }
    }
}

/// The path an open file has now, from the kernel (Linux's /proc).
fn opened_path(file: &File) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}
