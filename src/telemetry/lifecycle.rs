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
            dropped = DropReason::ALL
                .iter()
                .map(|r| counts.dropped(*r))
                .sum::<u64>(),
            dead_lettered = counts.dead_lettered,
            kube_found = read.kube_found,
            kube_missing = read.kube_missing,
            "{command} finished"
        );
    }
}
