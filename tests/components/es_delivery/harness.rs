//! The harness of `es_delivery.rs`: events and bulk requests built the way the output builds
//! them, a `Deliverer` wired to the test server through the real client, and readers for what the
//! server stored, what it was sent, and what was dead-lettered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use loglynk::config::{ElasticsearchOutput, Secret, Ssl};
use loglynk::event::{Encoder, Event, Field, FieldValue, Origin, StaticFields, Text, Timestamp};
use loglynk::output::elasticsearch::bulk::{BulkAction, BulkBuilder, BulkRequest};
use loglynk::output::elasticsearch::client::EsClient;
use loglynk::output::elasticsearch::dead_letter::{self, DeadLetters};
use loglynk::output::elasticsearch::delivery::Deliverer;
use loglynk::output::elasticsearch::index::IndexPattern;
use loglynk::telemetry::Telemetry;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use testkit_elasticsearch::{EsServer, RequestRecord};

pub const INDEX: &str = "logs-delivery";
/// The seed of the deliverer's backoff jitter.
pub const SEED: u64 = 42;
/// No test's delivery may take longer than this.
const DELIVERY_LIMIT: Duration = Duration::from_secs(20);
/// How long a fault-clearing thread waits for its condition.
const CONDITION_LIMIT: Duration = Duration::from_secs(15);

/// Event `i`, with a message of fixed width so every document is the same size.
pub fn event(i: usize) -> Event {
    event_with_message(i, format!("line {i:04}"))
}

pub fn event_with_message(i: usize, message: String) -> Event {
    Event::new(
        Origin::new("/var/log/containers/app.log".into(), Default::default()),
        Timestamp::parse_rfc3339("2024-05-01T12:00:00Z").expect("timestamp"),
        Text::from(message),
        i as u64 * 100,
    )
}

/// An event with a `json` field holding `value`.
pub fn event_with_json(i: usize, value: Value) -> Event {
    let mut event = event(i);
    event.fields.push(Field {
        path: "json".into(),
        value: FieldValue::Json(value),
    });
    event
}

pub fn events(n: usize) -> Vec<Event> {
    (0..n).map(event).collect()
}

/// The messages of `events(n)`, sorted.
pub fn expected_messages(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("line {i:04}")).collect()
}

pub fn request(events: &[Event], compression_level: u32) -> BulkRequest {
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: json!({"type": "loglynk"}),
    });
    let pattern = IndexPattern::parse(INDEX).expect("index pattern");
    let mut builder = BulkBuilder::new(pattern, BulkAction::Index, encoder);
    builder.set_compression(compression_level);
    for event in events {
        builder.push(event).expect("event fits the pattern");
    }
    builder.finish()
}

/// A config for the server with no credentials and no CA.
pub fn config(server: &EsServer) -> ElasticsearchOutput {
    ElasticsearchOutput {
        hosts: vec![url::Url::parse(&server.url()).expect("server URL")],
        ssl: Ssl {
            certificate_authorities: vec![],
            ..Default::default()
        },
        username: None,
        index: INDEX.to_owned(),
        ..Default::default()
    }
}

pub fn config_with_basic_auth(
    server: &EsServer,
    user: &str,
    password: &str,
) -> ElasticsearchOutput {
    ElasticsearchOutput {
        username: Some(user.to_owned()),
        password: Some(Secret::new(password)),
        ..config(server)
    }
}

/// What delivery did, read from telemetry: the events from the ledger, the attempts from delivery's
/// counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub acked: u64,
    pub dead_lettered: u64,
    pub retried_items: u64,
    pub failed_requests: u64,
    pub requests: u64,
}

pub struct Harness {
    pub server: Arc<EsServer>,
    pub deliverer: Deliverer,
    /// Holds the state directory for as long as the harness lives.
    _dir: tempfile::TempDir,
    dead_letter_path: PathBuf,
}

impl Harness {
    /// Fast backoff (10 ms doubling to 100 ms), a 10 s request timeout, no compression.
    pub fn new(server: EsServer) -> Harness {
        let config = config(&server);
        Harness::with(server, &config, Duration::from_secs(10), 0)
    }

