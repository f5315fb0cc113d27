//! `loglynk run` against the Elasticsearch test server: every line indexed or dead-lettered, whatever
//! the server does.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::elasticsearch::{EsOptions, EsServer};
use crate::support::{
    indexed_seqs, run_cmd, seq_of, wait_until, write_steadily, KubeTree, Running,
};

/// Sequence numbers in the dead-letter file, with the error type each was refused with.
fn dead_lettered(state_dir: &Path) -> BTreeMap<u64, String> {
    let Ok(text) = std::fs::read_to_string(state_dir.join("dead-letter.ndjson")) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let entry: serde_json::Value =
                serde_json::from_str(line).expect("dead letters are JSON");
            let n = seq_of(&entry["document"])?;
            Some((n, entry["error"]["type"].as_str()?.to_owned()))
        })
        .collect()
}

#[test]
fn every_line_is_indexed_or_dead_lettered_through_429s_and_item_errors() {
    let server = EsServer::start();
    server.faults().set_reject_bulk_fraction_429(0.10);
    server.faults().set_item_fraction_400(0.01);
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    let total = 6_000;
    write_steadily(c, 0..total, 2_000, Duration::from_secs(4))
        .join()
        .expect("writer");

    let done = wait_until(Duration::from_secs(60), || {
        let indexed = indexed_seqs(&[&server]);
        let dead = dead_lettered(&tree.state_dir());
        (0..total).all(|n| indexed.contains_key(&n) || dead.contains_key(&n))
    });
    let indexed = indexed_seqs(&[&server]);
    let dead = dead_lettered(&tree.state_dir());
    let missing: Vec<u64> = (0..total)
        .filter(|n| !indexed.contains_key(n) && !dead.contains_key(n))
        .collect();
    assert!(
        done,
        "{} lines neither indexed nor dead-lettered, e.g. {:?}; stderr:\n{}",
        missing.len(),
        &missing[..missing.len().min(10)],
        running.stderr_so_far()
    );
    assert!(
        !dead.is_empty(),
        "1% of items were refused: some are dead-lettered"
    );
    assert!(
        dead.values().all(|t| t == "document_parsing_exception"),
        "{dead:?}"
    );
    assert!(
        dead.keys().all(|n| !indexed.contains_key(n)),
        "a refused document is not indexed too"
    );
    let duplicates: u32 = indexed.values().map(|c| c - 1).sum();
    println!(
        "{} indexed, {} dead-lettered, {duplicates} duplicates",
        indexed.len(),
        dead.len()
    );
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn shipping_waits_out_an_outage_and_loses_nothing() {
    let server = EsServer::start();
    server.faults().set_down(true);
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    c.append(0..500);
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    std::thread::sleep(Duration::from_millis(1500)); // the outage, not a wait for a result
    c.append(500..1000);
    server.faults().set_down(false);
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || indexed_seqs(&[&server]).len()
            == 1000),
        "indexed {} of 1000 after the outage; stderr:\n{}",
        indexed_seqs(&[&server]).len(),
        running.stderr_so_far()
    );
    println!("caught up {:?} after the outage", started.elapsed());
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn the_password_never_appears_in_the_agents_log() {
    const PASSWORD: &str = "s3cr3t-Passw0rd-do-not-log";
    let server = EsServer::start_with(EsOptions::with_basic_auth("elastic", "the-right-one"));
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    c.append(0..10);
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.env("ELASTICSEARCH_PASSWORD", PASSWORD);
    let running = Running::spawn(cmd);
    // Every request is refused with 401; the agent says so, and keeps retrying.
    assert!(wait_until(Duration::from_secs(30), || {
        running.stderr_so_far().contains("401")
    }));
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(!stopped.stderr.contains(PASSWORD), "{}", stopped.stderr);
    assert!(indexed_seqs(&[&server]).is_empty());
}

