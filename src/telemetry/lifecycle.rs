//! A command's start and end: signals, the shutdown timeout, and the line that sums up a run.

use std::time::Duration;

use super::{DropReason, Telemetry};

impl Telemetry {
    /// `command` ended: what it read, shipped and dropped, from the ledger and the reading side's counts.
    pub fn finished(&self, command: &str) {
        let counts = self.counts();
        let read = self.read_counts();
        tracing::info!(
            files = read.files_opened,
            lines = counts.read,
            unparsed = read.unparsed,
            shipped = counts.shipped,
            dropped = DropReason::ALL
                .iter()
                .map(|r| counts.dropped(*r))
                .sum::<u64>(),
            dead_lettered = counts.dead_lettered,
            failure_stored = counts.failure_stored,
            kube_found = read.kube_found,
            kube_missing = read.kube_missing,
            "{command} finished"
        );
    }
}

/// SIGTERM or SIGINT: reading stops, what is in flight is delivered.
pub fn signal_received() {
    tracing::info!("signal received; finishing");
}

/// The signal handlers could not be installed.
pub fn signals_unavailable() {
    tracing::warn!("cannot listen for signals; stop with SIGKILL");
}

impl Telemetry {
    /// What was in flight at a signal was not delivered within `shutdown_timeout`: the output's
    /// batches are abandoned unacknowledged, and the registry is written with what was acknowledged.
    pub fn shutdown_timed_out(&self, shutdown_timeout: Duration) {
        tracing::warn!(
            ?shutdown_timeout,
            unacknowledged = self.counts().in_flight(),
            "shutdown_timeout expired with events not acknowledged; they are abandoned and read again \
             at the next start, and the registry is written with what was acknowledged"
        );
    }
}

/// Abandoning the output and writing the registry took longer than `within` too (a write blocked for
/// good): the process exits without its last registry write.
pub fn shutdown_abandon_timed_out(within: Duration) {
    tracing::warn!(
        ?within,
        "shutdown timed out; exiting with events in flight and without a last registry write"
    );
}
