//! The loss ledger: every line handed to the pipeline ends shipped, dropped (with a reason),
//! dead-lettered or kept in the data stream's failure store, and until then is in flight. Counted under one lock, per batch rather than per line,
//! so a scrape always sees a ledger that balances.

use std::sync::Mutex;

use super::Telemetry;

/// Why events were dropped on purpose (or could not be kept): the one list the processors, the outputs
/// and `/metrics` share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The agent's own logs, or those of a shipper it replaces (drop_own_logs).
    OwnLogs,
    /// Refused by Elasticsearch for good and the dead-letter file could not be written.
    DeadLetterWriteFailed,
    /// Left out by a container's `exclude_lines` or `include_lines` hint.
    ExcludedLines,
}

impl DropReason {
    pub const ALL: [DropReason; 3] = [
        DropReason::OwnLogs,
        DropReason::DeadLetterWriteFailed,
        DropReason::ExcludedLines,
    ];

    /// Stable name, for metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::OwnLogs => "own_logs",
            DropReason::DeadLetterWriteFailed => "dead_letter_write_failed",
            DropReason::ExcludedLines => "excluded_lines",
        }
    }
}

/// One consistent reading of the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub shipped: u64,
    pub dropped_own_logs: u64,
    pub dropped_dead_letter_write_failed: u64,
    pub dropped_excluded_lines: u64,
    pub dead_lettered: u64,
    /// Refused by the mappings and kept in the data stream's failure store (9.1+).
    pub failure_stored: u64,
}

impl Counts {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::OwnLogs => self.dropped_own_logs,
            DropReason::DeadLetterWriteFailed => self.dropped_dead_letter_write_failed,
            DropReason::ExcludedLines => self.dropped_excluded_lines,
        }
    }

    /// Read and not yet settled. Signed: a line counted settled twice shows as a negative number
    /// rather than wrapping into a huge one.
    pub fn in_flight(&self) -> i64 {
        let settled = self.shipped
            + self.dropped_own_logs
            + self.dropped_dead_letter_write_failed
            + self.dropped_excluded_lines
            + self.dead_lettered
            + self.failure_stored;
        self.read as i64 - settled as i64
    }
}

impl Telemetry {
    /// Events an output delivered (Elasticsearch acknowledged them, or they were written and flushed).
    pub fn events_shipped(&self, n: u64) {
        self.ledger.shipped(n);
    }

    /// Events Elasticsearch answered as kept in the failure store: in the cluster, not in the log
    /// indices. Settled, never counted shipped.
    pub fn events_failure_stored(&self, n: u64) {
        if n > 0 {
            self.ledger.failure_stored(n);
        }
    }

    /// Events dropped on purpose, or lost, for `reason`.
    pub fn events_dropped(&self, reason: DropReason, n: u64) {
        self.ledger.dropped(reason, n);
    }
}

#[derive(Debug, Default)]
pub struct Ledger {
    counts: Mutex<Counts>,
}

impl Ledger {
    pub fn read(&self, n: u64) {
        self.update(|c| c.read += n);
    }

    /// Lines counted read whose batches were abandoned unacknowledged (a reload gave up on an output
    /// that did not answer): they are read again, and counted then.
    pub fn unread(&self, n: u64) {
        self.update(|c| c.read = c.read.saturating_sub(n));
    }

    pub fn shipped(&self, n: u64) {
        self.update(|c| c.shipped += n);
    }

    pub fn dropped(&self, reason: DropReason, n: u64) {
        self.update(|c| match reason {
            DropReason::OwnLogs => c.dropped_own_logs += n,
            DropReason::DeadLetterWriteFailed => c.dropped_dead_letter_write_failed += n,
            DropReason::ExcludedLines => c.dropped_excluded_lines += n,
        });
    }

    pub fn failure_stored(&self, n: u64) {
        self.update(|c| c.failure_stored += n);
    }

    pub fn dead_lettered(&self, n: u64) {
        self.update(|c| c.dead_lettered += n);
    }

    pub fn counts(&self) -> Counts {
        *self.lock()
    }

    fn update(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.lock());
    }

    /// Plain counters: a panic elsewhere while holding the lock leaves them usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_is_what_is_not_settled_and_shows_a_double_count() {
        let ledger = Ledger::default();
        ledger.read(10);
        ledger.shipped(6);
        ledger.dropped(DropReason::OwnLogs, 1);
        ledger.dead_lettered(1);
        ledger.failure_stored(1);
        let counts = ledger.counts();
        assert_eq!(counts.in_flight(), 1);
        ledger.shipped(2);
        assert_eq!(ledger.counts().in_flight(), -1);
    }
}
