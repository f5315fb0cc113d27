//! `loglynk run`'s /metrics, /healthz and /readyz: the loss ledger balances at every scrape and,
//! once everything is delivered, matches what Elasticsearch and the dead-letter file hold.

use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{http_get, metrics_address, run_cmd, sample, wait_until, KubeTree, Running};

/// The ledger's lines in one scrape.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ledger {
    read: f64,
    shipped: f64,
    dropped: f64,
    dead: f64,
    in_flight: f64,
}

fn ledger(metrics: &str) -> Ledger {
    let get = |name: &str| sample(metrics, name).unwrap_or_else(|| panic!("no {name}"));
    Ledger {
        read: get("loglynk_lines_read_total"),
        shipped: get("loglynk_events_shipped_total"),
        dropped: get("loglynk_events_dropped_total{reason=\"own_logs\"}")
            + get("loglynk_events_dropped_total{reason=\"dead_letter_write_failed\"}"),
        dead: get("loglynk_events_dead_lettered_total"),
        in_flight: get("loglynk_events_in_flight"),
    }
}

fn dead_letters(tree: &KubeTree) -> usize {
    std::fs::read_to_string(tree.state_dir().join("dead-letter.ndjson"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn the_loss_ledger_balances_at_every_scrape_and_matches_the_cluster() {
    let server = EsServer::start();
    server.faults().set_reject_bulk_fraction_429(0.2);
    server.faults().set_item_fraction_400(0.02);
    let tree = KubeTree::new();
    let app = tree.container("shop", "web-1", "app");
    // The agent's own container: its lines are dropped, and counted as such.
    let own = tree.container("kube-system", "loglynk-x1", "loglynk");
    app.append(0..1500);
    own.append(0..40);
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    let address = {
        assert!(wait_until(Duration::from_secs(20), || metrics_address(
            &running.stderr_so_far()
        )
        .is_some()));
        metrics_address(&running.stderr_so_far()).unwrap()
    };

    let mut scrapes = 0;
    let mut last = None;
    let settled = wait_until(Duration::from_secs(60), || {
        let (status, body) = http_get(&address, "/metrics");
        assert_eq!(status, 200);
        let l = ledger(&body);
        scrapes += 1;
        assert_eq!(
            l.read,
            l.shipped + l.dropped + l.dead + l.in_flight,
            "unbalanced: {l:?}"
        );
        assert!(l.in_flight >= 0.0, "settled twice: {l:?}");
        last = Some(l);
        l.read == 1540.0 && l.in_flight == 0.0
    });
    let l = last.expect("scraped");
    assert!(settled, "not settled after {scrapes} scrapes: {l:?}");
    assert_eq!(l.dropped, 40.0, "{l:?}");
    assert_eq!(l.shipped as usize, server.all_documents().len(), "{l:?}");
    assert_eq!(l.dead as usize, dead_letters(&tree), "{l:?}");
    assert!(l.dead > 0.0, "2% of items were refused");

    let (_, body) = http_get(&address, "/metrics");
    assert!(sample(&body, "loglynk_bulk_requests_total{status=\"429\"}").unwrap_or(0.0) > 0.0);
    assert!(sample(&body, "loglynk_bulk_requests_total{status=\"200\"}").unwrap_or(0.0) > 0.0);
    assert!(sample(&body, "loglynk_bulk_retries_total").unwrap_or(0.0) > 0.0);
    assert!(sample(&body, "loglynk_bulk_request_duration_seconds_count").unwrap_or(0.0) > 0.0);
    assert!(
        sample(
            &body,
            "loglynk_elasticsearch_last_success_timestamp_seconds"
        )
        .unwrap()
            > 1.7e9
    );
    assert_eq!(sample(&body, "loglynk_queued_bytes"), Some(0.0));
    assert!(
        wait_until(Duration::from_secs(5), || {
            let (_, body) = http_get(&address, "/metrics");
            sample(&body, "loglynk_files_tailed") == Some(2.0)
                && sample(&body, "loglynk_files_bytes_behind") == Some(0.0)
                && sample(&body, "loglynk_registry_flush_duration_seconds_count")
                    .is_some_and(|n| n > 0.0)
        }),
        "{body}"
    );
    assert!(body.contains("loglynk_build_info{version=\""), "{body}");
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn readiness_follows_elasticsearch_and_liveness_the_process() {
    let server = EsServer::start();
    server.faults().set_down(true);
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..10);
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();
    assert_eq!(http_get(&address, "/healthz"), (200, "ok\n".to_owned()));
    let (status, body) = http_get(&address, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("Elasticsearch has not answered yet"),
        "{body}"
    );

    server.faults().set_down(false);
    assert!(
        wait_until(Duration::from_secs(30), || http_get(&address, "/readyz").0
            == 200),
        "{}",
        running.stderr_so_far()
    );
    // Nothing but these three paths is served.
    assert_eq!(http_get(&address, "/debug/pprof").0, 404);
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
