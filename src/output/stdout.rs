//! The debug mode's output: one JSON document per line.

use std::io::{self, Write};
use std::sync::Arc;

use super::elasticsearch::bulk::BulkBuilder;
use super::{Output, OutputError};
use crate::batch::Batch;
use crate::event::{Encoder, Event};
use crate::telemetry::Telemetry;

/// Writes documents exactly as the Elasticsearch output would index them, one per line, flushing after
/// each batch so a reader of the pipe sees events as they come. A batch counts as delivered once flushed.
pub struct StdoutOutput<W: Write> {
    writer: W,
    printed: Printed,
    telemetry: Arc<Telemetry>,
}

enum Printed {
    /// One document a line.
    Documents { encoder: Encoder, buf: Vec<u8> },
    /// `tail --bulk`: the Elasticsearch output's own bulk bodies, each document after its action line.
    Bulk(Box<BulkBuilder>),
}

impl<W: Write> StdoutOutput<W> {
    pub fn new(writer: W, encoder: Encoder, telemetry: Arc<Telemetry>) -> StdoutOutput<W> {
        StdoutOutput {
            writer,
            printed: Printed::Documents {
                encoder,
                buf: Vec::with_capacity(1024 * 1024),
            },
            telemetry,
        }
    }

    /// Prints what `run` would send (uncompressed): each event's action line, naming its index or data
    /// stream (and `_id`, deduplicating), then its document, as `builder` writes them for the output.
    pub fn bulk(writer: W, builder: BulkBuilder, telemetry: Arc<Telemetry>) -> StdoutOutput<W> {
        StdoutOutput {
            writer,
            printed: Printed::Bulk(Box::new(builder)),
            telemetry,
        }
    }

    /// Prints the events' documents; returns how many were printed (an event `--bulk` cannot route is
    /// said on stderr instead, and counted dead-lettered, never shipped).
    pub fn write_batch(&mut self, events: &[Event]) -> io::Result<usize> {
        let (encoder, buf) = match &mut self.printed {
            Printed::Documents { encoder, buf } => (encoder, buf),
            Printed::Bulk(builder) => {
                let mut printed = 0;
                for event in events {
                    if let Err(missing) = builder.push(event).map(|_| printed += 1) {
                        // What the output dead-letters before sending: said, and not printed.
                        self.telemetry.document_dead_lettered(
                            "",
                            400,
                            "index_pattern_field_missing",
                            &missing.to_string(),
                        );
                    }
                }
                let request = builder.finish();
                self.writer.write_all(&request.body)?;
                return self.writer.flush().map(|()| printed);
            }
        };
        buf.clear();
        for event in events {
            encoder.encode(event, buf);
            buf.push(b'\n');
        }
        self.writer.write_all(buf)?;
        self.writer.flush().map(|()| events.len())
    }
}

impl<W: Write> Output for StdoutOutput<W> {
    async fn send(&mut self, mut batch: Batch) -> Result<(), OutputError> {
        let printed = self
            .write_batch(&batch.events)
            .map_err(OutputError::from_write)?;
        self.telemetry.events_shipped(printed as u64);
        batch.acknowledge();
        Ok(())
    }

    async fn close(mut self) -> Result<(), OutputError> {
        self.writer.flush().map_err(OutputError::from_write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Field, FieldValue, Origin, StaticFields, Text, Timestamp};

    #[test]
    fn one_document_per_line() {
        let origin = Origin::new("a.log".into(), Default::default());
        let events: Vec<Event> = (0..3)
            .map(|i| {
                let mut event = Event::new(
                    origin.clone(),
                    Timestamp::from_nanos(i),
                    Text::from("m\nx"),
                    0,
                );
                // Decoded JSON is copied as it was written, newlines between its tokens included.
                event.fields.push(Field {
                    path: "json".into(),
                    value: FieldValue::RawJson(Text::from("{\"a\":\n1}")),
                });
                event
            })
            .collect();
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: serde_json::json!({}),
        });
        let mut out = StdoutOutput::new(Vec::new(), encoder, Arc::default());
        assert_eq!(out.write_batch(&events).unwrap(), 3);
        let text = String::from_utf8(out.writer).unwrap();
        assert_eq!(
            text.lines().count(),
            3,
            "a newline in a message stays escaped, one in raw JSON becomes a space"
        );
        for line in text.lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["message"], "m\nx");
            assert_eq!(doc["json"]["a"], 1);
        }
    }

    #[test]
    fn bulk_prints_each_document_after_the_action_line_run_sends() {
        use crate::config::{Config, IndexMode};
        use crate::event::DataStreams;
        use crate::output::elasticsearch::bulk_builder;
        let mut config = Config::default();
        config.setup.mode = IndexMode::DataStream;
        config.output.elasticsearch.deduplicate = false;
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: serde_json::json!({}),
        })
        .with_data_streams(DataStreams::new(&config.data_stream));
        let builder =
            bulk_builder(&config.output.elasticsearch, &config.setup, encoder.clone()).unwrap();
        let origin = Origin::new("a.log".into(), Default::default());
        let events: Vec<Event> = (0..2)
            .map(|i| Event::new(origin.clone(), Timestamp::from_nanos(i), Text::from("m"), 0))
            .collect();
        let mut out = StdoutOutput::bulk(Vec::new(), builder, Arc::default());
        assert_eq!(out.write_batch(&events).unwrap(), 2);
        let text = String::from_utf8(out.writer).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        let action = r#"{"create":{"_index":"logs-kubernetes.container_logs-default"}}"#;
        assert_eq!((lines[0], lines[2]), (action, action));
        // The document is the one `tail` prints without --bulk.
        let mut plain = Vec::new();
        encoder.encode(&events[0], &mut plain);
        assert_eq!(lines[1].as_bytes(), plain.as_slice());
    }

    #[test]
    fn bulk_leaves_out_and_does_not_count_shipped_what_it_cannot_route() {
        use crate::config::Config;
        use crate::output::elasticsearch::bulk_builder;
        let mut config = Config::default();
        config.output.elasticsearch.index = "funlynk-logs-%{[json.team]}-%{+yyyy.MM.dd}".into();
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: serde_json::json!({}),
        });
        let builder = bulk_builder(&config.output.elasticsearch, &config.setup, encoder).unwrap();
        let origin = Origin::new("a.log".into(), Default::default());
        let event = Event::new(origin, Timestamp::from_nanos(0), Text::from("m"), 0);
        let telemetry = Arc::new(Telemetry::default());
        let mut out = StdoutOutput::bulk(Vec::new(), builder, Arc::clone(&telemetry));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(out.send(Batch::new(vec![event], None)))
            .unwrap();
        assert!(out.writer.is_empty(), "nothing printed for it");
        let counts = telemetry.counts();
        assert_eq!((counts.shipped, counts.dead_lettered), (0, 1));
    }
}
