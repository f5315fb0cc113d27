//! `_ilm/explain` for the index layouts a bootstrap can set up, including the one that does not work:
//! daily indices under a rollover policy without a rollover alias (elastic/beats#11866).

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::EsServer;
use crate::setup::{
    call, daily_policy, days_ago, first_rollover_index, ok, rollover_policy, stream_template, today,
};

fn explain(server: &EsServer, target: &str) -> Value {
    ok(
        server,
        "GET",
        &format!("/{target}/_ilm/explain"),
        &Value::Null,
    )["indices"]
        .clone()
}

fn template(server: &EsServer, settings: Value) {
    let body = json!({"index_patterns": ["funlynk-logs-*"], "priority": 200, "template": {"settings": settings}});
    ok(server, "PUT", "/_index_template/funlynk-logs", &body);
}

#[test]
fn daily_indices_under_a_rollover_policy_without_an_alias_fail_at_check_rollover_ready() {
    let server = EsServer::start();
    ok(&server, "PUT", "/_ilm/policy/logs", &rollover_policy());
    template(&server, json!({"index.lifecycle.name": "logs"}));
    let name = format!("funlynk-logs-{}", today());
    let body = format!("{{\"create\":{{\"_index\":\"{name}\"}}}}\n{{\"m\":1}}\n");
    assert_eq!(items(&bulk(&server, &body))[0].0, 201);
    let state = &explain(&server, "funlynk-logs-*")[&name];
    assert_eq!(
        (
            &state["managed"],
            &state["policy"],
            &state["phase"],
            &state["action"],
            &state["step"],
            &state["failed_step"]
        ),
        (
            &json!(true),
            &json!("logs"),
            &json!("hot"),
            &json!("rollover"),
            &json!("ERROR"),
            &json!("check-rollover-ready")
        )
    );
    assert_eq!(
        state["step_info"],
        json!({"type": "illegal_argument_exception",
               "reason": format!("setting [index.lifecycle.rollover_alias] for index [{name}] is empty or not defined")})
    );
    assert_eq!(state["is_auto_retryable_error"], true);
    assert!(state["index_creation_date_millis"].is_i64() && state["age"].is_string());
    assert_eq!(state["phase_execution"]["policy"], "logs");
    // Naming an alias that does not point at the index fails the same step, differently.
    template(
        &server,
        json!({"index.lifecycle.name": "logs", "index.lifecycle.rollover_alias": "funlynk-logs"}),
    );
    ok(&server, "PUT", "/funlynk-logs-stray", &Value::Null);
    let stray = &explain(&server, "funlynk-logs-stray")["funlynk-logs-stray"];
    assert_eq!(stray["step"], "ERROR");
    assert_eq!(
        stray["step_info"]["reason"],
        "index.lifecycle.rollover_alias [funlynk-logs] does not point to index [funlynk-logs-stray]"
    );
    let errors = ok(
        &server,
        "GET",
        "/funlynk-logs-*/_ilm/explain?only_errors=true",
        &Value::Null,
    );
    assert_eq!(errors["indices"].as_object().unwrap().len(), 2);
}

