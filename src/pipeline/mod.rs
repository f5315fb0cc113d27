//! Wiring the stages together: a reading thread (discover, tail, parse, enrich) feeding batches through a
//! bounded channel to processing and an output.

mod agent;
mod checkpoints;
#[cfg(test)]
mod chunking;
mod debug;
mod files;
mod handover;
mod reading;
mod source;
mod state;

pub use agent::{run, RunError, RunSummary};
pub use debug::{tail, TailError, TailSummary};
pub use reading::{FinishError, ReadOptions, Reading};
pub use source::{run_source, Batch, SourceConfig, SourceSummary};
pub use state::State;
