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
            dropped = counts.dropped(DropReason::OwnLogs),
            dead_lettered = counts.dead_lettered,
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

/// A reload's drain of the running pipeline took longer than `shutdown_timeout`.
pub fn reload_drain_timed_out(shutdown_timeout: Duration) {
    tracing::warn!(?shutdown_timeout,
        "in-flight events were not delivered within shutdown_timeout; they are abandoned and their \
         lines sent again under the new configuration");
}

/// The drain after a signal took longer than `shutdown_timeout`.
pub fn shutdown_timed_out(shutdown_timeout: Duration) {
    tracing::warn!(
        ?shutdown_timeout,
        "shutdown timed out; exiting with events in flight"
    );
}
