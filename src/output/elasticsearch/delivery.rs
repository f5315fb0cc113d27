//! Delivering one bulk request until every item in it is acknowledged or dead-lettered.
//!
//! Nothing that could still succeed is dropped: connection errors, timeouts, 429 and 5xx are retried
//! with backoff for as long as the process lives, and so are 401/403 (a rotated secret fixes those).
//! Only items Elasticsearch refused for good (a 4xx on the item, such as a mapping conflict) leave the
//! loop early, into the dead-letter file with their original document.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::backoff::Backoff;
use super::client::EsClient;
use super::dead_letter::DeadLetters;
use super::request::BulkRequest;
use super::response::{classify_status, parse_bulk_response, ItemOutcome, RequestOutcome};
use crate::telemetry::{DropReason, Telemetry};

/// How delivery went about it: attempts, failures and items sent again. What became of the events
/// (shipped, dead-lettered) is the ledger's to count, in telemetry, and only there.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub retried_items: AtomicU64,
    pub failed_requests: AtomicU64,
    pub requests: AtomicU64,
}

impl DeliveryStats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Everything a delivery needs besides the request.
#[derive(Clone)]
pub struct Deliverer {
    pub client: EsClient,
    pub dead_letters: Arc<Mutex<DeadLetters>>,
    pub stats: Arc<DeliveryStats>,
    pub telemetry: Arc<Telemetry>,
    pub compression_level: u32,
    pub timeout: Duration,
    pub backoff_init: Duration,
    pub backoff_max: Duration,
}

impl Deliverer {
    /// Waits before the next attempt, telling `/status` how long.
    async fn back_off(&self, backoff: &mut Backoff) {
        let delay = backoff.next_delay();
        self.telemetry.backing_off(delay);
        tokio::time::sleep(delay).await;
    }

    /// Returns once every item of `request` was acknowledged or dead-lettered (and the dead letters
    /// are on disk).
    pub async fn deliver(&self, request: BulkRequest, seed: u64) {
        let mut backoff = Backoff::new(self.backoff_init, self.backoff_max, seed);
        let mut work = vec![request];
        let mut dead = 0;
        while let Some(request) = work.pop() {
            if request.is_empty() {
                continue;
            }
            DeliveryStats::add(&self.stats.requests, 1);
            let sent = std::time::Instant::now();
            self.telemetry.bulk_sent();
            let reply = match self.client.bulk(&request, self.timeout).await {
                Ok(reply) => {
                    self.telemetry.bulk_answered(reply.status, sent.elapsed());
                    reply
                }
                Err(error) => {
                    self.telemetry.bulk_failed(sent.elapsed());
                    DeliveryStats::add(&self.stats.failed_requests, 1);
                    tracing::warn!(%error, "bulk request failed; retrying");
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            };
            match classify_status(reply.status) {
                RequestOutcome::Success => {}
                RequestOutcome::SplitAndRetry => {
                    DeliveryStats::add(&self.stats.failed_requests, 1);
                    match request.split_in_two(self.compression_level) {
                        Some((first, second)) => {
                            // The first half goes first: order is kept where it can be.
                            work.push(second);
                            work.push(first);
                        }
                        None => {
                            // One document the server refuses as a request can never succeed.
                            let (error_type, reason) = request_error(&reply.body, reply.status);
                            dead += self
                                .dead_letter(&request, 0, reply.status, &error_type, &reason)
                                .await;
                        }
                    }
                    continue;
                }
                RequestOutcome::RetryAll | RequestOutcome::Fatal => {
                    DeliveryStats::add(&self.stats.failed_requests, 1);
                    let loud = matches!(classify_status(reply.status), RequestOutcome::Fatal);
                    let body = String::from_utf8_lossy(&reply.body[..reply.body.len().min(512)])
                        .into_owned();
                    if loud {
                        tracing::error!(status = reply.status, host = %reply.host, %body,
                            "Elasticsearch refused the bulk request (credentials, permissions?); retrying");
                    } else {
                        tracing::warn!(status = reply.status, host = %reply.host, "bulk request rejected; retrying");
                    }
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            }
            let outcomes = match parse_bulk_response(&reply.body, request.len()) {
                Ok(outcomes) => outcomes,
                Err(error) => {
                    DeliveryStats::add(&self.stats.failed_requests, 1);
                    // Which items landed is unknown: sending all again duplicates at worst.
                    tracing::warn!(%error, "unreadable bulk response; sending the request again");
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            };
            let mut retry = Vec::new();
            let mut acked = 0;
            let mut duplicates = 0;
            for (i, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    ItemOutcome::Acked => acked += 1,
                    ItemOutcome::Duplicate => duplicates += 1,
                    ItemOutcome::Retry { .. } => retry.push(i),
                    ItemOutcome::DeadLetter {
                        status,
                        error_type,
                        reason,
                    } => {
                        dead += self
                            .dead_letter(&request, i, status, &error_type, &reason)
                            .await
                    }
                }
            }
            self.telemetry.events_shipped(acked);
            self.telemetry.events_deduplicated(duplicates);
            if !retry.is_empty() {
                DeliveryStats::add(&self.stats.retried_items, retry.len() as u64);
                self.retry(&mut work, request.subset(&retry, self.compression_level));
                self.back_off(&mut backoff).await;
            } else {
                backoff.reset();
            }
        }
        if dead > 0 {
            if let Err(error) = self.dead_letters.lock().await.flush() {
                tracing::error!(%error, "cannot flush the dead-letter file");
            }
        }
    }
}

/// The error type and reason of a request-level error body (`{"error":{"type":…,"reason":…},…}`).
fn request_error(body: &[u8], status: u16) -> (String, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().map(|v| &v["error"]);
    let text = |key: &str| error.and_then(|e| e[key].as_str()).map(str::to_owned);
    match status {
        413 => (
            "request_too_large".to_owned(),
            "the document alone is larger than the server accepts".to_owned(),
        ),
        _ => (
            text("type").unwrap_or_else(|| "request_rejected".to_owned()),
            text("reason").unwrap_or_else(|| {
                String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned()
            }),
        ),
    }
}

impl Deliverer {
    fn retry(&self, work: &mut Vec<BulkRequest>, request: BulkRequest) {
        self.telemetry.bulk_retried();
        work.push(request);
    }

    async fn dead_letter(
        &self,
        request: &BulkRequest,
        item: usize,
        status: u16,
        error_type: &str,
        reason: &str,
    ) -> u64 {
        let index = request.index_name(item).unwrap_or_default();
        let document = request.document(item).unwrap_or_default();
        let mut dead_letters = self.dead_letters.lock().await;
        match dead_letters.write(&index, status, error_type, reason, document) {
            Ok(()) => {
                self.telemetry.events_dead_lettered(1);
                tracing::warn!(%index, status, error_type, reason, "document refused; dead-lettered");
            }
            Err(error) => {
                self.telemetry
                    .events_dropped(DropReason::DeadLetterWriteFailed, 1);
                tracing::error!(%error, "cannot write the dead-letter file; the document is lost");
            }
        }
        1
    }
}
