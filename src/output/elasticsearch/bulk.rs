//! Bulk request bodies: for each event an action line naming its index, then its document.
//!
//! The builder is kept for the life of the output. Uncompressed, each request is written into a
//! buffer a delivered one left behind (recycle.rs). With gzip it is compressed as it is written, a
//! piece at a time: a whole request's plain text (5 MiB and more) is never held, only the piece being
//! written and what the pieces before it compressed to.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::config::Condition;
use crate::event::{DataStreams, Encoder, Event};

pub use super::action_line::BulkAction;
use super::index::{IndexPattern, MissingField};
use super::recycle::BodyPool;
pub use super::request::{BulkRequest, ItemSpan};
use super::route::Routes;

/// The position of an item in the request being built, which is also its position in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRef {
    pub position: usize,
}

/// With gzip, the plain text is compressed each time this much of it is written. Small enough to stay
/// in the CPU's cache between being written and being compressed, large enough that deflate's
/// per-call cost is nothing: run_throughput's defaults held ~7 MiB less at their peak than with the
/// whole request kept until it was full.
const PIECE: usize = 256 * 1024;

#[derive(Debug)]
pub struct BulkBuilder {
    actions: Routes,
    encoder: Encoder,
    /// The request's plain text not compressed yet: all of it uncompressed, the last piece with gzip.
    body: Vec<u8>,
    /// With gzip, the pieces compressed so far, once the first was.
    stream: Option<GzEncoder<Vec<u8>>>,
    /// Plain bytes of this request already in `stream`.
    streamed: usize,
    compression_level: u32,
    items: Vec<ItemSpan>,
    /// Bodies of delivered requests, written into again.
    pool: BodyPool,
}

impl BulkBuilder {
    pub fn new(index: IndexPattern, action: BulkAction, encoder: Encoder) -> BulkBuilder {
        BulkBuilder {
            actions: Routes::new(index, action),
            encoder,
            body: Vec::new(),
            stream: None,
            streamed: 0,
            compression_level: 0,
            items: Vec::new(),
            pool: BodyPool::default(),
        }
    }

    /// Each event to its file's data stream, `logs-<dataset>-<namespace>`, with `create`: the
    /// encoder writes the same dataset and namespace into the document.
    pub fn data_streams(streams: DataStreams, encoder: Encoder) -> BulkBuilder {
        BulkBuilder {
            actions: Routes::data_streams(streams),
            encoder,
            body: Vec::new(),
            stream: None,
            streamed: 0,
            compression_level: 0,
            items: Vec::new(),
            pool: BodyPool::default(),
        }
    }

    /// Events matching a rule's condition go to its index pattern (`output.elasticsearch.indices`), the
    /// first match winning; the others to the pattern given to [`BulkBuilder::new`].
    pub fn routed(self, rules: Vec<(Option<Condition>, IndexPattern)>, action: BulkAction) -> Self {
        BulkBuilder {
            actions: self.actions.routed(rules, action),
            ..self
        }
    }

    /// Sends every document with `create` and its line's `_id`, so a line sent twice is indexed once
    /// (`output.elasticsearch.deduplicate`).
    pub fn deduplicated(self) -> BulkBuilder {
        BulkBuilder {
            actions: self.actions.deduplicated(),
            ..self
        }
    }

    /// Requests are gzip-compressed at `level` (0: not compressed; above 9 counts as 9), from the next
    /// one on: a request already being compressed keeps its level.
    pub fn set_compression(&mut self, level: u32) {
        self.compression_level = level.min(9);
    }

