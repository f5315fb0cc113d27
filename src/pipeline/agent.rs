//! `loglynk run`: the agent's pipeline from the node's container logs to Elasticsearch.

use std::sync::Arc;

use thiserror::Error;
use tokio::sync::Mutex;

use super::reading::{FinishError, ReadOptions, ReaderFailed, Reading};
use super::source::SourceSummary;
use super::state::State;
use crate::bootstrap::{bootstrap, BootstrapOptions};
use crate::config::{Config, IndexMode};
use crate::discover::{Changes, PatternError};
use crate::event::Encoder;
use crate::output::elasticsearch::batcher::{run_batcher, BatcherConfig, BatcherSummary};
use crate::output::elasticsearch::bulk::{BulkAction, BulkBuilder};
use crate::output::elasticsearch::client::{ClientError, EsClient};
use crate::output::elasticsearch::dead_letter::DeadLetters;
use crate::output::elasticsearch::delivery::{Deliverer, DeliveryStats};
use crate::output::elasticsearch::index::{IndexPattern, IndexPatternError};
use crate::process::Processors;
use crate::telemetry::Telemetry;
use std::time::Duration;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub source: SourceSummary,
    pub batcher: BatcherSummary,
    pub acked: u64,
    pub dead_lettered: u64,
}

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Index(#[from] IndexPatternError),
    #[error("cannot open the dead-letter file in {dir}: {cause}")]
    DeadLetters { dir: String, cause: std::io::Error },
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error(transparent)]
    Reader(#[from] ReaderFailed),
    /// The registry could not be written at exit: a restart sends some events again.
    #[error(transparent)]
    Registry(#[from] crate::registry::SaveFailed),
}

impl From<FinishError> for RunError {
    fn from(error: FinishError) -> RunError {
        match error {
            FinishError::Reader(e) => RunError::Reader(e),
            FinishError::Pattern(e) => RunError::Pattern(e),
            FinishError::Registry(e) => RunError::Registry(e),
        }
    }
}

/// Where `run` writes, as `loglynk bootstrap` set the cluster up for: daily indices by name, or the
/// data stream (which takes only `create`), or the rollover write alias.
pub fn write_target(config: &Config) -> Result<(IndexPattern, BulkAction), IndexPatternError> {
    let setup = &config.setup;
    match (setup.enabled, setup.mode) {
        (true, IndexMode::DataStream) => {
            Ok((IndexPattern::parse(&setup.name)?, BulkAction::Create))
        }
        (true, IndexMode::Rollover) => Ok((IndexPattern::parse(&setup.name)?, BulkAction::Index)),
        (false, _) | (true, IndexMode::Daily) => Ok((
            IndexPattern::parse(&config.output.elasticsearch.index)?,
            BulkAction::Index,
        )),
    }
}

/// While nothing else reaches Elasticsearch this long, `GET /` is sent so readiness reflects the
/// cluster, not the node's quietness.
const PROBE_EVERY: Duration = Duration::from_secs(15);

/// Checks Elasticsearch alongside shipping, never before it: an unreachable or stalled cluster must not
/// hold up reading (which pauses by itself once the queue is full).
async fn probe_elasticsearch(client: EsClient, telemetry: Arc<Telemetry>) {
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
                        tracing::info!(version = %info.version, host = %info.host, "connected to Elasticsearch");
                    }
                    reachable = Some(true);
                }
                Err(error) => {
                    if reachable != Some(false) {
                        tracing::warn!(%error, "Elasticsearch is not reachable; retrying while running");
                    }
                    reachable = Some(false);
                }
            }
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

