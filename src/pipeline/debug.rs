//! `loglynk tail`: the agent's pipeline from local files to NDJSON on stdout.

use std::io::Write;
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::mpsc;

use super::source::{run_source, Batch, SourceConfig, SourceSummary};
use super::state::State;
use crate::config::{Config, StartAt};
use crate::discover::{Changes, PatternError};
use crate::event::Encoder;
use crate::output::stdout::StdoutOutput;
use crate::process::Processors;
use crate::registry::Checkpointer;
use crate::tail::TailerConfig;

/// How `tail` differs from the agent's configuration.
#[derive(Debug, Clone, Default)]
pub struct TailOptions {
    /// Paths or globs to read instead of the configured `paths`.
    pub paths: Vec<String>,
    /// Overrides `start_at`.
    pub start_at: Option<StartAt>,
    pub follow: bool,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TailSummary {
    pub source: SourceSummary,
    pub events_written: u64,
    pub events_dropped: u64,
}

#[derive(Debug, Error)]
pub enum TailError {
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("writing events: {0}")]
    Output(#[source] std::io::Error),
    #[error("the reading thread failed")]
    Reader,
}

/// Batches in flight between the reader and the writer: enough to overlap reading with writing, few
/// enough that memory stays a few MiB when the reader of stdout is slow.
const CHANNEL_BATCHES: usize = 4;

/// Runs the debug pipeline until every file was read (without follow) or `changes` reports shutdown.
/// A closed stdout (`loglynk tail … | head`) ends the run normally. With `state`, offsets are resumed
/// and recorded once written and flushed to `out`.
pub fn tail(
    config: &Config,
    options: TailOptions,
    state: Option<State>,
    encoder: Encoder,
    changes: Arc<Changes>,
    out: impl Write,
) -> Result<TailSummary, TailError> {
    let (known, tracker, checkpointer) = match state {
        Some(state) => {
            let tracker = Arc::clone(&state.tracker);
            let checkpointer = Checkpointer::start(
                state.store,
                Arc::clone(&state.tracker),
                config.registry_flush,
            );
            (state.known, Some(tracker), Some(checkpointer))
        }
        None => (Vec::new(), None, None),
    };
    let mut tailer = TailerConfig::new(
        config.max_line_bytes as usize,
        options.start_at.unwrap_or(config.start_at),
    );
    tailer.close_removed_after = config.close_removed_after;
    tailer.close_inactive = config.close_inactive;
    tailer.max_open_files = config.max_open_files;
    let source = SourceConfig {
        paths: if options.paths.is_empty() {
            config.paths.clone()
        } else {
            options.paths
        },
        tailer,
        scan_frequency: config.scan_frequency,
        poll_interval: config.poll_interval,
        partial_timeout: config.partial_timeout,
        follow: options.follow,
        inotify: true,
        known,
        tracker,
    };
    let processors = Processors::new(&config.decode_json_fields, &config.drop_own_logs);
    let (tx, mut rx) = mpsc::channel::<Batch>(CHANNEL_BATCHES);
    let reader_changes = Arc::clone(&changes);
    let reader = std::thread::Builder::new()
        .name("loglynk-reader".into())
        .spawn(move || run_source(source, reader_changes, tx))
        .map_err(|_| TailError::Reader)?;

    let mut output = StdoutOutput::new(out, encoder);
    let mut summary = TailSummary::default();
    let mut write_error = None;
    while let Some(mut batch) = rx.blocking_recv() {
        let outcome = processors.run_batch(&mut batch.events);
        summary.events_dropped += outcome.dropped_own_logs;
        if let Err(error) = output.write_batch(&batch.events) {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                write_error = Some(error);
            }
            changes.shutdown();
            break;
        }
        summary.events_written += batch.events.len() as u64;
        batch.acknowledge();
    }
    drop(rx);
    let source = reader.join().map_err(|_| TailError::Reader);
    if let Some(checkpointer) = checkpointer {
        checkpointer.stop();
    }
    summary.source = source??;
    match write_error {
        Some(error) => Err(TailError::Output(error)),
        None => Ok(summary),
    }
}
