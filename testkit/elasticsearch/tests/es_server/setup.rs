//! What a `bootstrap` installs, part one: ILM policies, their validation and how they read back.
//! Also the helpers the other `setup_*` files share.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::EsServer;

/// A JSON request; `body` `Null` sends none.
pub fn call(server: &EsServer, method: &str, path: &str, body: &Value) -> Reply {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    send(
        server.addr(),
        method,
        path,
        &[("Content-Type", "application/json")],
        &bytes,
        Duration::from_secs(10),
    )
    .expect("an answer")
}

/// A request that must succeed; its body.
pub fn ok(server: &EsServer, method: &str, path: &str, body: &Value) -> Value {
    let reply = call(server, method, path, body);
    assert_eq!(
        reply.status,
        200,
        "{method} {path}: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("X-Elastic-Product"), ["Elasticsearch"]);
    reply.json()
}

/// The innermost `caused_by` of an error, where the detail sits.
pub fn innermost(error: &Value) -> &Value {
    match error.get("caused_by") {
        Some(cause) => innermost(cause),
        None => error,
    }
}

/// Today in UTC as index names carry it.
pub fn today() -> String {
    chrono::Utc::now().format("%Y.%m.%d").to_string()
}

pub fn days_ago(days: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(days))
        .format("%Y.%m.%d")
        .to_string()
}

/// The daily-index policy a bootstrap installs: warm after 7 days, deleted after 30.
pub fn daily_policy() -> Value {
    json!({"policy": {
        "_meta": {"managed_by": "loglynk"},
        "phases": {
            "warm": {"min_age": "7d", "actions": {"allocate": {"number_of_replicas": 0}}},
            "delete": {"min_age": "30d", "actions": {"delete": {}}}
        }
    }})
}

/// The same with a hot phase that rolls over.
pub fn rollover_policy() -> Value {
    json!({"policy": {"phases": {
        "hot": {"actions": {"rollover": {"max_age": "1d", "max_size": "5GB"}}},
        "delete": {"min_age": "30d", "actions": {"delete": {}}}
    }}})
}

/// A data stream template like a bootstrap's, `funlynk-logs`: `@timestamp` in nanoseconds, and the
/// rollover policy as `logs`.
pub fn stream_template(server: &EsServer) {
    ok(server, "PUT", "/_ilm/policy/logs", &rollover_policy());
    let template = json!({"index_patterns": ["funlynk-logs"], "data_stream": {}, "priority": 200,
        "template": {"settings": {"index.lifecycle.name": "logs", "number_of_replicas": 0},
                     "mappings": {"properties": {"@timestamp": {"type": "date_nanos"}, "message": {"type": "text"}}}}});
    ok(server, "PUT", "/_index_template/funlynk-logs", &template);
}

/// The first index of a rollover alias setup, as a bootstrap creates it:
/// `<funlynk-logs-{now/d}-000001>` with `funlynk-logs` as its write alias. The answer to its `PUT`.
pub fn first_rollover_index(server: &EsServer) -> Value {
    let body = json!({"aliases": {"funlynk-logs": {"is_write_index": true}}});
    ok(
        server,
        "PUT",
        "/%3Cfunlynk-logs-%7Bnow%2Fd%7D-000001%3E",
        &body,
    )
}

