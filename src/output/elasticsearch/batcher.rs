//! Turning batches into bulk requests and handing them to delivery workers.
//!
//! A batch is never split across requests, so acknowledging a request acknowledges whole batches. The
//! queue to the workers is bounded by bytes, not by requests: each request counts its body against
//! `max_queued_bytes` (the budget the reader's batches count against too) until it is delivered, so
//! when Elasticsearch is slow requests wait here until the budget is spent, then the reader stops
//! reading and the files on disk are the buffer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::bulk::BulkBuilder;
use super::delivery::Deliverer;
use super::request::BulkRequest;
use crate::batch::{Ack, Batch};
use crate::budget::{Budget, Charge};
use crate::config;
use crate::event::{Encoder, Origin};

/// A request and the batches it completes.
struct Flight {
    request: BulkRequest,
    /// Its body's bytes, counted against the budget until it is delivered (or abandoned).
    _charge: Charge,
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
    /// `max_queued_bytes`: the request being built and the requests built count against it.
    pub budget: Budget,
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
    /// Unbounded in count: the requests on it count their bytes against the budget, which the reader
    /// waits on.
    to_workers: mpsc::UnboundedSender<Flight>,
    budget: Budget,
    /// The bytes of the request being built.
    building: Charge,
    workers: Vec<Worker>,
    /// When the oldest event in the builder must go out.
    deadline: Option<Instant>,
    /// An unroutable event's document, for the dead-letter file.
    document: Vec<u8>,
    bulk_max_bytes: usize,
    flush_interval: Duration,
}

impl Batcher {
    /// Starts the delivery workers; they wait for `config.start` before their first request.
    pub fn start(
        mut builder: BulkBuilder,
        encoder: Encoder,
        deliverer: Deliverer,
        config: BatcherConfig,
    ) -> Batcher {
        builder.set_compression(config.compression_level);
        builder.count_spares_against(config.budget.clone(), config.bulk_max_bytes as u64);
        let (to_workers, from_batcher) = mpsc::unbounded_channel::<Flight>();
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
            building: config.budget.charge(0),
            budget: config.budget,
            workers,
            deadline: None,
            document: Vec::new(),
            bulk_max_bytes: config.bulk_max_bytes,
            flush_interval: config.flush_interval,
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
                    let (status, error_type, reason) =
                        (400, "index_pattern_field_missing", missing.to_string());
                    let mut dead = self.deliverer.dead_letters.lock().await;
                    match dead.write("", status, error_type, &reason, &self.document) {
                        Ok(()) => telemetry.document_dead_lettered("", status, error_type, &reason),
                        Err(error) => telemetry.dead_letter_write_failed(&error),
                    }
                }
            }
        }
        if unroutable {
            if let Err(error) = self.deliverer.dead_letters.lock().await.flush() {
                self.deliverer.telemetry.dead_letter_flush_failed(&error);
            }
        }
        if let Some(ack) = batch.ack.take() {
            self.acks.push(ack);
        }
        // The batch's lines are documents in the request now: counted there, no longer as read.
        self.building.set(self.building_bytes());
        drop(batch.charge.take());
        let interval = self.flush_interval;
        self.deadline
            .get_or_insert_with(|| config::deadline(Instant::now(), interval));
        if self.builder.len_bytes() >= self.bulk_max_bytes {
            self.send().await;
        }
    }

    /// What the request being built counts against the budget: what it holds (with gzip, the pieces
    /// compressed and the one being written) and its items' write times; nothing while there is none.
    fn building_bytes(&self) -> u64 {
        if self.builder.is_empty() {
            return 0;
        }
        (self.builder.held_bytes() + self.written.capacity() * std::mem::size_of::<i64>()) as u64
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
        let request = self.builder.finish();
        // The request's charge is the builder's, down to what it holds now (what goes on the wire,
        // and its items); the builder, empty, starts a new one.
        let mut charge = std::mem::replace(&mut self.building, self.budget.charge(0));
        let times = written.capacity() * std::mem::size_of::<i64>();
        charge.set((request.held_bytes() + times) as u64);
        // Workers gone only at the very end: the batches stay unacknowledged and are read again.
        let _ = self.to_workers.send(Flight {
            request,
            _charge: charge,
            acks,
            written,
            volume,
        });
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
    from_batcher: Arc<Mutex<mpsc::UnboundedReceiver<Flight>>>,
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
        deliverer.deliver(flight.request, seed).await;
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
