//! The agent's instruments, private to this module: the stages report what happened through one method
//! per notable event (as Vector's internal events: the method logs the event and counts it), and
//! `/metrics`, `/status`, `/readyz`, the finishing log line of `tail` and `run`, and the tests read them.
//! The loss ledger is the only count of events.
//!
//! The events themselves are grouped by concern beside this file: `reading` (files and lines), `files`
//! (the tailer's and discovery's), `kube` (the pod cache's), `elasticsearch` (bulk requests, dead
//! letters, the cluster), `registry` (saving offsets), `reload` (the configuration read again), `lifecycle` (signals, the
//! shutdown timeout, the line that sums up a run).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use super::delivery::DeliveryLatency;
use super::elasticsearch::DeliveryCounters;
use super::files::Exclusion;
use super::ledger::{Counts, Ledger};
use super::reading::ReadCounters;
use super::registry::Failing;
use super::sources::{CacheStatus, FileNow, FilesNow, PodCacheHealth, TailedFiles, UnsavedEvents};

/// `status="200"`, `status="429"`, … or `status="error"` when no answer came; `namespace="shop"`.
pub type StatusLabels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct Telemetry {
    pub(super) ledger: Ledger,
    pub(super) read: ReadCounters,
    pub(super) delivery: DeliveryCounters,
    pub(super) bulk_requests: Family<StatusLabels, Counter>,
    pub(super) bulk_duration: Histogram,
    /// Requests sent again, in whole or in part.
    pub(super) bulk_retries: Counter,
    /// Shipped events Elasticsearch already held (a `create` refused for an existing `_id`).
    pub(super) events_deduplicated: Counter,
    /// Bulk request bodies built and not yet delivered.
    pub(super) queued_bytes: Gauge,
    /// The current pipeline's tailed files, measured at each scrape (tailed, open, bytes behind).
    /// Replaced when a reload restarts the pipeline.
    files: Mutex<Option<Arc<dyn TailedFiles>>>,
    /// Discovered names refused for resolving outside the log roots.
    pub(super) files_refused: Counter,
    pub(super) registry_flush: Histogram,
    /// Writes of the registry that failed (each is retried).
    pub(super) registry_flush_failures: Counter,
    /// Why the last write of the registry failed, until one succeeds; readiness reports it.
    pub(super) registry_failing: Mutex<Option<Failing>>,
    /// The run's acknowledgement tracker, once a registry is kept: `/metrics` reads its unsaved events.
    /// Replaced when a reload restarts the pipeline.
    registry: Mutex<Option<Arc<dyn UnsavedEvents>>>,
    pub(super) es_last_success: Gauge<f64, AtomicU64>,
    /// From a line's write time to Elasticsearch's acknowledgement of it.
    pub(super) delivery_latency: DeliveryLatency,
    /// Bulk item bytes Elasticsearch settled, by namespace: what capacity planning adds up.
    pub(super) shipped_bytes: Family<StatusLabels, Counter>,
    /// Unix milliseconds of Elasticsearch's last answer of any kind, for readiness.
    pub(super) es_last_answer_ms: AtomicU64,
    pipeline_running: AtomicBool,
    /// What `/status` shows besides the instruments: bulk requests sent and not answered yet, the
    /// retry wait under way (its end and length, Unix ms and ms), the metadata cache, the start.
    pub(super) requests_in_flight: AtomicI64,
    pub(super) backoff_until_ms: AtomicU64,
    backoff_ms: AtomicU64,
    kube: OnceLock<Box<dyn PodCacheHealth>>,
    started: SystemTime,
    /// Reloads of the configuration, `result="success"` or `"failure"`.
    pub(super) config_reloads: Family<ResultLabels, Counter>,
    /// The applications' lines by namespace, container and level (`loglynk_log_events_total`).
    pub(super) log_events: super::log_events::LogEvents,
    /// Pod hints left out, by reason (`invalid_regex`, …).
    pub(super) hints_invalid: Family<ReasonLabels, Counter>,
    /// Files left unread, by reason (`config`, `hint`).
    pub(super) files_excluded: Family<ReasonLabels, Counter>,
    /// The pods rate limited now, and what rotations deleted unread.
    pub(super) limits: super::limits::LimitCounters,
}

