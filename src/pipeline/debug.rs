//! `loglynk tail`: the agent's pipeline from local files to NDJSON on stdout.

use std::io::Write;
use std::sync::Arc;

use thiserror::Error;

use super::reading::{FinishError, ReadOptions, Reading};
use super::source::SourceSummary;
use super::state::State;
use crate::config::Config;
use crate::discover::{Changes, PatternError};
use crate::event::Encoder;
use crate::output::stdout::StdoutOutput;
use crate::process::Processors;

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
    Output(std::io::Error),
    #[error("the reading thread failed")]
    Reader,
    #[error(transparent)]
    Registry(#[from] crate::registry::SaveFailed),
}

/// Batches in flight between the reader and the writer: enough to overlap reading with writing, few
/// enough that memory stays a few MiB when the reader of stdout is slow.
const CHANNEL_BATCHES: usize = 4;

/// Runs the debug pipeline until every file was read (without follow) or `changes` reports shutdown.
/// A closed stdout (`loglynk tail … | head`) ends the run normally. With `state`, offsets are resumed
/// and recorded once written and flushed to `out`.
pub fn tail(
    config: &Config,
    options: ReadOptions,
    state: Option<State>,
    encoder: Encoder,
    changes: Arc<Changes>,
    out: impl Write,
) -> Result<TailSummary, TailError> {
    let processors = Processors::new(&config.decode_json_fields, &config.drop_own_logs);
    let mut reading = Reading::start(
        config,
        options,
        state,
        Arc::clone(&changes),
        CHANNEL_BATCHES,
    )
    .map_err(|_| TailError::Reader)?;

    let mut output = StdoutOutput::new(out, encoder);
    let mut summary = TailSummary::default();
    let mut write_error = None;
    while let Some(mut batch) = reading.batches.blocking_recv() {
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
    summary.source = reading.finish().map_err(|error| match error {
        FinishError::Reader(_) => TailError::Reader,
        FinishError::Pattern(e) => TailError::Pattern(e),
        FinishError::Registry(e) => TailError::Registry(e),
    })?;
    match write_error {
        Some(error) => Err(TailError::Output(error)),
        None => Ok(summary),
    }
}
