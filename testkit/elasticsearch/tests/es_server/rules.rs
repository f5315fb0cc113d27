//! Elasticsearch's rules: index names, mappings, duplicate keys, versions, auth, routing.

use std::time::Duration;

use serde_json::json;

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};

#[test]
fn invalid_index_names_fail_their_items_with_the_rule_broken() {
    let server = EsServer::start();
    let long = "a".repeat(256);
    let cases: Vec<(&str, String)> = vec![
        ("Logs", "must be lowercase".into()),
        (
            "a b",
            "must not contain the following characters ['\\','/','*','?','\"','<','>','|',' ',',']"
                .into(),
        ),
        ("a*b", "must not contain the following characters".into()),
        ("a#b", "must not contain '#'".into()),
        ("a:b", "must not contain ':'".into()),
        ("_a", "must not start with '_', '-', or '+'".into()),
        ("-a", "must not start with '_', '-', or '+'".into()),
        ("+a", "must not start with '_', '-', or '+'".into()),
        ("..", "must not be '.' or '..'".into()),
        (&long, "index name is too long, (256 > 255)".into()),
    ];
    let mut body = String::new();
    for (name, _) in &cases {
        body.push_str(&format!(
            "{}\n{{\"m\":1}}\n",
            json!({"index": {"_index": name}})
        ));
    }
    body.push_str("{\"index\":{\"_index\":\"ok\"}}\n{\"m\":1}\n");
    let reply = bulk(&server, &body);
    assert_eq!(reply.json()["errors"], true);
    let results = items(&reply);
    assert_eq!(results.len(), cases.len() + 1);
    for ((name, rule), (status, kind, reason)) in cases.iter().zip(&results) {
        assert_eq!(
            (*status, kind.as_str()),
            (400, "invalid_index_name_exception"),
            "{name}"
        );
        assert!(
            reason.starts_with(&format!("Invalid index name [{name}], {rule}")),
            "{reason}"
        );
    }
    assert_eq!(
        reply.json()["items"][0]["index"]["error"]["index_uuid"],
        "_na_"
    );
    assert_eq!(results.last().map(|r| r.0), Some(201));
    assert_eq!(server.indices(), ["ok"]);
}

#[test]
fn mapping_conflicts_duplicate_keys_and_create_conflicts_fail_per_item() {
    let server = EsServer::start();
    let first = bulk(&server, "{\"index\":{\"_index\":\"m\"}}\n{\"json\":{\"status\":\"ok\",\"obj\":{\"a\":1}},\"n\":1,\"b\":true}\n");
    assert_eq!(first.json()["errors"], false);
    let docs = [
        ("{\"json\":{\"status\":{\"code\":1}}}", "failed to parse field [json.status] of type [keyword] in document with id 'd1'. Preview of field's value: '{code=1}'"),
        ("{\"json.status\":{\"code\":1}}", "failed to parse field [json.status] of type [keyword]"),
        ("{\"json\":{\"obj\":\"flat\"}}", "object mapping for [json.obj] tried to parse field [obj] as object, but found a concrete value"),
        ("{\"n\":\"abc\"}", "failed to parse field [n] of type [long] in document with id 'd4'. Preview of field's value: 'abc'"),
        ("{\"b\":1}", "failed to parse field [b] of type [boolean]"),
        ("{\"x\":1,\"x\":2}", "failed to parse: Duplicate field 'x'"),
        ("{\"json\":{\"status\":7,\"obj\":{\"a\":\"2\"}},\"n\":\"12\",\"b\":\"false\"}", ""),
    ];
    let mut body = String::new();
    for (i, (doc, _)) in docs.iter().enumerate() {
        body.push_str(&format!(
            "{{\"index\":{{\"_index\":\"m\",\"_id\":\"d{}\"}}}}\n{doc}\n",
            i + 1
        ));
    }
    let results = items(&bulk(&server, &body));
    assert_eq!(results.len(), docs.len());
    for ((doc, reason), (status, kind, got)) in docs.iter().zip(&results) {
        if reason.is_empty() {
            assert_eq!(*status, 201, "{doc}: {got}");
            continue;
        }
        assert_eq!(
            (*status, kind.as_str()),
            (400, "document_parsing_exception"),
            "{doc}"
        );
        assert!(
            got.starts_with("[1:") && got.contains(reason),
            "{doc}: {got}"
        );
    }
    assert_eq!(server.documents("m").len(), 2);
    assert_eq!(
        server.mapping("m").expect("mapping")["json.status"],
        "keyword"
    );
    let create = "{\"create\":{\"_index\":\"m\",\"_id\":\"c\"}}\n{\"m\":1}\n";
    assert_eq!(items(&bulk(&server, create))[0].0, 201);
    let again = bulk_refused(&server, create, 409, "version_conflict_engine_exception");
    assert_eq!(
        again,
        "[c]: version conflict, document already exists (current version [1])"
    );
}