/// `reason="…"`, from a fixed list.
pub type ReasonLabels = Vec<(&'static str, &'static str)>;

/// Why a hint is left out: the label values of `loglynk_hints_invalid_total`, all served from the start.
pub const HINT_ERROR_REASONS: [&str; 7] = [
    "invalid_bool",
    "invalid_regex",
    "invalid_name",
    "invalid_target",
    "invalid_rate_limit",
    "invalid_multiline",
    "unsupported",
];

/// `result="success"` or `result="failure"`.
pub type ResultLabels = Vec<(&'static str, &'static str)>;

impl Default for Telemetry {
    fn default() -> Telemetry {
        let telemetry = Telemetry {
            ledger: Ledger::default(),
            read: ReadCounters::default(),
            delivery: DeliveryCounters::default(),
            bulk_requests: Family::default(),
            // 5 ms to ~80 s: a local cluster answers in milliseconds, a struggling one in seconds,
            // and the request timeout is 90 s.
            bulk_duration: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            bulk_retries: Counter::default(),
            events_deduplicated: Counter::default(),
            queued_bytes: Gauge::default(),
            files: Mutex::new(None),
            files_refused: Counter::default(),
            // 1 ms to ~4 s: an fsync on a healthy disk takes milliseconds.
            registry_flush: Histogram::new(exponential_buckets(0.001, 2.0, 13)),
            registry_flush_failures: Counter::default(),
            registry_failing: Mutex::new(None),
            registry: Mutex::new(None),
            es_last_success: Gauge::default(),
            delivery_latency: DeliveryLatency::default(),
            shipped_bytes: Family::default(),
            es_last_answer_ms: AtomicU64::new(0),
            pipeline_running: AtomicBool::new(false),
            requests_in_flight: AtomicI64::new(0),
            backoff_until_ms: AtomicU64::new(0),
            backoff_ms: AtomicU64::new(0),
            kube: OnceLock::new(),
            started: SystemTime::now(),
            config_reloads: Family::default(),
            log_events: Default::default(),
            hints_invalid: Family::default(),
            files_excluded: Family::default(),
            limits: Default::default(),
        };
        // Every series from the start, at 0: an alert on `increase()` sees the first one.
        for reason in HINT_ERROR_REASONS {
            drop(
                telemetry
                    .hints_invalid
                    .get_or_create(&vec![("reason", reason)]),
            );
        }
        for exclusion in Exclusion::ALL {
            drop(
                telemetry
                    .files_excluded
                    .get_or_create(&vec![("reason", exclusion.label())]),
            );
        }
        telemetry
    }
}

impl Telemetry {
    /// Lines read whose batches were abandoned unacknowledged: the next pipeline reads them again.
    pub fn lines_to_read_again(&self, n: u64) {
        self.ledger.unread(n);
    }

    /// Events Elasticsearch already held under their `_id` (indexed by an earlier attempt): delivered,
    /// so shipped in the ledger, and counted apart so a user sees what deduplication caught.
    pub fn events_deduplicated(&self, n: u64) {
        if n > 0 {
            self.ledger.shipped(n);
            self.events_deduplicated.inc_by(n);
        }
    }

    /// One consistent reading of the ledger.
    pub fn counts(&self) -> Counts {
        self.ledger.counts()
    }

