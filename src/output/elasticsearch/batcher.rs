//! Turning batches into bulk requests and handing them to delivery workers.
//!
//! A batch is never split across requests, so acknowledging a request acknowledges whole batches. The
//! queue to the workers is bounded: when Elasticsearch is slow, requests wait here, then batches wait in
//! the pipeline's channel, then the reader stops reading and the files on disk are the buffer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::bulk::BulkBuilder;
use super::delivery::Deliverer;
use super::request::BulkRequest;
use crate::batch::{Ack, Batch};
use crate::config;
use crate::event::{Encoder, Origin};
use crate::telemetry::DropReason;

/// A request and the batches it completes.
struct Flight {
    request: BulkRequest,
    acks: Vec<Ack>,
    /// Each item's `@timestamp` (Unix nanoseconds), for the delivery latency once it is settled.
    written: Vec<i64>,
    /// The items' bytes by file, for the volume by namespace once they are settled.
    volume: Vec<(Arc<Origin>, u64)>,
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
    pub start: Option<watch::Receiver<bool>>,
}

/// Gathers batches into the next request; the workers deliver requests.
pub struct Batcher {
    builder: BulkBuilder,
    encoder: Encoder,
    deliverer: Deliverer,
    /// The batches the events in the builder came from.
    acks: Vec<Ack>,
    /// The write times of the events in the builder.
    written: Vec<i64>,
    /// The bytes of the events in the builder, by file: a run of events from one file is one entry.
    volume: Vec<(Arc<Origin>, u64)>,
    to_workers: mpsc::Sender<Flight>,
    workers: Vec<Worker>,
    /// When the oldest event in the builder must go out.
    deadline: Option<Instant>,
    /// An unroutable event's document, for the dead-letter file.
    document: Vec<u8>,
    bulk_max_bytes: usize,
    flush_interval: Duration,
    compression_level: u32,
}

impl Batcher {
    /// Starts the delivery workers; they wait for `config.start` before their first request.
    pub fn start(
        builder: BulkBuilder,
        encoder: Encoder,
        deliverer: Deliverer,
        config: BatcherConfig,
    ) -> Batcher {
        let (to_workers, from_batcher) = mpsc::channel::<Flight>(config.queued_requests.max(1));
        let from_batcher = Arc::new(Mutex::new(from_batcher));
        let workers = (0..config.workers.max(1))
            .map(|worker| {
                let from_batcher = Arc::clone(&from_batcher);
                let deliverer = deliverer.clone();
                let start = config.start.clone();
                Worker(Some(tokio::spawn(work(
                    worker,
                    from_batcher,
                    deliverer,
                    start,
                ))))
            })
            .collect();
        Batcher {
            builder,
            encoder,
            deliverer,
            acks: Vec::new(),
            written: Vec::new(),
            volume: Vec::new(),
            to_workers,
            workers,
            deadline: None,
            document: Vec::new(),
            bulk_max_bytes: config.bulk_max_bytes,
            flush_interval: config.flush_interval,
            compression_level: config.compression_level,
        }
    }

    /// Adds a batch's events to the next request, sending it once full. An event with no index (a
    /// `%{[field]}` it lacks) is dead-lettered here, before sending.
    pub async fn push(&mut self, mut batch: Batch) {
        let mut unroutable = false;
        for event in &batch.events {
            let before = self.builder.len_bytes();
            match self.builder.push(event) {
                Ok(_) => {
                    self.written.push(event.timestamp.as_nanos());
                    let bytes = self.builder.len_bytes().saturating_sub(before) as u64;
                    match self.volume.last_mut() {
                        Some((origin, sum)) if Arc::ptr_eq(origin, &event.origin) => *sum += bytes,
                        _ => self.volume.push((Arc::clone(&event.origin), bytes)),
                    }
                }
                Err(missing) => {
                    unroutable = true;
                    self.document.clear();
                    self.encoder.encode(event, &mut self.document);
                    let telemetry = &self.deliverer.telemetry;
                    let mut dead = self.deliverer.dead_letters.lock().await;
                    match dead.write(
                        "",
                        400,
                        "index_pattern_field_missing",
                        &missing.to_string(),
                        &self.document,
                    ) {
                        Ok(()) => telemetry.events_dead_lettered(1),
                        Err(error) => {
                            telemetry.events_dropped(DropReason::DeadLetterWriteFailed, 1);
                            tracing::error!(%error, "cannot write the dead-letter file");
                        }
                    }
                }
            }
        }
        if unroutable {
            if let Err(error) = self.deliverer.dead_letters.lock().await.flush() {
                tracing::error!(%error, "cannot flush the dead-letter file");
            }
        }
        if let Some(ack) = batch.ack.take() {
            self.acks.push(ack);
        }
        let interval = self.flush_interval;
        self.deadline
            .get_or_insert_with(|| config::deadline(Instant::now(), interval));
        if self.builder.len_bytes() >= self.bulk_max_bytes {
            self.send().await;
        }
    }

    /// When what the builder holds must go out.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Hands what the builder holds to the workers as one request.
    pub async fn send(&mut self) {
        self.deadline = None;
        let acks = std::mem::take(&mut self.acks);
        // The next request is about as large: no regrowth from empty.
        let capacity = self.written.len();
        let written = std::mem::replace(&mut self.written, Vec::with_capacity(capacity));
        let volume = std::mem::take(&mut self.volume);
        if self.builder.is_empty() {
            // Every event was dead-lettered (or the processors dropped them all): nothing to send,
            // and the batches are done.
            for ack in acks {
                ack.ack();
            }
            return;
        }
        let request = self.builder.finish(self.compression_level);
        let telemetry = &self.deliverer.telemetry;
        telemetry.request_queued(request.body.len());
        // Waits while the workers are busy and the queue is full: backpressure towards the reader.
        if let Err(mpsc::error::SendError(flight)) = self
            .to_workers
            .send(Flight {
                request,
                acks,
                written,
                volume,
            })
            .await
        {
            // Workers gone only at the very end; the batches stay unacknowledged and are read again.
            telemetry.request_done(flight.request.body.len());
        }
    }

    /// Sends what is held and waits until the workers delivered every request.
    pub async fn close(mut self) {
        self.send().await;
        drop(self.to_workers);
        for mut worker in self.workers {
            if let Some(handle) = worker.0.take() {
                let _ = handle.await;
            }
        }
    }
}

/// A delivery worker, stopped when the batcher is dropped without `close` (a reload that gave up
/// waiting for a cluster that does not answer): its requests stay unacknowledged, so their lines are
/// read again, rather than being retried forever by a worker nobody owns.
struct Worker(Option<JoinHandle<()>>);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

async fn work(
    worker: usize,
    from_batcher: Arc<Mutex<mpsc::Receiver<Flight>>>,
    deliverer: Deliverer,
    mut start: Option<watch::Receiver<bool>>,
) {
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
        let bytes = flight.request.body.len();
        deliverer.deliver(flight.request, seed).await;
        deliverer.telemetry.request_done(bytes);
        deliverer.telemetry.lines_delivered(&flight.written);
        for (origin, bytes) in &flight.volume {
            let namespace = origin.metadata.namespace.as_deref().unwrap_or_default();
            deliverer.telemetry.bytes_delivered(namespace, *bytes);
        }
        for ack in flight.acks {
            ack.ack();
        }
    }
}