#[test]
fn credentials_are_required_when_configured() {
    let options = EsOptions {
        api_key: Some("id1:secret".into()),
        ..EsOptions::with_basic_auth("elastic", "changeme")
    };
    let server = EsServer::start_with(options);
    let missing = get(&server, "/", &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("X-Elastic-Product"), ["Elasticsearch"]);
    assert!(missing
        .header("WWW-Authenticate")
        .contains(&"Basic realm=\"security\" charset=\"UTF-8\""));
    assert_eq!(error_type(&missing), "security_exception");
    assert_eq!(
        error_reason(&missing),
        "missing authentication credentials for REST request [/]"
    );
    let wrong = send(
        server.addr(),
        "POST",
        "/_bulk",
        &[NDJSON, ("Authorization", "Basic ZWxhc3RpYzp3cm9uZw==")],
        b"{}\n",
        Duration::from_secs(5),
    )
    .expect("answer");
    assert_eq!(wrong.status, 401);
    assert_eq!(
        error_reason(&wrong),
        "unable to authenticate user [elastic] for REST request [/_bulk]"
    );
    let right = get(
        &server,
        "/",
        &[("Authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==")],
    );
    assert_eq!(right.status, 200);
    let api_key = get(
        &server,
        "/",
        &[("Authorization", "ApiKey aWQxOnNlY3JldA==")],
    );
    assert_eq!(api_key.status, 200);
    assert_eq!(
        get(&server, "/", &[("Authorization", "ApiKey aWQxOm5vcGU=")]).status,
        401
    );
}

#[test]
fn unknown_paths_wrong_methods_and_parameters_get_elasticsearch_answers() {
    let server = EsServer::start();
    let none = get(&server, "/_nope/x", &[]);
    assert_eq!(
        none.json(),
        json!({"error": "no handler found for uri [/_nope/x] and method [GET]", "status": 400})
    );
    let method = get(&server, "/_bulk", &[]);
    assert_eq!(method.status, 405);
    assert_eq!(
        method.json()["error"],
        "Incorrect HTTP method for uri [/_bulk] and method [GET], allowed: [POST, PUT]"
    );
    let missing = get(&server, "/nosuchindex", &[]);
    assert_eq!(
        (missing.status, error_type(&missing)),
        (404, "index_not_found_exception".into())
    );
    let param = bulk_to(
        &server,
        "/_bulk?bogus=1",
        "{\"index\":{\"_index\":\"a\"}}\n{}\n",
    );
    assert_eq!(
        error_reason(&param),
        "request [/_bulk] contains unrecognized parameter: [bogus]"
    );
    for reply in [none, method, missing, param] {
        assert_eq!(reply.header("X-Elastic-Product"), ["Elasticsearch"]);
    }
    let filtered = bulk_to(
        &server,
        "/_bulk?filter_path=errors,items.*.error,items.*.status",
        "{\"index\":{\"_index\":\"a\"}}\n{}\n",
    );
    assert_eq!(
        filtered.json(),
        json!({"errors": false, "items": [{"index": {"status": 201}}]})
    );
}
