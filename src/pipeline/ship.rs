//! One pipeline, from start to end: the output the mode and the configuration choose, the reading side,
//! and the loop between them; then the registry's last write.

use std::io::StdoutLock;
use std::sync::Arc;

use tokio::sync::Notify;

use super::flow::flow;
use super::launch::PipelineError;
use super::reading::{FinishError, ReadOptions, Reading};
use super::state::State;
use crate::bootstrap::set_up_before_shipping;
use crate::config::Config;
use crate::discover::Changes;
use crate::event::Encoder;
use crate::output::elasticsearch::{bulk_builder, EsOutput, SetUpStep};
use crate::output::file::FileOutput;
use crate::output::stdout::StdoutOutput;
use crate::output::OutputError;
use crate::process::Processors;
use crate::registry::lock;
use crate::telemetry::Telemetry;

/// Batches waiting between the reading side and the output: a few, so reading overlaps with writing,
/// few enough that memory stays a few MiB when the output is slow.
const CHANNEL_BATCHES: usize = 4;

/// Where a pipeline's events go: `run`'s configured output, or `tail`'s stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Destination {
    Configured,
    /// `bulk`: the Elasticsearch output's bulk bodies rather than the documents alone.
    Stdout {
        bulk: bool,
    },
}

/// The output a mode and the configuration choose; one of them runs the loop. Built once per run, so
/// its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Sink {
    Stdout(StdoutOutput<StdoutLock<'static>>),
    File(FileOutput),
    Elasticsearch(EsOutput),
}

impl Sink {
    /// `tail` prints; `run` ships to `output.file` when that is set, else to Elasticsearch.
    fn build(
        config: &Config,
        destination: Destination,
        encoder: Encoder,
        telemetry: &Arc<Telemetry>,
    ) -> Result<Sink, PipelineError> {
        let telemetry = Arc::clone(telemetry);
        if let Destination::Stdout { bulk } = destination {
            let out = std::io::stdout().lock();
            return Ok(Sink::Stdout(if bulk {
                let builder = bulk_builder(&config.output.elasticsearch, &config.setup, encoder)?;
                StdoutOutput::bulk(out, builder, telemetry)
            } else {
                StdoutOutput::new(out, encoder, telemetry)
            }));
        }
        if let Some(file) = config.output.file() {
            return Ok(Sink::File(FileOutput::new(file, encoder, telemetry)?));
        }
        let set_up = config.setup.enabled.then(|| {
            let step = set_up_before_shipping(config.clone(), Arc::clone(&telemetry));
            Box::pin(step) as SetUpStep
        });
        let es = EsOutput::new(
            &config.output.elasticsearch,
            &config.setup,
            &config.state_dir,
            config.max_queued_bytes,
            encoder,
            telemetry,
            set_up,
        )?;
        Ok(Sink::Elasticsearch(es))
    }
}

/// Builds the output, starts reading, and runs the one loop until reading ends; then writes the
/// registry. A reading error is reported before an output error; a closed stdout is no error.
///
/// `abandon` gives up on what the output holds (a reload that waited `shutdown_timeout` for it): its
/// batches stay unacknowledged, so the registry keeps their lines to be read again.
pub(super) async fn ship(
    config: &Config,
    destination: Destination,
    options: ReadOptions,
    state: Option<State>,
    encoder: Encoder,
    changes: Arc<Changes>,
    abandon: &Notify,
) -> Result<(), PipelineError> {
    let telemetry = Arc::clone(&options.telemetry);
    let tracker = state.as_ref().map(|s| Arc::clone(&s.tracker));
    let processors = Processors::new(&config.decode_json_fields, &config.drop_own_logs);
    let sink = Sink::build(config, destination, encoder, &telemetry)?;
    let (reading, mut batches) = Reading::start(
        config,
        options,
        state,
        Arc::clone(&changes),
        CHANNEL_BATCHES,
    )
    .map_err(FinishError::from)?;
    telemetry.set_pipeline_running(true);
    let t = &telemetry;
    let mut abandoned = false;
    let flowed = {
        let flowing = async {
            match sink {
                Sink::Stdout(out) => flow(out, &processors, &mut batches, t).await,
                Sink::File(out) => flow(out, &processors, &mut batches, t).await,
                Sink::Elasticsearch(out) => flow(out, &processors, &mut batches, t).await,
            }
        };
        tokio::select! {
            flowed = flowing => flowed,
            () = abandon.notified() => {
                abandoned = true;
                Ok(())
            }
        }
    };
    telemetry.set_pipeline_running(false);
    if flowed.is_err() || abandoned {
        changes.shutdown();
    }
    // The reading thread stops once nobody receives.
    drop(batches);
    reading.finish()?;
    if let Some(tracker) = tracker.filter(|_| abandoned) {
        // Saved: what is left unsaved is exactly the abandoned batches, read again by the next pipeline.
        telemetry.lines_to_read_again(lock(&tracker).unsaved_events());
    }
    match flowed {
        Ok(()) | Err(OutputError::Closed) => Ok(()),
        Err(error) => Err(PipelineError::Output(error)),
    }
}
