//! The bulk builder's tests, apart so that bulk.rs, under 400 lines, holds the building alone.
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
fn a_reused_buffer_counts_what_was_written_into_it_before() {
    let mut b = builder("logs", BulkAction::Index);
    for i in 0..200 {
        b.push(&event("2026-01-01T00:00:00Z", &format!("line {i}")))
            .unwrap();
    }
    let large = b.finish();
    let large_bytes = large.body.len();
    assert!(large.held_bytes() >= large_bytes);
    drop(large);
    assert_eq!(b.pool.spares(), 1);
    let small_event = event("2026-01-01T00:00:00Z", "one");
    b.push(&small_event).unwrap();
    let into_fresh = b.finish();
    assert!(into_fresh.held_bytes() < large_bytes / 10, "a fresh buffer");
    assert_eq!(
        b.pool.spares(),
        0,
        "the large body taken for the next request"
    );
    b.push(&small_event).unwrap();
    // The buffer is the large request's: cleared, its pages still held.
    assert!(
        b.held_bytes() >= large_bytes,
        "{} held while building into a buffer of {large_bytes} written bytes",
        b.held_bytes()
    );
    let small = b.finish();
    assert!(small.body.len() < large_bytes / 100);
    assert!(
        small.held_bytes() >= large_bytes,
        "the request keeps counting them"
    );
    drop(small);
    // A buffer freshly allocated counts only what is written.
    let mut fresh = builder("logs", BulkAction::Index);
    fresh.push(&small_event).unwrap();
    assert!(fresh.held_bytes() < large_bytes / 10);
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
    // Two rounds: the second is compressed into the first's delivered body (recycle.rs). Now and then
    // an event cannot be routed, which must leave nothing behind in the stream.
    let mut gzipped = builder("logs-%{[app]}", BulkAction::Index);
    gzipped.set_compression(1);
    let mut plain = builder("logs-%{[app]}", BulkAction::Index);
    for round in 0..2 {
        let mut most_held = 0;
        let mut i = 0;
        while plain.len_bytes() < 3 * PIECE {
            // Varied text, so the stream's compressed part grows as the request does.
            let text = format!("round {round} line {i} {}", i * 7919 % 104_729);
            let mut e = event("2026-01-01T00:00:00Z", &text);
            if i % 97 != 0 {
                e.fields.push(Field {
                    path: "app".into(),
                    value: FieldValue::Json(json!("shop")),
                });
            }
            assert_eq!(gzipped.push(&e).is_ok(), plain.push(&e).is_ok());
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
        let (compressed, uncompressed) = (gzipped.finish(), plain.finish());
        assert!(compressed.gzip);
        assert_eq!(compressed.uncompressed(), uncompressed.uncompressed());
        assert_eq!(compressed.len(), uncompressed.len());
        for at in [0, uncompressed.len() / 2, uncompressed.len() - 1] {
            assert_eq!(
                compressed.document(at),
                uncompressed.document(at),
                "item {at}"
            );
            assert_eq!(
                compressed.item_bytes(at),
                uncompressed.item_bytes(at),
                "item {at}"
            );
        }
        drop(compressed);
        assert_eq!(
            gzipped.pool.spares(),
            1,
            "round {round}: the body given back"
        );
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
