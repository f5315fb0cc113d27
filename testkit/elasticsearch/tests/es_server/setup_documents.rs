//! Documents against template mappings: explicit types enforced, flattened fields, dynamic
//! templates and the `dynamic` setting, and what a new index takes from its template.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::EsServer;
use crate::setup::{call, ok};

/// One `index` item per document, all to `index`, with ids `d1`, `d2`, …; each item's result.
fn write(server: &EsServer, index: &str, docs: &[Value]) -> Vec<(u64, String, String)> {
    let mut body = String::new();
    for (i, doc) in docs.iter().enumerate() {
        body.push_str(&format!(
            "{}\n{doc}\n",
            json!({"index": {"_index": index, "_id": format!("d{}", i + 1)}})
        ));
    }
    items(&bulk(server, &body))
}

#[test]
fn a_flattened_field_takes_what_a_dynamic_object_refuses() {
    let server = EsServer::start();
    let template = json!({"index_patterns": ["flat-*"], "template": {"mappings": {"properties": {
        "json": {"type": "flattened", "ignore_above": 1024}}}}});
    ok(&server, "PUT", "/_index_template/flat", &template);
    let docs = [
        json!({"json": {"status": "ok"}}),
        json!({"json": {"status": {"code": 200}}}),
        json!({"json.level": 3}),
    ];
    let flattened = write(&server, "flat-1", &docs);
    assert_eq!(
        flattened.iter().map(|r| r.0).collect::<Vec<_>>(),
        [201, 201, 201],
        "{flattened:?}"
    );
    let dynamic = write(&server, "plain-1", &docs);
    assert_eq!((dynamic[0].0, dynamic[1].0, dynamic[2].0), (201, 400, 201));
    assert!(
        dynamic[1]
            .2
            .contains("failed to parse field [json.status] of type [keyword]"),
        "{}",
        dynamic[1].2
    );
    // A flattened field adds no subfields to the mapping.
    assert_eq!(
        server.mapping("flat-1").unwrap(),
        json!({"json": "flattened"})
    );
    assert_eq!(
        server.index("flat-1").unwrap()["mappings"],
        json!({"properties": {"json": {"type": "flattened", "ignore_above": 1024}}})
    );
    assert_eq!(server.mapping("plain-1").unwrap()["json.status"], "keyword");
}

