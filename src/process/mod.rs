//! Processors: what is done to each event between parsing and encoding, as Filebeat's processors did.

mod decode_json;
mod drop_own;
mod log_context;

use crate::config::{DecodeJsonFields, DropOwnLogs};
use crate::event::Event;
/// One reason list for the whole agent: what a processor drops is counted in the same ledger as what
/// an output loses.
pub use crate::telemetry::DropReason;

use decode_json::DecodeJson;
use drop_own::DropOwn;

/// Whether an event goes on to the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Keep,
    Drop(DropReason),
}

/// What a batch went through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub dropped_own_logs: u64,
    /// Left out by a container's include_lines or exclude_lines hint.
    pub dropped_excluded_lines: u64,
    /// Fields that looked like JSON but did not decode, counted with or without add_error_key.
    pub decode_errors: u64,
}

/// The configured processors, in the order they run. Built once; `&self` so workers can share it.
#[derive(Debug, Clone)]
pub struct Processors {
    drop_own: DropOwn,
    decode_json: DecodeJson,
}

impl Processors {
    /// Built from their sections of the configuration (`decode_json_fields`, `drop_own_logs`).
    pub fn new(decode: &DecodeJsonFields, drop_own: &DropOwnLogs) -> Processors {
        Processors {
            drop_own: DropOwn::new(drop_own),
            decode_json: DecodeJson::new(decode),
        }
    }

    /// Runs drop first (no point decoding what is dropped), then decode_json_fields.
    pub fn run(&self, event: &mut Event) -> Verdict {
        self.process(event).0
    }