#[test]
fn ilm_policies_are_refused_as_timeseries_lifecycle_type_refuses_them() {
    let server = EsServer::start();
    let policy = |phases: Value| json!({"policy": {"phases": phases}});
    let cases: Vec<(Value, &str, &str)> = vec![
        (policy(json!({"bogus": {"actions": {}}})), "illegal_argument_exception",
         "Timeseries lifecycle does not support phase [bogus]"),
        (policy(json!({"warm": {"actions": {"rollover": {"max_age": "1d"}}}})), "illegal_argument_exception",
         "invalid action [rollover] defined in phase [warm]"),
        (policy(json!({"hot": {"actions": {"forcemerge": {"max_num_segments": 1}}}})), "illegal_argument_exception",
         "the [forcemerge] action(s) may not be used in the [hot] phase without an accompanying [rollover] action"),
        (policy(json!({"warm": {"min_age": "30d", "actions": {}}, "delete": {"min_age": "7d", "actions": {"delete": {}}}})),
         "action_request_validation_exception",
         "Validation Failed: 1: Your policy is configured to run the delete phase (min_age: 7d) before the warm phase (min_age: 30d). You should change the phase timing so that the phases will execute in the order of hot, warm, then cold.;"),
        (policy(json!({"cold": {"actions": {"searchable_snapshot": {"snapshot_repository": "repo"}}}})), "illegal_argument_exception",
         "no such repository [repo], the snapshot repository referenced by the [searchable_snapshot] action in the [cold] phase must exist before it can be referenced by an ILM policy"),
    ];
    for (body, kind, reason) in cases {
        let reply = call(&server, "PUT", "/_ilm/policy/p", &body);
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(
            (error_type(&reply), error_reason(&reply)),
            (kind.to_string(), reason.to_string()),
            "{body}"
        );
    }
    // Body-parser failures nest one x_content_parse_exception per parser, the detail innermost.
    let parse_cases: Vec<(Value, &str, &str)> = vec![
        (policy(json!({"hot": {"actions": {"bogus_action": {}}}})), "named_object_not_found_exception",
         "unknown field [bogus_action]"),
        (policy(json!({"hot": {"actions": {"rollover": {}}}})), "illegal_argument_exception",
         "At least one max_* rollover condition must be set."),
        (policy(json!({"hot": {"actions": {"rollover": {"min_docs": 1}}}})), "illegal_argument_exception",
         "At least one max_* rollover condition must be set."),
        (policy(json!({"hot": {"actions": {"rollover": {"max_age": "1d", "max_sizes": "5gb"}}}})), "x_content_parse_exception",
         "[rollover_conditions] unknown field [max_sizes]"),
        (policy(json!({"warm": {"min_age": "7x", "actions": {}}})), "parse_exception",
         "failed to parse setting [min_age] with value [7x] as a time value: unit is missing or unrecognized"),
        (policy(json!({"hot": {"actions": {"rollover": {"max_size": "5 gigs"}}}})), "parse_exception",
         "failed to parse setting [max_size] with value [5 gigs] as a size in bytes: unit is missing or unrecognized"),
        (policy(json!({"warm": {"min_age": "1d", "priority": 5, "actions": {}}})), "x_content_parse_exception",
         "[phase] unknown field [priority]"),
        (policy(json!({"delete": {"min_age": "1d"}})), "illegal_argument_exception", "Required [actions]"),
        (policy(json!({"warm": {"actions": {"allocate": {"number_of_replicas": -1}}}})), "illegal_argument_exception",
         "[number_of_replicas] must be >= 0"),
    ];
    for (body, kind, reason) in parse_cases {
        let reply = call(&server, "PUT", "/_ilm/policy/p", &body);
        assert_eq!(
            (reply.status, error_type(&reply)),
            (400, "x_content_parse_exception".into()),
            "{body}"
        );
        let answer = reply.json();
        assert!(
            error_reason(&reply)
                .ends_with("[put_lifecycle_request] failed to parse field [policy]"),
            "{answer}"
        );
        let detail = innermost(&answer["error"]);
        assert_eq!(detail["type"], kind, "{answer}");
        assert!(
            detail["reason"].as_str().unwrap().ends_with(reason),
            "{answer}"
        );
    }
    let unknown = call(
        &server,
        "PUT",
        "/_ilm/policy/p",
        &policy(json!({"hot": {"actions": {"bogus_action": {}}}})),
    );
    let answer = unknown.json();
    // `{"policy":{"phases":{"hot":{"actions":{"bogus_action":{}}}}}}`: the name is at column 40.
    assert_eq!(
        answer["error"]["caused_by"]["reason"],
        "[1:40] [lifecycle_policy] failed to parse field [phases]"
    );
    assert_eq!(
        answer["error"]["root_cause"][0]["reason"],
        "[1:40] unknown field [bogus_action]"
    );
    let missing = call(&server, "GET", "/_ilm/policy/p", &Value::Null);
    assert_eq!(
        (missing.status, error_reason(&missing)),
        (404, "Lifecycle policy not found: p".into())
    );
    assert_eq!(error_type(&missing), "resource_not_found_exception");
}

