//! What `/metrics` measures at each scrape from state the stages own (the tailed files, the Kubernetes
//! metadata cache), as traits the stages implement: telemetry knows no stage, every stage may know
//! telemetry.

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

/// The tailed files, measured when a scrape asks (see `tail::Progress`).
pub trait MeasureFiles: Send + Sync + std::fmt::Debug {
    fn measure(&self) -> FilesNow;
}

/// The Kubernetes metadata cache's size and watch health.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KubeNow {
    /// The first list of pods (and namespaces) completed.
    pub ready: bool,
    /// The watch has failed for longer than `stale_after`.
    pub stale: bool,
    pub pods: usize,
    pub recently_deleted: usize,
    /// How long the current outage has lasted; `None` when the watch is healthy.
    pub failing_for: Option<std::time::Duration>,
    /// Watch and list errors since start, every retry counted.
    pub errors: u64,
}

/// The Kubernetes metadata cache, measured when a scrape asks.
pub trait MeasureKube: Send + Sync + std::fmt::Debug {
    fn measure(&self) -> KubeNow;
}
