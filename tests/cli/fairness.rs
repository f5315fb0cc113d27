//! Fair reading with the real binary: one container's backlog does not hold up the lines of the quiet
//! containers beside it, and still gets the output's spare capacity.

use std::time::{Duration, SystemTime};

use crate::elasticsearch::EsServer;
use crate::support::{
    http_get, metrics_address, run_cmd, wait_until, Container, KubeTree, Running,
};

// The scenario (5 MiB/s, bulk_max_bytes 1MiB, 20 quiet containers writing every 100 ms, a
// 64 MiB backlog) scaled down about 20 times: the test server in a debug build indexes a few hundred
// KB/s, and the test must stay short.
/// What Elasticsearch takes, in decompressed bulk bodies per second: the bottleneck of the scenario.
const RATE: u64 = 128 << 10;
const BULK_MAX: &str = "16KiB";
const QUIET: usize = 10;
const QUIET_EVERY: Duration = Duration::from_millis(500);
/// The loud container's backlog, written at once.
const BACKLOG_BYTES: usize = 256 << 10;
const LOUD_LINE: usize = 500;

fn cri_now(message: &str) -> String {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.9fZ");
    format!("{now} stdout F {message}\n")
}

/// Per quiet line answered while the backlog drained: seconds from its write (`@timestamp`) to
/// Elasticsearch's answer. And when the last loud line was answered.
fn latencies(server: &EsServer, from: SystemTime) -> (Vec<f64>, Option<SystemTime>, usize) {
    let mut quiet = Vec::new();
    let mut loud_done = None;
    let mut loud = 0;
    for request in server.requests().bulk() {
        let Some(answered) = request.answered_at else {
            continue;
        };
        let text = String::from_utf8_lossy(&request.body);
        for line in text.lines().skip(1).step_by(2) {
            let Ok(doc) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let message = doc["message"].as_str().unwrap_or_default();
            if message.starts_with("loud") {
                loud += 1;
                loud_done = loud_done.max(Some(answered));
            } else if message.starts_with("quiet") {
                let stamp = doc["@timestamp"].as_str().unwrap_or_default();
                let Ok(written) = chrono::DateTime::parse_from_rfc3339(stamp) else {
                    continue;
                };
                let written = SystemTime::from(written);
                if written < from {
                    continue;
                }
                let waited = answered.duration_since(written).unwrap_or_default();
                quiet.push((written, waited.as_secs_f64()));
            }
        }
    }
    let quiet = quiet
        .into_iter()
        .filter(|(written, _)| loud_done.is_some_and(|done| *written <= done))
        .map(|(_, waited)| waited)
        .collect();
    (quiet, loud_done, loud)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1]
}