#[test]
fn dates_ips_and_numbers_must_fit_their_mapped_types() {
    let server = EsServer::start();
    let template = json!({"index_patterns": ["typed-*"], "template": {"mappings": {"properties": {
        "@timestamp": {"type": "date_nanos"},
        "event": {"properties": {"created": {"type": "date"}}},
        "client": {"properties": {"ip": {"type": "ip"}}},
        "count": {"type": "integer"},
        "lenient": {"type": "ip", "ignore_malformed": true},
        "service": {"type": "constant_keyword"}
    }}}});
    ok(&server, "PUT", "/_index_template/typed", &template);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"@timestamp": "2026-11-24T06:54:58.123456789Z"}), ""),
        (json!({"@timestamp": "2026-11-24T06:54:58+01:00", "event.created": "2026-11-24T06:54:58.123456789Z"}), ""),
        (json!({"@timestamp": "2026-11-24", "event": {"created": 1764000000000u64}}), ""),
        (json!({"@timestamp": 1764000000000u64, "client.ip": "10.1.2.3", "count": "12", "service": "web"}), ""),
        (json!({"client": {"ip": "2001:db8::1"}, "count": 7.9, "lenient": "not-an-ip", "service": "web"}), ""),
        (json!({"@timestamp": "24/11/2026"}), "failed to parse field [@timestamp] of type [date_nanos] in document with id 'd6'. Preview of field's value: '24/11/2026'"),
        (json!({"@timestamp": "1969-12-31T23:59:59Z"}), "failed to parse field [@timestamp] of type [date_nanos]"),
        (json!({"event": {"created": "2026-11-24 06:54:58"}}), "failed to parse field [event.created] of type [date]"),
        (json!({"client.ip": "not-an-ip"}), "failed to parse field [client.ip] of type [ip]"),
        (json!({"client": {"ip": 12}}), "failed to parse field [client.ip] of type [ip]"),
        (json!({"count": "many"}), "failed to parse field [count] of type [integer]"),
        (json!({"count": 3000000000u64}), "failed to parse field [count] of type [integer]"),
        (json!({"service": "db"}), "failed to parse field [service] of type [constant_keyword]"),
    ];
    let docs: Vec<Value> = cases.iter().map(|(d, _)| d.clone()).collect();
    let results = write(&server, "typed-1", &docs);
    for ((doc, reason), (status, kind, got)) in cases.iter().zip(&results) {
        if reason.is_empty() {
            assert_eq!(*status, 201, "{doc}: {got}");
        } else {
            assert_eq!(
                (*status, kind.as_str()),
                (400, "document_parsing_exception"),
                "{doc}"
            );
            assert!(got.contains(reason), "{doc}: {got}");
        }
    }
    let answer = bulk(
        &server,
        "{\"index\":{\"_index\":\"typed-1\"}}\n{\"client\":{\"ip\":\"not-an-ip\"}}\n",
    )
    .json();
    assert_eq!(
        answer["items"][0]["index"]["error"]["caused_by"],
        json!({"type": "illegal_argument_exception", "reason": "'not-an-ip' is not an IP string literal."})
    );
    let answer = bulk(
        &server,
        "{\"index\":{\"_index\":\"typed-1\"}}\n{\"@timestamp\":\"soon\"}\n",
    )
    .json();
    assert_eq!(
        answer["items"][0]["index"]["error"]["caused_by"]["reason"],
        "failed to parse date field [soon] with format [strict_date_optional_time_nanos||epoch_millis]"
    );
    assert_eq!(server.documents("typed-1").len(), 5);
}

#[test]
fn dynamic_templates_and_the_dynamic_setting_decide_new_fields() {
    let server = EsServer::start();
    let template = json!({"index_patterns": ["k8s-*"], "template": {"mappings": {
        "dynamic_templates": [
            {"kubernetes_labels": {"path_match": "kubernetes.labels.*", "mapping": {"type": "keyword", "ignore_above": 1024}}},
            {"counts": {"match": "*_count", "mapping": {"type": "long"}}},
            {"strings_as_text": {"match_mapping_type": "string", "mapping": {"type": "{dynamic_type}"}}}
        ],
        "properties": {"kubernetes": {"properties": {"annotations": {"type": "object", "dynamic": false}}}}
    }}});
    ok(&server, "PUT", "/_index_template/k8s", &template);
    let docs = [
        json!({"kubernetes": {"labels": {"app": "web", "tier": 5, "canary": true}}, "message": "hi"}),
        json!({"kubernetes": {"annotations": {"anything": {"goes": 1}}}, "retry_count": "3"}),
        json!({"kubernetes": {"labels": {"team.example.com/owner": "web"}}}),
        json!({"retry_count": "three"}),
    ];
    let results = write(&server, "k8s-1", &docs);
    assert_eq!(
        results.iter().map(|r| r.0).collect::<Vec<_>>(),
        [201, 201, 400, 400],
        "{results:?}"
    );
    // A dotted label key is an object under `kubernetes.labels`, which the template maps as keyword.
    assert!(
        results[2].2.contains(
            "failed to parse field [kubernetes.labels.team] of type [keyword] in document \
            with id 'd3'. Preview of field's value: '{example.com/owner=web}'"
        ),
        "{}",
        results[2].2
    );
    let mapping = server.mapping("k8s-1").unwrap();
    for (path, kind) in [
        ("kubernetes.labels.app", "keyword"),
        ("kubernetes.labels.tier", "keyword"),
        ("kubernetes.labels.canary", "keyword"),
        ("message", "text"),
        ("retry_count", "long"),
    ] {
        assert_eq!(mapping[path], kind, "{path}: {mapping}");
    }
    assert!(
        mapping.get("kubernetes.annotations.anything").is_none(),
        "{mapping}"
    );
    let shown = server.index("k8s-1").unwrap()["mappings"]["properties"]["kubernetes"]
        ["properties"]["labels"]
        .clone();
    assert_eq!(
        shown["properties"]["app"],
        json!({"type": "keyword", "ignore_above": 1024})
    );

    let strict = json!({"index_patterns": ["strict-*"], "template": {"mappings": {"dynamic": "strict",
        "properties": {"message": {"type": "text"}, "labels": {"type": "object", "dynamic": true}}}}});
    ok(&server, "PUT", "/_index_template/strict", &strict);
    let results = write(
        &server,
        "strict-1",
        &[
            json!({"message": "m", "labels": {"a": "b"}}),
            json!({"message": "m", "extra": 1}),
        ],
    );
    assert_eq!((results[0].0, results[1].0), (201, 400));
    assert_eq!(results[1].1, "strict_dynamic_mapping_exception");
    assert!(
        results[1].2.ends_with(
            "mapping set to strict, dynamic introduction of [extra] within [_doc] is not allowed"
        ),
        "{}",
        results[1].2
    );
}

