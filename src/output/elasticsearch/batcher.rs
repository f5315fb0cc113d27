//! Turning the reader's batches into bulk requests and handing them to delivery workers.
//!
//! A reader batch is never split across requests, so acknowledging a request acknowledges whole
//! batches. The queue to the workers is bounded: when Elasticsearch is slow, requests wait here, then
//! reader batches wait in their channel, then the reader stops reading and the files on disk are the
//! buffer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Mutex};
use tokio::time::Instant;

use super::bulk::BulkBuilder;
use super::delivery::Deliverer;
use super::request::BulkRequest;
use crate::batch::Ack;
use crate::batch::Batch;
use crate::config;
use crate::event::Encoder;
use crate::process::Processors;
use crate::telemetry::DropReason;

/// A request and the reader batches it completes.
struct Flight {
    request: BulkRequest,
    acks: Vec<Ack>,
}

pub struct BatcherConfig {
    pub bulk_max_bytes: usize,
    pub flush_interval: Duration,
    pub workers: usize,
    /// Requests built and waiting for a worker.
    pub queued_requests: usize,
    pub compression_level: u32,
    /// Nothing is sent before this says `true` (the cluster's template and policy are in place), so
    /// the first index of the day is created with them. `None` sends at once.
    pub start: Option<tokio::sync::watch::Receiver<bool>>,
}

/// What went through, for the run's summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatcherSummary {
    pub events: u64,
    pub dropped: u64,
    pub requests: u64,
    /// Events with no index (a `%{[field]}` the event lacks), dead-lettered before sending.
    pub unroutable: u64,
}

/// Runs until `batches` closes (the reader stopped), then delivers what is left and returns.
pub async fn run_batcher(
    mut batches: mpsc::Receiver<Batch>,
    processors: Processors,
    mut builder: BulkBuilder,
    encoder: Encoder,
    deliverer: Deliverer,
    config: BatcherConfig,
) -> BatcherSummary {
    let (to_workers, from_batcher) = mpsc::channel::<Flight>(config.queued_requests.max(1));
    let from_batcher = Arc::new(Mutex::new(from_batcher));
    let mut workers = Vec::new();
    for worker in 0..config.workers.max(1) {
        let from_batcher = Arc::clone(&from_batcher);
        let deliverer = deliverer.clone();
        let mut start = config.start.clone();
        workers.push(tokio::spawn(async move {
            if let Some(start) = &mut start {
                // A dropped sender means set-up ended without saying so: send anyway.
                let _ = start.wait_for(|ready| *ready).await;
            }
            let mut seed = 0x5eed_u64.wrapping_add(worker as u64);
            loop {
                let Some(flight) = from_batcher.lock().await.recv().await else {
                    break;
                };
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let bytes = flight.request.body.len() as i64;
                deliverer.deliver(flight.request, seed).await;
                deliverer.telemetry.queued_bytes.dec_by(bytes);
                for ack in flight.acks {
                    ack.ack();
                }
            }
        }));
    }

    let mut summary = BatcherSummary::default();
    let mut outbox = Outbox {
        acks: Vec::new(),
        to_workers,
        deliverer: &deliverer,
        compression_level: config.compression_level,
    };
    let mut deadline: Option<Instant> = None;
    let mut document = Vec::new();
    loop {
        let next = match deadline {
            Some(at) => tokio::select! {
                batch = batches.recv() => Some(batch),
                _ = tokio::time::sleep_until(at) => None,
            },
            None => Some(batches.recv().await),
        };
        match next {
            Some(Some(mut batch)) => {
                let outcome = processors.run_batch(&mut batch.events);
                summary.dropped += outcome.dropped_own_logs;
                let telemetry = &deliverer.telemetry;
                telemetry
                    .ledger
                    .dropped(DropReason::OwnLogs, outcome.dropped_own_logs);
                summary.events += batch.events.len() as u64;
                let unroutable_before = summary.unroutable;
                for event in &batch.events {
                    if let Err(missing) = builder.push(event) {
                        summary.unroutable += 1;
                        document.clear();
                        encoder.encode(event, &mut document);
                        let mut dead = deliverer.dead_letters.lock().await;
                        match dead.write(
                            "",
                            400,
                            "index_pattern_field_missing",
                            &missing.to_string(),
                            &document,
                        ) {
                            Ok(()) => telemetry.ledger.dead_lettered(1),
                            Err(error) => {
                                telemetry
                                    .ledger
                                    .dropped(DropReason::DeadLetterWriteFailed, 1);
                                tracing::error!(%error, "cannot write the dead-letter file");
                            }
                        }
                    }
                }
                if summary.unroutable > unroutable_before {
                    if let Err(error) = deliverer.dead_letters.lock().await.flush() {
                        tracing::error!(%error, "cannot flush the dead-letter file");
                    }
                }
                if let Some(ack) = batch.ack.take() {
                    outbox.acks.push(ack);
                }
                deadline
                    .get_or_insert_with(|| config::deadline(Instant::now(), config.flush_interval));
                if builder.len_bytes() >= config.bulk_max_bytes {
                    outbox.send(&mut builder, &mut summary).await;
                    deadline = None;
                }
            }
            Some(None) => break,
            None => {
                outbox.send(&mut builder, &mut summary).await;
                deadline = None;
            }
        }
    }
    outbox.send(&mut builder, &mut summary).await;
    drop(outbox);
    for worker in workers {
        let _ = worker.await;
    }
    summary
}

/// What the next request completes, and where requests go.
struct Outbox<'a> {
    /// The reader batches the events in the builder came from.
    acks: Vec<Ack>,
    to_workers: mpsc::Sender<Flight>,
    deliverer: &'a Deliverer,
    compression_level: u32,
}

impl Outbox<'_> {
    /// Hands what the builder holds to the workers as one request.
    async fn send(&mut self, builder: &mut BulkBuilder, summary: &mut BatcherSummary) {
        let acks = std::mem::take(&mut self.acks);
        if builder.is_empty() {
            // Every event was dropped (the agent's own logs) or dead-lettered: nothing to send, and
            // the batches are done.
            for ack in acks {
                ack.ack();
            }
            return;
        }
        let request = builder.finish(self.compression_level);
        summary.requests += 1;
        let queued = &self.deliverer.telemetry.queued_bytes;
        queued.inc_by(request.body.len() as i64);
        // Waits while the workers are busy and the queue is full: backpressure towards the reader.
        if let Err(mpsc::error::SendError(flight)) =
            self.to_workers.send(Flight { request, acks }).await
        {
            // Workers gone only at the very end; the batches stay unacknowledged and are read again.
            queued.dec_by(flight.request.body.len() as i64);
        }
    }
}
