//! Where events go: Elasticsearch in the agent, stdout in the debug mode, or NDJSON files
//! (`output.file`). The pipeline drives every output through [`Output`]; an output knows neither the
//! pipeline nor the processors, only [`Batch`]es and how to acknowledge them. [`build`] chooses and
//! starts the one a command uses.

mod any;
pub mod elasticsearch;
pub mod file;
pub mod stdout;

pub use any::{
    build, check_files, in_flight_bytes, AnyOutput, Destination, SettingsError, StartError,
};
pub use elasticsearch::SetUpStep;

use std::future::Future;

use tokio::time::Instant;

use crate::batch::Batch;
use crate::config::Config;

/// The outputs' checks of their settings, for `config::load_checked`: what config cannot know (an
/// index pattern's syntax, say) reported with the line of its key.
pub fn check(config: &Config) -> Vec<(String, String)> {
    let mut found = elasticsearch::check(config);
    if let Some(file) = config.output.file() {
        if file.path.as_os_str().is_empty() {
            found.push((
                "output.file.path".into(),
                "must name the directory the files are written in".into(),
            ));
        }
        if file.number_of_files < 2 {
            found.push((
                "output.file.number_of_files".into(),
                "must be at least 2, as in Filebeat".into(),
            ));
        }
    }
    found
}

/// What the pipeline asks of an output. A batch is acknowledged by the output once every event in it
/// was delivered or settled for good (dead-lettered), never before: that is what lets the registry
/// record its offsets.
///
/// The pipeline calls these from one task, one at a time; `send` may wait (backpressure), which holds
/// the reading side back through the bounded channel.
pub trait Output {
    /// Takes the batch's events; acknowledges the batch once they are delivered. An output that
    /// gathers events into larger requests may return before that, holding the acknowledgement.
    fn send(&mut self, batch: Batch) -> impl Future<Output = Result<(), OutputError>>;

    /// When the output holds a partial request that must go out even if no more events come
    /// (`flush_interval`); `None` when it holds nothing waiting.
    fn next_flush(&self) -> Option<Instant> {
        None
    }

    /// Sends what is held now (the deadline of [`Output::next_flush`] passed).
    fn flush(&mut self) -> impl Future<Output = Result<(), OutputError>> {
        async { Ok(()) }
    }

    /// Delivers what is held and in flight, then stops.
    fn close(self) -> impl Future<Output = Result<(), OutputError>>;
}

/// An output that cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader of the output went away (`loglynk tail … | head`): the run ends normally.
    #[error("the output was closed by its reader")]
    Closed,
    #[error("writing events: {0}")]
    Write(std::io::Error),
    #[error(transparent)]
    File(#[from] file::FileOutputError),
}

impl OutputError {
    /// A write error, except a closed pipe, which ends the run without failing it.
    pub fn from_write(error: std::io::Error) -> OutputError {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Write(error)
        }
    }
}