#[test]
fn new_indices_take_their_templates_settings_mappings_and_aliases() {
    let server = EsServer::start();
    let template = json!({"index_patterns": ["app-*"], "template": {
        "settings": {"number_of_shards": 2, "index.lifecycle.name": "p", "refresh_interval": "5s"},
        "mappings": {"properties": {"message": {"type": "text"}}},
        "aliases": {"apps": {}}
    }});
    ok(&server, "PUT", "/_index_template/app", &template);
    ok(
        &server,
        "PUT",
        "/app-explicit",
        &json!({"settings": {"index": {"number_of_shards": 3}},
        "mappings": {"properties": {"level": {"type": "keyword"}}}}),
    );
    assert_eq!(
        items(&bulk(
            &server,
            "{\"create\":{\"_index\":\"app-auto\"}}\n{\"message\":\"m\"}\n"
        ))[0]
            .0,
        201
    );
    let explicit = server.index("app-explicit").unwrap();
    let settings = &explicit["settings"]["index"];
    assert_eq!(settings["number_of_shards"], "3");
    assert_eq!(settings["number_of_replicas"], "1");
    assert_eq!(settings["lifecycle"], json!({"name": "p"}));
    assert_eq!(settings["refresh_interval"], "5s");
    assert_eq!(settings["provided_name"], "app-explicit");
    assert!(settings["creation_date"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .is_ok());
    assert!(settings["uuid"].is_string());
    assert_eq!(
        explicit["mappings"],
        json!({"properties": {"level": {"type": "keyword"}, "message": {"type": "text"}}})
    );
    assert_eq!(explicit["aliases"], json!({"apps": {}}));
    let all = server.indices_with_settings();
    let auto = &all.iter().find(|(n, _)| n == "app-auto").unwrap().1;
    assert_eq!(auto["index"]["number_of_shards"], "2");
    let answer = ok(&server, "GET", "/apps", &Value::Null);
    assert_eq!(
        answer.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["app-auto", "app-explicit"]
    );
    let refused = call(
        &server,
        "PUT",
        "/app-bad",
        &json!({"settings": {"number_of_shardz": 1}}),
    );
    assert_eq!(refused.status, 400);
    let reason = error_reason(&refused);
    assert!(
        reason.starts_with("unknown setting [index.number_of_shardz] did you mean "),
        "{reason}"
    );
    assert!(reason.contains("[index.number_of_shards"), "{reason}");
    let mapping = call(
        &server,
        "PUT",
        "/app-bad",
        &json!({"mappings": {"properties": {"bar": {"type": "foo"}}}}),
    );
    assert_eq!(
        (error_type(&mapping), error_reason(&mapping)),
        (
            "mapper_parsing_exception".into(),
            "Failed to parse mapping: No handler for type [foo] declared on field [bar]".into()
        )
    );
    assert_eq!(
        mapping.json()["error"]["root_cause"][0]["reason"],
        "No handler for type [foo] declared on field [bar]"
    );
    assert!(server.index("app-bad").is_none());
}
