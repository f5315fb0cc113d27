//! What differs in the answers of 7.17, 8.x and 9.x nodes, as the agent and `bootstrap` see them.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};
use crate::setup::{call, ok};

fn server(version: &str) -> EsServer {
    EsServer::start_with(EsOptions {
        version: version.into(),
        ..EsOptions::default()
    })
}

#[test]
fn root_reports_the_lucene_and_compatibility_versions_of_each_release() {
    for (version, lucene, wire) in [
        ("7.17.25", "8.11.3", "6.8.0"),
        ("8.17.0", "9.12.0", "7.17.0"),
        ("9.0.3", "10.1.0", "8.18.0"),
        ("9.1.0", "10.2.2", "8.19.0"),
    ] {
        let es = server(version);
        let info = get(&es, "/", &[]).json();
        assert_eq!(info["version"]["number"], version);
        assert_eq!(info["version"]["lucene_version"], lucene, "{version}");
        assert_eq!(
            info["version"]["minimum_wire_compatibility_version"], wire,
            "{version}"
        );
    }
}

const ONE_DOC: &str = "{\"index\":{\"_index\":\"logs-x\"}}\n{\"m\":1}\n";

#[test]
fn only_7_17_names_a_mapping_type_in_bulk_items() {
    let item = |version: &str| bulk(&server(version), ONE_DOC).json()["items"][0]["index"].clone();
    assert_eq!(item("7.17.25")["_type"], "_doc");
    for version in ["8.8.0", "9.1.0"] {
        let item = item(version);
        assert_eq!(item["status"], 201, "{version}");
        assert!(item.get("_type").is_none(), "{version}: {item}");
    }
}

#[test]
fn from_9_2_templates_carry_their_dates_and_a_put_may_not_set_them() {
    let template = json!({"index_patterns": ["funlynk-logs-*"], "priority": 200});
    let read = |es: &EsServer| -> Value {
        ok(es, "GET", "/_index_template/funlynk-logs", &Value::Null)["index_templates"][0]
            ["index_template"]
            .clone()
    };
    let old = server("9.1.0");
    ok(&old, "PUT", "/_index_template/funlynk-logs", &template);
    assert!(read(&old).get("created_date_millis").is_none());

    let es = server("9.2.0");
    ok(&es, "PUT", "/_index_template/funlynk-logs", &template);
    let first = read(&es);
    let created = first["created_date_millis"]
        .as_i64()
        .expect("created_date_millis");
    assert_eq!(first["modified_date_millis"].as_i64(), Some(created));
    std::thread::sleep(std::time::Duration::from_millis(5));
    ok(&es, "PUT", "/_index_template/funlynk-logs", &template);
    let second = read(&es);
    assert_eq!(second["created_date_millis"].as_i64(), Some(created));
    assert!(second["modified_date_millis"].as_i64().unwrap() > created);
    let mut with_dates = template.clone();
    with_dates["created_date_millis"] = json!(created);
    let refused = call(&es, "PUT", "/_index_template/funlynk-logs", &with_dates);
    assert_eq!(refused.status, 400);
    assert!(
        error_reason(&refused).contains("unknown field [created_date_millis]"),
        "{}",
        error_reason(&refused)
    );
}
