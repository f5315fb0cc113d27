//! Delivering one bulk request until every item in it is acknowledged or dead-lettered.
//!
//! Nothing that could still succeed is dropped: connection errors, timeouts, 429 and 5xx are retried
//! with backoff for as long as the process lives, and so are 401/403 (a rotated secret fixes those).
//! Only items Elasticsearch refused for good (a 4xx on the item, such as a mapping conflict) leave the
//! loop early, into the dead-letter file with their original document.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::backoff::Backoff;
use super::client::EsClient;
use super::dead_letter::DeadLetters;
use super::request::BulkRequest;
use super::response::{classify_status, parse_bulk_response, ItemOutcome, RequestOutcome};
use crate::telemetry::Telemetry;

/// Everything a delivery needs besides the request. What it does (requests, failures, retries, what
/// became of each event) is told to `telemetry`, which counts and logs it.
#[derive(Clone)]
pub struct Deliverer {
    pub client: EsClient,
    pub dead_letters: Arc<Mutex<DeadLetters>>,
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
            self.telemetry.bulk_sent();
            let sent = std::time::Instant::now();
            let reply = match self.client.bulk(&request, self.timeout).await {
                Ok(reply) => {
                    self.telemetry.bulk_answered(reply.status, sent.elapsed());
                    reply
                }
                Err(error) => {
                    self.telemetry.bulk_failed(sent.elapsed(), &error);
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            };
            match classify_status(reply.status) {
                RequestOutcome::Success => {}
                RequestOutcome::SplitAndRetry => {
                    self.telemetry.bulk_too_large();
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
                outcome @ (RequestOutcome::RetryAll | RequestOutcome::Fatal) => {
                    if matches!(outcome, RequestOutcome::Fatal) {
                        let body =
                            String::from_utf8_lossy(&reply.body[..reply.body.len().min(512)]);
                        self.telemetry
                            .bulk_refused(reply.status, &reply.host, &body);
                    } else {
                        self.telemetry.bulk_rejected(reply.status, &reply.host);
                    }
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            }
            let outcomes = match parse_bulk_response(&reply.body, request.len()) {
                Ok(outcomes) => outcomes,
                Err(error) => {
                    // Which items landed is unknown: sending all again duplicates at worst.
                    self.telemetry.bulk_unreadable(&error);
                    self.retry(&mut work, request);
                    self.back_off(&mut backoff).await;
                    continue;
                }
            };
            let mut retry = Vec::new();
            let mut acked = 0;
            let mut duplicates = 0;
            let mut failure_stored = 0;
            for (i, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    ItemOutcome::Acked => acked += 1,
                    ItemOutcome::Duplicate => duplicates += 1,
                    // Elasticsearch kept it (a success to the offset), not where logs are searched.
                    ItemOutcome::FailureStored => failure_stored += 1,
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
            self.telemetry.events_failure_stored(failure_stored);
            if !retry.is_empty() {
                self.telemetry.bulk_items_retried(retry.len() as u64);
                self.retry(&mut work, request.subset(&retry, self.compression_level));
                self.back_off(&mut backoff).await;
            } else {
                backoff.reset();
            }
        }
        if dead > 0 {
            if let Err(error) = self.dead_letters.lock().await.flush() {
                self.telemetry.dead_letter_flush_failed(&error);
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
            Ok(()) => self
                .telemetry
                .document_dead_lettered(&index, status, error_type, reason),
            Err(error) => self.telemetry.dead_letter_write_failed(&error),
        }
        1
    }
}
