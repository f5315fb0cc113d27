//! `loglynk run`'s /metrics, /healthz and /readyz: the loss ledger balances at every scrape and,
//! once everything is delivered, matches what Elasticsearch and the dead-letter file hold; the file
//! gauges measure the files even while reading is paused.

use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{
    bytes_of, http_get, metrics_address, run_cmd, sample, wait_until, Container, KubeTree, Running,
};

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
    assert!(
        wait_until(Duration::from_secs(5), || {
            let (_, body) = http_get(&address, "/metrics");
            // The worker releases a request's bytes just after the ledger settled its events.
            sample(&body, "loglynk_queued_bytes") == Some(0.0)
                && sample(&body, "loglynk_files_tailed") == Some(2.0)
                && sample(&body, "loglynk_files_bytes_behind") == Some(0.0)
                && sample(&body, "loglynk_registry_flush_duration_seconds_count")
                    .is_some_and(|n| n > 0.0)
        }),
        "{body}"
    );
    assert!(body.contains("loglynk_build_info{version=\""), "{body}");

    // Every event in a bulk request is timed once settled, acknowledged or dead-lettered. The seq
    // lines carry 2026-11-24T10:00:00Z, days before the run: over every bound.
    let latency = |body: &str, le: &str| {
        sample(
            body,
            &format!("loglynk_delivery_latency_seconds_bucket{{le=\"{le}\"}}"),
        )
        .unwrap_or_else(|| panic!("no bucket {le}: {body}"))
    };
    // Timed once the request's worker is done with it, just after the ledger settled it.
    let timed = |body: &str| sample(body, "loglynk_delivery_latency_seconds_count").unwrap();
    let mut body = body;
    let all_timed = wait_until(Duration::from_secs(5), || {
        body = http_get(&address, "/metrics").1;
        timed(&body) == l.shipped + l.dead
    });
    assert!(all_timed, "{l:?} {body}");
    let timed = timed(&body);
    assert_eq!(latency(&body, "3600.0"), 0.0, "{body}");
    assert_eq!(latency(&body, "+Inf"), timed, "{body}");
    // Bytes by namespace, for capacity planning: the agent's own lines, dropped, ship none.
    let shipped_bytes = |body: &str| {
        sample(body, "loglynk_shipped_bytes_total{namespace=\"shop\"}")
            .unwrap_or_else(|| panic!("no bytes for shop: {body}"))
    };
    let before = shipped_bytes(&body);
    assert!(before > 0.0, "{body}");
    assert!(!body.contains("namespace=\"kube-system\""), "{body}");
    // A line written now is shipped within the SLO's 60 s, and counted in that bucket.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    std::fs::OpenOptions::new()
        .append(true)
        .open(app.log())
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, format!("{now} stdout F fresh\n").as_bytes())
        })
        .unwrap();
    let fresh = wait_until(Duration::from_secs(20), || {
        let (_, body) = http_get(&address, "/metrics");
        latency(&body, "60.0") == 1.0
    });
    let (_, body) = http_get(&address, "/metrics");
    assert!(fresh, "{body}");
    assert_eq!(latency(&body, "+Inf"), timed + 1.0, "{body}");
    // Its bytes are the request that carried it alone, action and document lines.
    let requests = server.requests();
    let last = requests.bulk().last().copied().expect("a bulk request");
    assert_eq!(
        shipped_bytes(&body) - before,
        last.body.len() as f64,
        "{body}"
    );
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

/// While Elasticsearch stalls the reading thread waits in its send, and that is exactly when
/// `files_bytes_behind` must grow: an alert on it has to fire during an outage. The file gauges are
/// measured at each scrape, not left at what the reading thread last recorded.
#[test]
fn file_gauges_keep_measuring_while_reading_is_paused() {
    let server = EsServer::start();
    server.faults().set_stall(true);
    let tree = KubeTree::new();
    let files: Vec<Container> = (0..5)
        .map(|i| tree.container("shop", &format!("web-{i}"), "app"))
        .collect();
    for (i, c) in files.iter().enumerate() {
        let first = i as u64 * 100_000;
        c.append(first..first + 4_000);
    }
    let mut cmd = run_cmd(&tree, &server.url());
    // Little may wait in memory, so reading pauses after a few batches with most lines unread.
    cmd.args([
        "-E",
        "setup.enabled=false",
        "-E",
        "output.elasticsearch.bulk_max_bytes=64KiB",
        "-E",
        "max_queued_bytes=128KiB",
    ]);
    let running = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();
    let scrape = || http_get(&address, "/metrics").1;
    let get = |body: &str, name: &str| sample(body, name).unwrap_or_else(|| panic!("no {name}"));

    // Paused: nothing more is read over a second and a half of scrapes.
    let mut last_read = -1.0;
    let mut steady_since = std::time::Instant::now();
    let paused = wait_until(Duration::from_secs(30), || {
        let read = get(&scrape(), "loglynk_lines_read_total");
        if read != last_read {
            last_read = read;
            steady_since = std::time::Instant::now();
        }
        read > 0.0 && steady_since.elapsed() >= Duration::from_millis(1500)
    });
    assert!(paused, "reading never paused: {last_read} lines read");
    assert!(last_read < 20_000.0, "everything was read: {last_read}");

    let body = scrape();
    assert_eq!(get(&body, "loglynk_files_tailed"), 5.0, "{body}");
    assert_eq!(get(&body, "loglynk_files_open"), 5.0, "{body}");
    let before = get(&body, "loglynk_files_bytes_behind");
    assert!(before > 0.0, "{body}");

    // Written while reading is paused: the gauge counts it at the next scrape.
    files[0].append(50_000..51_000);
    let added = bytes_of(50_000..51_000) as f64;
    let mut seen = before;
    let grew = wait_until(Duration::from_secs(10), || {
        seen = get(&scrape(), "loglynk_files_bytes_behind");
        seen >= before + added
    });
    assert!(
        grew,
        "bytes behind went from {before} to {seen}, {added} written"
    );
    assert_eq!(
        get(&scrape(), "loglynk_lines_read_total"),
        last_read,
        "still paused"
    );
    let body = scrape();
    assert!(
        get(&body, "loglynk_files_bytes_behind_max") >= added,
        "{body}"
    );

    // Once the cluster answers, everything is read and the gauges come back to nothing behind.
    server.faults().set_stall(false);
    let caught_up = wait_until(Duration::from_secs(60), || {
        let body = scrape();
        get(&body, "loglynk_lines_read_total") == 21_000.0
            && get(&body, "loglynk_files_bytes_behind") == 0.0
    });
    assert!(caught_up, "{}", scrape());
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
