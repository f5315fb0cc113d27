//! `log.level` and the trace IDs, read from each line: what Kibana's log views and the trace-to-logs
//! link need.
//!
//! From a JSON message, the keys are found while decode_json_fields validates it (the walk it does
//! anyway), or in its tree; a line it did not decode gets its level from the text: a klog prefix
//! (`E1206 …`), a leading `ERROR`/`WARN`/`INFO`/`DEBUG` word, or logfmt's `level=`.

use std::sync::LazyLock;

use memchr::memmem;
use serde_json::Value;

use crate::event::{Event, Level, Text, TraceIds};

/// Where a JSON value sits, as far as the fields read here care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// Nothing read here, nor inside it.
    Ignored,
    /// A value for `target`; of two values for one target, the lower `rank` wins, whatever their
    /// order in the line (the tree path sees keys sorted, the walk as written).
    Field(Target, u8),
    /// An object whose members are looked at: `{"log": {"level": …}}`, `{"dd": {"trace_id": …}}`.
    Object(Parent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Level,
    TraceId,
    SpanId,
    TransactionId,
    /// W3C `traceparent`: `00-<trace id>-<span id>-<flags>`, both IDs at once.
    Traceparent,
}

/// The objects looked into, and the document root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parent {
    Root,
    Log,
    Trace,
    Span,
    Transaction,
    Dd,
}

/// What a key inside `parent` holds, ECS's names first: `log.level`, then `level`, `severity`,
/// `lvl`; `trace.id`, then `trace_id`, `traceId`, W3C's `traceparent`, Datadog's `dd.trace_id`; the
/// same shapes for span and transaction IDs.
pub(super) fn classify(parent: Parent, key: &str) -> Slot {
    use Target::*;
    let field = Slot::Field;
    match parent {
        Parent::Root => match key {
            "log.level" => field(Level, 0),
            "level" => field(Level, 1),
            "severity" => field(Level, 2),
            "lvl" => field(Level, 3),
            "trace.id" => field(TraceId, 0),
            "trace_id" => field(TraceId, 1),
            "traceId" => field(TraceId, 2),
            "traceparent" => field(Traceparent, 3),
            "dd.trace_id" => field(TraceId, 4),
            "span.id" => field(SpanId, 0),
            "span_id" => field(SpanId, 1),
            "spanId" => field(SpanId, 2),
            "dd.span_id" => field(SpanId, 4),
            "transaction.id" => field(TransactionId, 0),
            "transaction_id" => field(TransactionId, 1),
            "transactionId" => field(TransactionId, 2),
            "log" => Slot::Object(Parent::Log),
            "trace" => Slot::Object(Parent::Trace),
            "span" => Slot::Object(Parent::Span),
            "transaction" => Slot::Object(Parent::Transaction),
            "dd" => Slot::Object(Parent::Dd),
            _ => Slot::Ignored,
        },
        Parent::Log if key == "level" => field(Level, 0),
        Parent::Trace if key == "id" => field(TraceId, 0),
        Parent::Span if key == "id" => field(SpanId, 0),
        Parent::Transaction if key == "id" => field(TransactionId, 0),
        Parent::Dd if key == "trace_id" => field(TraceId, 4),
        Parent::Dd if key == "span_id" => field(SpanId, 4),
        _ => Slot::Ignored,
    }
}

/// What one line's JSON said.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Probe {
    pub(super) level: Option<Level>,
    pub(super) ids: TraceIds,
    /// The rank of what is in `level`, `ids.trace_id`, `ids.span_id`, `ids.transaction_id`.
    ranks: [u8; 4],
    /// The message read, whose bytes an ID found in it shares.
    source: Text,
}

/// An ID longer than this is not one (W3C trace IDs are 32 hex digits, Datadog's 20 decimal ones).
const MAX_ID_BYTES: usize = 128;

impl Probe {
    /// A probe of `message`'s JSON.
    pub(super) fn of(message: &Text) -> Probe {
        Probe {
            source: message.clone(),
            ..Probe::default()
        }
    }

    /// Forgets what was found, to read the message again.
    pub(super) fn reset(&mut self) {
        *self = Probe::of(&self.source);
    }

