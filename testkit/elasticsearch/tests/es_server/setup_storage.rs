//! What a `bootstrap` installs, part four: LogsDB templates, the failure store and snapshot
//! lifecycle policies, each as the version the server plays takes them.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};
use crate::setup::{call, innermost, ok, today};

fn server(version: &str) -> EsServer {
    EsServer::start_with(EsOptions {
        version: version.into(),
        ..EsOptions::default()
    })
}

fn template(settings: Value, mappings: Value) -> Value {
    json!({"index_patterns": ["funlynk-logs-*"], "priority": 200,
           "template": {"settings": settings, "mappings": mappings}})
}

#[test]
fn logsdb_templates_from_8_15_and_indices_in_that_mode_with_its_sort_fields() {
    let mappings =
        json!({"properties": {"@timestamp": {"type": "date_nanos"}, "message": {"type": "text"}}});
    let logsdb = template(json!({"index": {"mode": "logsdb"}}), mappings.clone());
    let old = server("8.14.3");
    let refused = call(&old, "PUT", "/_index_template/funlynk-logs", &logsdb);
    assert_eq!(refused.status, 400);
    assert!(
        error_reason(&refused)
            .contains("No enum constant org.elasticsearch.index.IndexMode.LOGSDB"),
        "{}",
        error_reason(&refused)
    );
    let seven = server("7.17.25");
    let refused = call(&seven, "PUT", "/_index_template/funlynk-logs", &logsdb);
    assert!(error_reason(&refused).contains("unknown setting [index.mode]"));

    let es = server("8.17.0");
    ok(&es, "PUT", "/_index_template/funlynk-logs", &logsdb);
    let stored = ok(&es, "GET", "/_index_template/funlynk-logs", &Value::Null);
    assert_eq!(
        stored["index_templates"][0]["index_template"]["template"]["settings"]["index"]["mode"],
        "logsdb"
    );
    let index = format!("funlynk-logs-{}", today());
    let reply = bulk(
        &es,
        &format!("{{\"index\":{{\"_index\":\"{index}\"}}}}\n{{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"message\":\"m\",\"host\":{{\"name\":\"n1\"}}}}\n"),
    );
    assert_eq!(reply.json()["errors"], false, "{:?}", reply.json());
    assert_eq!(
        es.index(&index).unwrap()["settings"]["index"]["mode"],
        "logsdb"
    );
    // host.name came from LogsDB's default mapping: a keyword it sorts on.
    assert_eq!(es.mapping(&index).unwrap()["host.name"], "keyword");

    // What LogsDB refuses, at the template already.
    let cases = [
        (
            template(json!({"index.mode": "logsdb"}), json!({"properties": {"@timestamp": {"type": "keyword"}}})),
            "data stream timestamp field [@timestamp] is of type [keyword], but [date,date_nanos] is expected",
        ),
        (
            template(json!({"index.mode": "logsdb"}), json!({"_source": {"enabled": false}})),
            "_source can not be disabled in index using [logsdb] index mode",
        ),
        (
            template(json!({"index.mode": "logsdb", "index.routing_path": ["host.name"]}), mappings),
            "[index.routing_path] requires [index.mode=time_series]",
        ),
    ];
    for (body, reason) in cases {
        let refused = call(&es, "PUT", "/_index_template/funlynk-logs", &body);
        assert_eq!(refused.status, 400, "{reason}");
        let error = refused.json()["error"].clone();
        let text = format!("{} {}", error["reason"], innermost(&error)["reason"]);
        assert!(text.contains(reason), "{text}");
    }
}

fn stream_template(failure_store: Option<bool>) -> Value {
    let mut body = json!({"index_patterns": ["funlynk-logs"], "data_stream": {}, "priority": 200,
        "template": {"mappings": {"properties": {"@timestamp": {"type": "date_nanos"},
                                                 "log": {"properties": {"offset": {"type": "long"}}}}}}});
    if let Some(enabled) = failure_store {
        body["template"]["data_stream_options"] = json!({"failure_store": {"enabled": enabled}});
    }
    body
}

const TWO_DOCS: &str = "{\"create\":{\"_index\":\"funlynk-logs\",\"_id\":\"a\"}}\n{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"log\":{\"offset\":1}}\n{\"create\":{\"_index\":\"funlynk-logs\",\"_id\":\"b\"}}\n{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"log\":{\"offset\":\"not a number\"}}\n";