#[test]
fn quiet_containers_are_not_held_up_by_a_loud_ones_backlog() {
    let server = EsServer::start();
    server.faults().set_bytes_per_second(Some(RATE));
    let tree = KubeTree::new();
    let quiet: Vec<Container> = (0..QUIET)
        .map(|i| tree.container("shop", &format!("quiet-{i}-5c8d9f7b6-k8s2p"), "app"))
        .collect();
    let loud = tree.container("batch", "firehose-7d9f8b6c5-x2x4q", "app");
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.args([
        "-E",
        &format!("output.elasticsearch.bulk_max_bytes={BULK_MAX}"),
    ]);
    // The defaults users run (flush_interval 1s, max_queued_bytes 20MiB), but gzip off: in a debug
    // build, compressing and decompressing is the bottleneck instead of the cluster.
    cmd.args(["-E", "output.elasticsearch.flush_interval=1s"]);
    cmd.args(["-E", "output.elasticsearch.compression_level=0"]);
    let running = Running::spawn(cmd);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = quiet
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (c, stop) = (c.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut file = c.open_append();
                let mut n = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    use std::io::Write;
                    file.write_all(cri_now(&format!("quiet c={i} seq={n}")).as_bytes())
                        .unwrap();
                    n += 1;
                    std::thread::sleep(QUIET_EVERY);
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let pad = "x".repeat(LOUD_LINE);
    let backlog: String = (0..BACKLOG_BYTES / LOUD_LINE)
        .map(|n| cri_now(&format!("loud seq={n} {pad}")))
        .collect();
    let from = SystemTime::now();
    std::io::Write::write_all(&mut loud.open_append(), backlog.as_bytes()).unwrap();
    let lines = BACKLOG_BYTES / LOUD_LINE;
    // While it drains, the loud container is the one shown behind, by name.
    let address = metrics_address(&running.stderr_so_far()).expect("metrics address");
    let series = "loglynk_container_lag_bytes{kubernetes_namespace=\"batch\",kubernetes_pod=\"firehose-7d9f8b6c5-x2x4q\",kubernetes_container=\"app\"}";
    let mut shown = String::new();
    let lag_shown = wait_until(Duration::from_secs(5), || {
        let (_, metrics) = http_get(&address, "/metrics");
        shown = metrics
            .lines()
            .filter(|l| l.starts_with("loglynk_container_lag"))
            .map(|l| format!("{l}\n"))
            .collect();
        metrics.lines().any(|l| {
            l.strip_prefix(series)
                .is_some_and(|v| v.trim().parse::<f64>().is_ok_and(|b| b > 0.0))
        })
    });
    let last = format!("loud seq={} ", lines - 1);
    let drained =
        wait_until(Duration::from_secs(60), || {
            std::thread::sleep(Duration::from_millis(450));
            server.requests().bulk().iter().any(|r| {
                r.answered_at.is_some() && String::from_utf8_lossy(&r.body).contains(&last)
            })
        });
    // The last line's request may have overtaken another's.
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let stopped = running.stop("TERM", Duration::from_secs(20));
    let log = server.requests();
    let bulks = log.bulk();
    let bytes: usize = bulks.iter().map(|r| r.body.len()).sum();
    let (_, _, shipped) = latencies(&server, from);
    assert!(
        drained,
        "the backlog is shipped: {} bulk requests, {bytes} bytes, {shipped} of {lines} loud lines; \
         stderr:\n{}",
        bulks.len(),
        stopped.stderr
    );
    let (mut waits, done, loud_shipped) = latencies(&server, from);
    assert_eq!(loud_shipped, lines, "every loud line once");
    waits.sort_by(f64::total_cmp);
    let took = done.unwrap().duration_since(from).unwrap().as_secs_f64();
    let all_bytes: usize = server
        .requests()
        .bulk()
        .iter()
        .filter(|r| {
            r.answered_at
                .is_some_and(|at| at >= from && Some(at) <= done)
        })
        .map(|r| r.body.len())
        .sum();
    let (p50, p99) = (percentile(&waits, 0.5), percentile(&waits, 0.99));
    let busy = all_bytes as f64 / took / RATE as f64;
    println!(
        "quiet lines while the backlog drained: {}, p50 {p50:.2}s, p99 {p99:.2}s; backlog of {} KiB \
         drained in {took:.1}s ({:.1} KiB/s of lines); bodies {:.1} KiB/s, {:.0}% of what the \
         cluster takes",
        waits.len(),
        BACKLOG_BYTES >> 10,
        BACKLOG_BYTES as f64 / took / 1024.0,
        all_bytes as f64 / took / 1024.0,
        busy * 100.0,
    );
    assert!(lag_shown, "the loud container's lag on /metrics:\n{shown}");
    assert!(waits.len() > 100, "{} quiet lines measured", waits.len());
    assert!(p99 <= 2.0, "quiet p99 {p99:.2}s (p50 {p50:.2}s)");
    // The backlog gets what the quiet ones leave: the output stays busy (the test server's own
    // indexing in a debug build takes some of the time).
    assert!(
        busy >= 0.5,
        "the output was busy {:.0}% of the time",
        busy * 100.0
    );
}