#[test]
fn daily_indices_under_a_policy_without_rollover_age_from_the_date_in_their_name() {
    let server = EsServer::start();
    ok(&server, "PUT", "/_ilm/policy/logs", &daily_policy());
    template(
        &server,
        json!({"index": {"lifecycle": {"name": "logs", "parse_origination_date": true}}}),
    );
    let fresh = format!("funlynk-logs-{}", today());
    let week_old = format!("funlynk-logs-{}", days_ago(10));
    let expired = format!("funlynk-logs-{}", days_ago(40));
    for name in [&fresh, &week_old, &expired] {
        let body = format!("{{\"create\":{{\"_index\":\"{name}\"}}}}\n{{\"m\":1}}\n");
        assert_eq!(items(&bulk(&server, &body))[0].0, 201, "{name}");
    }
    let states = explain(&server, "funlynk-logs-*");
    let phase = |name: &String| {
        let s = &states[name.as_str()];
        assert!(
            s.get("failed_step").is_none() && s.get("step_info").is_none(),
            "{s}"
        );
        (
            s["phase"].as_str().unwrap().to_string(),
            s["action"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(phase(&fresh), ("new".into(), "complete".into()));
    assert_eq!(phase(&week_old), ("warm".into(), "complete".into()));
    assert_eq!(phase(&expired), ("delete".into(), "delete".into()));
    let origin = chrono::NaiveDate::parse_from_str(&days_ago(10), "%Y.%m.%d").unwrap();
    let millis = origin
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    assert_eq!(states[week_old.as_str()]["lifecycle_date_millis"], millis);
    assert!(states[week_old.as_str()]["age"]
        .as_str()
        .unwrap()
        .ends_with('d'));
    assert_eq!(
        states[week_old.as_str()]["phase_execution"]["phase_definition"]["min_age"],
        "7d"
    );
    // ILM refuses to create an index whose name has no date to parse.
    let undated = bulk_refused(
        &server,
        "{\"create\":{\"_index\":\"funlynk-logs-today\"}}\n{\"m\":1}\n",
        400,
        "illegal_argument_exception",
    );
    assert_eq!(
        undated,
        "index name [funlynk-logs-today] does not match pattern '^.*-(\\d{4}.\\d{2}.\\d{2})(-[\\d]+)?$'"
    );
    // Indices outside the policy are listed as unmanaged.
    ok(&server, "PUT", "/other", &Value::Null);
    assert_eq!(
        explain(&server, "other"),
        json!({"other": {"index": "other", "managed": false}})
    );
    let missing = call(&server, "GET", "/nope/_ilm/explain", &Value::Null);
    assert_eq!(
        (missing.status, error_type(&missing)),
        (404, "index_not_found_exception".into())
    );
}

#[test]
fn a_rollover_alias_setup_waits_for_its_rollover_conditions() {
    let server = EsServer::start();
    ok(&server, "PUT", "/_ilm/policy/logs", &rollover_policy());
    template(
        &server,
        json!({"index.lifecycle.name": "logs", "index.lifecycle.rollover_alias": "funlynk-logs"}),
    );
    let created = first_rollover_index(&server);
    let name = created["index"].as_str().unwrap().to_string();
    let results = items(&bulk(
        &server,
        "{\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"m\":1}\n",
    ));
    assert_eq!(results[0].0, 201);
    let states = explain(&server, "funlynk-logs");
    let state = &states[name.as_str()];
    assert_eq!(
        (&state["phase"], &state["action"], &state["step"]),
        (
            &json!("hot"),
            &json!("rollover"),
            &json!("check-rollover-ready")
        )
    );
    assert!(
        state.get("failed_step").is_none() && state.get("step_info").is_none(),
        "{state}"
    );
    assert_eq!(
        ok(
            &server,
            "GET",
            "/funlynk-logs/_ilm/explain?only_errors",
            &Value::Null
        ),
        json!({"indices": {}})
    );
}

#[test]
fn a_data_stream_backing_index_waits_for_rollover_without_an_alias() {
    let server = EsServer::start();
    stream_template(&server);
    let body =
        "{\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"@timestamp\":\"2026-11-24T06:54:58Z\"}\n";
    assert_eq!(items(&bulk(&server, body))[0].0, 201);
    let backing = format!(".ds-funlynk-logs-{}-000001", today());
    let states = explain(&server, "funlynk-logs");
    assert_eq!(
        states.as_object().unwrap().keys().collect::<Vec<_>>(),
        [&backing]
    );
    let state = &states[backing.as_str()];
    assert_eq!(
        (&state["managed"], &state["phase"], &state["step"]),
        (&json!(true), &json!("hot"), &json!("check-rollover-ready"))
    );
    assert!(state.get("step_info").is_none(), "{state}");
    // A policy that does not exist leaves only a step_info saying so.
    ok(
        &server,
        "PUT",
        "/unpoliced",
        &json!({"settings": {"index.lifecycle.name": "missing"}}),
    );
    let unpoliced = &explain(&server, "unpoliced")["unpoliced"];
    assert_eq!(unpoliced["managed"], true);
    assert_eq!(
        unpoliced["step_info"],
        json!({"type": "illegal_argument_exception", "reason": "policy [missing] does not exist"})
    );
}

#[test]
fn a_7_17_node_says_so_as_a_7_17_node_does() {
    let server = EsServer::start_with(crate::elasticsearch::EsOptions {
        version: "7.17.25".into(),
        ..crate::elasticsearch::EsOptions::default()
    });
    let info = ok(&server, "GET", "/", &Value::Null);
    assert_eq!(info["version"]["number"], "7.17.25");
    assert_eq!(info["version"]["build_flavor"], "default");
    assert_eq!(info["version"]["lucene_version"], "8.11.3");
    assert_eq!(
        info["version"]["minimum_wire_compatibility_version"],
        "6.8.0"
    );
    assert_eq!(info["tagline"], "You Know, for Search");
}