#[test]
fn the_failure_store_keeps_what_the_mappings_refuse_and_answers_as_9_1_does() {
    let old = server("9.0.3");
    let refused = call(
        &old,
        "PUT",
        "/_index_template/funlynk-logs",
        &stream_template(Some(true)),
    );
    assert_eq!(refused.status, 400);
    assert!(
        innermost(&refused.json()["error"])["reason"]
            .as_str()
            .unwrap()
            .contains("unknown field [data_stream_options]"),
        "{:?}",
        refused.json()
    );

    let es = server("9.1.0");
    let not_a_stream = json!({"index_patterns": ["x-*"], "template": {"data_stream_options": {"failure_store": {"enabled": true}}}});
    let refused = call(&es, "PUT", "/_index_template/x", &not_a_stream);
    assert!(error_reason(&refused).contains("can only be used in combination with a data stream"));

    ok(
        &es,
        "PUT",
        "/_index_template/funlynk-logs",
        &stream_template(Some(true)),
    );
    let stored = ok(&es, "GET", "/_index_template/funlynk-logs", &Value::Null);
    assert_eq!(
        stored["index_templates"][0]["index_template"]["template"]["data_stream_options"],
        json!({"failure_store": {"enabled": true}})
    );
    let reply = bulk(&es, TWO_DOCS).json();
    assert_eq!(reply["errors"], false, "{reply}");
    let kept = &reply["items"][0]["create"];
    assert_eq!(
        (kept["status"].as_u64(), kept.get("failure_store")),
        (Some(201), None)
    );
    let redirected = &reply["items"][1]["create"];
    assert_eq!(redirected["status"], 201);
    assert_eq!(redirected["result"], "created");
    assert_eq!(redirected["failure_store"], "used");
    assert!(
        redirected["_index"]
            .as_str()
            .unwrap()
            .starts_with(&format!(".fs-funlynk-logs-{}-", today())),
        "{redirected}"
    );
    assert_eq!(es.documents("funlynk-logs").len(), 1);
    let failures = es.failure_store_documents("funlynk-logs");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["document"]["id"], "b");
    assert_eq!(
        failures[0]["document"]["source"]["log"]["offset"],
        "not a number"
    );
    assert_eq!(failures[0]["error"]["type"], "document_parsing_exception");
    let stream = ok(&es, "GET", "/_data_stream/funlynk-logs", &Value::Null);
    let failure_store = &stream["data_streams"][0]["failure_store"];
    assert_eq!(failure_store["enabled"], true);
    assert_eq!(failure_store["indices"].as_array().unwrap().len(), 1);

    // Without it, 9.1 says so on the refused item.
    let es = server("9.1.0");
    ok(
        &es,
        "PUT",
        "/_index_template/funlynk-logs",
        &stream_template(None),
    );
    let reply = bulk(&es, TWO_DOCS).json();
    assert_eq!(reply["errors"], true);
    assert_eq!(reply["items"][1]["create"]["status"], 400);
    assert_eq!(reply["items"][1]["create"]["failure_store"], "not_enabled");
}

fn slm_policy(repository: &str) -> Value {
    json!({"name": "<funlynk-logs-{now/d}>", "schedule": "0 30 1 * * ?", "repository": repository,
           "config": {"indices": ["funlynk-logs-*"], "include_global_state": false},
           "retention": {"expire_after": "30d", "min_count": 5, "max_count": 50}})
}

#[test]
fn snapshot_policies_need_a_registered_repository_and_read_back_as_given() {
    let es = server("9.1.0");
    let refused = call(
        &es,
        "PUT",
        "/_slm/policy/funlynk-logs",
        &slm_policy("backups"),
    );
    assert_eq!(
        (refused.status, error_type(&refused), error_reason(&refused)),
        (
            400,
            "illegal_argument_exception".into(),
            "no such repository [backups]".into()
        )
    );
    let missing = call(&es, "GET", "/_snapshot/backups", &Value::Null);
    assert_eq!(
        (missing.status, error_type(&missing)),
        (404, "repository_missing_exception".into())
    );
    let no_location = call(
        &es,
        "PUT",
        "/_snapshot/backups",
        &json!({"type": "fs", "settings": {}}),
    );
    assert_eq!(no_location.status, 400);
    ok(
        &es,
        "PUT",
        "/_snapshot/backups",
        &json!({"type": "fs", "settings": {"location": "/snapshots"}}),
    );
    assert_eq!(
        ok(&es, "GET", "/_snapshot/backups", &Value::Null),
        json!({"backups": {"type": "fs", "settings": {"location": "/snapshots"}}})
    );

    ok(
        &es,
        "PUT",
        "/_slm/policy/funlynk-logs",
        &slm_policy("backups"),
    );
    let read = ok(&es, "GET", "/_slm/policy/funlynk-logs", &Value::Null);
    assert_eq!(read["funlynk-logs"]["policy"], slm_policy("backups"));
    assert_eq!(read["funlynk-logs"]["version"], 1);
    ok(
        &es,
        "PUT",
        "/_slm/policy/funlynk-logs",
        &slm_policy("backups"),
    );
    assert_eq!(
        ok(&es, "GET", "/_slm/policy", &Value::Null)["funlynk-logs"]["version"],
        2
    );

    let mut bad = slm_policy("backups");
    bad["retention"] = json!({"min_count": 5, "max_count": 3});
    bad["name"] = json!("Upper");
    let refused = call(&es, "PUT", "/_slm/policy/funlynk-logs", &bad);
    assert_eq!(error_type(&refused), "action_request_validation_exception");
    assert!(
        error_reason(&refused).contains("must be lowercase"),
        "{}",
        error_reason(&refused)
    );
    assert!(error_reason(&refused).contains("cannot be larger than maximum snapshot count 3"));
    let unknown = call(
        &es,
        "PUT",
        "/_slm/policy/x",
        &json!({"schedul": "0 0 * * * ?"}),
    );
    assert!(
        error_reason(&unknown).contains("unknown field [schedul]"),
        "{}",
        error_reason(&unknown)
    );
    let gone = call(&es, "GET", "/_slm/policy/nope", &Value::Null);
    assert_eq!(gone.status, 404);
    ok(&es, "DELETE", "/_slm/policy/funlynk-logs", &Value::Null);
    assert_eq!(es.slm_policy("funlynk-logs"), None);
}