    pub fn with(
        server: EsServer,
        config: &ElasticsearchOutput,
        timeout: Duration,
        compression_level: u32,
    ) -> Harness {
        let dir = tempfile::tempdir().expect("state dir");
        let dead_letters = DeadLetters::open(
            dir.path(),
            dead_letter::DEFAULT_MAX_BYTES,
            dead_letter::DEFAULT_KEEP,
        )
        .expect("dead-letter file");
        let dead_letter_path = dead_letters.path().to_owned();
        let deliverer = Deliverer {
            client: EsClient::new(config).expect("client"),
            dead_letters: Arc::new(Mutex::new(dead_letters)),
            telemetry: Arc::default(),
            compression_level,
            timeout,
            backoff_init: Duration::from_millis(10),
            backoff_max: Duration::from_millis(100),
        };
        Harness {
            server: Arc::new(server),
            deliverer,
            _dir: dir,
            dead_letter_path,
        }
    }

    /// Delivers `request`, failing the test when that takes longer than 20 s.
    pub async fn deliver(&self, request: BulkRequest) {
        tokio::time::timeout(DELIVERY_LIMIT, self.deliverer.deliver(request, SEED))
            .await
            .expect("deliver() returned within 20 s");
    }

    pub fn stats(&self) -> Stats {
        stats_of(&self.deliverer.telemetry)
    }

    /// Every line of the dead-letter file (none when it was never written).
    pub fn dead_letters(&self) -> Vec<Value> {
        match std::fs::read_to_string(&self.dead_letter_path) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).expect("dead-letter line is JSON"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot read the dead-letter file: {e}"),
        }
    }

    /// The messages of the stored documents, in the order they were first written.
    pub fn stored_messages(&self) -> Vec<String> {
        self.server
            .documents(INDEX)
            .iter()
            .map(|d| message(d).to_owned())
            .collect()
    }

    /// The bulk requests the server received, in order.
    pub fn bulk_requests(&self) -> Vec<RequestRecord> {
        self.server.requests().bulk().into_iter().cloned().collect()
    }

    /// On another thread: waits (at most 15 s) for `condition` and at least `min_delay`, then applies
    /// `change` to the server. Join the handle to learn whether the condition was met in time.
    pub fn change_when(
        &self,
        min_delay: Duration,
        condition: impl Fn(&EsServer, Stats) -> bool + Send + 'static,
        change: impl FnOnce(&EsServer) + Send + 'static,
    ) -> JoinHandle<bool> {
        let server = self.server.clone();
        let telemetry = self.deliverer.telemetry.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let read = || stats_of(&telemetry);
            let met = loop {
                let met = condition(&server, read());
                if met && started.elapsed() >= min_delay {
                    break true;
                }
                if started.elapsed() >= CONDITION_LIMIT {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            // Cleared even when the condition never held, so the delivery can still finish.
            change(&server);
            met
        })
    }
}

fn stats_of(telemetry: &Telemetry) -> Stats {
    let events = telemetry.counts();
    let delivery = telemetry.delivery_counts();
    Stats {
        acked: events.shipped,
        dead_lettered: events.dead_lettered,
        retried_items: delivery.retried_items,
        failed_requests: delivery.failed_requests,
        requests: delivery.requests,
    }
}

pub fn message(document: &Value) -> &str {
    document["message"]
        .as_str()
        .expect("document has a message")
}

/// The messages of the documents of a bulk body, in order.
pub fn body_messages(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).expect("bulk body is UTF-8");
    text.lines()
        .skip(1)
        .step_by(2)
        .map(|line| {
            let document: Value = serde_json::from_str(line).expect("document line is JSON");
            message(&document).to_owned()
        })
        .collect()
}

/// How many times each message occurs, and the messages that occur more than once.
pub fn duplicates(messages: &[String]) -> Vec<(String, usize)> {
    let mut counts = BTreeMap::new();
    for m in messages {
        *counts.entry(m.clone()).or_insert(0usize) += 1;
    }
    counts.into_iter().filter(|(_, n)| *n > 1).collect()
}

pub fn sorted(mut messages: Vec<String>) -> Vec<String> {
    messages.sort();
    messages
}
