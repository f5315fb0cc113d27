//! The cluster's built-in `logs` template (`logs-*-*`, priority 100, a data stream template): listed
//! from the start, applied to the first write of a `logs-<dataset>-<namespace>` name, in the way of a
//! second template at its priority, and gone with `stack_templates: false`.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};
use crate::setup::{call, ok, today};

fn doc(dataset: &str, namespace: &str) -> String {
    json!({
        "@timestamp": "2026-11-24T06:54:58.123456789Z",
        "message": "m",
        "data_stream": {"type": "logs", "dataset": dataset, "namespace": namespace},
    })
    .to_string()
}

fn create(index: &str, source: &str) -> String {
    format!("{{\"create\":{{\"_index\":\"{index}\"}}}}\n{source}\n")
}

#[test]
fn the_built_in_logs_template_makes_a_data_stream_at_the_first_create() {
    let server = EsServer::start();
    let logs = ok(&server, "GET", "/_index_template/logs", &Value::Null);
    let template = &logs["index_templates"][0]["index_template"];
    assert_eq!(template["index_patterns"], json!(["logs-*-*"]));
    assert_eq!(template["priority"], 100);
    assert_eq!(template["allow_auto_create"], true);

    let reply = bulk(
        &server,
        &(create("logs-shop.orders-prod", &doc("shop.orders", "prod"))
            // Every document of a data stream carries its dataset: constant_keyword refuses another.
            + &create("logs-shop.orders-prod", &doc("other", "prod"))
            + "{\"index\":{\"_index\":\"logs-shop.orders-prod\"}}\n{\"@timestamp\":\"2026-11-24T06:54:58Z\"}\n"),
    );
    let results = items(&reply);
    assert_eq!(results[0].0, 201, "{results:?}");
    assert_eq!(
        (results[1].0, results[1].1.as_str()),
        (400, "document_parsing_exception"),
        "{results:?}"
    );
    assert!(
        results[1].2.contains("constant_keyword"),
        "{}",
        results[1].2
    );
    assert_eq!(
        results[2].2,
        "only write ops with an op_type of create are allowed in data streams"
    );
    let stream = ok(
        &server,
        "GET",
        "/_data_stream/logs-shop.orders-prod",
        &Value::Null,
    );
    assert_eq!(stream["data_streams"][0]["template"], "logs", "{stream}");
    assert_eq!(
        stream["data_streams"][0]["indices"][0]["index_name"],
        format!(".ds-logs-shop.orders-prod-{}-000001", today()).as_str()
    );
    assert_eq!(server.documents("logs-shop.orders-prod").len(), 1);

    // A name outside `logs-*-*` has no data stream template: the write makes an ordinary index.
    let reply = bulk(&server, &create("logs-plain", &doc("a", "b")));
    assert_eq!(items(&reply)[0].0, 201);
    assert!(server.index("logs-plain").is_some());
    let none = call(&server, "GET", "/_data_stream/logs-plain", &Value::Null);
    assert_eq!(none.status, 404);
}

#[test]
fn data_stream_names_follow_elasticsearchs_rules() {
    let server = EsServer::start();
    let cases = [
        (
            "logs-Shop-prod",
            "invalid_index_name_exception",
            "must be lowercase",
        ),
        (
            "logs-a b-prod",
            "invalid_index_name_exception",
            "must not contain the following characters",
        ),
        (
            "logs-a#b-prod",
            "invalid_index_name_exception",
            "must not contain '#'",
        ),
        (
            "logs-a:b-prod",
            "invalid_index_name_exception",
            "must not contain ':'",
        ),
    ];
    for (name, kind, rule) in cases {
        let reply = bulk(&server, &create(name, &doc("a", "b")));
        let results = items(&reply);
        assert_eq!((results[0].0, results[0].1.as_str()), (400, kind), "{name}");
        assert!(results[0].2.contains(rule), "{name}: {}", results[0].2);
    }
    let long = format!("logs-{}-prod", "a".repeat(251));
    let reply = bulk(&server, &create(&long, &doc("a", "b")));
    assert!(items(&reply)[0].2.contains("index name is too long"));
    // The data stream API's own rules, before the index name's.
    for (name, rule) in [
        ("_logs-a-b", "must not start with '_'"),
        ("logs-A-b", "must be lowercase"),
        (".ds-logs-a-b", "must not start with '.ds-'"),
    ] {
        let reply = call(
            &server,
            "PUT",
            &format!("/_data_stream/{name}"),
            &Value::Null,
        );
        assert_eq!(reply.status, 400, "{name}");
        assert!(
            error_reason(&reply).contains(rule),
            "{name}: {}",
            error_reason(&reply)
        );
    }
}

#[test]
fn a_template_over_logs_needs_another_priority_than_the_built_in_ones() {
    let server = EsServer::start();
    let body = |priority: u32| {
        json!({"index_patterns": ["logs-*-*"], "data_stream": {}, "priority": priority,
               "template": {"mappings": {"properties": {"@timestamp": {"type": "date_nanos"}}}}})
    };
    let refused = call(&server, "PUT", "/_index_template/mine", &body(100));
    assert_eq!(refused.status, 400);
    assert!(
        error_reason(&refused).contains(
            "matching patterns from existing templates [logs] with patterns (logs => [logs-*-*]) \
             that have the same priority [100]"
        ),
        "{}",
        error_reason(&refused)
    );
    ok(&server, "PUT", "/_index_template/mine", &body(150));
    // Above the built-in one, ours shapes the data streams created from now on.
    let reply = bulk(&server, &create("logs-app-default", &doc("app", "default")));
    assert_eq!(items(&reply)[0].0, 201);
    let stream = ok(
        &server,
        "GET",
        "/_data_stream/logs-app-default",
        &Value::Null,
    );
    assert_eq!(stream["data_streams"][0]["template"], "mine");

    // Without the stack's templates, nothing is in the way, and a write makes a plain index.
    let bare = EsServer::start_with(EsOptions {
        stack_templates: false,
        ..EsOptions::default()
    });
    let listed = ok(&bare, "GET", "/_index_template", &Value::Null);
    assert_eq!(listed["index_templates"], json!([]));
    ok(&bare, "PUT", "/_index_template/mine", &body(100));
    ok(&bare, "DELETE", "/_index_template/mine", &Value::Null);
    let reply = bulk(&bare, &create("logs-app-default", &doc("app", "default")));
    assert_eq!(items(&reply)[0].0, 201);
    assert!(bare.index("logs-app-default").is_some());
}
