//! The Elasticsearch client against the test server, over real HTTP and HTTPS. TLS cases live in
//! `es_client/tls.rs`.

use testkit_elasticsearch as elasticsearch;

mod tls;

use std::time::Duration;

use loglynk::config::{ElasticsearchOutput, Secret, Ssl, VerificationMode};
use loglynk::event::{Encoder, Event, Origin, StaticFields, Text, Timestamp};
use loglynk::output::elasticsearch::bulk::{BulkAction, BulkBuilder, BulkRequest};
use loglynk::output::elasticsearch::client::EsClient;
use loglynk::output::elasticsearch::index::IndexPattern;
use serde_json::json;

use elasticsearch::{EsOptions, EsServer};

const INDEX: &str = "logs-test";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A config for these hosts with no credentials and no CA, so a plain-HTTP test needs no files.
fn config(hosts: &[String]) -> ElasticsearchOutput {
    ElasticsearchOutput {
        hosts: hosts
            .iter()
            .map(|h| url::Url::parse(h).expect("host URL"))
            .collect(),
        username: None,
        password: None,
        api_key: None,
        ssl: Ssl {
            certificate_authorities: Vec::new(),
            certificate: None,
            key: None,
            verification_mode: VerificationMode::Full,
        },
        index: INDEX.to_owned(),
        ..ElasticsearchOutput::default()
    }
}

/// A bulk body of `n` events, built the way the output builds it.
fn request(n: usize, compression_level: u32) -> BulkRequest {
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: json!({"type": "loglynk"}),
    });
    let pattern = IndexPattern::parse(INDEX).expect("index pattern");
    let mut builder = BulkBuilder::new(pattern, BulkAction::Create, encoder);
    builder.set_compression(compression_level);
    for i in 0..n {
        let event = Event::new(
            Origin::new("/a.log".into(), Default::default()),
            Timestamp::parse_rfc3339("2024-05-01T12:00:00Z").expect("timestamp"),
            Text::from(format!("line {i}")),
            i as u64,
        );
        builder.push(&event).expect("event fits the pattern");
    }
    builder.finish()
}

#[tokio::test]
async fn info_returns_the_servers_version() {
    let server = EsServer::start();
    let client = EsClient::new(&config(&[server.url()])).expect("client");
    let info = client.info().await.expect("info");
    assert_eq!(info.version, "8.15.0");
    assert_eq!(info.host, server.url());
}

#[tokio::test]
async fn bulk_stores_documents_plain_and_gzipped() {
    let server = EsServer::start();
    let client = EsClient::new(&config(&[server.url()])).expect("client");
    let plain = request(3, 0);
    let gzipped = request(2, 6);
    assert!(!plain.gzip && gzipped.gzip);
    for body in [&plain, &gzipped] {
        let reply = client.bulk(body, TIMEOUT).await.expect("bulk");
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let answer: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON");
        assert_eq!(answer["errors"], false);
    }
    assert_eq!(server.documents(INDEX).len(), 5);
    let log = server.requests();
    let compressed: Vec<bool> = log.bulk().iter().map(|r| r.compressed).collect();
    assert_eq!(compressed, [false, true]);
    assert_eq!(log.bulk()[1].body, gzipped.uncompressed().to_vec());
}

#[tokio::test]
async fn basic_auth_right_and_wrong() {
    let server = EsServer::start_with(EsOptions::with_basic_auth("elastic", "s3cret-pw"));
    let mut good = config(&[server.url()]);
    good.username = Some("elastic".to_owned());
    good.password = Some(Secret::new("s3cret-pw"));
    let client = EsClient::new(&good).expect("client");
    assert_eq!(
        client
            .bulk(&request(1, 0), TIMEOUT)
            .await
            .expect("bulk")
            .status,
        200
    );

    let mut bad = good.clone();
    bad.password = Some(Secret::new("wrong-pw"));
    let client = EsClient::new(&bad).expect("client");
    // A 401 is an answer for the caller to classify, not a transport failure.
    let reply = client.bulk(&request(1, 0), TIMEOUT).await.expect("reply");
    assert_eq!(reply.status, 401);
    assert_eq!(server.documents(INDEX).len(), 1);
}

#[tokio::test]
async fn api_key_in_filebeat_form_and_already_encoded() {
    let server = EsServer::start_with(EsOptions {
        api_key: Some("key-id:key-secret".to_owned()),
        ..EsOptions::default()
    });
    let encoded = elasticsearch_base64("key-id:key-secret");
    for key in ["key-id:key-secret", encoded.as_str()] {
        let mut with_key = config(&[server.url()]);
        with_key.username = None;
        with_key.api_key = Some(Secret::new(key));
        let client = EsClient::new(&with_key).expect("client");
        let reply = client.bulk(&request(1, 0), TIMEOUT).await.expect("bulk");
        assert_eq!(reply.status, 200, "{key}: {:?}", reply.body);
    }
    let mut wrong = config(&[server.url()]);
    wrong.api_key = Some(Secret::new("key-id:nope"));
    let client = EsClient::new(&wrong).expect("client");
    assert_eq!(
        client
            .bulk(&request(1, 0), TIMEOUT)
            .await
            .expect("reply")
            .status,
        401
    );
}

fn elasticsearch_base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn requests_go_round_robin_across_hosts() {
    let (a, b) = (EsServer::start(), EsServer::start());
    let client = EsClient::new(&config(&[a.url(), b.url()])).expect("client");
    for _ in 0..4 {
        assert_eq!(
            client
                .bulk(&request(1, 0), TIMEOUT)
                .await
                .expect("bulk")
                .status,
            200
        );
    }
    assert_eq!(a.requests().bulk().len(), 2);
    assert_eq!(b.requests().bulk().len(), 2);
}

#[tokio::test]
async fn a_host_that_is_down_is_skipped() {
    let (a, b) = (EsServer::start(), EsServer::start());
    b.faults().set(|c| c.down = true);
    let client = EsClient::new(&config(&[a.url(), b.url()])).expect("client");
    for _ in 0..4 {
        let reply = client.bulk(&request(1, 0), TIMEOUT).await.expect("bulk");
        assert_eq!((reply.status, reply.host), (200, a.url()));
    }
    assert_eq!(a.documents(INDEX).len(), 4);
    assert!(b.requests().records.is_empty());
}

#[tokio::test]
async fn every_host_down_is_an_error_naming_one() {
    let server = EsServer::start();
    let url = server.url();
    drop(server);
    let mut cfg = config(std::slice::from_ref(&url));
    cfg.username = Some("elastic".to_owned());
    cfg.password = Some(Secret::new("hunter2-pw"));
    let client = EsClient::new(&cfg).expect("client");
    let error = client
        .bulk(&request(1, 0), TIMEOUT)
        .await
        .expect_err("refused");
    let text = format!("{error} / {error:?}");
    assert!(text.contains(&url), "{text}");
    assert!(!text.contains("hunter2-pw"), "{text}");
    let error = client.info().await.expect_err("refused");
    assert!(error.to_string().contains(&url), "{error}");
}
