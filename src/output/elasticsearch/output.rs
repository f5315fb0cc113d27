//! The Elasticsearch output as the pipeline sees it: built from `output.elasticsearch` (and `setup`,
//! which says where `run` writes), it starts everything shipping to a cluster needs — the client, the
//! probe, the cluster set-up before the first bulk, the dead-letter file, the delivery workers — and
//! stops it all at `close`.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::batcher::{Batcher, BatcherConfig};
use super::client::{ClientError, EsClient};
use super::dead_letter::DeadLetters;
use super::delivery::Deliverer;
use super::index::IndexPatternError;
use super::target::bulk_builder;
use crate::batch::Batch;
use crate::budget::Budget;
use crate::config::{self, Setup};
use crate::event::Encoder;
use crate::output::{Output, OutputError};
use crate::telemetry::Telemetry;

/// A step the output runs before its first bulk request, and waits for (`loglynk bootstrap`'s
/// objects, created if missing). The output does not know what it does: whoever builds the output
/// provides it, so the output needs no knowledge of the set-up and the set-up may use the output's
/// client.
pub type SetUpStep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// While nothing else reaches Elasticsearch this long, `GET /` is sent so readiness reflects the
/// cluster, not the node's quietness.
const PROBE_EVERY: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum EsOutputError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Index(#[from] IndexPatternError),
    #[error("cannot open the dead-letter file in {dir}: {cause}")]
    DeadLetters { dir: String, cause: std::io::Error },
    /// The documents of `setup.mode: data_stream` must carry the dataset and namespace their action
    /// lines name: the encoder is built with them.
    #[error("setup.mode data_stream: the encoder writes no data_stream fields")]
    NoDataStreams,
}

/// Stops a background task with the output.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct EsOutput {
    batcher: Batcher,
    _probe: Task,
    _setup: Option<Task>,
}

impl EsOutput {
    /// Starts the output on the current runtime. `state_dir` holds the dead-letter file; `budget`
    /// (`max_queued_bytes`) counts the requests in memory (built, queued, in flight, retried).
    pub fn new(
        es: &config::ElasticsearchOutput,
        setup: &Setup,
        state_dir: &Path,
        budget: Budget,
        encoder: Encoder,
        telemetry: Arc<Telemetry>,
        set_up: Option<SetUpStep>,
    ) -> Result<EsOutput, EsOutputError> {
        let client = EsClient::new(es)?;
        let builder = bulk_builder(es, setup, encoder.clone())?;
        let dead_letters =
            DeadLetters::open(state_dir, es.dead_letter.max_bytes, es.dead_letter.keep).map_err(
                |cause| EsOutputError::DeadLetters {
                    dir: state_dir.display().to_string(),
                    cause,
                },
            )?;
        let probe = Task(tokio::spawn(probe(client.clone(), Arc::clone(&telemetry))));
        let deliverer = Deliverer {
            client,
            dead_letters: Arc::new(Mutex::new(dead_letters)),
            telemetry,
            compression_level: es.compression_level,
            timeout: es.timeout,
            backoff_init: es.backoff.init,
            backoff_max: es.backoff.max,
        };
        let (start, set_up) = match set_up {
            Some(step) => {
                let (ready, start) = watch::channel(false);
                let task = Task(tokio::spawn(async move {
                    step.await;
                    ready.send_replace(true);
                }));
                (Some(start), Some(task))
            }
            None => (None, None),
        };
        let config = BatcherConfig {
            bulk_max_bytes: es.bulk_max_bytes as usize,
            flush_interval: es.flush_interval,
            workers: es.workers,
            budget,
            compression_level: es.compression_level,
            start,
        };
        Ok(EsOutput {
            batcher: Batcher::start(builder, encoder, deliverer, config),
            _probe: probe,
            _setup: set_up,
        })
    }
}

impl Output for EsOutput {
    async fn send(&mut self, batch: Batch) -> Result<(), OutputError> {
        self.batcher.push(batch).await;
        Ok(())
    }

    fn next_flush(&self) -> Option<Instant> {
        self.batcher.deadline()
    }

    async fn flush(&mut self) -> Result<(), OutputError> {
        self.batcher.send().await;
        Ok(())
    }

    async fn close(self) -> Result<(), OutputError> {
        // Set-up and probe stop once the last request is delivered (their tasks are aborted on drop).
        self.batcher.close().await;
        Ok(())
    }
}

/// Checks Elasticsearch alongside shipping, never before it: an unreachable or stalled cluster must not
/// hold up reading (which pauses by itself once the queue is full).
async fn probe(client: EsClient, telemetry: Arc<Telemetry>) {
    let mut reachable = None;
    loop {
        let quiet = telemetry
            .since_es_answered()
            .is_none_or(|since| since >= PROBE_EVERY);
        if quiet {
            match client.info().await {
                Ok(info) => {
                    telemetry.es_answered();
                    if reachable != Some(true) {
                        telemetry.es_reachable(&info.version, &info.host);
                    }
                    reachable = Some(true);
                }
                Err(error) => {
                    if reachable != Some(false) {
                        telemetry.es_unreachable(&error);
                    }
                    reachable = Some(false);
                }
            }
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}
