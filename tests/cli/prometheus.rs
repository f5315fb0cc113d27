//! A real Prometheus (Debian's `prometheus` package) scrapes a running `loglynk run` while it ships the
//! fixture tree to the test Elasticsearch server, and the shipped count is read back through
//! Prometheus's HTTP API.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{
    free_port, http_get, metrics_address, run_cmd, wait_until, KubeTree, Running, Server,
};

/// The value of an instant query with one result, if it has one.
fn query(prometheus: &str, expr: &str) -> Option<f64> {
    let (status, body) = http_get(prometheus, &format!("/api/v1/query?query={expr}"));
    if status != 200 {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
    answer["data"]["result"][0]["value"][1]
        .as_str()?
        .parse()
        .ok()
}

#[test]
fn prometheus_reads_the_shipped_count_from_loglynk() {
    let binary = "prometheus";
    if Command::new(binary).arg("--version").output().is_err() {
        panic!("{binary} not found: install Debian's prometheus package (.ci/run does)");
    }
    let es = EsServer::start();
    let tree = KubeTree::new();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args(["-E", "paths=[\"fixtures/var/log/containers/*.log\"]"]);
    let agent = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &agent.stderr_so_far()
    )
    .is_some()));
    let target = metrics_address(&agent.stderr_so_far()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: loglynk\n    \
             static_configs: [{{targets: [\"{target}\"]}}]\n"
        ),
    )
    .unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let prometheus = Server(
        Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting prometheus"),
    );

    // Every fixture document but the agent's own reaches Elasticsearch, and Prometheus sees the count.
    let shipped = wait_until(Duration::from_secs(60), || {
        let indexed = es.all_documents().len() as f64;
        indexed > 0.0 && query(&listen, "loglynk_events_shipped_total") == Some(indexed)
    });
    assert!(
        shipped,
        "Prometheus has {:?}, Elasticsearch {} documents; agent stderr:\n{}",
        query(&listen, "loglynk_events_shipped_total"),
        es.all_documents().len(),
        agent.stderr_so_far()
    );
    assert_eq!(query(&listen, "up{job=\"loglynk\"}"), Some(1.0));
    drop(prometheus);
    let stopped = agent.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