    /// Appends the event's action line and document line. When its index cannot be rendered nothing is
    /// appended and the error is returned, for the caller to dead-letter the event.
    pub fn push(&mut self, event: &Event) -> Result<ItemRef, MissingField> {
        let start = self.body.len();
        self.actions.write(event, &mut self.body)?;
        let document = self.body.len();
        self.encoder.encode(event, &mut self.body);
        keep_on_one_line(&mut self.body[document..]);
        self.body.push(b'\n');
        let position = self.items.len();
        self.items.push(ItemSpan {
            start: self.streamed + start,
            document: self.streamed + document,
            end: self.streamed + self.body.len(),
        });
        if self.body.len() >= PIECE && (self.compression_level > 0 || self.stream.is_some()) {
            self.compress_piece();
        }
        Ok(ItemRef { position })
    }

    /// Moves the plain text written so far into the request's gzip stream.
    fn compress_piece(&mut self) {
        let stream = self.stream.get_or_insert_with(|| {
            let mut into = self.pool.take().unwrap_or_default();
            into.clear();
            GzEncoder::new(into, Compression::new(self.compression_level))
        });
        stream.write_all(&self.body).expect(DEFLATE_INTO_MEMORY);
        self.streamed += self.body.len();
        self.body.clear();
    }

    /// Bytes of the uncompressed body so far.
    pub fn len_bytes(&self) -> usize {
        self.streamed + self.body.len()
    }

    /// Bytes of memory the request being built holds: its plain text not yet compressed, what the rest
    /// compressed to, and its items.
    pub fn held_bytes(&self) -> usize {
        let compressed = self.stream.as_ref().map_or(0, |s| s.get_ref().len());
        self.body.len() + compressed + self.items.capacity() * std::mem::size_of::<ItemSpan>()
    }