/// What `loglynk bootstrap` installs, created if missing before the first bulk request, as Filebeat's
/// `setup.template`/`setup.ilm` do at start: otherwise an agent that reaches the cluster before the
/// bootstrap Job creates the day's index without its mappings and policy. Never overwrites: an object
/// that differs is reported, and `loglynk bootstrap --force` is the way to replace it.
async fn set_up_cluster(config: Config, ready: tokio::sync::watch::Sender<bool>) {
    let mut delay = Duration::from_secs(1);
    let mut warned = false;
    loop {
        let mut report = Vec::new();
        match bootstrap(&config, BootstrapOptions::default(), &mut report).await {
            Ok(outcome) => {
                for line in String::from_utf8_lossy(&report).lines() {
                    tracing::info!(step = line.trim(), "cluster set-up");
                }
                if outcome.differs() {
                    tracing::warn!(
                        "the cluster's index template or ILM policy differs from loglynk's; \
                         `loglynk bootstrap` shows how, `--force` replaces them"
                    );
                }
                break;
            }
            Err(error) if error.is_transient() => {
                if !warned {
                    tracing::warn!(%error, "cannot set up the cluster yet; retrying before shipping");
                    warned = true;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(error) => {
                tracing::error!(%error, "cannot set up the cluster; shipping without it");
                break;
            }
        }
    }
    ready.send_replace(true);
}

/// Stops the cluster set-up with the run.
struct SetUp(tokio::task::JoinHandle<()>);

impl Drop for SetUp {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Stops the probe with the run.
struct Probe(tokio::task::JoinHandle<()>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reader batches waiting for the batcher: a few, so reading overlaps with building requests.
const CHANNEL_BATCHES: usize = 4;

/// Runs until `changes` reports shutdown (or every file was read, without follow), then delivers what
/// is in flight and writes the registry.
pub async fn run(
    config: &Config,
    options: ReadOptions,
    state: State,
    encoder: Encoder,
    changes: Arc<Changes>,
) -> Result<RunSummary, RunError> {
    let es = &config.output.elasticsearch;
    let client = EsClient::new(es)?;
    let (pattern, action) = write_target(config)?;
    let dead_letters = DeadLetters::open(
        &config.state_dir,
        es.dead_letter.max_bytes,
        es.dead_letter.keep,
    )
    .map_err(|cause| RunError::DeadLetters {
        dir: config.state_dir.display().to_string(),
        cause,
    })?;
    let telemetry = Arc::clone(&options.telemetry);
    let probe = Probe(tokio::spawn(probe_elasticsearch(
        client.clone(),
        Arc::clone(&telemetry),
    )));
    let stats = Arc::new(DeliveryStats::default());
    let deliverer = Deliverer {
        client,
        dead_letters: Arc::new(Mutex::new(dead_letters)),
        stats: Arc::clone(&stats),
        telemetry: Arc::clone(&telemetry),
        compression_level: es.compression_level,
        timeout: es.timeout,
        backoff_init: es.backoff.init,
        backoff_max: es.backoff.max,
    };
    let mut setup = None;
    let bulk_max = es.bulk_max_bytes as usize;
    // Requests in memory (built, queued, in flight) stay within max_queued_bytes; what does not fit
    // waits unread in the files.
    let requests_in_memory = (config.max_queued_bytes as usize / bulk_max.max(1)).max(2);
    let batcher = BatcherConfig {
        bulk_max_bytes: bulk_max,
        flush_interval: es.flush_interval,
        workers: es.workers,
        queued_requests: requests_in_memory.saturating_sub(es.workers + 1).max(1),
        compression_level: es.compression_level,
        start: config.setup.enabled.then(|| {
            let (ready, start) = tokio::sync::watch::channel(false);
            setup = Some(SetUp(tokio::spawn(set_up_cluster(config.clone(), ready))));
            start
        }),
    };
    let processors = Processors::new(&config.decode_json_fields, &config.drop_own_logs);
    let builder = BulkBuilder::new(pattern, action, encoder.clone());
    let mut reading = Reading::start(config, options, Some(state), changes, CHANNEL_BATCHES)?;
    telemetry.set_pipeline_running(true);
    let batches = std::mem::replace(&mut reading.batches, tokio::sync::mpsc::channel(1).1);
    let batched = run_batcher(batches, processors, builder, encoder, deliverer, batcher).await;
    telemetry.set_pipeline_running(false);
    drop(probe);
    drop(setup);
    let source = tokio::task::spawn_blocking(move || reading.finish())
        .await
        .map_err(|_| ReaderFailed)??;
    use std::sync::atomic::Ordering::Relaxed;
    Ok(RunSummary {
        source,
        batcher: batched,
        acked: stats.acked.load(Relaxed),
        dead_lettered: stats.dead_lettered.load(Relaxed),
    })
}
