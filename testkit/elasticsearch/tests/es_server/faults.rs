//! Fault injection, request by request and connection by connection.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::client::*;
use crate::elasticsearch::{EsOptions, EsServer};

const ONE_DOC: &str = "{\"index\":{\"_index\":\"f\"}}\n{\"m\":1}\n";

#[test]
fn request_and_item_faults() {
    let server = EsServer::start();
    server.faults().set_reject_bulk_fraction_429(1.0);
    let reply = bulk(&server, ONE_DOC);
    assert_eq!(
        (reply.status, error_type(&reply)),
        (429, "es_rejected_execution_exception".into())
    );
    assert_eq!(
        reply.json()["error"]["root_cause"][0]["type"],
        "es_rejected_execution_exception"
    );
    assert_eq!(reply.json()["status"], 429);
    server.faults().clear();
    server.faults().set_reject_bulk_fraction_500(1.0);
    assert_eq!(bulk(&server, ONE_DOC).status, 500);
    server.faults().clear();
    server.faults().set_item_fraction_429(1.0);
    let reply = bulk(&server, &ONE_DOC.repeat(3));
    assert_eq!(reply.json()["errors"], true);
    assert!(items(&reply)
        .iter()
        .all(|(s, t, _)| *s == 429 && t == "es_rejected_execution_exception"));
    server.faults().clear();
    server.faults().set_item_fraction_400(1.0);
    assert!(items(&bulk(&server, ONE_DOC))
        .iter()
        .all(|(s, t, _)| *s == 400 && t == "document_parsing_exception"));
    server.faults().clear();
    assert!(server.documents("f").is_empty());
    server.faults().set_latency(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(bulk(&server, ONE_DOC).status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    server.faults().clear();
    // Same seed, same faults.
    let draws = |seed| {
        let server = EsServer::start_with(EsOptions {
            seed,
            ..EsOptions::default()
        });
        server.faults().set_reject_bulk_fraction_429(0.5);
        (0..16)
            .map(|_| bulk(&server, ONE_DOC).status)
            .collect::<Vec<_>>()
    };
    let first = draws(7);
    assert_eq!(first, draws(7));
    assert!(first.contains(&429) && first.contains(&200), "{first:?}");
}

#[test]
fn a_throttled_cluster_takes_bodies_at_its_rate_across_connections() {
    let server = EsServer::start();
    let doc = format!(
        "{{\"index\":{{\"_index\":\"f\"}}}}\n{{\"m\":\"{}\"}}\n",
        "x".repeat(4000)
    );
    let body = doc.repeat(25); // about 100 kB
    server.faults().set_bytes_per_second(Some(500_000));
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (addr, body) = (server.addr(), body.clone());
            std::thread::spawn(move || {
                let headers = [("Content-Type", "application/x-ndjson")];
                let timeout = Duration::from_secs(10);
                send(addr, "POST", "/_bulk", &headers, body.as_bytes(), timeout)
                    .unwrap()
                    .status
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 200);
    }
    // 400 kB at 500 kB/s, whichever connection each came on.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(780), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    server.faults().set_bytes_per_second(None);
    let started = Instant::now();
    assert_eq!(bulk(&server, &body).status, 200);
    assert!(started.elapsed() < Duration::from_millis(500));
    let log = server.requests();
    let answered: Vec<_> = log.bulk().iter().map(|r| r.answered_at).collect();
    assert!(answered.iter().all(Option::is_some), "{answered:?}");
}

#[test]
fn connection_faults() {
    let server = EsServer::start();
    let quick = Duration::from_millis(300);
    server.faults().set_drop_connection_fraction(1.0);
    assert!(send(server.addr(), "GET", "/", &[], b"", quick).is_err());
    server.faults().clear();
    server
        .faults()
        .set_request_timeout(Some(Duration::from_millis(100)));
    let started = Instant::now();
    assert!(send(server.addr(), "GET", "/", &[], b"", Duration::from_secs(5)).is_err());
    assert!(started.elapsed() >= Duration::from_millis(100));
    server.faults().clear();
    server.faults().set_stall(true);
    let addr = server.addr();
    let waiting =
        std::thread::spawn(move || send(addr, "GET", "/", &[], b"", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!waiting.is_finished(), "a stalled request is not answered");
    server.faults().set_stall(false);
    assert_eq!(
        waiting
            .join()
            .expect("thread")
            .expect("answer after the stall")
            .status,
        200
    );
    server.faults().set_down(true);
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        TcpStream::connect(server.addr()).is_err(),
        "a down server refuses connections"
    );
    server.faults().set_down(false);
    let deadline = Instant::now() + Duration::from_secs(5);
    while send(server.addr(), "GET", "/", &[], b"", quick).is_err() {
        assert!(Instant::now() < deadline, "the server came back up");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.requests().unanswered() >= 2);
}
