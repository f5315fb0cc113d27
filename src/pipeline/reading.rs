//! Starting and stopping the reading side, shared by `tail` and `run`.

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use super::source::{run_source, Batch, SourceConfig};
use super::state::State;
use crate::budget::Budget;
use crate::config::{Config, StartAt};
use crate::discover::{Changes, NothingMatched, PatternError};
use crate::enrich::kube::cache::PodCache;
use crate::enrich::kube::{EnrichReport, KubeEnricher};
use crate::output;
use crate::parse::MultilineRules;
use crate::registry::{Checkpointer, SaveFailed};
use crate::tail::TailerConfig;
use crate::telemetry::Telemetry;

/// Which files to read and how, where the command differs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Paths or globs to read instead of the configured `paths`.
    pub paths: Vec<String>,
    /// Overrides `start_at`.
    pub start_at: Option<StartAt>,
    pub follow: bool,
    /// Pod metadata from the Kubernetes API, when a cache runs.
    pub kube: Option<PodCache>,
    /// Where the reading side records what it did.
    pub telemetry: Arc<Telemetry>,
}

/// The reading thread, running, and the registry writer when state is kept. Its batches come on the
/// receiver [`Reading::start`] returns beside it.
pub struct Reading {
    reader: JoinHandle<Result<(), FinishError>>,
    checkpointer: Option<Checkpointer>,
}

/// The reading thread failed to start or panicked.
#[derive(Debug, thiserror::Error)]
#[error("the reading thread failed")]
pub struct ReaderFailed;

/// Why the reading side did not end cleanly.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(transparent)]
    Reader(#[from] ReaderFailed),
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error(transparent)]
    NothingMatched(#[from] NothingMatched),
    #[error(transparent)]
    Registry(#[from] SaveFailed),
}

impl Reading {
    /// Starts the reading thread; batches arrive on the receiver, at most `channel_batches` waiting, and
    /// none sent while `budget` is spent.
    pub fn start(
        config: &Config,
        options: ReadOptions,
        state: Option<State>,
        changes: Arc<Changes>,
        channel_batches: usize,
        budget: Budget,
    ) -> Result<(Reading, mpsc::Receiver<Batch>), ReaderFailed> {
        let (known, tracker, checkpointer) = match state {
            Some(state) => {
                let tracker = Arc::clone(&state.tracker);
                options.telemetry.watch_registry(tracker.clone());
                let checkpointer = Checkpointer::start(
                    state.store,
                    Arc::clone(&state.tracker),
                    config.registry_flush,
                    Arc::clone(&options.telemetry) as _,
                );
                (state.known, Some(tracker), Some(checkpointer))
            }
            None => (Vec::new(), None, None),
        };
        let mut tailer = TailerConfig::from_config(config);
        if let Some(start_at) = options.start_at {
            tailer.start_at = start_at;
        }
        let source = SourceConfig {
            paths: if options.paths.is_empty() {
                config.paths.clone()
            } else {
                options.paths
            },
            log_roots: config.log_roots.clone(),
            tailer,
            scan_frequency: config.scan_frequency,
            poll_interval: config.poll_interval,
            partial_timeout: config.partial_timeout,
            multiline: MultilineRules::new(&config.multiline, config.max_line_bytes),
            follow: options.follow,
            inotify: true,
            known,
            tracker,
            kube: options.kube.map(|cache| {
                KubeEnricher::new(
                    cache,
                    config.kubernetes.metadata_wait,
                    Arc::clone(&options.telemetry) as Arc<dyn EnrichReport>,
                )
            }),
            include: config.kubernetes.include.clone(),
            exclude: config.kubernetes.exclude.clone(),
            telemetry: options.telemetry,
            read_ahead: Some(read_ahead(config)),
            rate_limit: config.rate_limit.clone(),
            budget,
        };
        let (tx, batches) = mpsc::channel::<Batch>(channel_batches.max(1));
        let reader = std::thread::Builder::new()
            .name("loglynk-reader".into())
            .spawn(move || run_source(source, changes, tx))
            .map_err(|_| ReaderFailed)?;
        Ok((
            Reading {
                reader,
                checkpointer,
            },
            batches,
        ))
    }

    /// Waits for the reading thread (which stops at shutdown, or once the receiver of its batches was
    /// dropped) and writes the registry a last time. A reading error is reported before a failed save,
    /// which the checkpointer has logged already. What was read is in telemetry.
    pub fn finish(self) -> Result<(), FinishError> {
        let read = match self.reader.join() {
            Ok(read) => read,
            Err(_) => Err(FinishError::Reader(ReaderFailed)),
        };
        let saved = match self.checkpointer {
            Some(checkpointer) => checkpointer.stop(),
            None => Ok(()),
        };
        read?;
        saved?;
        Ok(())
    }
}

/// Bytes of one file that may be read ahead of its acknowledgements: half of what the output keeps in
/// flight (Elasticsearch's `workers` requests of `bulk_max_bytes`), counted in the file's bytes, which
/// become larger documents (a line's metadata and JSON are added: typically 1.5 to 3 times), so one busy
/// file alone still fills the requests in flight; not more, so its backlog waits in the file rather
/// than in front of the other files' lines.
fn read_ahead(config: &Config) -> u64 {
    (output::in_flight_bytes(config) / 2).max(MIN_READ_AHEAD)
}

/// Whatever the output, a file may read a few lines ahead.
const MIN_READ_AHEAD: u64 = 16 << 10;
