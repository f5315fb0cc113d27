use proptest::prelude::*;
use serde_json::json;

use super::*;

const MIXED: &str = r#"{"took":30,"errors":true,"items":[
  {"index":{"_index":"x","_id":"a1","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
  {"index":{"_index":"x","_id":"a2","status":400,"error":{"type":"document_parsing_exception","reason":"[1:42] failed to parse field [json.status] of type [keyword] in document with id 'a2'. Preview of field's value: '{code=200}'","caused_by":{"type":"illegal_state_exception","reason":"Can't get text on a START_OBJECT at 1:42"}}}},
  {"create":{"_index":"x","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}
]}"#;

#[test]
fn classifies_the_three_kinds_of_item() {
    let outcomes = parse_bulk_response(MIXED.as_bytes(), 3).unwrap();
    assert_eq!(outcomes[0], ItemOutcome::Acked);
    let ItemOutcome::DeadLetter {
        status,
        error_type,
        reason,
    } = &outcomes[1]
    else {
        panic!("{:?}", outcomes[1]);
    };
    assert_eq!(*status, 400);
    assert_eq!(error_type, "document_parsing_exception");
    assert!(reason.starts_with("[1:42] failed to parse field [json.status]"));
    assert_eq!(
        outcomes[2],
        ItemOutcome::Retry {
            status: 429,
            reason: "es_rejected_execution_exception: rejected execution of coordinating operation"
                .into()
        }
    );
}

#[test]
fn conflicts_on_create_are_delivered_but_not_on_index() {
    let body = json!({"errors": true, "items": [
        {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception",
            "reason": "[a1]: version conflict, document already exists (current version [1])"}}},
        {"index": {"status": 409, "error": {"type": "version_conflict_engine_exception",
            "reason": "conflict"}}},
        {"index": {"status": 200, "result": "noop"}},
        {"create": {"status": 503, "error": {"type": "unavailable_shards_exception"}}},
        {"index": {"status": 500, "error": "plain text from a proxy"}},
        // A 409 of another kind is not a duplicate.
        {"create": {"status": 409, "error": {"type": "resource_already_exists_exception",
            "reason": "index [x] already exists"}}},
    ]});
    let outcomes = parse_bulk_response(body.to_string().as_bytes(), 6).unwrap();
    assert_eq!(outcomes[0], ItemOutcome::Duplicate);
    assert!(matches!(
        &outcomes[5],
        ItemOutcome::DeadLetter { status: 409, error_type, .. }
            if error_type == "resource_already_exists_exception"
    ));
    assert!(matches!(
        &outcomes[1],
        ItemOutcome::DeadLetter { status: 409, error_type, .. }
            if error_type == "version_conflict_engine_exception"
    ));
    assert_eq!(outcomes[2], ItemOutcome::Acked);
    assert_eq!(
        outcomes[3],
        ItemOutcome::Retry {
            status: 503,
            reason: "unavailable_shards_exception".into()
        }
    );
    assert_eq!(
        outcomes[4],
        ItemOutcome::Retry {
            status: 500,
            reason: "http_500: plain text from a proxy".into()
        }
    );
}

#[test]
fn update_delete_and_unknown_actions_are_judged_by_status() {
    let body = json!({"errors": true, "items": [
        {"update": {"status": 200}},
        {"delete": {"status": 404, "result": "not_found"}},
        {"upsert_v9": {"status": 201}},
    ]});
    let outcomes = parse_bulk_response(body.to_string().as_bytes(), 3).unwrap();
    assert_eq!(outcomes[0], ItemOutcome::Acked);
    assert_eq!(
        outcomes[1],
        ItemOutcome::DeadLetter {
            status: 404,
            error_type: "http_404".into(),
            reason: String::new()
        }
    );
    assert_eq!(outcomes[2], ItemOutcome::Acked);
}

#[test]
fn no_errors_counts_items_without_reading_them() {
    // The statuses are not read when errors is false, so odd items still count as delivered.
    let body = br#"{"took":1,"errors":false,"items":[{"index":{"status":201}},{"index":{}},{}]}"#;
    assert_eq!(
        parse_bulk_response(body, 3).unwrap(),
        vec![ItemOutcome::Acked; 3]
    );
    assert!(matches!(
        parse_bulk_response(body, 4),
        Err(ResponseError::ItemCount {
            expected: 4,
            got: 3
        })
    ));
    let empty = br#"{"took":0,"errors":false,"items":[]}"#;
    assert_eq!(parse_bulk_response(empty, 0).unwrap(), vec![]);
}

#[test]
fn a_count_mismatch_is_an_error_for_the_whole_request() {
    let err = parse_bulk_response(MIXED.as_bytes(), 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the bulk response has 3 items for the 4 sent"
    );
}

