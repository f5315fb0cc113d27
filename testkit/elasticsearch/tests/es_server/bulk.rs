//! Bulk bodies: what is stored, what fails the request, what the transport layer checks.

use std::io::Write;
use std::time::Duration;

use serde_json::json;

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};

#[test]
fn a_valid_bulk_is_stored_with_one_item_per_action() {
    let server = EsServer::start();
    let body = "{\"index\":{\"_index\":\"logs-a\"}}\n{\"message\":\"one\",\"n\":1}\n\
                {\"create\":{}}\n{\"message\":\"two\"}\n\
                {\"index\":{\"_index\":\"logs-a\",\"_id\":\"fixed\"}}\n{\"message\":\"three\"}\n";
    let reply = bulk_to(&server, "/logs-b/_bulk", body);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("X-Elastic-Product"), ["Elasticsearch"]);
    let answer = reply.json();
    assert_eq!(answer["errors"], false);
    assert!(answer["took"].is_u64());
    let listed = answer["items"].as_array().expect("items");
    assert_eq!(listed.len(), 3);
    let first = &listed[0]["index"];
    assert_eq!(first["_index"], "logs-a");
    assert_eq!(first["_id"].as_str().map(str::len), Some(20));
    assert_eq!(
        (first["_version"].clone(), first["result"].clone()),
        (json!(1), json!("created"))
    );
    assert_eq!(
        first["_shards"],
        json!({"total": 2, "successful": 1, "failed": 0})
    );
    assert_eq!(
        (first["_seq_no"].clone(), first["_primary_term"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(first["status"], 201);
    assert_eq!(listed[1]["create"]["_index"], "logs-b");
    assert_eq!(listed[2]["index"]["_id"], "fixed");
    assert_eq!(listed[2]["index"]["_seq_no"], 1);
    assert_eq!(
        server.documents("logs-a"),
        [
            json!({"message": "one", "n": 1}),
            json!({"message": "three"})
        ]
    );
    assert_eq!(server.documents("logs-b"), [json!({"message": "two"})]);
    assert_eq!(server.indices(), ["logs-a", "logs-b"]);
    assert_eq!(server.all_documents().len(), 3);
    assert_eq!(
        server.map_documents(|index, doc| doc["n"].as_u64().map(|n| (index.to_owned(), n))),
        [("logs-a".to_owned(), 1)]
    );
    let again = bulk(
        &server,
        "{\"index\":{\"_index\":\"logs-a\",\"_id\":\"fixed\"}}\n{\"message\":\"3\"}\n",
    );
    assert_eq!(again.json()["items"][0]["index"]["result"], "updated");
    assert_eq!(again.json()["items"][0]["index"]["_version"], 2);
    let log = server.requests();
    assert_eq!(
        (log.count("/logs-b/_bulk"), log.count_status("/_bulk", 200)),
        (1, 1)
    );
    assert_eq!(log.bulk()[0].items, Some(3));
}

#[test]
fn malformed_bodies_fail_the_whole_request_with_elasticsearch_errors() {
    let server = EsServer::start();
    let cases: &[(&str, &str, &str)] = &[
        ("{\"index\":{\"_index\":\"a\"}}\n{\"m\":1}", "illegal_argument_exception",
         "The bulk request must be terminated by a newline [\\n]"),
        ("{\"index\":{\"_index\":\"a\"}}\n", "action_request_validation_exception",
         "Validation Failed: 1: source is missing;"),
        ("{\"index\":{}}\n{\"m\":1}\n", "action_request_validation_exception",
         "Validation Failed: 1: index is missing;"),
        ("{\"upsert\":{\"_index\":\"a\"}}\n{}\n", "illegal_argument_exception",
         "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]"),
        ("[1]\n", "illegal_argument_exception",
         "Malformed action/metadata line [1], expected START_OBJECT but found [START_ARRAY]"),
        ("{\"index\":{\"_index\":\"a\",\"_type\":\"doc\"}}\n{}\n", "illegal_argument_exception",
         "Action/metadata line [1] contains an unknown parameter [_type]"),
        ("{\"index\":{\"_index\":\"a\"}\n{}\n", "x_content_parse_exception", "[1:"),
        ("\n\n", "action_request_validation_exception", "Validation Failed: 1: no requests added;"),
    ];
    for (body, kind, reason) in cases {
        let reply = bulk(&server, body);
        assert_eq!(reply.status, 400, "{body:?}");
        assert_eq!(reply.json()["status"], 400);
        assert_eq!(
            reply.json()["error"]["root_cause"][0]["type"],
            *kind,
            "{body:?}"
        );
        assert_eq!(error_type(&reply), *kind, "{body:?}");
        assert!(
            error_reason(&reply).starts_with(reason),
            "{body:?}: {}",
            error_reason(&reply)
        );
    }
    let empty = bulk(&server, "");
    assert_eq!(
        (empty.status, error_type(&empty)),
        (400, "parse_exception".to_string())
    );
    assert!(server.all_documents().is_empty());
    // A document line that is not valid JSON fails only its own item, as in Elasticsearch.
    let reply = bulk(
        &server,
        "{\"index\":{\"_index\":\"a\"}}\n{\"m\":\n{\"index\":{\"_index\":\"a\"}}\n[1]\n",
    );
    let results = items(&reply);
    assert_eq!(results.len(), 2);
    assert!(results
        .iter()
        .all(|(s, t, _)| *s == 400 && t == "document_parsing_exception"));
}

#[test]
fn content_type_and_encoding_are_checked() {
    let server = EsServer::start();
    let body = b"{\"index\":{\"_index\":\"a\"}}\n{\"m\":1}\n";
    let plain = send(
        server.addr(),
        "POST",
        "/_bulk",
        &[("Content-Type", "text/plain")],
        body,
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(plain.status, 406);
    assert_eq!(
        plain.json(),
        json!({"error": "Content-Type header [text/plain] is not supported", "status": 406})
    );
    let missing = send(
        server.addr(),
        "POST",
        "/_bulk",
        &[],
        body,
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(
        missing.json(),
        json!({"error": "Content-Type header is missing", "status": 406})
    );
    let versioned = [
        (
            "Content-Type",
            "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
        ),
        (
            "Accept",
            "application/vnd.elasticsearch+json; compatible-with=8",
        ),
    ];
    let reply = send(
        server.addr(),
        "PUT",
        "/_bulk",
        &versioned,
        body,
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(reply.status, 200);
    assert!(reply.header("Content-Type")[0].contains("compatible-with=8"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).expect("gzip");
    let compressed = gz.finish().expect("gzip");
    let headers = [NDJSON, ("Content-Encoding", "gzip")];
    let reply = send(
        server.addr(),
        "POST",
        "/_bulk",
        &headers,
        &compressed,
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(
        (reply.status, reply.json()["errors"].clone()),
        (200, json!(false))
    );
    assert_eq!(server.documents("a").len(), 2);
    let log = server.requests();
    assert!(log
        .bulk()
        .last()
        .is_some_and(|r| r.compressed && r.body == body && r.wire_len == compressed.len()));
}

#[test]
fn bodies_over_max_content_length_get_413() {
    let server = EsServer::start_with(EsOptions {
        max_content_length: 1024,
        ..EsOptions::default()
    });
    let big = format!(
        "{{\"index\":{{\"_index\":\"a\"}}}}\n{{\"m\":\"{}\"}}\n",
        "x".repeat(4096)
    );
    assert_eq!(bulk(&server, &big).status, 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(big.as_bytes()).expect("gzip");
    let small = gz.finish().expect("gzip");
    assert!(small.len() < 1024);
    let headers = [NDJSON, ("Content-Encoding", "gzip")];
    let reply = send(
        server.addr(),
        "POST",
        "/_bulk",
        &headers,
        &small,
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(reply.status, 413, "the limit applies after decompression");
}

/// Mangled bodies always get an answer (a panic in the server would drop the connection instead).
#[test]
fn every_mangled_body_gets_an_answer() {
    let server = EsServer::start();
    let valid = "{\"index\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"a\":{\"b\":[1,\"x\\u00e9\\ud83d\\ude00\"]},\"c\":null}\n\
                 {\"update\":{\"_index\":\"r\",\"_id\":\"1\"}}\n{\"doc\":{\"a\":{\"b\":2}}}\n\
                 {\"delete\":{\"_index\":\"r\",\"_id\":\"1\"}}\n";
    let mut state = 0x1234_5678_u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let deep = format!(
        "{{\"index\":{{\"_index\":\"r\"}}}}\n{}{}\n",
        "[".repeat(1200),
        "]".repeat(1200)
    );
    let mut bodies = vec![valid.as_bytes().to_vec(), deep.into_bytes()];
    for _ in 0..300 {
        let mut body = valid.as_bytes().to_vec();
        for _ in 0..1 + next(4) {
            if body.is_empty() {
                break;
            }
            let at = next(body.len());
            match next(3) {
                0 => body[at] = b"{}[]\":,\\\n\xff\x00"[next(11)],
                1 => body.truncate(at),
                _ => body.insert(at, b"\"{[\n"[next(4)]),
            }
        }
        bodies.push(body);
    }
    for body in bodies {
        let reply = send(
            server.addr(),
            "POST",
            "/_bulk",
            &[NDJSON],
            &body,
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("no answer ({e}) to {:?}", String::from_utf8_lossy(&body)));
        assert!(
            matches!(reply.status, 200 | 400),
            "{}: {:?}",
            reply.status,
            String::from_utf8_lossy(&body)
        );
        reply.json();
    }
}