    pub(super) fn string(&mut self, slot: Slot, value: &str) {
        let Slot::Field(target, rank) = slot else {
            return;
        };
        match target {
            Target::Level => {
                if self.better(0, rank) {
                    if let Some(level) = Level::normalize(value) {
                        self.level = Some(level);
                        self.ranks[0] = rank;
                    }
                }
            }
            Target::TraceId => self.id(1, rank, value),
            Target::SpanId => self.id(2, rank, value),
            Target::TransactionId => self.id(3, rank, value),
            Target::Traceparent => {
                if let Some((trace, span)) = traceparent(value) {
                    self.id(1, rank, trace);
                    self.id(2, rank, span);
                }
            }
        }
    }

    /// Numeric levels (pino, bunyan) and numeric IDs (Datadog's are 64-bit integers).
    pub(super) fn number(&mut self, slot: Slot, value: u64) {
        match slot {
            Slot::Field(Target::Level, rank) => {
                if let (true, Some(level)) = (self.better(0, rank), Level::from_number(value)) {
                    self.level = Some(level);
                    self.ranks[0] = rank;
                }
            }
            Slot::Field(Target::TraceId | Target::SpanId | Target::TransactionId, _) => {
                self.string(slot, itoa::Buffer::new().format(value));
            }
            _ => {}
        }
    }

    fn slot_value(&mut self, which: usize) -> &mut Option<Text> {
        match which {
            1 => &mut self.ids.trace_id,
            2 => &mut self.ids.span_id,
            _ => &mut self.ids.transaction_id,
        }
    }

    /// Whether a value of `rank` would replace what `which` holds.
    fn better(&mut self, which: usize, rank: u8) -> bool {
        let empty = match which {
            0 => self.level.is_none(),
            _ => self.slot_value(which).is_none(),
        };
        empty || rank < self.ranks[which]
    }

    fn id(&mut self, which: usize, rank: u8, value: &str) {
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_ID_BYTES || !self.better(which, rank) {
            return;
        }
        let id = match self.source.try_slice_ref(value) {
            Some(shared) => shared,
            None => Text::from(value.to_owned()),
        };
        *self.slot_value(which) = Some(id);
        self.ranks[which] = rank;
    }

    /// Reads a decoded tree, as the validating walk reads the text.
    pub(super) fn tree(&mut self, value: &Value) {
        self.object(Parent::Root, value);
    }

    fn object(&mut self, parent: Parent, value: &Value) {
        let Value::Object(members) = value else {
            return;
        };
        for (key, value) in members {
            match (classify(parent, key), value) {
                (Slot::Ignored, _) => {}
                (Slot::Object(inner), _) => self.object(inner, value),
                (slot, Value::String(s)) => self.string(slot, s),
                (slot, Value::Number(n)) => {
                    if let Some(n) = n.as_u64() {
                        self.number(slot, n);
                    }
                }
                _ => {}
            }
        }
    }

    /// Sets on the event what was found; a level the event has already stays.
    pub(super) fn apply(self, event: &mut Event) {
        if event.level.is_none() {
            event.level = self.level;
        }
        if !self.ids.is_empty() {
            event.trace = Some(Box::new(self.ids));
        }
    }
}

/// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01` -> (trace ID, parent span ID). The
/// all-zero IDs W3C declares invalid are no IDs.
fn traceparent(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.trim().split('-');
    let (_version, trace, span) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()) && s.bytes().any(|b| b != b'0')
    };
    (hex(trace, 32) && hex(span, 16)).then_some((trace, span))
}

/// The level a plain-text line states, when it states one where loggers put it: klog's
/// `E1206 10:00:00.000000` prefix, a leading upper-case `ERROR`, `WARN`, `WARNING`, `INFO`, `DEBUG`,
/// `TRACE` or `FATAL` word (also in brackets, `[ERROR]`), or logfmt's `level=` key.
pub(super) fn level_from_text(message: &str) -> Option<Level> {
    let text = message.trim_start();
    let bytes = text.as_bytes();
    if bytes
        .first()
        .is_some_and(|b| *b == b'{' || (*b == b'[' && bytes.get(1) == Some(&b'{')))
    {
        return None;
    }
    klog(bytes)
        .or_else(|| leading_word(text))
        .or_else(|| logfmt(text))
}