    pub fn items(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The request for everything pushed since the last `finish`, gzip-compressed at the level
    /// [`BulkBuilder::set_compression`] set (none by default). The builder is empty afterwards.
    pub fn finish(&mut self) -> BulkRequest {
        let items = std::mem::take(&mut self.items);
        if let Some(mut stream) = self.stream.take() {
            self.streamed = 0;
            stream.write_all(&self.body).expect(DEFLATE_INTO_MEMORY);
            self.body.clear();
            let body = stream.finish().expect(DEFLATE_INTO_MEMORY);
            return BulkRequest::gzipped(body, items, &self.pool);
        }
        if self.compression_level == 0 {
            // Uncompressed, the buffer is the body: handed over rather than copied. The next request
            // is written into a delivered one's buffer, its pages already touched (recycle.rs), or
            // into a fresh one as large. Not shrunk first: requests are about as large as each
            // other, and a shrunk buffer faults its tail in again when the next one grows it.
            let capacity = self.body.capacity();
            let next = self
                .pool
                .take()
                .unwrap_or_else(|| Vec::with_capacity(capacity));
            let body = std::mem::replace(&mut self.body, next);
            return BulkRequest::recycled(body, items, &self.pool);
        }
        // Smaller than a piece: compressed out of the buffer, which is kept for the next request.
        let request =
            BulkRequest::from_slice(&self.body, items, self.compression_level, &self.pool);
        self.body.clear();
        request
    }
}

/// Writing into a `Vec` cannot fail, and deflate fails only on a stream used wrongly, which flate2
/// rules out. Were it to happen, the pipeline's thread ends and the agent with it, its lines read again
/// from the registry when it restarts: nothing is lost, where going on would have sent a request
/// missing the pieces compressed so far.
const DEFLATE_INTO_MEMORY: &str = "deflate into memory does not fail";

/// NDJSON ends a document at the first newline. The encoder escapes newlines in strings, but a raw
/// JSON field is copied as it was found, and JSON allows newlines between tokens; outside strings a
/// raw newline can only be such whitespace, so a space means the same.
fn keep_on_one_line(document: &mut [u8]) {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\n', &document[from..]) {
        document[from + at] = b' ';
        from += at + 1;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use serde_json::{json, Value};

    use super::*;
    use crate::event::{Field, FieldValue, Origin, StaticFields, Text, Timestamp};

    fn encoder() -> Encoder {
        Encoder::new(&StaticFields {
            host: None,
            agent: json!({"type": "loglynk"}),
        })
    }

    fn builder(pattern: &str, action: BulkAction) -> BulkBuilder {
        BulkBuilder::new(IndexPattern::parse(pattern).unwrap(), action, encoder())
    }

    fn event(at: &str, message: &str) -> Event {
        Event::new(
            Origin::new("/a.log".into(), Default::default()),
            Timestamp::parse_rfc3339(at).unwrap(),
            Text::from(message.to_owned()),
            7,
        )
    }

    fn doc(at: &str, message: &str) -> String {
        format!(
            "{{\"@timestamp\":\"{at}\",\"message\":\"{message}\",\"log\":{{\"offset\":7,\
             \"file\":{{\"path\":\"/a.log\"}}}},\"input\":{{\"type\":\"container\"}},\
             \"agent\":{{\"type\":\"loglynk\"}},\"ecs\":{{\"version\":\"8.0.0\"}}}}"
        )
    }

    fn three_events() -> BulkRequest {
        let mut b = builder("funlynk-logs-%{+yyyy.MM.dd}", BulkAction::Index);
        for (i, at) in [
            "2026-11-24T23:59:59.9Z",
            "2026-11-25T00:00:00Z",
            "2026-11-25T01:00:00Z",
        ]
        .into_iter()
        .enumerate()
        {
            b.push(&event(at, &format!("m{i}"))).unwrap();
        }
        b.finish()
    }

    #[test]
    fn two_events_make_the_exact_body_with_a_final_newline() {
        let mut b = builder("funlynk-logs-%{+yyyy.MM.dd}", BulkAction::Index);
        assert!(b.is_empty());
        let first = b.push(&event("2026-11-24T23:59:59.9Z", "a")).unwrap();
        let second = b.push(&event("2026-11-25T00:00:00Z", "b")).unwrap();
        assert_eq!((first.position, second.position), (0, 1));
        let expected = format!(
            "{{\"index\":{{\"_index\":\"funlynk-logs-2026.11.24\"}}}}\n{}\n\
             {{\"index\":{{\"_index\":\"funlynk-logs-2026.11.25\"}}}}\n{}\n",
            doc("2026-11-24T23:59:59.900000000Z", "a"),
            doc("2026-11-25T00:00:00.000000000Z", "b"),
        );
        assert_eq!(b.items(), 2);
        assert_eq!(b.len_bytes(), expected.len());
        let request = b.finish();
        assert!(!request.gzip);
        assert_eq!(std::str::from_utf8(&request.body).unwrap(), expected);
        assert_eq!(request.body, request.uncompressed());
        assert!(b.is_empty() && b.len_bytes() == 0);
        assert_eq!(
            request.document(1).unwrap(),
            doc("2026-11-25T00:00:00.000000000Z", "b").as_bytes()
        );
        assert_eq!(
            request.index_name(0).as_deref(),
            Some("funlynk-logs-2026.11.24")
        );
        assert_eq!(request.item_bytes(2), None);
    }

    #[test]
    fn a_delivered_body_is_written_into_again() {
        let mut b = builder("logs", BulkAction::Index);
        b.push(&event("2026-01-01T00:00:00Z", "x")).unwrap();
        let first = b.finish();
        // The HTTP client still holds the first body: it cannot be reused yet.
        let sending = first.body.clone();
        drop(first);
        b.push(&event("2026-01-01T00:00:00Z", "y")).unwrap();
        let second = b.finish();
        let address = second.body.as_ptr();
        assert_eq!(b.pool.spares(), 0);
        drop(sending);
        drop(second);
        assert_eq!(
            b.pool.spares(),
            1,
            "the second body, no one else holding it"
        );
        b.push(&event("2026-01-01T00:00:00Z", "z")).unwrap();
        let third = b.finish();
        assert_eq!(b.pool.spares(), 0, "taken for the next request");
        b.push(&event("2026-01-01T00:00:00Z", "w")).unwrap();
        let fourth = b.finish();
        assert_eq!(fourth.body.as_ptr(), address, "the second body's buffer");
        assert_eq!(fourth.len(), 1);
        let at = "2026-01-01T00:00:00.000000000Z";
        assert_eq!(fourth.document(0).unwrap(), doc(at, "w").as_bytes());
        assert_eq!(third.document(0).unwrap(), doc(at, "z").as_bytes());
        assert_eq!(
            fourth.body.len(),
            third.body.len(),
            "nothing of the second left"
        );
    }

    #[test]
    fn a_delivered_compressed_body_is_compressed_into_again() {
        let mut gzipped = builder("logs", BulkAction::Index);
        gzipped.set_compression(1);
        let mut plain = builder("logs", BulkAction::Index);
        // Shrinking sizes: a reused buffer holding more than this request would show.
        for (round, count) in [(0, 300), (1, 100), (2, 10)] {
            for i in 0..count {
                let e = event("2026-01-01T00:00:00Z", &format!("round {round} line {i}"));
                gzipped.push(&e).unwrap();
                plain.push(&e).unwrap();
            }
            let request = gzipped.finish();
            let mut body = Vec::new();
            flate2::read::GzDecoder::new(&request.body[..])
                .read_to_end(&mut body)
                .unwrap();
            assert_eq!(body, *plain.finish().uncompressed(), "round {round}");
        }
    }

    #[test]
    fn a_large_request_is_compressed_a_piece_at_a_time() {
        let mut gzipped = builder("logs", BulkAction::Index);
        gzipped.set_compression(1);
        let mut plain = builder("logs", BulkAction::Index);
        let mut most_held = 0;
        let mut i = 0;
        while plain.len_bytes() < 4 * PIECE {
            // Varied text, so the stream's compressed part grows as the request does.
            let e = event(
                "2026-01-01T00:00:00Z",
                &format!("line {i} {}", i * 7919 % 104_729),
            );
            gzipped.push(&e).unwrap();
            plain.push(&e).unwrap();
            assert_eq!(gzipped.len_bytes(), plain.len_bytes());
            most_held = most_held.max(gzipped.body.len());
            i += 1;
        }
        assert!(gzipped.stream.is_some(), "compressed as it was written");
        assert!(
            most_held < PIECE + 1024,
            "held {most_held} plain bytes at most"
        );
        assert!(gzipped.held_bytes() < plain.held_bytes() / 2);
        let (gzipped, plain) = (gzipped.finish(), plain.finish());
        assert!(gzipped.gzip);
        assert_eq!(gzipped.uncompressed(), plain.uncompressed());
        assert_eq!(gzipped.len(), plain.len());
        for at in [0, plain.len() / 2, plain.len() - 1] {
            assert_eq!(gzipped.document(at), plain.document(at), "item {at}");
            assert_eq!(gzipped.item_bytes(at), plain.item_bytes(at), "item {at}");
        }
    }

    #[test]
    fn create_action_for_data_streams() {
        let mut b = builder("logs-app-default", BulkAction::Create);
        b.push(&event("2026-01-01T00:00:00Z", "x")).unwrap();
        let request = b.finish();
        assert!(request
            .uncompressed()
            .starts_with(b"{\"create\":{\"_index\":\"logs-app-default\"}}\n{"));
    }

    #[test]
    fn deduplicated_documents_go_with_create_and_the_id_of_their_line() {
        let mut b = builder("funlynk-logs-%{+yyyy.MM.dd}", BulkAction::Index).deduplicated();
        b.push(&event("2026-11-24T23:59:59.9Z", "a")).unwrap();
        b.push(&event("2026-11-25T00:00:00Z", "b")).unwrap();
        b.push(&event("2026-11-25T00:00:00Z", "b")).unwrap();
        let request = b.finish();
        let actions: Vec<Value> = request
            .uncompressed()
            .split(|&b| b == b'\n')
            .step_by(2)
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        let id = |i: usize| actions[i]["create"]["_id"].as_str().unwrap().to_owned();
        assert_eq!(actions.len(), 3);
        assert_eq!(
            actions[0]["create"]["_index"],
            json!("funlynk-logs-2026.11.24")
        );
        assert_eq!(id(0).len(), super::super::doc_id::ID_LEN);
        assert_ne!(id(0), id(1), "different lines");
        assert_eq!(id(1), id(2), "the same line read twice");
        // A retried part carries the IDs it had.
        let again = request.subset(&[1], 0);
        assert_eq!(again.item_bytes(0), request.item_bytes(1));
    }

    #[test]
    fn gzip_round_trips() {
        let mut b = builder("logs", BulkAction::Index);
        b.set_compression(1);
        for i in 0..100 {
            b.push(&event("2026-01-01T00:00:00Z", &format!("line {i}")))
                .unwrap();
        }
        let request = b.finish();
        assert!(request.gzip);
        assert!(request.body.len() < request.uncompressed().len());
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&request.body[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, *request.uncompressed());
        assert!(plain.ends_with(b"}\n"));
    }

    #[test]
    fn subset_and_split_keep_documents_byte_for_byte() {
        let request = three_events();
        let subset = request.subset(&[2, 0, 9], 0);
        assert_eq!(subset.len(), 2);
        assert_eq!(subset.item_bytes(0), request.item_bytes(2));
        assert_eq!(subset.item_bytes(1), request.item_bytes(0));
        assert_eq!(
            subset.uncompressed().len(),
            subset.items.last().unwrap().end,
            "no bytes between or after the items"
        );

        let (left, right) = request.split_in_two(0).unwrap();
        assert_eq!((left.len(), right.len()), (1, 2));
        let rejoined = [left.uncompressed().as_ref(), right.uncompressed().as_ref()].concat();
        assert_eq!(rejoined, *request.uncompressed());
        for (part, i, original) in [(&left, 0, 0), (&right, 0, 1), (&right, 1, 2)] {
            assert_eq!(part.document(i), request.document(original));
            assert_eq!(part.index_name(i), request.index_name(original));
        }
        let (gz_left, _) = request.split_in_two(6).unwrap();
        assert!(gz_left.gzip);
        assert_eq!(gz_left.uncompressed(), left.uncompressed());
        let single = request.subset(&[1], 0);
        assert!(single.split_in_two(0).is_none());
        assert!(request.subset(&[], 0).split_in_two(0).is_none());
    }

    #[test]
    fn an_event_without_its_index_field_is_not_appended() {
        let mut b = builder("logs-%{[app]}", BulkAction::Index);
        let mut with_app = event("2026-01-01T00:00:00Z", "x");
        with_app.fields.push(Field {
            path: "app".into(),
            value: FieldValue::Json(json!("Shop")),
        });
        b.push(&with_app).unwrap();
        let before = b.len_bytes();
        let err = b.push(&event("2026-01-01T00:00:00Z", "y")).unwrap_err();
        assert_eq!(err.field, "app");
        assert_eq!((b.items(), b.len_bytes()), (1, before));
        let request = b.finish();
        assert_eq!(request.index_name(0).as_deref(), Some("logs-shop"));
    }

    #[test]
    fn raw_json_with_newlines_stays_on_one_line() {
        let mut b = builder("logs", BulkAction::Index);
        let mut ev = event("2026-01-01T00:00:00Z", "x");
        ev.fields.push(Field {
            path: "json".into(),
            value: FieldValue::RawJson(Text::from("{\"a\":\n1}")),
        });
        b.push(&ev).unwrap();
        let request = b.finish();
        let lines: Vec<&[u8]> = request.uncompressed().split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 3, "action, document, and the empty rest");
        let doc: Value = serde_json::from_slice(lines[1]).unwrap();
        assert_eq!(doc["json"], json!({"a": 1}));
    }
}
