//! `_has_privileges` and `_cluster/health`: what `loglynk doctor` asks a cluster before it trusts it.

use std::time::Duration;

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer, Grants};
use crate::setup::{call, ok};

fn as_user(server: &EsServer, method: &str, path: &str, body: &Value) -> Reply {
    // elastic:changeme
    send(
        server.addr(),
        method,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="),
        ],
        body.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .expect("an answer")
}

#[test]
fn has_privileges_answers_per_index_and_privilege_from_the_grants() {
    let server = EsServer::start_with(EsOptions {
        grants: Some(Grants {
            cluster: vec!["monitor".into()],
            indices: vec![(vec!["funlynk-*".into()], vec!["index".into()])],
        }),
        ..EsOptions::with_basic_auth("elastic", "changeme")
    });
    let asked = json!({
        "cluster": ["monitor", "manage_ilm"],
        "index": [{"names": ["funlynk-logs-*", "other"], "privileges": ["create_doc", "index", "delete"]}],
    });
    let reply = as_user(&server, "POST", "/_security/user/_has_privileges", &asked);
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.json(),
        json!({
            "username": "elastic",
            "has_all_requested": false,
            "cluster": {"monitor": true, "manage_ilm": false},
            "index": {
                "funlynk-logs-*": {"create_doc": true, "index": true, "delete": false},
                "other": {"create_doc": false, "index": false, "delete": false},
            },
            "application": {},
        })
    );
    let only_held = json!({"index": [{"names": ["funlynk-logs-*"], "privileges": ["create_doc"]}]});
    let reply = as_user(
        &server,
        "GET",
        "/_security/user/_has_privileges",
        &only_held,
    );
    assert_eq!(reply.json()["has_all_requested"], true);

    let unauthenticated = call(
        &server,
        "POST",
        "/_security/user/_has_privileges",
        &only_held,
    );
    assert_eq!(unauthenticated.status, 401);
    let nothing = as_user(
        &server,
        "POST",
        "/_security/user/_has_privileges",
        &json!({}),
    );
    assert_eq!(nothing.status, 400);
    assert_eq!(error_type(&nothing), "action_request_validation_exception");
    let stray = as_user(
        &server,
        "POST",
        "/_security/user/_has_privileges",
        &json!({"indices": []}),
    );
    assert_eq!(error_type(&stray), "parse_exception");
}

#[test]
fn without_grants_the_user_is_a_superuser_and_without_auth_security_is_off() {
    let server = EsServer::start_with(EsOptions::with_basic_auth("elastic", "changeme"));
    let asked = json!({"cluster": ["manage_ilm"], "index": [{"names": ["x-*"], "privileges": ["create_doc"]}]});
    let reply = as_user(&server, "POST", "/_security/user/_has_privileges", &asked);
    assert_eq!(reply.json()["has_all_requested"], true);

    let open = EsServer::start();
    let reply = call(&open, "POST", "/_security/user/_has_privileges", &asked);
    assert_eq!(reply.status, 500);
    assert_eq!(error_type(&reply), "security_exception");
    assert!(error_reason(&reply).contains("xpack.security.enabled"));
}

#[test]
fn cluster_health_is_yellow_while_an_index_wants_replicas() {
    let server = EsServer::start();
    let health = ok(&server, "GET", "/_cluster/health", &Value::Null);
    assert_eq!(health["status"], "green");
    assert_eq!(health["number_of_nodes"], 1);
    ok(&server, "PUT", "/replicated", &json!({}));
    let health = ok(&server, "GET", "/_cluster/health", &Value::Null);
    assert_eq!(
        (
            health["status"].as_str(),
            health["unassigned_shards"].as_u64()
        ),
        (Some("yellow"), Some(1))
    );
    ok(
        &server,
        "PUT",
        "/single",
        &json!({"settings": {"index": {"number_of_replicas": 0}}}),
    );
    ok(&server, "DELETE", "/replicated", &Value::Null);
    assert_eq!(
        ok(&server, "GET", "/_cluster/health", &Value::Null)["status"],
        "green"
    );
    server.faults().set(|f| f.health = Some("red".into()));
    assert_eq!(
        ok(&server, "GET", "/_cluster/health", &Value::Null)["status"],
        "red"
    );
    let wrong = call(&server, "POST", "/_cluster/health", &Value::Null);
    assert_eq!(wrong.status, 405);
    let param = call(&server, "GET", "/_cluster/health?bogus=1", &Value::Null);
    assert_eq!(param.status, 400);
}
