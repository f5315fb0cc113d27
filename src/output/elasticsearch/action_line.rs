//! The bulk action line (`{"index":{"_index":"…"}}`) of each event, rendered once per time bucket.
//!
//! A batch holds minutes of log lines that almost all fall in the same day, so the index name, and with
//! it the whole action line, is the same from one event to the next. The line is cached with the bucket
//! (day, hour, minute or second, the finest unit the pattern's date uses) it was rendered for: the
//! per-event cost is one division and a comparison, and the pattern is rendered only when the bucket
//! changes. With deduplication on, the event's `_id` follows the cached part. In `setup.mode:
//! data_stream` the name is the file's data stream, so the line is cached with the file's origin.

use std::sync::Arc;

use crate::event::{DataStreams, Event, Origin};

use super::doc_id;
use super::index::{Granularity, IndexPattern, MissingField};

/// The bulk operation each document is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Replaces a document with the same ID; what a plain index takes.
    Index,
    /// Fails on an existing ID; the only operation a data stream accepts.
    Create,
}

impl BulkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Index => "index",
            BulkAction::Create => "create",
        }
    }
}

/// Where an event's index name comes from.
#[derive(Debug, Clone)]
enum Names {
    /// An index pattern, rendered from the event's time (and fields).
    Pattern(IndexPattern, Granularity),
    /// The data stream of the event's file: `logs-<dataset>-<namespace>`.
    DataStreams(DataStreams),
}

/// Writes action lines, remembering the last one.
#[derive(Debug, Clone)]
pub(super) struct ActionLines {
    names: Names,
    action: BulkAction,
    /// The bucket `line` was rendered for; `None` until the first render and for per-event patterns.
    bucket: Option<i64>,
    /// For data streams: the origin `line` was rendered for. Held, so its address is not reused by
    /// another origin while the line is cached.
    origin: Option<Arc<Origin>>,
    /// `{"<action>":{"_index":"<name>"`, without its end, which depends on `deduplicate`.
    line: Vec<u8>,
    name: String,
    /// Each document goes with the `_id` of its line (`doc_id`).
    deduplicate: bool,
}

impl ActionLines {
    pub(super) fn new(pattern: IndexPattern, action: BulkAction) -> ActionLines {
        let granularity = pattern.granularity();
        ActionLines::with(Names::Pattern(pattern, granularity), action)
    }

    /// Each event to its file's data stream, with `create`, the one operation data streams take.
    pub(super) fn data_streams(streams: DataStreams) -> ActionLines {
        ActionLines::with(Names::DataStreams(streams), BulkAction::Create)
    }

    fn with(names: Names, action: BulkAction) -> ActionLines {
        ActionLines {
            names,
            action,
            bucket: None,
            origin: None,
            line: Vec::new(),
            name: String::new(),
            deduplicate: false,
        }
    }

    /// Every document with its line's `_id`, and `create`, the action that refuses an ID already there.
    pub(super) fn deduplicated(mut self) -> ActionLines {
        self.deduplicate = true;
        self.action = BulkAction::Create;
        self.bucket = None;
        self.origin = None;
        self
    }

    /// Appends the event's action line, newline included. On error nothing is appended.
    pub(super) fn write(&mut self, event: &Event, out: &mut Vec<u8>) -> Result<(), MissingField> {
        let cached = match &self.names {
            Names::Pattern(pattern, granularity) => {
                let key = match granularity {
                    Granularity::Static => Some(0),
                    Granularity::Bucket(nanos) => {
                        Some(event.timestamp.as_nanos().div_euclid(*nanos))
                    }
                    Granularity::PerEvent => None,
                };
                if key.is_none() || key != self.bucket {
                    self.name.clear();
                    // On error the cached line and its bucket are left as they were, so they
                    // still agree.
                    pattern.render(event, &mut self.name)?;
                    self.bucket = key;
                    false
                } else {
                    true
                }
            }
            Names::DataStreams(streams) => {
                let same = self
                    .origin
                    .as_ref()
                    .is_some_and(|o| Arc::ptr_eq(o, &event.origin));
                if !same {
                    self.name.clear();
                    streams.write_name(&event.origin, &mut self.name);
                    self.origin = Some(Arc::clone(&event.origin));
                }
                same
            }
        };
        if !cached {
            self.line.clear();
            self.line.extend_from_slice(b"{\"");
            self.line.extend_from_slice(self.action.as_str().as_bytes());
            self.line.extend_from_slice(b"\":{\"_index\":");
            json_string(&mut self.line, &self.name);
        }
        out.extend_from_slice(&self.line);
        if self.deduplicate {
            out.extend_from_slice(b",\"_id\":\"");
            doc_id::write(event, out);
            out.push(b'"');
        }
        out.extend_from_slice(b"}}\n");
        Ok(())
    }
}