    /// A request's lines, written at `written` (Unix nanoseconds, their `@timestamp`), are settled in
    /// Elasticsearch now.
    pub fn lines_delivered(&self, written: &[i64]) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        self.delivery_latency.observe(written, now);
    }

    /// `bytes` of bulk items (action and document lines, uncompressed) from files of `namespace` (empty
    /// when the path names none) are settled in Elasticsearch.
    pub fn bytes_delivered(&self, namespace: &str, bytes: u64) {
        self.shipped_bytes
            .get_or_create(&vec![("namespace", namespace.to_owned())])
            .inc_by(bytes);
    }

    /// Measures `files` at each scrape from now on (the current pipeline's: a reload starts another).
    pub fn watch_files(&self, files: Arc<dyn TailedFiles>) {
        *guard(&self.files) = Some(files);
    }

    /// The file gauges, measured now.
    pub fn files_now(&self) -> FilesNow {
        let files = guard(&self.files).clone();
        files.map(|f| f.measure()).unwrap_or_default()
    }

    /// Every tailed file, measured now, furthest behind first.
    pub fn files(&self) -> Vec<FileNow> {
        let files = guard(&self.files).clone();
        files.map(|f| f.files()).unwrap_or_default()
    }

    /// A request failed and the next attempt waits `delay`.
    pub fn backing_off(&self, delay: Duration) {
        let until = unix_seconds(SystemTime::now()) * 1000.0 + delay.as_millis() as f64;
        self.backoff_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
        self.backoff_until_ms.store(until as u64, Ordering::Relaxed);
    }

    /// The retry wait under way: its whole length and what is left; `None` when none is.
    pub fn backoff(&self) -> Option<(Duration, Duration)> {
        let until = self.backoff_until_ms.load(Ordering::Relaxed);
        let now = (unix_seconds(SystemTime::now()) * 1000.0) as u64;
        (until > now).then(|| {
            (
                Duration::from_millis(self.backoff_ms.load(Ordering::Relaxed)),
                Duration::from_millis(until - now),
            )
        })
    }

    /// Bulk requests sent and not answered yet.
    pub fn requests_in_flight(&self) -> i64 {
        self.requests_in_flight.load(Ordering::Relaxed)
    }

    /// When a bulk request last succeeded; `None` before one did.
    pub fn last_success(&self) -> Option<SystemTime> {
        let seconds = self.es_last_success.get();
        (seconds > 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(seconds))
    }

    /// Bulk request bodies built and not yet delivered.
    pub fn queued_bytes(&self) -> i64 {
        self.queued_bytes.get()
    }

    /// Reports the metadata cache's state from now on (`/status`).
    pub fn watch_kube(&self, cache: impl PodCacheHealth + 'static) {
        let _ = self.kube.set(Box::new(cache));
    }

    /// The metadata cache's health now; `None` without one.
    pub fn kube_status(&self) -> Option<CacheStatus> {
        self.kube.get().map(|cache| cache.status())
    }

    /// Since the process started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed().unwrap_or_default()
    }

    /// Events the processors passed on to the output, counted by source and level. Runs of events of
    /// one file and level cost one count.
    pub fn log_events(&self, events: &[crate::event::Event]) {
        use super::log_events::level_index;
        let level_of = |e: &crate::event::Event| level_index(e.level.as_ref().map(|l| l.as_str()));
        let mut rest = events;
        while let Some(first) = rest.first() {
            let level = level_of(first);
            let run = rest
                .iter()
                .take_while(|e| Arc::ptr_eq(&e.origin, &first.origin) && level_of(e) == level)
                .count();
            let origin = &first.origin;
            let api = origin.kubernetes();
            let namespace = api
                .and_then(|k| k.namespace.as_deref())
                .or(origin.metadata.namespace.as_deref());
            let container = origin
                .metadata
                .container_name
                .as_deref()
                .or(api.and_then(|k| k.container.name.as_deref()));
            self.log_events.add(
                namespace.unwrap_or(""),
                container.unwrap_or(""),
                level,
                run as u64,
            );
            rest = &rest[run..];
        }
    }

    /// A pod's hint was left out for `reason` (reported once per pod and annotation).
    pub fn hint_invalid(&self, reason: &'static str) {
        self.hints_invalid
            .get_or_create(&vec![("reason", reason)])
            .inc();
    }

    pub fn set_pipeline_running(&self, running: bool) {
        self.pipeline_running.store(running, Ordering::Relaxed);
    }

    pub fn pipeline_running(&self) -> bool {
        self.pipeline_running.load(Ordering::Relaxed)
    }

    /// Reports the unsaved events of `tracker` from now on (the pipeline's current tracker: a reload
    /// starts another).
    pub fn watch_registry(&self, tracker: Arc<dyn UnsavedEvents>) {
        *guard(&self.registry) = Some(tracker);
    }

    /// Events read whose offsets the registry on disk lacks, in flight or not; 0 without a registry.
    pub fn events_not_in_registry(&self) -> u64 {
        let tracker = guard(&self.registry).clone();
        tracker.map_or(0, |tracker| tracker.unsaved_events())
    }
}

pub(super) fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Plain counters and state, consistent after every update: a panic elsewhere while holding the lock
/// leaves them usable.
pub(super) fn guard<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds `n` to a plain counter that the summary, `/status` and the tests read.
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
