//! The agent's instruments, private to this module: the stages report what happened through one method
//! per notable event (as Vector's internal events: the method logs the event and counts it), and
//! `/metrics`, `/readyz`, the finishing log line of `tail` and `run`, and the tests read them. The loss
//! ledger is the only count of events.
//!
//! The events themselves are grouped by concern beside this file: `reading` (files and lines),
//! `delivery` (Elasticsearch and the dead-letter file), `registry` (saving offsets), `lifecycle`
//! (signals, shutdown, the summary). Telemetry imports no stage, so every stage can report to it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use super::delivery::DeliveryCounters;
use super::gauges::MeasureFiles;
use super::ledger::{Counts, Ledger};
use super::reading::ReadCounters;
use super::registry::Failing;

/// `status="200"`, `status="429"`, … or `status="error"` when no answer came.
pub type StatusLabels = Vec<(&'static str, String)>;

/// Events read whose offsets the registry on disk lacks, asked at each scrape.
type UnsavedEvents = Box<dyn Fn() -> u64 + Send + Sync>;

pub struct Telemetry {
    pub(super) ledger: Ledger,
    pub(super) read: ReadCounters,
    pub(super) delivery: DeliveryCounters,
    pub(super) bulk_requests: Family<StatusLabels, Counter>,
    pub(super) bulk_duration: Histogram,
    /// Requests sent again, in whole or in part.
    pub(super) bulk_retries: Counter,
    /// Bulk request bodies built and not yet delivered.
    pub(super) queued_bytes: Gauge,
    /// The tailed files, measured at each scrape (tailed, open, bytes behind), once reading started.
    pub(super) files: OnceLock<Arc<dyn MeasureFiles>>,
    /// Discovered names refused for resolving outside the log roots.
    pub(super) files_refused: Counter,
    pub(super) registry_flush: Histogram,
    /// Writes of the registry that failed (each is retried).
    pub(super) registry_flush_failures: Counter,
    /// The registry's writes failing in a row, until one succeeds; readiness reports why.
    pub(super) registry_failing: Mutex<Option<Failing>>,
    /// The run's registry, once one is kept: `/metrics` reads its unsaved events.
    registry: OnceLock<UnsavedEvents>,
    pub(super) es_last_success: Gauge<f64, AtomicU64>,
    /// Unix milliseconds of Elasticsearch's last answer of any kind, for readiness.
    pub(super) es_last_answer_ms: AtomicU64,
    pipeline_running: AtomicBool,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("counts", &self.counts())
            .field("read", &self.read_counts())
            .field("delivery", &self.delivery_counts())
            .finish_non_exhaustive()
    }
}

impl Default for Telemetry {
    fn default() -> Telemetry {
        Telemetry {
            ledger: Ledger::default(),
            read: ReadCounters::default(),
            delivery: DeliveryCounters::default(),
            bulk_requests: Family::default(),
            // 5 ms to ~80 s: a local cluster answers in milliseconds, a struggling one in seconds,
            // and the request timeout is 90 s.
            bulk_duration: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            bulk_retries: Counter::default(),
            queued_bytes: Gauge::default(),
            files: OnceLock::new(),
            files_refused: Counter::default(),
            // 1 ms to ~4 s: an fsync on a healthy disk takes milliseconds.
            registry_flush: Histogram::new(exponential_buckets(0.001, 2.0, 13)),
            registry_flush_failures: Counter::default(),
            registry_failing: Mutex::new(None),
            registry: OnceLock::new(),
            es_last_success: Gauge::default(),
            es_last_answer_ms: AtomicU64::new(0),
            pipeline_running: AtomicBool::new(false),
        }
    }
}

impl Telemetry {
    /// One consistent reading of the ledger.
    pub fn counts(&self) -> Counts {
        self.ledger.counts()
    }

    pub fn set_pipeline_running(&self, running: bool) {
        self.pipeline_running.store(running, Ordering::Relaxed);
    }

    pub fn pipeline_running(&self) -> bool {
        self.pipeline_running.load(Ordering::Relaxed)
    }

    /// Measures the tailed files through `files` at each scrape from now on (the first reading side of
    /// a run; a second is ignored).
    pub fn measure_files(&self, files: Arc<dyn MeasureFiles>) {
        let _ = self.files.set(files);
    }

    /// Reports the unsaved events `unsaved` counts from now on (the first registry of a run; a second
    /// is ignored).
    pub fn watch_registry(&self, unsaved: impl Fn() -> u64 + Send + Sync + 'static) {
        let _ = self.registry.set(Box::new(unsaved));
    }

    /// Events read whose offsets the registry on disk lacks, in flight or not; 0 without a registry.
    pub fn events_not_in_registry(&self) -> u64 {
        self.registry.get().map_or(0, |unsaved| unsaved())
    }
}

/// Plain counters and state, consistent after every update: a panic elsewhere while holding the lock
/// leaves them usable.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Adds `n` to a plain counter that only tests and the summary read.
pub(super) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

pub(super) fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// How long ago `ms` (Unix milliseconds) was; `None` for 0, never.
pub(super) fn since_unix_ms(ms: u64) -> Option<Duration> {
    if ms == 0 {
        return None;
    }
    let then = UNIX_EPOCH + Duration::from_millis(ms);
    Some(SystemTime::now().duration_since(then).unwrap_or_default())
}