/// Appends `s` as a JSON string. Index names almost never need escaping (the pattern's literal parts
/// are checked at load), but a `%{[field]}` value can hold anything, so that case goes through
/// serde_json's escaping.
fn json_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(serde_json::Value::from(s).to_string().as_bytes());
    } else {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NANOS_PER_SECOND: i64 = 1_000_000_000;
    use crate::event::{Field, FieldValue, Origin, Text, Timestamp};

    fn event(nanos: i64) -> Event {
        Event::new(
            Origin::new("p".into(), Default::default()),
            Timestamp::from_nanos(nanos),
            Text::from("m"),
            0,
        )
    }

    fn lines(pattern: &str) -> ActionLines {
        ActionLines::new(IndexPattern::parse(pattern).unwrap(), BulkAction::Index)
    }

    #[test]
    fn granularity_follows_the_finest_date_letter() {
        let g = |p: &str| IndexPattern::parse(p).unwrap().granularity();
        assert_eq!(g("logs"), Granularity::Static);
        assert_eq!(
            g("l-%{+yyyy.MM}"),
            Granularity::Bucket(86_400 * NANOS_PER_SECOND)
        );
        assert_eq!(
            g("l-%{+yyyy.MM.dd}"),
            Granularity::Bucket(86_400 * NANOS_PER_SECOND)
        );
        assert_eq!(
            g("l-%{+yy}-%{+HH}"),
            Granularity::Bucket(3_600 * NANOS_PER_SECOND)
        );
        assert_eq!(g("l-%{+mm}"), Granularity::Bucket(60 * NANOS_PER_SECOND));
        assert_eq!(g("l-%{+ss}"), Granularity::Bucket(NANOS_PER_SECOND));
        assert_eq!(g("l-%{[app]}-%{+yyyy}"), Granularity::PerEvent);
    }

    #[test]
    fn cached_lines_equal_fresh_renders() {
        let patterns = [
            "l-%{+yyyy.MM.dd}",
            "l-%{+yyyy.MM.dd.HH}",
            "l-%{+mm.ss}",
            "logs",
        ];
        // Steps that cross seconds, minutes, hours, days and the epoch, in both directions.
        let mut nanos: i64 = -2 * 86_400 * NANOS_PER_SECOND;
        let steps = [
            999_999_999,
            1,
            59 * NANOS_PER_SECOND,
            3_599 * NANOS_PER_SECOND,
        ];
        for pattern in patterns {
            let mut cached = lines(pattern);
            for i in 0..400 {
                nanos += steps[i % steps.len()] * if i % 7 == 6 { -1 } else { 1 };
                let ev = event(nanos);
                let mut got = Vec::new();
                cached.write(&ev, &mut got).unwrap();
                let mut fresh = Vec::new();
                lines(pattern).write(&ev, &mut fresh).unwrap();
                assert_eq!(got, fresh, "{pattern} at {nanos}");
            }
        }
    }

    #[test]
    fn field_values_are_escaped_and_a_missing_field_writes_nothing() {
        let mut lines = ActionLines::new(
            IndexPattern::parse("l-%{[app]}").unwrap(),
            BulkAction::Create,
        );
        let mut ev = event(0);
        ev.fields.push(Field {
            path: "app".into(),
            value: FieldValue::Json(serde_json::json!("a\"b")),
        });
        let mut out = Vec::new();
        lines.write(&ev, &mut out).unwrap();
        assert_eq!(out, b"{\"create\":{\"_index\":\"l-a\\\"b\"}}\n");
        let err = lines.write(&event(0), &mut out).unwrap_err();
        assert_eq!(err.field, "app");
        assert_eq!(out, b"{\"create\":{\"_index\":\"l-a\\\"b\"}}\n");
    }

    #[test]
    fn data_streams_are_named_per_file_from_its_hints() {
        use crate::event::Hints;
        let mut lines =
            ActionLines::data_streams(DataStreams::new(&crate::config::DataStream::default()));
        let hinted = Origin::with_hints(
            "/shop.log".into(),
            Hints {
                dataset: Some("shop.orders".into()),
                namespace: Some("prod".into()),
                ..Hints::default()
            },
        );
        let plain = Origin::new("/other.log".into(), Default::default());
        let at = |origin: &Arc<Origin>| {
            Event::new(
                Arc::clone(origin),
                Timestamp::from_nanos(0),
                Text::from("m"),
                0,
            )
        };
        let mut out = Vec::new();
        for origin in [&hinted, &hinted, &plain, &hinted] {
            lines.write(&at(origin), &mut out).unwrap();
        }
        let expected = [
            "logs-shop.orders-prod",
            "logs-shop.orders-prod",
            "logs-kubernetes.container_logs-default",
            "logs-shop.orders-prod",
        ]
        .map(|name| format!("{{\"create\":{{\"_index\":\"{name}\"}}}}\n"))
        .concat();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        // Deduplicated, each line carries its own `_id` after the cached part.
        let mut lines = lines.deduplicated();
        let mut out = Vec::new();
        lines.write(&at(&plain), &mut out).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            line["create"]["_index"],
            "logs-kubernetes.container_logs-default"
        );
        assert!(line["create"]["_id"].is_string());
    }
}
