//! The line that sums up a run.

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
            failure_stored = counts.failure_stored,
            kube_found = read.kube_found,
            kube_missing = read.kube_missing,
            "{command} finished"
        );
    }
}
