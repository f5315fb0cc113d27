//! `output.elasticsearch.deduplicate` (on by default): a line sent again after a crash carries the `_id`
//! it had, so the cluster holds it once however often the agent was killed, through kubelet's
//! rotations; and with it off, the same crash leaves copies, which is what the setting is for.

use std::time::{Duration, Instant};

use crate::elasticsearch::EsServer;
use crate::support::{
    describe, http_get, indexed_seqs, metrics_address, run_cmd, sample, wait_until, write_steadily,
    KubeTree, Running,
};

fn address_of(running: &Running) -> String {
    assert!(
        wait_until(Duration::from_secs(30), || metrics_address(
            &running.stderr_so_far()
        )
        .is_some()),
        "no metrics address; stderr:\n{}",
        running.stderr_so_far()
    );
    metrics_address(&running.stderr_so_far()).unwrap()
}

fn deduplicated(address: &str) -> u64 {
    let (_, metrics) = http_get(address, "/metrics");
    sample(&metrics, "loglynk_events_deduplicated_total").unwrap_or(0.0) as u64
}

const TOTAL: u64 = 12_000;
/// Written before the first agent starts.
const FIRST: u64 = 100;
/// 12,000 lines over 12 s with a rotation every 1,500: eight rotations, five kills between them.
const WRITE_FOR: Duration = Duration::from_secs(12);
const ROTATE_EVERY: u64 = 1_500;
const KILLS: u64 = 5;

/// The crash test against the cluster: `loglynk run` SIGKILLed five times while a container
/// writes and kubelet rotates, the registry written only every 2 s so each kill leaves acknowledged
/// lines unsaved, which the next run sends again. Every line is in the cluster exactly once, and the
/// runs counted what Elasticsearch refused as already there.
#[test]
fn sigkill_while_rotating_leaves_every_line_in_the_cluster_exactly_once() {
    let es = EsServer::start();
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let spawn = || {
        let mut cmd = run_cmd(&tree, &es.url());
        cmd.args(["-E", "registry_flush=2s", "-E", "close_removed_after=30s"]);
        let running = Running::spawn(cmd);
        let address = address_of(&running);
        (running, address)
    };
    // The first agent records the file before the kills start: a file rotated away before any agent
    // recorded it is never read (README, "Durable tailing"), which is not what this test is about.
    c.append(0..FIRST);
    let (mut running, mut address) = spawn();
    assert!(
        wait_until(Duration::from_secs(60), || tree.registry().is_file()
            && indexed_seqs(&[&es]).len() as u64 == FIRST),
        "the first agent saved nothing:\n{}",
        running.stderr_so_far()
    );
    let started = Instant::now();
    let writer = write_steadily(c.clone(), FIRST..TOTAL, ROTATE_EVERY, WRITE_FOR);
    let mut caught = 0;
    for k in 1..=KILLS {
        let at = WRITE_FOR.mul_f64(k as f64 / (KILLS + 1) as f64) + Duration::from_millis(150);
        if let Some(wait) = (started + at).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        caught += deduplicated(&address);
        let killed = running.kill();
        assert_eq!(killed.code, None, "killed by the signal");
        (running, address) = spawn();
    }
    writer.join().expect("the writer thread");

    let all = wait_until(Duration::from_secs(120), || {
        indexed_seqs(&[&es]).len() as u64 == TOTAL
    });
    // Whatever the last run still sends again is counted before it stops.
    let settled = wait_until(Duration::from_secs(10), || {
        let (_, metrics) = http_get(&address, "/metrics");
        sample(&metrics, "loglynk_events_in_flight") == Some(0.0)
    });
    assert!(
        settled,
        "indexed {} of {TOTAL}; {}\n{}",
        indexed_seqs(&[&es]).len(),
        http_get(&address, "/metrics").1,
        running.stderr_so_far()
    );
    caught += deduplicated(&address);
    let stopped = running.stop("TERM", Duration::from_secs(15));
    let counts = indexed_seqs(&[&es]);
    let missing: Vec<u64> = (0..TOTAL).filter(|n| !counts.contains_key(n)).collect();
    assert!(
        all && missing.is_empty(),
        "lost {}; last run:\n{}",
        describe(&missing),
        stopped.stderr
    );
    let twice: Vec<u64> = counts
        .iter()
        .filter(|(_, &c)| c > 1)
        .map(|(&n, _)| n)
        .collect();
    println!(
        "{} documents for {TOTAL} lines; {caught} sent again and refused as duplicates",
        counts.values().map(|&c| u64::from(c)).sum::<u64>()
    );
    assert!(
        twice.is_empty(),
        "{} lines are in the cluster more than once: {}",
        twice.len(),
        describe(&twice)
    );
    assert_eq!(counts.len() as u64, TOTAL, "only the lines written");
    // With the registry written every 2 s, each kill leaves some lines unsaved: had nothing been
    // sent again, this test would not test deduplication.
    assert!(caught > 0, "no line was sent again across {KILLS} kills");
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
