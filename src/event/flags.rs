//! `log.flags`: what went wrong with a line, as a set of bits an event carries for nothing until one is
//! set.

/// What went wrong with a line, shipped as `log.flags` so a bad line is visible rather than lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u16);

impl Flags {
    /// The line (or joined line) was longer than `max_line_bytes` and was cut there.
    pub const TRUNCATED: Flags = Flags(1);
    /// A partial line whose final part never came within the partial timeout, shipped as it was.
    pub const PARTIAL: Flags = Flags(1 << 1);
    /// The line matched neither the CRI nor the docker format; `message` is the raw line.
    pub const UNPARSED: Flags = Flags(1 << 2);
    /// The line was not valid UTF-8; invalid sequences were replaced with U+FFFD.
    pub const INVALID_UTF8: Flags = Flags(1 << 3);
    /// Kubernetes metadata for the pod was not available in time; only path metadata is present.
    pub const KUBE_METADATA_MISSING: Flags = Flags(1 << 4);
    /// The line's time is one `@timestamp` cannot hold (before 1970, after 2262): it is shipped at the
    /// time it was read, its own time kept in `log.original_timestamp`.
    pub const TIMESTAMP_OUT_OF_RANGE: Flags = Flags(1 << 5);

    /// Several lines joined into one event (a stack trace), or the continuation of one shipped before
    /// (its group timed out or was cut); Filebeat's flag of the same name.
    pub const MULTILINE: Flags = Flags(1 << 6);
    /// A joined event cut at `multiline.max_lines` or `max_bytes`; its next lines follow as another.
    pub const MULTILINE_TRUNCATED: Flags = Flags(1 << 7);

    const NAMES: [(Flags, &'static str); 8] = [
        (Flags::TRUNCATED, "truncated"),
        (Flags::PARTIAL, "partial"),
        (Flags::UNPARSED, "unparsed"),
        (Flags::INVALID_UTF8, "invalid_utf8"),
        (Flags::KUBE_METADATA_MISSING, "kube_metadata_missing"),
        (Flags::TIMESTAMP_OUT_OF_RANGE, "timestamp_out_of_range"),
        (Flags::MULTILINE, "multiline"),
        (Flags::MULTILINE_TRUNCATED, "multiline_truncated"),
    ];

    pub fn empty() -> Flags {
        Flags(0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// The names set, in a fixed order, as they appear in `log.flags`.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_names_follow_a_fixed_order() {
        let flags = Flags::UNPARSED | Flags::TRUNCATED;
        assert_eq!(flags.names().collect::<Vec<_>>(), ["truncated", "unparsed"]);
        assert!(Flags::empty().is_empty());
        assert!(!flags.contains(Flags::PARTIAL));
    }
}