#[test]
fn invalid_responses_are_errors() {
    for body in [
        &b""[..],
        b"<html>502 Bad Gateway</html>",
        b"{\"errors\":false}",
        b"{\"errors\":false,\"items\":{}}",
        b"{\"errors\":true,\"items\":[{\"index\":{\"status\":\"201\"}}]}",
        b"{\"errors\":true,\"items\":[{}]}",
        b"{\"errors\":true,\"items\":[{\"index\":{\"status\":201}}]",
        b"{\"errors\":true,\"items\":[{\"index\":{\"status\":70000}}]}",
        b"\xff\xfe",
    ] {
        assert!(
            matches!(parse_bulk_response(body, 1), Err(ResponseError::Invalid(_))),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn missing_errors_flag_reads_every_item() {
    let body = br#"{"items":[{"index":{"status":400,"error":{"type":"t","reason":"r"}}}]}"#;
    assert!(matches!(
        parse_bulk_response(body, 1).unwrap()[0],
        ItemOutcome::DeadLetter { status: 400, .. }
    ));
}

#[test]
fn huge_reasons_are_cut_at_a_character_boundary() {
    let reason = "é".repeat(MAX_REASON_BYTES);
    let body = json!({"errors": true, "items": [
        {"index": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": reason}}},
        {"index": {"status": 429, "error": {"type": "t", "reason": reason}}},
    ]});
    let outcomes = parse_bulk_response(body.to_string().as_bytes(), 2).unwrap();
    let ItemOutcome::DeadLetter { reason: cut, .. } = &outcomes[0] else {
        panic!("{:?}", outcomes[0]);
    };
    assert!(cut.len() <= MAX_REASON_BYTES + '…'.len_utf8());
    assert!(cut.ends_with("é…"));
    let ItemOutcome::Retry { reason: cut, .. } = &outcomes[1] else {
        panic!("{:?}", outcomes[1]);
    };
    assert!(cut.starts_with("t: é") && cut.len() <= MAX_REASON_BYTES + 3);
}

#[test]
fn request_statuses() {
    assert_eq!(classify_status(200), RequestOutcome::Success);
    assert_eq!(classify_status(413), RequestOutcome::SplitAndRetry);
    assert_eq!(classify_status(400), RequestOutcome::SplitAndRetry);
    for status in [408, 429, 500, 502, 503, 504] {
        assert_eq!(
            classify_status(status),
            RequestOutcome::RetryAll,
            "{status}"
        );
    }
    for status in [401, 403, 404, 301, 0] {
        assert_eq!(classify_status(status), RequestOutcome::Fatal, "{status}");
    }
}

#[test]
fn documents_kept_in_the_failure_store_are_settled_but_not_acknowledged() {
    // As 9.1 answers through loglynk's filter_path: a success, with `errors` false.
    let body = json!({"errors": false, "items": [
        {"create": {"status": 201}},
        {"create": {"status": 201, "failure_store": "used"}},
    ]});
    let outcomes = parse_bulk_response(body.to_string().as_bytes(), 2).unwrap();
    assert_eq!(outcomes, [ItemOutcome::Acked, ItemOutcome::FailureStored]);
    // Refused without a failure store: dead-lettered as any mapping conflict.
    let body = json!({"errors": true, "items": [
        {"create": {"status": 400, "failure_store": "not_enabled",
                    "error": {"type": "document_parsing_exception", "reason": "r"}}},
    ]});
    let outcomes = parse_bulk_response(body.to_string().as_bytes(), 1).unwrap();
    assert!(matches!(
        outcomes[0],
        ItemOutcome::DeadLetter { status: 400, .. }
    ));
}

#[test]
fn items_are_counted_as_a_parser_counts_them() {
    fn count(items: &str) -> Result<usize, serde_json::Error> {
        let body = format!(r#"{{"took":1,"errors":false,"items":{items}}}"#);
        serde_json::from_str::<Head>(&body).map(|head| head.items.0)
    }
    for text in [
        "[]",
        "[ \n]",
        "[1]",
        "[[],[]]",
        r#"[{"a":[1,2,{"b":"],[{,"}]}]"#,
        r#"["\"", "\\", "\\\"],", ",,", "\u005d"]"#,
        r#"[{"create":{"status":201}} , {"create":{"status":201}}]"#,
        "[null,true,false,-1.5e3,\"x\",{}]",
    ] {
        let parsed = serde_json::from_str::<Vec<serde_json::Value>>(text).unwrap();
        assert_eq!(count(text).unwrap(), parsed.len(), "{text}");
    }
    for text in [r#"{"a":[1]}"#, r#""[1,2]""#, "3", "[1,]", "[1"] {
        assert!(count(text).is_err(), "{text}");
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[\\[\\]{},:\"\\\\a-z \\n\\u{1}\\u{e9}]*".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[\\[\\]{},:\"\\\\a-z]*", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_array_is_counted_as_its_length(
        items in prop::collection::vec(json_value(), 0..10),
        pretty in any::<bool>(),
    ) {
        let text = if pretty {
            serde_json::to_string_pretty(&items).unwrap()
        } else {
            serde_json::to_string(&items).unwrap()
        };
        let body = format!(r#"{{"items":{text},"errors":false}}"#);
        let head: Head = serde_json::from_str(&body).unwrap();
        prop_assert_eq!(head.items.0, items.len());
        let acked = parse_bulk_response(body.as_bytes(), items.len());
        if body.contains("\"failure_store\"") {
            // Read in full then, and these items are no bulk items.
            prop_assert!(acked.is_err() || items.is_empty());
        } else {
            prop_assert_eq!(acked.unwrap(), vec![ItemOutcome::Acked; items.len()]);
        }
    }
}
