//! A command's own course: signals, the shutdown timeout, and the line that sums up a run.

use std::time::Duration;

use super::{DropReason, Telemetry};

impl Telemetry {
    /// SIGTERM or SIGINT: what is in flight is delivered, then the command exits.
    pub fn signal_received(&self) {
        tracing::info!("signal received; finishing");
    }

    /// The signal handlers could not be installed.
    pub fn signals_unavailable(&self) {
        tracing::warn!("cannot listen for signals; stop with SIGKILL");
    }

    /// What was in flight was not delivered within `shutdown_timeout`.
    pub fn shutdown_timed_out(&self, shutdown_timeout: Duration) {
        tracing::warn!(
            ?shutdown_timeout,
            "shutdown timed out; exiting with events in flight"
        );
    }

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
