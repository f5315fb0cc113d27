//! `GET /status` of a running agent: under load every document it serves balances its ledger and
//! agrees with /metrics and with what the cluster holds; each file shows its pod, container, offset
//! and size, and how far and how long it is behind.

use std::time::Duration;

use serde_json::Value;

use crate::elasticsearch::EsServer;
use crate::support::{http_get, metrics_address, run_cmd, sample, wait_until, KubeTree, Running};

fn status(address: &str) -> Value {
    let (code, body) = http_get(address, "/status");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn n(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

/// lines_read = shipped + dropped + dead_lettered + in_flight, in one document.
fn balanced(ledger: &Value) -> bool {
    let dropped: i64 = ledger["dropped"].as_object().unwrap().values().map(n).sum();
    n(&ledger["lines_read"])
        == n(&ledger["shipped"]) + dropped + n(&ledger["dead_lettered"]) + n(&ledger["in_flight"])
}

#[test]
fn status_under_load_matches_the_ledger_the_metrics_and_the_cluster() {
    let server = EsServer::start();
    server
        .faults()
        .set(|f| f.latency = Duration::from_millis(30));
    let tree = KubeTree::new();
    let web = tree.container("shop", "web-1", "app");
    let api = tree.container("shop", "api-2", "server");
    web.append(0..3000);
    api.append(0..1500);
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.args(["-E", "output.elasticsearch.bulk_max_bytes=16KiB"]);
    let running = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();

    let mut busy = 0;
    let mut snapshots = 0;
    let settled = wait_until(Duration::from_secs(90), || {
        let now = status(&address);
        snapshots += 1;
        let ledger = &now["ledger"];
        assert!(balanced(ledger), "unbalanced: {ledger}");
        assert!(n(&ledger["in_flight"]) >= 0, "{ledger}");
        let requests = n(&now["output"]["requests_in_flight"]);
        assert!(
            (0..=2).contains(&requests),
            "at most `workers` requests: {}",
            now["output"]
        );
        if n(&ledger["in_flight"]) > 0 || n(&now["totals"]["bytes_behind"]) > 0 {
            busy += 1;
        }
        n(&ledger["lines_read"]) == 4500 && n(&ledger["in_flight"]) == 0
    });
    assert!(settled, "not settled after {snapshots} snapshots");
    assert!(busy > 0, "no snapshot saw work in flight");

    let now = status(&address);
    let (_, metrics) = http_get(&address, "/metrics");
    let metric = |name: &str| sample(&metrics, name).unwrap() as i64;
    assert_eq!(
        n(&now["ledger"]["shipped"]),
        metric("loglynk_events_shipped_total")
    );
    assert_eq!(
        n(&now["ledger"]["lines_read"]),
        metric("loglynk_lines_read_total")
    );
    assert_eq!(
        n(&now["ledger"]["shipped"]) as usize,
        server.all_documents().len()
    );
    assert_eq!(now["pipeline_running"], true);
    assert!(
        now["output"]["last_success"].is_string(),
        "{}",
        now["output"]
    );
    assert_eq!(now["output"]["retry_backoff_seconds"], Value::Null);

    let files = now["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:#?}");
    for (container, pod, name) in [(&web, "web-1", "app"), (&api, "api-2", "server")] {
        let size = std::fs::metadata(container.log()).unwrap().len() as i64;
        let file = files
            .iter()
            .find(|f| f["pod"] == pod)
            .unwrap_or_else(|| panic!("no {pod}: {files:#?}"));
        assert_eq!(file["namespace"], "shop");
        assert_eq!(file["container"], name);
        assert_eq!(
            (n(&file["offset"]), n(&file["size"])),
            (size, size),
            "{file}"
        );
        assert_eq!(n(&file["bytes_behind"]), 0);
        assert_eq!(file["seconds_behind"], 0.0);
        assert_eq!(file["state"], "idle");
    }
    let post = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "POST /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(post.starts_with("HTTP/1.1 405"), "read-only: {post}");
    let text = serde_json::to_string(&now).unwrap();
    assert!(
        !text.contains("changeme") && !text.contains("password"),
        "{text}"
    );

    // Bytes written and not read yet show as behind while the output is stalled.
    server.faults().set(|f| f.stall = true);
    web.append(3000..3100);
    assert!(wait_until(Duration::from_secs(20), || {
        let now = status(&address);
        n(&now["ledger"]["in_flight"]) > 0 || n(&now["totals"]["bytes_behind"]) > 0
    }));
    server.faults().set(|f| f.stall = false);
    running.stop("TERM", Duration::from_secs(20));
}
