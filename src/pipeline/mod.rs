//! Wiring the stages together: a reading thread (discover, tail, parse, enrich) feeding batches through a
//! bounded channel to one loop — processors, then the output the mode and the configuration choose.

mod checkpoints;
#[cfg(test)]
mod chunking;
mod control;
mod files;
mod flow;
mod handover;
mod launch;
mod reading;
mod reload;
mod ship;
mod source;
mod state;

pub use launch::{start, start_reloadable, Mode, PipelineError, TailOptions};
pub use reading::{FinishError, ReadOptions, ReaderFailed, Reading};
pub use reload::ConfigSource;
pub use source::{run_source, Batch, SourceConfig, SourceSummary};
pub use state::State;