#[test]
fn ilm_policies_read_back_normalized_versioned_and_with_their_users() {
    let server = EsServer::start();
    assert_eq!(
        ok(&server, "PUT", "/_ilm/policy/logs-daily", &daily_policy()),
        json!({"acknowledged": true})
    );
    let got = ok(&server, "GET", "/_ilm/policy/logs-daily", &Value::Null);
    let entry = &got["logs-daily"];
    assert_eq!(entry["version"], 1);
    assert!(chrono::DateTime::parse_from_rfc3339(entry["modified_date"].as_str().unwrap()).is_ok());
    assert_eq!(
        entry["policy"],
        json!({"_meta": {"managed_by": "loglynk"}, "phases": {
            "warm": {"min_age": "7d", "actions": {"allocate": {
                "number_of_replicas": 0, "include": {}, "exclude": {}, "require": {}}}},
            "delete": {"min_age": "30d", "actions": {"delete": {"delete_searchable_snapshot": true}}}
        }})
    );
    assert_eq!(
        server.ilm_policy("logs-daily").as_ref(),
        Some(&entry["policy"])
    );
    assert_eq!(
        entry["in_use_by"],
        json!({"indices": [], "data_streams": [], "composable_templates": []})
    );
    ok(
        &server,
        "PUT",
        "/_ilm/policy/logs-rollover",
        &rollover_policy(),
    );
    let rollover = ok(&server, "GET", "/_ilm/policy/logs-rollover", &Value::Null);
    assert_eq!(
        rollover["logs-rollover"]["policy"]["phases"]["hot"],
        json!({"min_age": "0ms", "actions": {"rollover": {"max_age": "1d", "max_size": "5gb"}}})
    );
    ok(&server, "PUT", "/_ilm/policy/logs-daily", &daily_policy());
    let again = ok(&server, "GET", "/_ilm/policy", &Value::Null);
    assert_eq!(again["logs-daily"]["version"], 2);
    assert_eq!(again.as_object().unwrap().len(), 2);

    let template = json!({"index_patterns": ["app-*"], "template": {"settings": {"index.lifecycle.name": "logs-daily"}}});
    ok(&server, "PUT", "/_index_template/app", &template);
    ok(&server, "PUT", "/app-1", &Value::Null);
    let users =
        &ok(&server, "GET", "/_ilm/policy/logs-daily", &Value::Null)["logs-daily"]["in_use_by"];
    assert_eq!(
        users,
        &json!({"indices": ["app-1"], "data_streams": [], "composable_templates": ["app"]})
    );
    let refused = call(&server, "DELETE", "/_ilm/policy/logs-daily", &Value::Null);
    assert_eq!(
        (refused.status, error_type(&refused)),
        (400, "illegal_argument_exception".into())
    );
    assert_eq!(
        error_reason(&refused),
        "Cannot delete policy [logs-daily]. It is in use by one or more indices: [app-1]"
    );
    ok(&server, "DELETE", "/app-1", &Value::Null);
    ok(&server, "DELETE", "/_ilm/policy/logs-daily", &Value::Null);
    let gone = call(&server, "DELETE", "/_ilm/policy/logs-daily", &Value::Null);
    assert_eq!(
        (gone.status, error_reason(&gone)),
        (404, "Lifecycle policy not found: logs-daily".into())
    );
}
