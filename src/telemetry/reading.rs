//! The reading side's events: files found, opened, skipped and refused, lines read and left unparsed,
//! and pod metadata found or missing. The counts here are read by the finishing log line and the tests.

use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use super::instruments::{add, load};
use super::Telemetry;

#[derive(Debug, Default)]
pub(super) struct ReadCounters {
    files_opened: AtomicU64,
    files_failed: AtomicU64,
    unparsed: AtomicU64,
    kube_found: AtomicU64,
    kube_missing: AtomicU64,
}

/// What the reading side did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Files opened for reading (a rotated file's successor counts again).
    pub files_opened: u64,
    /// Attempts to open a matched file that failed (each is retried at the next scan).
    pub files_failed: u64,
    /// Lines in neither CRI nor docker format, shipped raw and flagged, counted when their file's
    /// parser is done (the file finished, or reading stopped).
    pub unparsed: u64,
    /// Files whose pod the Kubernetes API described.
    pub kube_found: u64,
    /// Files shipped with their path's metadata only after `metadata_wait`, flagged
    /// kube_metadata_missing.
    pub kube_missing: u64,
}

impl Telemetry {
    /// Lines handed to the pipeline by the reading side (a joined partial line counts once).
    pub fn lines_read(&self, n: u64) {
        self.ledger.read(n);
    }

    /// A file is open for reading.
    pub fn file_opened(&self, path: &Path) {
        add(&self.read.files_opened, 1);
        tracing::debug!(path = %path.display(), "file opened");
    }

    /// A matched file could not be opened.
    pub fn file_failed(&self, error: &dyn Display) {
        add(&self.read.files_failed, 1);
        super::file_skipped(error);
    }

    /// A discovered name resolved outside the log roots and is not read.
    pub fn file_refused(&self, path: &Path, target: &Path) {
        self.files_refused.inc();
        tracing::warn!(
            path = %path.display(),
            target = %target.display(),
            "refusing a file that resolves outside the log roots (paths' directories, kubelet's pods, \
             log_roots); it is not read"
        );
    }

    /// A path or glob of `paths` matches no file (at the first scan, or again after it did).
    pub fn path_unmatched(&self, path: &str) {
        tracing::warn!(path = %path, "no file matches this path; looked for again at every scan");
    }

    /// A path or glob that matched nothing matches files now.
    pub fn path_matching(&self, path: &str) {
        tracing::info!(path = %path, "files match this path now");
    }

    /// A file's parser is done, having shipped `n` lines unparsed.
    pub fn lines_unparsed(&self, n: u64) {
        add(&self.read.unparsed, n);
    }

    /// A file's pod was found in the Kubernetes API: its events carry the pod's metadata.
    pub fn pod_metadata_found(&self) {
        add(&self.read.kube_found, 1);
    }

    /// A file's pod was not found within `metadata_wait`: its events ship with the path's metadata.
    pub fn pod_metadata_missing(&self, path: &str) {
        add(&self.read.kube_missing, 1);
        tracing::debug!(path = %path, "no pod metadata in time; shipping with the path's");
    }

    /// One reading of the reading side's counts.
    pub fn read_counts(&self) -> ReadCounts {
        let c = &self.read;
        ReadCounts {
            files_opened: load(&c.files_opened),
            files_failed: load(&c.files_failed),
            unparsed: load(&c.unparsed),
            kube_found: load(&c.kube_found),
            kube_missing: load(&c.kube_missing),
        }
    }
}
