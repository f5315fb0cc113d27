//! The one loop every command runs: receive a batch → processors → output → acknowledgements (which the
//! output gives once it delivered the batch).

use tokio::sync::mpsc;

use crate::batch::Batch;
use crate::output::{Output, OutputError};
use crate::process::{DropReason, Processors};
use crate::telemetry::Telemetry;

/// Drives `output` until the reading side closes the channel, then closes the output (which delivers
/// what it holds). Returns early on an output error, leaving what is in flight unacknowledged.
pub(super) async fn flow<O: Output>(
    mut output: O,
    processors: &Processors,
    batches: &mut mpsc::Receiver<Batch>,
    telemetry: &Telemetry,
) -> Result<(), OutputError> {
    loop {
        let received = match output.next_flush() {
            Some(at) => tokio::select! {
                batch = batches.recv() => Some(batch),
                _ = tokio::time::sleep_until(at) => None,
            },
            None => Some(batches.recv().await),
        };
        match received {
            Some(Some(mut batch)) => {
                let outcome = processors.run_batch(&mut batch.events);
                telemetry.events_dropped(DropReason::OwnLogs, outcome.dropped_own_logs);
                telemetry.events_dropped(DropReason::ExcludedLines, outcome.dropped_excluded_lines);
                telemetry.events_dropped(DropReason::RateLimit, outcome.dropped_rate_limit);
                telemetry.log_events(&batch.events);
                output.send(batch).await?;
            }
            Some(None) => break,
            None => output.flush().await?,
        }
    }
    output.close().await
}
