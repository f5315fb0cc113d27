//! The agent's instruments, private to this module: the stages report what happened through one method
//! per notable event (as Vector's internal events), and `/metrics` reads the instruments. The loss
//! ledger is the only count of events: the finishing log line of `tail` and `run` and the tests read it.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use super::delivery::DeliveryLatency;
use super::ledger::{Counts, DropReason, Ledger};
use crate::enrich::kube::cache::PodCache;
use crate::registry::{lock, RegistryError, SaveReport, SharedTracker};
use crate::tail::Progress;

/// `status="200"`, `status="429"`, … or `status="error"` when no answer came; `namespace="shop"`.
pub type StatusLabels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct Telemetry {
    pub(super) ledger: Ledger,
    pub(super) bulk_requests: Family<StatusLabels, Counter>,
    pub(super) bulk_duration: Histogram,
    /// Requests sent again, in whole or in part.
    pub(super) bulk_retries: Counter,
    /// Shipped events Elasticsearch already held (a `create` refused for an existing `_id`).
    pub(super) events_deduplicated: Counter,
    /// Bulk request bodies built and not yet delivered.
    pub(super) queued_bytes: Gauge,
    /// The tailed files, measured at each scrape (tailed, open, bytes behind).
    pub(super) files: Arc<Progress>,
    /// Discovered names refused for resolving outside the log roots.
    pub(super) files_refused: Counter,
    pub(super) registry_flush: Histogram,
    /// Writes of the registry that failed (each is retried).
    pub(super) registry_flush_failures: Counter,
    /// Why the last write of the registry failed, until one succeeds; readiness reports it.
    registry_failing: Mutex<Option<String>>,
    /// The run's acknowledgement tracker, once a registry is kept: `/metrics` reads its unsaved events.
    /// Replaced when a reload restarts the pipeline.
    registry: Mutex<Option<SharedTracker>>,
    pub(super) es_last_success: Gauge<f64, AtomicU64>,
    /// From a line's write time to Elasticsearch's acknowledgement of it.
    pub(super) delivery_latency: DeliveryLatency,
    /// Bulk item bytes Elasticsearch settled, by namespace: what capacity planning adds up.
    pub(super) shipped_bytes: Family<StatusLabels, Counter>,
    /// Unix milliseconds of Elasticsearch's last answer of any kind, for readiness.
    es_last_answer_ms: AtomicU64,
    pipeline_running: AtomicBool,
    /// What `/status` shows besides the instruments: bulk requests sent and not answered yet, the
    /// retry wait under way (its end and length, Unix ms and ms), the metadata cache, the start.
    requests_in_flight: AtomicI64,
    backoff_until_ms: AtomicU64,
    backoff_ms: AtomicU64,
    kube: OnceLock<PodCache>,
    started: SystemTime,
    /// Reloads of the configuration, `result="success"` or `"failure"`.
    pub(super) config_reloads: Family<ResultLabels, Counter>,
}

/// `result="success"` or `result="failure"`.
pub type ResultLabels = Vec<(&'static str, &'static str)>;

impl Default for Telemetry {
    fn default() -> Telemetry {
        Telemetry {
            ledger: Ledger::default(),
            bulk_requests: Family::default(),
            // 5 ms to ~80 s: a local cluster answers in milliseconds, a struggling one in seconds,
            // and the request timeout is 90 s.
            bulk_duration: Histogram::new(exponential_buckets(0.005, 2.0, 15)),
            bulk_retries: Counter::default(),
            events_deduplicated: Counter::default(),
            queued_bytes: Gauge::default(),
            files: Arc::default(),
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
        }
    }
}

impl Telemetry {
    /// Lines handed to the pipeline by the reading side (a joined partial line counts once).
    pub fn lines_read(&self, n: u64) {
        self.ledger.read(n);
    }

    /// Lines read whose batches were abandoned unacknowledged: the next pipeline reads them again.
    pub fn lines_to_read_again(&self, n: u64) {
        self.ledger.unread(n);
    }

    /// Events an output delivered (Elasticsearch acknowledged them, or they were written and flushed).
    pub fn events_shipped(&self, n: u64) {
        self.ledger.shipped(n);
    }

    /// Events Elasticsearch already held under their `_id` (indexed by an earlier attempt): delivered,
    /// so shipped in the ledger, and counted apart so a user sees what deduplication caught.
    pub fn events_deduplicated(&self, n: u64) {
        if n > 0 {
            self.ledger.shipped(n);
            self.events_deduplicated.inc_by(n);
        }
    }

    /// Events dropped on purpose, or lost, for `reason`.
    pub fn events_dropped(&self, reason: DropReason, n: u64) {
        self.ledger.dropped(reason, n);
    }