/// `Lmmdd hh:mm:ss.uuuuuu`: L one of I, W, E, F.
fn klog(b: &[u8]) -> Option<Level> {
    let level = match b.first()? {
        b'I' => "info",
        b'W' => "warning",
        b'E' => "error",
        b'F' => "fatal",
        _ => return None,
    };
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let shape = digits(1..5)
        && b.get(5) == Some(&b' ')
        && digits(6..8)
        && b.get(8) == Some(&b':')
        && digits(9..11)
        && b.get(11) == Some(&b':')
        && digits(12..14);
    shape.then_some(Level::Known(level))
}

fn leading_word(text: &str) -> Option<Level> {
    let text = text.strip_prefix('[').unwrap_or(text);
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_uppercase())
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    // A word, not the start of one: `INFORMATION` or `ERRORS` is not a level.
    if rest
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let level = match word {
        "ERROR" => "error",
        "WARN" => "warn",
        "WARNING" => "warning",
        "INFO" => "info",
        "DEBUG" => "debug",
        "TRACE" => "trace",
        "FATAL" => "fatal",
        _ => return None,
    };
    Some(Level::Known(level))
}

/// `… level=error …` at the start or after a space, the value up to the next space (quotes removed).
fn logfmt(text: &str) -> Option<Level> {
    // Built once: making a searcher costs more than searching a line with it.
    static LEVEL: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b"level="));
    let at = LEVEL
        .find_iter(text.as_bytes())
        .find(|&at| at == 0 || text.as_bytes()[at - 1] == b' ')?;
    let value = &text[at + "level=".len()..];
    let value = value.split(' ').next()?.trim_matches('"');
    Level::normalize(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn level(text: &str) -> Option<String> {
        level_from_text(text).map(|l| l.as_str().to_owned())
    }

    #[test]
    fn plain_text_levels() {
        let cases = [
            (
                "E1206 10:00:00.123456       1 controller.go:42] boom",
                Some("error"),
            ),
            ("W1206 10:00:00.123456 1 x.go:1] hm", Some("warning")),
            ("I1206 10:00:00.123456 1 x.go:1] ok", Some("info")),
            ("ERROR something failed", Some("error")),
            ("[WARN] disk at 91%", Some("warn")),
            ("INFO: started", Some("info")),
            ("DEBUG", Some("debug")),
            (
                "ts=2026-12-06T10:00:00Z level=warn msg=\"slow\"",
                Some("warn"),
            ),
            ("level=\"ERROR\" msg=x", Some("error")),
            ("INFORMATION follows", None),
            ("ERRORS: 0", None),
            ("Error: lowercase words are prose", None),
            ("GET /healthz 200", None),
            ("the sublevel=3 is not a level", None),
            ("{\"level\":\"error\"}", None),
            ("Illegal 1234 words", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(level(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn a_tree_gives_levels_and_ids_ecs_names_first() {
        let mut probe = Probe::default();
        probe.tree(&json!({
            "severity": "ERROR",
            "lvl": "debug",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "transaction": {"id": "tx-1"},
            "dd.trace_id": "ignored: traceparent ranks first",
        }));
        assert_eq!(probe.level, Some(Level::Known("error")));
        assert_eq!(
            probe.ids,
            TraceIds {
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
                span_id: Some("00f067aa0ba902b7".into()),
                transaction_id: Some("tx-1".into()),
            }
        );

        let mut probe = Probe::default();
        probe.tree(
            &json!({"log": {"level": "Warn"}, "dd": {"trace_id": 1234567890123u64,
                           "span_id": "42"}, "level": 50}),
        );
        assert_eq!(
            probe.level,
            Some(Level::Known("warn")),
            "log.level ranks first"
        );
        assert_eq!(probe.ids.trace_id.as_deref(), Some("1234567890123"));
        assert_eq!(probe.ids.span_id.as_deref(), Some("42"));

        let mut probe = Probe::default();
        probe.tree(&json!({"level": 30, "traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                           "other": {"level": "error"}}));
        assert_eq!(probe.level, Some(Level::Known("info")));
        assert!(probe.ids.is_empty());
    }
}
