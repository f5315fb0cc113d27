//! Where writes go: date math index names, write aliases, data streams.

use serde_json::{json, Value};

use crate::client::*;
use crate::elasticsearch::EsServer;
use crate::setup::{call, days_ago, first_rollover_index, ok, stream_template, today};

#[test]
fn a_date_math_index_with_a_write_alias_takes_the_bulk_writes_to_the_alias() {
    let server = EsServer::start();
    let created = first_rollover_index(&server);
    let name = format!("funlynk-logs-{}-000001", today());
    assert_eq!(
        created,
        json!({"acknowledged": true, "shards_acknowledged": true, "index": name})
    );
    let index = server.index(&name).unwrap();
    assert_eq!(
        index["settings"]["index"]["provided_name"],
        "<funlynk-logs-{now/d}-000001>"
    );
    assert_eq!(
        ok(&server, "GET", "/_alias/funlynk-logs", &Value::Null),
        json!({ &name: {"aliases": {"funlynk-logs": {"is_write_index": true}}}})
    );
    assert_eq!(
        call(&server, "HEAD", "/_alias/funlynk-logs", &Value::Null).status,
        200
    );
    let missing = call(&server, "GET", "/_alias/nope", &Value::Null);
    assert_eq!(
        (missing.status, missing.json()),
        (404, json!({"error": "alias [nope] missing", "status": 404}))
    );
    assert_eq!(
        call(&server, "HEAD", "/_alias/nope", &Value::Null).status,
        404
    );

    let reply = bulk(&server, "{\"index\":{\"_index\":\"funlynk-logs\"}}\n{\"m\":1}\n{\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"m\":2}\n");
    assert_eq!(reply.json()["errors"], false);
    assert_eq!(reply.json()["items"][0]["index"]["_index"], name.as_str());
    assert_eq!(server.documents(&name).len(), 2);
    assert_eq!(server.documents("funlynk-logs").len(), 2);

    // The alias's name cannot be taken by an index, nor can a second index be its write index.
    let taken = call(&server, "PUT", "/funlynk-logs", &Value::Null);
    assert_eq!(
        (taken.status, error_type(&taken), error_reason(&taken)),
        (
            400,
            "invalid_index_name_exception".into(),
            "Invalid index name [funlynk-logs], already exists as alias".into()
        )
    );
    let write_alias = json!({"aliases": {"funlynk-logs": {"is_write_index": true}}});
    let second = call(&server, "PUT", "/funlynk-logs-2", &write_alias);
    assert_eq!(
        error_reason(&second),
        "alias [funlynk-logs] has more than one write index [".to_string()
            + &name
            + ",funlynk-logs-2]"
    );
    // Two indices, none the write index: writes to the alias fail.
    ok(&server, "PUT", "/old-1", &json!({"aliases": {"old": {}}}));
    ok(&server, "PUT", "/old-2", &json!({"aliases": {"old": {}}}));
    let reason = bulk_refused(
        &server,
        "{\"index\":{\"_index\":\"old\"}}\n{\"m\":1}\n",
        400,
        "illegal_argument_exception",
    );
    assert!(
        reason.starts_with("no write index is defined for alias [old]."),
        "{reason}"
    );
    // The other date math forms.
    let month = chrono::Utc::now().format("%Y.%m").to_string();
    let explicit = ok(
        &server,
        "PUT",
        "/%3Cm-%7Bnow%2FM%7Byyyy.MM%7D%7D%3E",
        &Value::Null,
    );
    assert_eq!(explicit["index"], format!("m-{month}"));
    let yesterday = ok(&server, "PUT", "/%3Cd-%7Bnow-1d%2Fd%7D%3E", &Value::Null);
    assert_eq!(yesterday["index"], format!("d-{}", days_ago(1)));
    let via_bulk = bulk(
        &server,
        "{\"index\":{\"_index\":\"<b-{now/d}>\"}}\n{\"m\":1}\n",
    )
    .json();
    assert_eq!(
        via_bulk["items"][0]["index"]["_index"],
        format!("b-{}", today())
    );
}