    /// Events refused for good and kept in the dead-letter file.
    pub fn events_dead_lettered(&self, n: u64) {
        self.ledger.dead_lettered(n);
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

    /// A request (or part of one) is sent again.
    pub fn bulk_retried(&self) {
        self.bulk_retries.inc();
    }

    /// A bulk request body of `bytes` was built and waits for delivery.
    pub fn request_queued(&self, bytes: usize) {
        self.queued_bytes.inc_by(bytes as i64);
    }

    /// A queued request body of `bytes` was delivered (or abandoned at exit).
    pub fn request_done(&self, bytes: usize) {
        self.queued_bytes.dec_by(bytes as i64);
    }

    /// A discovered name resolved outside the log roots and is not read.
    pub fn file_refused(&self) {
        self.files_refused.inc();
    }

    /// Where the tailer keeps its file gauges, measured at each scrape.
    pub fn file_gauges(&self) -> Arc<Progress> {
        Arc::clone(&self.files)
    }

    /// A bulk request is sent; `bulk_answered` or `bulk_failed` follows.
    pub fn bulk_sent(&self) {
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
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
    pub fn watch_kube(&self, cache: PodCache) {
        let _ = self.kube.set(cache);
    }

    pub fn kube(&self) -> Option<&PodCache> {
        self.kube.get()
    }

    /// Since the process started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed().unwrap_or_default()
    }

    /// A bulk request got an HTTP answer after `took`.
    pub fn bulk_answered(&self, status: u16, took: Duration) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
        self.bulk_requests
            .get_or_create(&vec![("status", status.to_string())])
            .inc();
        self.bulk_duration.observe(took.as_secs_f64());
        self.es_answered();
        if (200..300).contains(&status) {
            self.es_last_success.set(unix_seconds(SystemTime::now()));
            self.backoff_until_ms.store(0, Ordering::Relaxed);
        }
    }

    /// A bulk request got no answer (connection, TLS, timeout).
    pub fn bulk_failed(&self, took: Duration) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
        self.bulk_requests
            .get_or_create(&vec![("status", "error".to_owned())])
            .inc();
        self.bulk_duration.observe(took.as_secs_f64());
    }

    /// Elasticsearch answered something: it is up, whatever it thought of the request.
    pub fn es_answered(&self) {
        let now = unix_seconds(SystemTime::now());
        self.es_last_answer_ms
            .store((now * 1000.0) as u64, Ordering::Relaxed);
    }

    /// How long since Elasticsearch last answered; `None` before it ever did.
    pub fn since_es_answered(&self) -> Option<Duration> {
        let ms = self.es_last_answer_ms.load(Ordering::Relaxed);
        if ms == 0 {
            return None;
        }
        let then = UNIX_EPOCH + Duration::from_millis(ms);
        Some(SystemTime::now().duration_since(then).unwrap_or_default())
    }

    pub fn set_pipeline_running(&self, running: bool) {
        self.pipeline_running.store(running, Ordering::Relaxed);
    }

    pub fn pipeline_running(&self) -> bool {
        self.pipeline_running.load(Ordering::Relaxed)
    }

    /// Reports the unsaved events of `tracker` from now on (the pipeline's current tracker: a reload
    /// starts another).
    pub fn watch_registry(&self, tracker: SharedTracker) {
        *self.registry.lock().unwrap_or_else(PoisonError::into_inner) = Some(tracker);
    }

    /// Events read whose offsets the registry on disk lacks, in flight or not; 0 without a registry.
    pub fn events_not_in_registry(&self) -> u64 {
        let tracker = self
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        tracker.map_or(0, |tracker| lock(&tracker).unsaved_events())
    }

    /// The configuration was reloaded (`applied`), or the new one was refused and the running one kept.
    pub fn config_reloaded(&self, applied: bool) {
        let result = if applied { "success" } else { "failure" };
        self.config_reloads
            .get_or_create(&vec![("result", result)])
            .inc();
    }

    /// Why the registry cannot be written, while it cannot.
    pub fn registry_failing(&self) -> Option<String> {
        self.registry_failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_registry_failing(&self, why: Option<String>) {
        *self
            .registry_failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = why;
    }
}

impl SaveReport for Telemetry {
    fn saved(&self, took: Duration) {
        self.registry_flush.observe(took.as_secs_f64());
        self.set_registry_failing(None);
    }

    fn failed(&self, took: Duration, error: &RegistryError) {
        self.registry_flush.observe(took.as_secs_f64());
        self.registry_flush_failures.inc();
        self.set_registry_failing(Some(error.to_string()));
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
