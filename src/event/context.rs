//! The per-line fields Kibana's log views read beside the message: `log.level`, and the `trace.id`,
//! `span.id` and `transaction.id` that link a line to its trace in APM and Jaeger.
//!
//! A level is one of a few words on almost every line, so the common ones are static strings: a line
//! pays for its level with no allocation. Trace IDs share the message's bytes where the message holds
//! them as they are (no escapes); only a number or an escaped ID is copied.

use super::Text;

/// `log.level`, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Known(&'static str),
    Other(Box<str>),
}

/// The levels loggers write, lower case, so the common case needs no allocation.
const KNOWN_LEVELS: [&str; 17] = [
    "trace",
    "debug",
    "info",
    "notice",
    "warn",
    "warning",
    "error",
    "err",
    "critical",
    "crit",
    "fatal",
    "alert",
    "emergency",
    "emerg",
    "panic",
    "dpanic",
    "severe",
];

/// Longer than this, a value is a message, not a level.
const MAX_LEVEL_BYTES: usize = 32;

impl Level {
    pub fn as_str(&self) -> &str {
        match self {
            Level::Known(name) => name,
            Level::Other(name) => name,
        }
    }

    /// `raw` trimmed and lower-cased; `None` when it is empty or too long to be a level.
    pub fn normalize(raw: &str) -> Option<Level> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_LEVEL_BYTES {
            return None;
        }
        if let Some(known) = KNOWN_LEVELS
            .iter()
            .find(|known| known.eq_ignore_ascii_case(raw))
        {
            return Some(Level::Known(known));
        }
        Some(Level::Other(raw.to_lowercase().into_boxed_str()))
    }

    /// The numeric levels of pino and bunyan (Node.js): 10 trace … 60 fatal. Other numbers are no level.
    pub fn from_number(n: u64) -> Option<Level> {
        let name = match n {
            10 => "trace",
            20 => "debug",
            30 => "info",
            40 => "warn",
            50 => "error",
            60 => "fatal",
            _ => return None,
        };
        Some(Level::Known(name))
    }
}

/// `trace.id`, `span.id`, `transaction.id`: boxed on the event since most lines carry none. Each a
/// slice of the message it was read from when it can be (no allocation of its own: with 60 % of lines
/// traced, one string per line was a third of the allocations on the shipping path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceIds {
    pub trace_id: Option<Text>,
    pub span_id: Option<Text>,
    pub transaction_id: Option<Text>,
}

impl TraceIds {
    pub fn is_empty(&self) -> bool {
        self.trace_id.is_none() && self.span_id.is_none() && self.transaction_id.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_lower_case_and_common_ones_static() {
        assert_eq!(Level::normalize("ERROR"), Some(Level::Known("error")));
        assert_eq!(Level::normalize(" Warning "), Some(Level::Known("warning")));
        assert_eq!(
            Level::normalize("VERBOSE"),
            Some(Level::Other("verbose".into()))
        );
        assert_eq!(Level::normalize(""), None);
        assert_eq!(Level::normalize(&"x".repeat(33)), None);
        assert_eq!(Level::from_number(50), Some(Level::Known("error")));
        assert_eq!(Level::from_number(35), None);
        assert_eq!(Level::normalize("Fatal").unwrap().as_str(), "fatal");
    }
}
