//! One pipeline, from start to end: the output of its destination, the reading side, and the loop
//! between them; then the registry's last write.

use std::sync::Arc;

use tokio::sync::Notify;

use super::flow::flow;
use super::launch::PipelineError;
use super::reading::{FinishError, ReadOptions, Reading};
use super::state::State;
use crate::bootstrap::set_up_before_shipping;
use crate::budget::Budget;
use crate::config::Config;
use crate::discover::Changes;
use crate::event::Encoder;
use crate::output::{self, Destination, OutputError, SetUpStep};
use crate::process::Processors;
use crate::registry::lock;

/// Batches waiting between the reading side and the output: a few, so reading overlaps with writing.
/// Memory is bounded by `max_queued_bytes`, which the batches count against; this keeps the reader from
/// reading further ahead of the encoder than overlap needs when the budget has room (lines wait in
/// their files at no cost).
const CHANNEL_BATCHES: usize = 4;

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
    let set_up = || {
        let step = set_up_before_shipping(config.clone(), Arc::clone(&telemetry));
        Box::pin(step) as SetUpStep
    };
    let budget = Budget::new(config.max_queued_bytes, telemetry.queued_bytes_gauge());
    let out = output::build(config, destination, encoder, &telemetry, set_up, &budget)?;
    let (reading, mut batches) = Reading::start(
        config,
        options,
        state,
        Arc::clone(&changes),
        CHANNEL_BATCHES,
        budget,
    )
    .map_err(FinishError::from)?;
    telemetry.set_pipeline_running(true);
    let t = &telemetry;
    let mut abandoned = false;
    let flowed = {
        let flowing = flow(out, &processors, &mut batches, t);
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
