//! What a `bootstrap` installs, part two: composable index templates, their validation, how they
//! read back, and which one a new index gets.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::EsServer;
use crate::setup::{call, innermost, ok};

#[test]
fn templates_read_back_with_settings_as_elasticsearch_keeps_them() {
    let server = EsServer::start();
    let template = json!({
        "index_patterns": "funlynk-logs-*",
        "priority": 200,
        "version": 3,
        "_meta": {"managed_by": "loglynk"},
        "template": {
            "settings": {
                "number_of_shards": 1,
                "index.number_of_replicas": "0",
                "index": {"lifecycle": {"name": "logs", "parse_origination_date": true}},
                "refresh_interval": "5s"
            },
            "mappings": {"dynamic": "true", "properties": {"message": {"type": "text"}}},
            "aliases": {"all-logs": {}}
        }
    });
    assert_eq!(
        ok(&server, "PUT", "/_index_template/funlynk-logs", &template),
        json!({"acknowledged": true})
    );
    let got = ok(
        &server,
        "GET",
        "/_index_template/funlynk-logs",
        &Value::Null,
    );
    assert_eq!(
        got,
        json!({"index_templates": [{"name": "funlynk-logs", "index_template": {
            "index_patterns": ["funlynk-logs-*"],
            "template": {
                "settings": {"index": {
                    "number_of_shards": "1",
                    "number_of_replicas": "0",
                    "lifecycle": {"name": "logs", "parse_origination_date": "true"},
                    "refresh_interval": "5s"
                }},
                "mappings": {"dynamic": "true", "properties": {"message": {"type": "text"}}},
                "aliases": {"all-logs": {}}
            },
            "composed_of": [],
            "priority": 200,
            "version": 3,
            "_meta": {"managed_by": "loglynk"}
        }}]})
    );
    let flat = ok(
        &server,
        "GET",
        "/_index_template/funlynk-*?flat_settings=true",
        &Value::Null,
    );
    assert_eq!(
        flat["index_templates"][0]["index_template"]["template"]["settings"]
            ["index.lifecycle.name"],
        "logs"
    );
    let stream = json!({"index_patterns": ["metrics-app"], "data_stream": {}, "priority": 5});
    ok(&server, "PUT", "/_index_template/metrics-app", &stream);
    let all = ok(&server, "GET", "/_index_template", &Value::Null);
    let names: Vec<&str> = all["index_templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    // The cluster's built-in `logs` template is listed with the user's.
    assert_eq!(names, ["funlynk-logs", "logs", "metrics-app"]);
    assert_eq!(
        all["index_templates"][2]["index_template"]["data_stream"],
        json!({"hidden": false, "allow_custom_routing": false})
    );
    let missing = call(&server, "GET", "/_index_template/nope", &Value::Null);
    assert_eq!(
        (missing.status, error_type(&missing)),
        (404, "resource_not_found_exception".into())
    );
    assert_eq!(
        error_reason(&missing),
        "index template matching [nope] not found"
    );
    assert_eq!(
        call(
            &server,
            "HEAD",
            "/_index_template/metrics-app",
            &Value::Null
        )
        .status,
        200
    );
    ok(
        &server,
        "DELETE",
        "/_index_template/metrics-app",
        &Value::Null,
    );
    let deleted = call(
        &server,
        "DELETE",
        "/_index_template/metrics-app",
        &Value::Null,
    );
    assert_eq!(
        (deleted.status, error_reason(&deleted)),
        (404, "index_template [metrics-app] missing".into())
    );
    let create = call(
        &server,
        "PUT",
        "/_index_template/funlynk-logs?create=true",
        &template,
    );
    assert_eq!(
        error_reason(&create),
        "index template [funlynk-logs] already exists"
    );
}

#[test]
fn templates_matching_the_same_names_at_the_same_priority_are_refused() {
    let server = EsServer::start();
    ok(
        &server,
        "PUT",
        "/_index_template/a",
        &json!({"index_patterns": ["app-*"], "priority": 10}),
    );
    let clash = call(
        &server,
        "PUT",
        "/_index_template/b",
        &json!({"index_patterns": ["x-*", "*-web"], "priority": 10}),
    );
    assert_eq!(
        (clash.status, error_type(&clash)),
        (400, "illegal_argument_exception".into())
    );
    assert_eq!(
        error_reason(&clash),
        "index template [b] has index patterns [x-*, *-web] matching patterns from existing templates [a] \
         with patterns (a => [app-*]) that have the same priority [10], multiple index templates may not \
         match during index creation, please use a different priority"
    );
    // Disjoint patterns, or another priority, are fine; so is replacing a template by its own name.
    ok(
        &server,
        "PUT",
        "/_index_template/c",
        &json!({"index_patterns": ["web-*"], "priority": 10}),
    );
    ok(
        &server,
        "PUT",
        "/_index_template/b",
        &json!({"index_patterns": ["x-*", "*-web"], "priority": 11}),
    );
    ok(
        &server,
        "PUT",
        "/_index_template/a",
        &json!({"index_patterns": ["app-*", "api-*"], "priority": 10}),
    );
    // Elasticsearch 8's built-in `logs` template (logs-*-*, priority 100).
    let builtin = call(
        &server,
        "PUT",
        "/_index_template/mine",
        &json!({"index_patterns": ["logs-*"], "priority": 100}),
    );
    assert!(error_reason(&builtin).contains("existing templates [logs] with patterns (logs => [logs-*-*]) that have the same priority [100]"),
        "{}", error_reason(&builtin));
    ok(
        &server,
        "PUT",
        "/_index_template/mine",
        &json!({"index_patterns": ["logs-*"], "priority": 200}),
    );
    // The highest priority wins at index creation.
    ok(
        &server,
        "PUT",
        "/_index_template/narrow",
        &json!({"index_patterns": ["app-web*"], "priority": 20,
        "template": {"settings": {"number_of_replicas": 0}}}),
    );
    ok(&server, "PUT", "/app-web-1", &Value::Null);
    ok(&server, "PUT", "/app-api-1", &Value::Null);
    let replicas =
        |name: &str| server.index(name).unwrap()["settings"]["index"]["number_of_replicas"].clone();
    assert_eq!(
        (replicas("app-web-1"), replicas("app-api-1")),
        (json!("0"), json!("1"))
    );
}

#[test]
fn template_bodies_mappings_and_settings_are_checked() {
    let server = EsServer::start();
    let with_mappings =
        |mappings: Value| json!({"index_patterns": ["t-*"], "template": {"mappings": mappings}});
    let unknown_type = call(
        &server,
        "PUT",
        "/_index_template/t",
        &with_mappings(json!({"properties": {"bar": {"type": "foo"}}})),
    );
    let answer = unknown_type.json();
    assert_eq!(
        (unknown_type.status, error_type(&unknown_type)),
        (400, "illegal_argument_exception".into())
    );
    assert_eq!(
        error_reason(&unknown_type),
        "composable template [t] template after composition is invalid"
    );
    assert_eq!(
        answer["error"]["caused_by"]["reason"],
        "invalid composite mappings for [t]"
    );
    assert_eq!(
        answer["error"]["caused_by"]["caused_by"],
        json!({"type": "mapper_parsing_exception",
               "reason": "Failed to parse mapping: No handler for type [foo] declared on field [bar]",
               "caused_by": {"type": "mapper_parsing_exception",
                             "reason": "No handler for type [foo] declared on field [bar]"}})
    );
    let mapping_cases = [
        (json!({"properties": {"a": {"properties": {"b": {"type": "keyword", "ignore_abvoe": 10}}}}}),
         "unknown parameter [ignore_abvoe] on mapper [b] of type [keyword]"),
        (json!({"properties": {"price": {"type": "scaled_float"}}}), "Field [scaling_factor] is required"),
        (json!({"properties": {"a": {"type": "alias", "path": "nope"}}}),
         "Invalid [path] value [nope] for field alias [a]: an alias must refer to an existing field in the mappings."),
        (json!({"dynamic": "sometimes"}), "Could not convert [_doc.dynamic] to boolean"),
        (json!({"properties": {}, "bogus": 1}), "Root mapping definition has unsupported parameters:  [bogus : 1]"),
        (json!({"dynamic_templates": [{"a": {"match": "x*"}}]}), "template [a] must have either mapping or runtime set"),
    ];
    for (mappings, reason) in mapping_cases {
        let reply = call(
            &server,
            "PUT",
            "/_index_template/t",
            &with_mappings(mappings.clone()),
        );
        assert_eq!(reply.status, 400, "{mappings}");
        let answer = reply.json();
        assert!(
            innermost(&answer["error"])["reason"]
                .as_str()
                .unwrap()
                .starts_with(reason),
            "{answer}"
        );
    }
    let settings = json!({"index_patterns": ["t-*"], "template": {"settings": {
        "index.lifecycle.rolover_alias": "x", "number_of_shards": 0}}});
    let bad = call(&server, "PUT", "/_index_template/t", &settings);
    assert_eq!(error_type(&bad), "invalid_index_template_exception");
    assert_eq!(
        error_reason(&bad),
        "index_template [t] invalid, cause [Validation Failed: 1: unknown setting [index.lifecycle.rolover_alias] \
         did you mean [index.lifecycle.rollover_alias]?;2: Failed to parse value [0] for setting \
         [index.number_of_shards] must be >= 1;]"
    );
    let component = call(
        &server,
        "PUT",
        "/_index_template/t",
        &json!({"index_patterns": ["t-*"], "composed_of": ["base"]}),
    );
    assert_eq!(
        (error_type(&component), error_reason(&component)),
        ("invalid_index_template_exception".into(),
         "index_template [t] invalid, cause [index template [t] specifies component templates [base] that do not exist]".into())
    );
    let stream = json!({"index_patterns": ["s"], "data_stream": {},
        "template": {"mappings": {"properties": {"@timestamp": {"type": "keyword"}}}}});
    let timestamp = call(&server, "PUT", "/_index_template/s", &stream);
    assert_eq!(
        innermost(&timestamp.json()["error"])["reason"],
        "data stream timestamp field [@timestamp] is of type [keyword], but [date,date_nanos] is expected"
    );
    let parse = call(
        &server,
        "PUT",
        "/_index_template/t",
        &json!({"index_pattern": ["t-*"]}),
    );
    assert_eq!(
        (error_type(&parse), error_reason(&parse)),
        (
            "x_content_parse_exception".into(),
            "[1:2] [index_template] unknown field [index_pattern]".into()
        )
    );
    let required = call(
        &server,
        "PUT",
        "/_index_template/t",
        &json!({"priority": 1}),
    );
    assert_eq!(error_reason(&required), "Required [index_patterns]");
    assert!(server.index_template("t").is_none());
}