#[test]
fn verification_mode_none_is_said_loudly_at_start() {
    let tree = KubeTree::new();
    // Nothing listens there: only the start-up warning matters here.
    let mut cmd = run_cmd(&tree, "https://127.0.0.1:9");
    cmd.args(["-E", "output.elasticsearch.ssl.verification_mode=none"]);
    let running = Running::spawn(cmd);
    assert!(
        wait_until(Duration::from_secs(20), || {
            running
                .stderr_so_far()
                .contains("verification_mode is none")
        }),
        "{}",
        running.stderr_so_far()
    );
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    let warning = stopped
        .stderr
        .lines()
        .find(|l| l.contains("verification_mode is none"))
        .expect("the warning");
    let line: serde_json::Value = serde_json::from_str(warning).expect("the agent logs JSON");
    assert_eq!(line["level"], "WARN");
}

/// The offset recorded for the only file in `state_dir`'s registry, once there is one.
fn recorded_offset(state_dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(state_dir.join("registry.json")).ok()?;
    let registry: serde_json::Value = serde_json::from_str(&text).ok()?;
    registry["files"].as_array()?.first()?["offset"].as_u64()
}

#[test]
fn offsets_advance_only_once_elasticsearch_acknowledged() {
    let server = EsServer::start();
    server.faults().set_stall(true);
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    c.append(0..200);
    let size = std::fs::metadata(c.log()).unwrap().len();
    let mut cmd = run_cmd(&tree, &server.url());
    // The set-up before the first bulk would stall too; this test is about the bulk requests.
    cmd.args(["-E", "setup.enabled=false"]);
    let running = Running::spawn(cmd);
    // The file is read and the registry written (every 100 ms), but nothing is acknowledged.
    assert!(wait_until(Duration::from_secs(20), || {
        recorded_offset(&tree.state_dir()).is_some() && server.requests().count("/_bulk") > 0
    }));
    std::thread::sleep(Duration::from_millis(500)); // several registry flushes, not a result
    assert_eq!(
        recorded_offset(&tree.state_dir()),
        Some(0),
        "nothing acknowledged yet"
    );
    server.faults().set_stall(false);
    assert!(
        wait_until(Duration::from_secs(30), || {
            recorded_offset(&tree.state_dir()) == Some(size)
        }),
        "offset {:?} of {size}; stderr:\n{}",
        recorded_offset(&tree.state_dir()),
        running.stderr_so_far()
    );
    assert_eq!(indexed_seqs(&[&server]).len(), 200);
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn a_line_dated_before_1970_is_indexed_at_its_read_time_not_dead_lettered() {
    // The template run installs maps @timestamp as date_nanos, which holds nothing before 1970: the
    // test server refuses such a date as Elasticsearch does (es_server's setup_documents).
    let server = EsServer::start();
    let tree = KubeTree::new();
    let c = tree.container("shop", "clock-1", "app");
    c.append(0..1);
    let started = chrono::Utc::now();
    let mut file = c.open_append();
    std::io::Write::write_all(
        &mut file,
        b"1969-12-31T23:59:59.999999999Z stdout F before the clock was set\n",
    )
    .unwrap();
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    let both = wait_until(Duration::from_secs(30), || {
        server.all_documents().len() == 2
    });
    let stopped = running.stop("TERM", Duration::from_secs(15));
    let ended = chrono::Utc::now();
    assert!(
        both,
        "indexed: {:?}\n{}",
        server.all_documents(),
        stopped.stderr
    );
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(dead_lettered(&tree.state_dir()).is_empty());
    let (index, doc) = server
        .all_documents()
        .into_iter()
        .find(|(_, d)| d["message"] == "before the clock was set")
        .expect("the 1969 line");
    assert_eq!(
        doc["log"]["original_timestamp"],
        "1969-12-31T23:59:59.999999999Z"
    );
    assert_eq!(
        doc["log"]["flags"],
        serde_json::json!(["timestamp_out_of_range"])
    );
    let at = chrono::DateTime::parse_from_rfc3339(doc["@timestamp"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert!(started <= at && at <= ended, "read at {at}");
    assert_eq!(index, format!("funlynk-logs-{}", at.format("%Y.%m.%d")));
}
