//! Counters a file's parser keeps, for telemetry.

use crate::event::{Event, Flags};

/// Running totals for one file since its parser was made. Each event counts once under every flag it
/// carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines pushed.
    pub lines: u64,
    /// Lines in neither format, shipped raw.
    pub unparsed: u64,
    /// Events whose invalid UTF-8 was replaced.
    pub invalid_utf8: u64,
    /// Partial lines shipped without their end (timeout, format switch, flush).
    pub partial_flushed: u64,
    /// Events cut at `max_line_bytes`, by the tailer or when joining.
    pub truncated: u64,
}

impl ParseStats {
    pub(crate) fn count(&mut self, events: &[Event]) {
        for event in events {
            let flags = event.flags;
            let count = |flag: Flags| u64::from(flags.contains(flag));
            self.unparsed += count(Flags::UNPARSED);
            self.invalid_utf8 += count(Flags::INVALID_UTF8);
            self.partial_flushed += count(Flags::PARTIAL);
            self.truncated += count(Flags::TRUNCATED);
        }
    }
}