#[test]
fn a_create_makes_the_data_stream_and_an_index_op_is_refused() {
    let server = EsServer::start();
    stream_template(&server);
    let backing = format!(".ds-funlynk-logs-{}-000001", today());
    let reply = bulk(
        &server,
        "{\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"@timestamp\":\"2026-11-24T06:54:58.123456789Z\",\"message\":\"m\"}\n\
         {\"index\":{\"_index\":\"funlynk-logs\"}}\n{\"@timestamp\":\"2026-11-24T06:54:58Z\"}\n\
         {\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"message\":\"no time\"}\n\
         {\"create\":{\"_index\":\"funlynk-logs\"}}\n{\"@timestamp\":\"yesterday\"}\n",
    );
    let answer = reply.json();
    assert_eq!(answer["items"][0]["create"]["_index"], backing.as_str());
    assert_eq!(answer["items"][0]["create"]["status"], 201);
    let results = items(&reply);
    assert_eq!(
        (results[1].0, results[1].1.as_str(), results[1].2.as_str()),
        (
            400,
            "illegal_argument_exception",
            "only write ops with an op_type of create are allowed in data streams"
        )
    );
    assert_eq!(
        (results[2].0, results[2].1.as_str()),
        (400, "document_parsing_exception")
    );
    assert!(
        results[2]
            .2
            .ends_with("failed to parse: data stream timestamp field [@timestamp] is missing"),
        "{}",
        results[2].2
    );
    assert!(
        results[3].2.contains("of type [date_nanos]"),
        "{}",
        results[3].2
    );
    assert_eq!(server.documents("funlynk-logs").len(), 1);
    assert_eq!(
        server.data_streams(),
        [("funlynk-logs".to_string(), vec![backing.clone()])]
    );

    let got = ok(&server, "GET", "/_data_stream/funlynk-logs", &Value::Null);
    let stream = &got["data_streams"][0];
    let uuid = server.index(&backing).unwrap()["settings"]["index"]["uuid"].clone();
    assert_eq!(stream["name"], "funlynk-logs");
    assert_eq!(stream["timestamp_field"], json!({"name": "@timestamp"}));
    assert_eq!(stream["indices"][0]["index_name"], backing.as_str());
    assert_eq!(stream["indices"][0]["index_uuid"], uuid);
    assert_eq!(
        (
            stream["generation"].clone(),
            stream["status"].clone(),
            stream["template"].clone(),
            stream["ilm_policy"].clone()
        ),
        (
            json!(1),
            json!("GREEN"),
            json!("funlynk-logs"),
            json!("logs")
        )
    );
    assert_eq!(
        (stream["hidden"].clone(), stream["system"].clone()),
        (json!(false), json!(false))
    );
    let index = server.index(&backing).unwrap();
    assert_eq!(index["data_stream"], "funlynk-logs");
    assert_eq!(index["settings"]["index"]["hidden"], "true");
    assert_eq!(index["settings"]["index"]["lifecycle"]["name"], "logs");
    assert_eq!(
        index["mappings"]["properties"]["@timestamp"],
        json!({"type": "date_nanos"})
    );

    let missing = call(&server, "GET", "/_data_stream/nope", &Value::Null);
    assert_eq!(
        (missing.status, error_type(&missing)),
        (404, "index_not_found_exception".into())
    );
    let index_api = call(&server, "PUT", "/funlynk-logs", &Value::Null);
    assert_eq!(index_api.status, 400);
    let direct = items(&bulk(
        &server,
        &format!("{{\"create\":{{\"_index\":\"{backing}\"}}}}\n{{\"@timestamp\":1}}\n"),
    ));
    assert!(
        direct[0].2.starts_with(
            "index request with op_type=create targeting backing indices is disallowed"
        ),
        "{}",
        direct[0].2
    );
    let template_in_use = call(
        &server,
        "DELETE",
        "/_index_template/funlynk-logs",
        &Value::Null,
    );
    assert_eq!(
        error_reason(&template_in_use),
        "unable to remove composable templates [funlynk-logs] as they are in use by a data streams [funlynk-logs]"
    );
    ok(
        &server,
        "DELETE",
        "/_data_stream/funlynk-logs",
        &Value::Null,
    );
    assert!(server.index(&backing).is_none());
    // The data stream API makes one too; a name without a data stream template is refused.
    ok(&server, "PUT", "/_data_stream/funlynk-logs", &Value::Null);
    let plain = call(&server, "PUT", "/_data_stream/other", &Value::Null);
    assert_eq!(
        error_reason(&plain),
        "no matching index template found for data stream [other]"
    );
}
