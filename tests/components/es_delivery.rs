//! Every response path of the delivery loop, through the real client against the strict test server:
//! what ends up stored, dead-lettered, counted, and sent on the wire.

use testkit_elasticsearch as elasticsearch;

mod harness;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use elasticsearch::{EsOptions, EsServer};
use harness::{
    body_messages, config, config_with_basic_auth, duplicates, event, event_with_json,
    event_with_message, events, expected_messages, message, request, sorted, Harness, Stats, INDEX,
};

const N: usize = 20;

/// Stored exactly once each, and nothing else.
fn assert_all_stored_once(h: &Harness, n: usize) {
    let stored = h.stored_messages();
    assert_eq!(duplicates(&stored), vec![], "no document stored twice");
    assert_eq!(sorted(stored), expected_messages(n));
}

fn assert_no_dead_letters(h: &Harness) {
    assert_eq!(h.dead_letters(), Vec::<Value>::new());
    assert_eq!(h.stats().dead_lettered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_items_created_in_one_request() {
    let h = Harness::new(EsServer::start());
    h.deliver(request(&events(N), 0)).await;

    assert_all_stored_once(&h, N);
    // One request, in order.
    assert_eq!(h.stored_messages(), expected_messages(N));
    assert_no_dead_letters(&h);
    assert_eq!(
        h.stats(),
        Stats {
            acked: N as u64,
            requests: 1,
            ..Stats::default()
        }
    );
    let bulk = h.bulk_requests();
    assert_eq!(bulk.len(), 1);
    assert_eq!(bulk[0].status, Some(200));
    assert_eq!(bulk[0].items, Some(N));
}

/// Request-level rejections until cleared: the whole request again, until it is stored exactly once.
async fn whole_request_rejected_then_accepted(status: u16) {
    let h = Harness::new(EsServer::start());
    h.server.faults().set(|f| match status {
        429 => f.reject_bulk_fraction_429 = 1.0,
        _ => f.reject_bulk_fraction_500 = 1.0,
    });
    let clear = h.change_when(
        Duration::from_millis(200),
        move |server, _| server.requests().count_status("/_bulk", status) >= 3,
        |server| server.faults().clear(),
    );
    h.deliver(request(&events(N), 0)).await;
    assert!(clear.join().expect("clearing thread"), "3 rejections seen");

    assert_all_stored_once(&h, N);
    assert_no_dead_letters(&h);
    let log = h.server.requests();
    let rejected = log.count_status("/_bulk", status);
    assert!(rejected >= 3, "{rejected} rejections");
    assert_eq!(log.count_status("/_bulk", 200), 1, "one accepted request");
    let bulk = h.bulk_requests();
    assert_eq!(bulk.len(), rejected + 1);
    assert_eq!(bulk.last().and_then(|r| r.status), Some(200));
    // Every attempt carried the whole request.
    for record in &bulk {
        assert_eq!(body_messages(&record.body), expected_messages(N));
    }
    let stats = h.stats();
    assert_eq!(stats.acked, N as u64);
    assert_eq!(stats.failed_requests, rejected as u64);
    assert_eq!(stats.requests, bulk.len() as u64);
    assert_eq!(stats.retried_items, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_429_is_retried_until_accepted() {
    whole_request_rejected_then_accepted(429).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_500_is_retried_until_accepted() {
    whole_request_rejected_then_accepted(500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_429_resends_only_the_failed_items() {
    let h = Harness::new(EsServer::start_with(EsOptions {
        seed: 7,
        ..EsOptions::default()
    }));
    h.server.faults().set_item_fraction_429(0.3);
    // Cleared once two retries were sent, so the test ends even with unlucky draws.
    let clear = h.change_when(
        Duration::ZERO,
        |server, _| server.requests().count_status("/_bulk", 200) >= 3,
        |server| server.faults().clear(),
    );
    h.deliver(request(&events(N), 0)).await;
    h.server.faults().clear();
    clear.join().expect("clearing thread");

    assert_all_stored_once(&h, N);
    assert_no_dead_letters(&h);
    let bulk = h.bulk_requests();
    assert!(bulk.len() >= 2, "the seeded draws fail some items");
    let sent: Vec<Vec<String>> = bulk.iter().map(|r| body_messages(&r.body)).collect();
    assert_eq!(sent[0], expected_messages(N));
    // The store keeps first-write order, so it splits into what each request stored: exactly the
    // items of that request that are not in the next one.
    let stored = h.stored_messages();
    let mut at = 0;
    for (k, items) in sent.iter().enumerate() {
        let next: BTreeSet<&String> = sent.get(k + 1).into_iter().flatten().collect();
        assert!(
            next.iter().all(|m| items.contains(m)),
            "request {k} re-sends only items of request {}",
            k.saturating_sub(1)
        );
        let landed: Vec<&String> = items.iter().filter(|m| !next.contains(m)).collect();
        let stored_here: Vec<&String> = stored[at..at + landed.len()].iter().collect();
        assert_eq!(
            stored_here, landed,
            "request {k} stored exactly its acked items"
        );
        at += landed.len();
        if k + 1 < sent.len() {
            assert!(!next.is_empty() && next.len() < items.len());
        }
    }
    assert_eq!(at, N);
    let stats = h.stats();
    assert_eq!(stats.acked, N as u64);
    let resent: usize = sent[1..].iter().map(Vec::len).sum();
    assert_eq!(stats.retried_items, resent as u64);
    assert_eq!(stats.failed_requests, 0);
    assert_eq!(stats.requests, bulk.len() as u64);
    println!("item 429: {} requests, {resent} items re-sent", bulk.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_400_is_dead_lettered_and_not_resent() {
    let h = Harness::new(EsServer::start_with(EsOptions {
        seed: 11,
        ..EsOptions::default()
    }));
    h.server.faults().set_item_fraction_400(0.2);
    let sent = request(&events(N), 0);
    h.deliver(sent.clone()).await;

    let bulk = h.bulk_requests();
    assert_eq!(bulk.len(), 1, "nothing re-sent");
    // Asked for only the errors and statuses, as Filebeat does, plus whether the failure store kept an
    // item (9.1+): the item errors still come through.
    assert_eq!(
        bulk[0].query.as_deref(),
        Some("filter_path=errors,items.*.error,items.*.status,items.*.failure_store")
    );
    let dead = h.dead_letters();
    assert!(!dead.is_empty(), "the seeded draws fail some items");
    let stored = h.stored_messages();
    assert_eq!(stored.len() + dead.len(), N);
    let mut all: Vec<String> = stored.clone();
    for line in &dead {
        assert_eq!(line["index"], INDEX);
        assert_eq!(line["status"], 400);
        assert_eq!(line["error"]["type"], "document_parsing_exception");
        assert!(line["error"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("fault_injected")));
        let document = &line["document"];
        let i = (0..sent.len())
            .find(|&i| {
                serde_json::from_slice::<Value>(sent.document(i).expect("item"))
                    .ok()
                    .as_ref()
                    == Some(document)
            })
            .expect("the dead letter holds an original document");
        assert!(!stored.contains(&message(document).to_owned()));
        let original = std::str::from_utf8(sent.document(i).expect("item")).expect("UTF-8");
        assert_eq!(document.to_string().len(), original.len(), "byte for byte");
        all.push(message(document).to_owned());
    }
    assert_eq!(sorted(all), expected_messages(N));
    let stats = h.stats();
    assert_eq!(stats.acked, stored.len() as u64);
    assert_eq!(stats.dead_lettered, dead.len() as u64);
    assert_eq!((stats.retried_items, stats.requests), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mapping_conflict_is_dead_lettered() {
    let h = Harness::new(EsServer::start());
    let sent = request(
        &[
            event_with_json(0, json!({"status": "ok"})),
            event_with_json(1, json!({"status": {"code": 200}})),
        ],
        0,
    );
    h.deliver(sent.clone()).await;

    let stored = h.server.documents(INDEX);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["json"], json!({"status": "ok"}));
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["status"], 400);
    assert_eq!(dead[0]["index"], INDEX);
    assert_eq!(dead[0]["error"]["type"], "document_parsing_exception");
    let original: Value = serde_json::from_slice(sent.document(1).expect("item")).expect("JSON");
    assert_eq!(dead[0]["document"], original);
    assert_eq!(
        dead[0]["document"]["json"],
        json!({"status": {"code": 200}})
    );
    let stats = h.stats();
    assert_eq!(
        (stats.acked, stats.dead_lettered, stats.requests),
        (1, 1, 1)
    );
    assert_eq!(h.bulk_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_large_is_split_until_it_fits_and_one_huge_document_is_dead_lettered() {
    let one = request(&events(1), 0).uncompressed().len();
    // Two documents fit, three do not.
    let max = one * 2 + one / 2;
    let h = Harness::new(EsServer::start_with(EsOptions {
        max_content_length: max,
        ..EsOptions::default()
    }));
    let ten = request(&events(10), 0);
    assert!(ten.uncompressed().len() > max);
    h.deliver(ten).await;

    assert_all_stored_once(&h, 10);
    assert_eq!(h.stored_messages(), expected_messages(10), "order kept");
    assert_no_dead_letters(&h);
    let bulk = h.bulk_requests();
    for record in &bulk {
        match record.status {
            Some(413) => assert!(body_messages(&record.body).is_empty() || record.wire_len == 0),
            Some(200) => assert!(record.body.len() <= max),
            other => panic!("unexpected status {other:?}"),
        }
    }
    let too_large = h.server.requests().count_status("/_bulk", 413);
    assert!(too_large >= 3, "10 -> 5+5 -> 2+3 ...: {too_large}");
    let stats = h.stats();
    assert_eq!(stats.acked, 10);
    assert_eq!(stats.requests, bulk.len() as u64);

    // A document alone over the limit, between two that fit.
    let huge = event_with_message(99, "x".repeat(max));
    let sent = request(&[event(10), huge, event(11)], 0);
    h.deliver(sent.clone()).await;
    assert_all_stored_once(&h, 12);
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["status"], 413);
    assert_eq!(dead[0]["index"], INDEX);
    assert_eq!(dead[0]["error"]["type"], "request_too_large");
    let original: Value = serde_json::from_slice(sent.document(1).expect("item")).expect("JSON");
    assert_eq!(dead[0]["document"], original);
    let stats = h.stats();
    assert_eq!((stats.acked, stats.dead_lettered), (12, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_retried() {
    let h = Harness::new(EsServer::start());
    h.server.faults().set_drop_connection_fraction(1.0);
    let clear = h.change_when(
        Duration::from_millis(200),
        |server, _| server.requests().bulk().len() >= 3,
        |server| server.faults().clear(),
    );
    h.deliver(request(&events(N), 0)).await;
    assert!(
        clear.join().expect("clearing thread"),
        "3 dropped requests seen"
    );

    assert_all_stored_once(&h, N);
    assert_no_dead_letters(&h);
    let log = h.server.requests();
    assert!(log.unanswered() >= 3, "{} unanswered", log.unanswered());
    assert_eq!(log.count_status("/_bulk", 200), 1);
    let stats = h.stats();
    assert_eq!(stats.acked, N as u64);
    assert_eq!(stats.failed_requests, log.unanswered() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_requests_are_retried() {
    let server = EsServer::start();
    let config = config(&server);
    let h = Harness::with(server, &config, Duration::from_millis(300), 0);
    h.server.faults().set_latency(Duration::from_secs(2));
    let clear = h.change_when(
        Duration::from_millis(200),
        |_, stats| stats.failed_requests >= 2,
        |server| server.faults().clear(),
    );
    h.deliver(request(&events(N), 0)).await;
    assert!(clear.join().expect("clearing thread"), "2 timeouts seen");

    let stored = h.stored_messages();
    let dups = duplicates(&stored);
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique, expected_messages(N), "every document present");
    println!(
        "timeout: {} documents stored for {N}, {} duplicated ({} bulk requests)",
        stored.len(),
        dups.len(),
        h.bulk_requests().len()
    );
    assert_no_dead_letters(&h);
    let stats = h.stats();
    assert!(stats.failed_requests >= 2);
    assert_eq!(stats.acked, N as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_down_then_up() {
    let h = Harness::new(EsServer::start());
    h.server.faults().set_down(true);
    let clear = h.change_when(
        Duration::from_millis(200),
        |_, stats| stats.failed_requests >= 3,
        |server| server.faults().set_down(false),
    );
    h.deliver(request(&events(N), 0)).await;
    assert!(
        clear.join().expect("clearing thread"),
        "3 refused requests seen"
    );

    assert_all_stored_once(&h, N);
    assert_no_dead_letters(&h);
    let stats = h.stats();
    assert!(stats.failed_requests >= 3);
    assert_eq!(stats.acked, N as u64);
    // Refused connections never reach the server.
    assert_eq!(h.bulk_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_retried_not_dropped() {
    let server = EsServer::start_with(EsOptions::with_basic_auth("elastic", "right-pw"));
    let config = config_with_basic_auth(&server, "elastic", "wrong-pw");
    let h = Harness::with(server, &config, Duration::from_secs(10), 0);
    let outcome = tokio::time::timeout(
        Duration::from_secs(1),
        h.deliverer.deliver(request(&events(N), 0), harness::SEED),
    )
    .await;
    assert!(outcome.is_err(), "deliver() must not return on a 401");

    let log = h.server.requests();
    let unauthorized = log.count_status("/_bulk", 401);
    assert!(unauthorized >= 3, "{unauthorized} 401s");
    // Every answered request was refused; one may still be on its way when the timeout cancels
    // delivery, logged without an answer.
    assert!(
        log.bulk()
            .iter()
            .all(|r| r.status.is_none() || r.status == Some(401)),
        "{:?}",
        log.bulk().iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(h.server.documents(INDEX).is_empty());
    assert_no_dead_letters(&h);
    let stats = h.stats();
    assert_eq!(stats.acked, 0);
    // The last 401 may be answered just as the timeout cancels delivery, before it is counted.
    assert!(stats.failed_requests + 1 >= unauthorized as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_stored_like_plain_ones() {
    let plain = Harness::new(EsServer::start());
    let gzip_server = EsServer::start();
    let gzip_config = config(&gzip_server);
    let gzipped = Harness::with(gzip_server, &gzip_config, Duration::from_secs(10), 1);

    let plain_request = request(&events(N), 0);
    let gzip_request = request(&events(N), 1);
    assert!(!plain_request.gzip && gzip_request.gzip);
    plain.deliver(plain_request).await;
    gzipped.deliver(gzip_request.clone()).await;

    assert_all_stored_once(&gzipped, N);
    assert_eq!(
        gzipped.server.documents(INDEX),
        plain.server.documents(INDEX)
    );
    let bulk = gzipped.bulk_requests();
    assert_eq!(bulk.len(), 1);
    assert!(bulk[0].compressed);
    assert_eq!(bulk[0].body, gzip_request.uncompressed().to_vec());
    assert!(bulk[0].wire_len < bulk[0].body.len());
    assert!(!plain.bulk_requests()[0].compressed);
    assert_eq!(gzipped.stats().acked, N as u64);
    assert_no_dead_letters(&gzipped);
}
