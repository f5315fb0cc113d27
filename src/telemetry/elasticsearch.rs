//! Elasticsearch's events (delivery's latency is in `delivery`): bulk requests sent, answered, refused and sent again, documents dead-lettered,
//! and whether Elasticsearch answers at all. What became of the events is counted in the ledger; how
//! delivery went about it (requests, failures, items sent again) in the counts here, which the delivery
//! tests read.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::instruments::{add, load, since_unix_ms, unix_seconds};
use super::{DropReason, Telemetry};

#[derive(Debug, Default)]
pub(super) struct DeliveryCounters {
    requests: AtomicU64,
    failed_requests: AtomicU64,
    retried_items: AtomicU64,
}

/// How delivery went about it so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Bulk requests sent, every attempt counted.
    pub requests: u64,
    /// Attempts that did not deliver their items: no answer, a refused request, an unreadable answer.
    pub failed_requests: u64,
    /// Items of an answered request that are sent again on their own (429 or 5xx on the item).
    pub retried_items: u64,
}

/// `ssl.verification_mode: none`: said whenever a client is built so, as it leaves the connection open
/// to anyone on the path.
pub fn certificate_not_verified() {
    tracing::warn!(
        "output.elasticsearch.ssl.verification_mode is none: the server's certificate is NOT \
         checked, so anyone on the network path can read and alter what is shipped, \
         credentials included"
    );
}

impl Telemetry {
    /// A bulk request is sent (a first attempt or a retry).
    pub fn bulk_sent(&self) {
        add(&self.delivery.requests, 1);
        self.requests_in_flight.fetch_add(1, Ordering::Relaxed);
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

    /// A bulk request got no answer (connection, TLS, timeout); it is sent again.
    pub fn bulk_failed(&self, took: Duration, error: &dyn Display) {
        self.requests_in_flight.fetch_sub(1, Ordering::Relaxed);
        self.bulk_requests
            .get_or_create(&vec![("status", "error".to_owned())])
            .inc();
        self.bulk_duration.observe(took.as_secs_f64());
        add(&self.delivery.failed_requests, 1);
        tracing::warn!(%error, "bulk request failed; retrying");
    }

    /// A request was too large for the server (413): it is sent again in two halves, or its one
    /// document dead-lettered.
    pub fn bulk_too_large(&self) {
        add(&self.delivery.failed_requests, 1);
    }

    /// A request was refused as a whole in a way that may pass later (429, 5xx); it is sent again.
    pub fn bulk_rejected(&self, status: u16, host: &dyn Display) {
        add(&self.delivery.failed_requests, 1);
        tracing::warn!(status, host = %host, "bulk request rejected; retrying");
    }

    /// A request was refused as a whole for what a person must fix (credentials, permissions); it is
    /// sent again, since a rotated secret or a new role fixes it. `body`: the start of the answer.
    pub fn bulk_refused(&self, status: u16, host: &dyn Display, body: &str) {
        add(&self.delivery.failed_requests, 1);
        tracing::error!(status, host = %host, %body,
            "Elasticsearch refused the bulk request (credentials, permissions?); retrying");
    }

    /// An answer that could not be read: which items landed is unknown, so all are sent again.
    pub fn bulk_unreadable(&self, error: &dyn Display) {
        add(&self.delivery.failed_requests, 1);
        tracing::warn!(%error, "unreadable bulk response; sending the request again");
    }

    /// `n` items of an answered request are sent again on their own.
    pub fn bulk_items_retried(&self, n: u64) {
        add(&self.delivery.retried_items, n);
    }

    /// A request (or part of one) is sent again.
    pub fn bulk_retried(&self) {
        self.bulk_retries.inc();
    }

    /// `loglynk_queued_bytes`, which the budget of `max_queued_bytes` keeps at its use (lines read and
    /// not yet acknowledged, wherever they are held).
    pub fn queued_bytes_gauge(&self) -> prometheus_client::metrics::gauge::Gauge {
        self.queued_bytes.clone()
    }

    /// A document was refused for good (by Elasticsearch, or for lacking a field of the index
    /// pattern) and is kept in the dead-letter file.
    pub fn document_dead_lettered(&self, index: &str, status: u16, error_type: &str, reason: &str) {
        self.ledger.dead_lettered(1);
        tracing::warn!(%index, status, error_type, reason, "document refused; dead-lettered");
    }

    /// A document refused for good could not be written to the dead-letter file: it is lost.
    pub fn dead_letter_write_failed(&self, error: &dyn Display) {
        self.ledger.dropped(DropReason::DeadLetterWriteFailed, 1);
        tracing::error!(%error, "cannot write the dead-letter file; the document is lost");
    }

    /// The dead-letter file could not be flushed after documents were written to it.
    pub fn dead_letter_flush_failed(&self, error: &dyn Display) {
        tracing::error!(%error, "cannot flush the dead-letter file");
    }

    /// Elasticsearch answered something: it is up, whatever it thought of the request.
    pub fn es_answered(&self) {
        let now = unix_seconds(SystemTime::now());
        self.es_last_answer_ms
            .store((now * 1000.0) as u64, Ordering::Relaxed);
    }

    /// How long since Elasticsearch last answered; `None` before it ever did.
    pub fn since_es_answered(&self) -> Option<Duration> {
        since_unix_ms(self.es_last_answer_ms.load(Ordering::Relaxed))
    }

    /// The probe reached Elasticsearch, after it had not (or at start).
    pub fn es_reachable(&self, version: &dyn Display, host: &dyn Display) {
        tracing::info!(version = %version, host = %host, "connected to Elasticsearch");
    }

    /// The probe did not reach Elasticsearch, after it had (or at start).
    pub fn es_unreachable(&self, error: &dyn Display) {
        tracing::warn!(%error, "Elasticsearch is not reachable; retrying while running");
    }

    /// One reading of delivery's counts.
    pub fn delivery_counts(&self) -> DeliveryCounts {
        let c = &self.delivery;
        DeliveryCounts {
            requests: load(&c.requests),
            failed_requests: load(&c.failed_requests),
            retried_items: load(&c.retried_items),
        }
    }
}

/// The cluster set-up `run` does before its first bulk request (`loglynk bootstrap`'s objects).
impl Telemetry {
    /// One step of the set-up, as `loglynk bootstrap` reports it.
    pub fn cluster_set_up(&self, step: &str) {
        tracing::info!(step, "cluster set-up");
    }

    /// The cluster's template or policy differs from loglynk's and was left alone.
    pub fn cluster_differs(&self) {
        tracing::warn!(
            "the cluster's index template or ILM policy differs from loglynk's; \
             `loglynk bootstrap` shows how, `--force` replaces them"
        );
    }

    /// The set-up failed in a way that may pass: it is tried again before shipping starts.
    pub fn cluster_set_up_retrying(&self, error: &dyn Display) {
        tracing::warn!(%error, "cannot set up the cluster yet; retrying before shipping");
    }

    /// The set-up failed for good: shipping starts without it.
    pub fn cluster_set_up_failed(&self, error: &dyn Display) {
        tracing::error!(%error, "cannot set up the cluster; shipping without it");
    }
}
