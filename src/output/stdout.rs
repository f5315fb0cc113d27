//! The debug mode's output: one JSON document per line.

use std::io::{self, Write};
use std::sync::Arc;

use super::{Output, OutputError};
use crate::batch::Batch;
use crate::event::{Encoder, Event};
use crate::telemetry::Telemetry;

/// Writes documents exactly as the Elasticsearch output would index them, one per line, flushing after
/// each batch so a reader of the pipe sees events as they come. A batch counts as delivered once flushed.
pub struct StdoutOutput<W: Write> {
    writer: W,
    encoder: Encoder,
    buf: Vec<u8>,
    telemetry: Arc<Telemetry>,
}

impl<W: Write> StdoutOutput<W> {
    pub fn new(writer: W, encoder: Encoder, telemetry: Arc<Telemetry>) -> StdoutOutput<W> {
        StdoutOutput {
            writer,
            encoder,
            buf: Vec::with_capacity(1024 * 1024),
            telemetry,
        }
    }

    pub fn write_batch(&mut self, events: &[Event]) -> io::Result<()> {
        self.buf.clear();
        for event in events {
            self.encoder.encode(event, &mut self.buf);
            self.buf.push(b'\n');
        }
        self.writer.write_all(&self.buf)?;
        self.writer.flush()
    }
}

impl<W: Write> Output for StdoutOutput<W> {
    async fn send(&mut self, mut batch: Batch) -> Result<(), OutputError> {
        self.write_batch(&batch.events)
            .map_err(OutputError::from_write)?;
        self.telemetry.events_shipped(batch.events.len() as u64);
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
    use crate::event::{Origin, StaticFields, Text, Timestamp};

    #[test]
    fn one_document_per_line() {
        let origin = Origin::new("a.log".into(), Default::default());
        let events: Vec<Event> = (0..3)
            .map(|i| {
                Event::new(
                    origin.clone(),
                    Timestamp::from_nanos(i),
                    Text::from("m\nx"),
                    0,
                )
            })
            .collect();
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: serde_json::json!({}),
        });
        let mut out = StdoutOutput::new(Vec::new(), encoder, Arc::default());
        out.write_batch(&events).unwrap();
        let text = String::from_utf8(out.writer).unwrap();
        assert_eq!(
            text.lines().count(),
            3,
            "a newline in a message stays escaped"
        );
        for line in text.lines() {
            let doc: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(doc["message"], "m\nx");
        }
    }
}
