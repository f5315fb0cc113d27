//! Wiring the stages together: a reading thread (discover, tail, parse, enrich) feeding batches through a
//! bounded channel to processing and an output.

#[cfg(test)]
mod chunking;
mod debug;
mod source;
mod state;

pub use debug::{tail, TailError, TailOptions, TailSummary};
pub use source::{run_source, Batch, SourceConfig, SourceSummary};
pub use state::State;