    /// Runs `run` over a batch, removing dropped events in place and counting drops.
    pub fn run_batch(&self, events: &mut Vec<Event>) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        events.retain_mut(|event| {
            let (verdict, decode_errors) = self.process(event);
            outcome.decode_errors += decode_errors;
            match verdict {
                Verdict::Keep => true,
                Verdict::Drop(DropReason::ExcludedLines) => {
                    outcome.dropped_excluded_lines += 1;
                    false
                }
                Verdict::Drop(_) => {
                    outcome.dropped_own_logs += 1;
                    false
                }
            }
        });
        outcome
    }

    /// The verdict, and how many fields failed to decode. `log.level` comes from the decoded
    /// message when it has one, else from the text.
    fn process(&self, event: &mut Event) -> (Verdict, u64) {
        if self.drop_own.matches(event) {
            return (Verdict::Drop(DropReason::OwnLogs), 0);
        }
        if let Some(hints) = event.origin.hints() {
            if hints.filters_lines() && !hints.keeps_line(event.message.as_str()) {
                return (Verdict::Drop(DropReason::ExcludedLines), 0);
            }
        }
        let errors = self.decode_json.run(event);
        if event.level.is_none() {
            event.level = log_context::level_from_text(event.message.as_str());
        }
        (Verdict::Keep, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FieldValue, Origin, PathMetadata, Text, Timestamp};

    fn processors() -> Processors {
        Processors::new(
            &DecodeJsonFields {
                enabled: true,
                fields: vec!["message".into()],
                target: "json".into(),
                overwrite_keys: false,
                max_depth: 1,
                add_error_key: true,
                process_array: false,
            },
            &DropOwnLogs {
                enabled: true,
                containers: vec!["loglynk".into()],
            },
        )
    }

    fn event(container: &str, message: &'static str) -> Event {
        let metadata = PathMetadata {
            container_name: Some(container.into()),
            ..PathMetadata::default()
        };
        Event::new(
            Origin::new("/x.log".into(), metadata),
            Timestamp::from_nanos(0),
            Text::from(message),
            0,
        )
    }

    #[test]
    fn dropped_events_are_not_decoded() {
        let mut own = event("loglynk", "{\"a\":1}");
        assert_eq!(
            processors().run(&mut own),
            Verdict::Drop(DropReason::OwnLogs)
        );
        assert!(own.fields.is_empty());
        assert_eq!(DropReason::OwnLogs.as_str(), "own_logs");

        let mut app = event("app", "{\"a\":1}");
        assert_eq!(processors().run(&mut app), Verdict::Keep);
        assert!(matches!(app.fields[0].value, FieldValue::RawJson(_)));
    }

    #[test]
    fn run_batch_removes_dropped_events_and_counts() {
        let mut batch = vec![
            event("app", "first"),
            event("loglynk", "own"),
            event("app", "{\"broken\":"),
            event("loglynk", "{\"broken\":"),
            event("app", "{\"ok\":true}"),
        ];
        let outcome = processors().run_batch(&mut batch);
        assert_eq!(
            outcome,
            BatchOutcome {
                dropped_own_logs: 2,
                dropped_excluded_lines: 0,
                decode_errors: 1,
            }
        );
        let messages: Vec<&str> = batch.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["first", "{\"broken\":", "{\"ok\":true}"]);
        assert!(batch[1].error.is_some());
        assert_eq!(batch[2].fields.len(), 1);
    }

    #[test]
    fn level_and_trace_ids_from_the_json_else_the_text() {
        let mut json = event(
            "app",
            r#"{"level":"WARN","trace_id":"abc","msg":"x","traceparent":"bad"}"#,
        );
        processors().run(&mut json);
        assert_eq!(json.level.as_ref().map(|l| l.as_str()), Some("warn"));
        let trace = json.trace.as_deref().expect("trace ids");
        assert_eq!(trace.trace_id.as_deref(), Some("abc"));
        assert_eq!(trace.span_id, None);

        // Duplicate keys take the tree path, which reads them the same way.
        let mut dup = event(
            "app",
            r#"{"a":1,"a":2,"severity":"ERROR","span":{"id":"s"}}"#,
        );
        processors().run(&mut dup);
        assert_eq!(dup.level.as_ref().map(|l| l.as_str()), Some("error"));
        assert_eq!(dup.trace.as_deref().unwrap().span_id.as_deref(), Some("s"));

        let mut text = event("app", "E1206 10:00:00.000000 1 main.go:1] failed");
        processors().run(&mut text);
        assert_eq!(text.level.as_ref().map(|l| l.as_str()), Some("error"));
        assert!(text.trace.is_none());

        let mut broken = event("app", r#"{"level":"error","#);
        processors().run(&mut broken);
        assert_eq!(
            broken.level, None,
            "nothing read from JSON that did not decode"
        );

        let mut plain = event("app", "nothing to see");
        processors().run(&mut plain);
        assert_eq!(plain.level, None);
    }

    fn hinted(message: &'static str, annotations: &[(&str, &str)]) -> Event {
        use crate::event::{Hints, JsonHint};
        let mut hints = Hints::default();
        for (name, value) in annotations {
            match *name {
                "exclude_lines" => {
                    hints.exclude_lines = Some(regex::RegexSet::new([*value]).unwrap())
                }
                "include_lines" => {
                    hints.include_lines = Some(regex::RegexSet::new([*value]).unwrap())
                }
                "json.enabled" => {
                    hints.json = JsonHint {
                        enabled: Some(value.parse().unwrap()),
                        ..JsonHint::default()
                    }
                }
                "json.target" => {
                    hints.json = JsonHint {
                        target: Some((*value).into()),
                        ..JsonHint::default()
                    }
                }
                _ => unreachable!(),
            }
        }
        let origin = Origin::with_hints("/x.log".into(), hints);
        Event::new(origin, Timestamp::from_nanos(0), Text::from(message), 0)
    }

    #[test]
    fn a_containers_hints_filter_its_lines_and_steer_decoding() {
        let mut batch = vec![
            hinted("DEBUG noisy", &[("exclude_lines", "^DEBUG")]),
            hinted("INFO kept", &[("exclude_lines", "^DEBUG")]),
            hinted("INFO not included", &[("include_lines", "^ERROR")]),
            hinted("ERROR included", &[("include_lines", "^ERROR")]),
            event("app", "DEBUG without hints"),
        ];
        let outcome = processors().run_batch(&mut batch);
        assert_eq!(outcome.dropped_excluded_lines, 2);
        assert_eq!(outcome.dropped_own_logs, 0);
        let kept: Vec<&str> = batch.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(kept, ["INFO kept", "ERROR included", "DEBUG without hints"]);

        let mut off = hinted(r#"{"level":"error"}"#, &[("json.enabled", "false")]);
        processors().run(&mut off);
        assert!(off.fields.is_empty(), "decoding turned off");
        assert_eq!(off.level, None);

        let mut retargeted = hinted(r#"{"a":1}"#, &[("json.target", "app")]);
        processors().run(&mut retargeted);
        assert_eq!(&*retargeted.fields[0].path, "app");

        let mut root = hinted(r#"{"a":1}"#, &[("json.target", "")]);
        processors().run(&mut root);
        assert_eq!(&*root.fields[0].path, "a", "merged into the root");
    }

    /// Config checks decode_json_fields.target against its own copy of the list (config imports no
    /// stage); the copy must stay the event's list.
    #[test]
    fn config_knows_the_fields_the_event_owns() {
        assert_eq!(
            crate::config::TYPED_TOP_LEVEL_FIELDS,
            crate::event::field::TYPED_TOP_LEVEL
        );
    }
}
