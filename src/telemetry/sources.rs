//! What `/status`, `/metrics` and the progress line read of the stages at each request, as plain
//! snapshots: the tailed files (tail's `Progress`), the pod cache's health (enrich's `PodCache`) and the
//! events the registry on disk lacks (the registry's tracker). The stages implement these traits and
//! hand themselves to [`Telemetry`](super::Telemetry), so telemetry imports none of them and every stage
//! can report its own events here without an import loop.

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// The tailed files, measured when asked.
pub trait TailedFiles: Debug + Send + Sync {
    /// The file gauges: every tailed file measured now.
    fn measure(&self) -> FilesNow;
    /// Every tailed file, measured now, furthest behind first.
    fn files(&self) -> Vec<FileNow>;
}

/// The Kubernetes metadata cache's health.
pub trait PodCacheHealth: Debug + Send + Sync {
    fn status(&self) -> CacheStatus;
}

/// The run's acknowledgement tracker.
pub trait UnsavedEvents: Debug + Send + Sync {
    /// Events read whose offsets the registry on disk lacks, in flight or not.
    fn unsaved_events(&self) -> u64;
}

/// What a tailed file is doing, as `/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Bytes behind, being read.
    Reading,
    /// Its pod's metadata is not cached yet: not read for up to `metadata_wait`.
    WaitingForMetadata,
    /// Bytes behind and closed, waiting for a descriptor (`max_open_files`).
    Limited,
    /// Open and read to its end.
    Idle,
    /// Read to its end and its descriptor closed (`close_inactive`), reopened when it grows.
    Closed,
}

impl FileState {
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Reading => "reading",
            FileState::WaitingForMetadata => "waiting_for_metadata",
            FileState::Limited => "limited",
            FileState::Idle => "idle",
            FileState::Closed => "closed",
        }
    }
}

/// One tailed file, measured now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileNow {
    /// Where the file is (the link's target, or where it was found after a rotation).
    pub path: PathBuf,
    /// The offset of the next byte to read.
    pub offset: u64,
    /// `None` for a compressed file, or one gone by its path while closed.
    pub size: Option<u64>,
    pub behind: u64,
    /// How long reading has not been at the file's end; zero when it is.
    pub behind_for: Duration,
    pub state: FileState,
}

/// What the file gauges show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilesNow {
    pub tailed: u64,
    pub open: u64,
    /// Bytes written and not read yet, summed over files.
    pub behind: u64,
    /// In the file furthest behind.
    pub behind_max: u64,
}

/// The cache's health, for the agent's own monitoring.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStatus {
    /// The first list of pods (and namespaces) completed.
    pub ready: bool,
    /// When the API server last answered a watch or list.
    pub last_success: Option<SystemTime>,
    /// Watch errors since start, every retry counted.
    pub errors: u64,
    pub last_error: Option<String>,
    /// How long the current outage has lasted; `None` when the watch is healthy.
    pub failing_for: Option<Duration>,
    /// Failing for at least `stale_after`: lookups answer from the last state seen.
    pub stale: bool,
    pub pods: usize,
    pub recently_deleted: usize,
    pub namespaces: usize,
}
