//! `rate_limit` with the real binary: a `drop` limit ships exactly what it allows and counts the rest;
//! a `delay` limit ships every line, no faster than it allows; the `loglynk.io/rate_limit` hint sets a
//! pod's limit, and a malformed one is left out and counted.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::elasticsearch::EsServer;
use crate::kubernetes::{fixture, KubeOptions, KubeServer};
use crate::support::{
    http_get, metrics_address, pod_for, run_cmd, sample, seq_of, wait_until, Budget, Container,
    KubeTree, Running,
};

/// Sequence numbers Elasticsearch holds for `container`'s pod, sorted.
fn seqs_of(es: &EsServer, pod: &str) -> Vec<u64> {
    let mut seqs: Vec<u64> = es
        .all_documents()
        .into_iter()
        .filter(|(_, doc)| doc["kubernetes"]["pod"]["name"] == pod)
        .filter_map(|(_, doc)| seq_of(&doc))
        .collect();
    seqs.sort_unstable();
    seqs
}

fn metric(running: &Running, name: &str) -> Option<f64> {
    let address = metrics_address(&running.stderr_so_far())?;
    sample(&http_get(&address, "/metrics").1, name)
}

fn limited_series(running: &Running) -> Vec<String> {
    let Some(address) = metrics_address(&running.stderr_so_far()) else {
        return Vec::new();
    };
    http_get(&address, "/metrics")
        .1
        .lines()
        .filter(|l| l.starts_with("loglynk_pod_rate_limited{"))
        .map(str::to_owned)
        .collect()
}

/// A period long enough that the bucket does not refill by one line during the test: what passes is
/// exactly the bucket.
const DROP_LIMIT: &str = "100/h";

#[test]
fn a_drop_limit_ships_exactly_the_allowed_lines_per_pod_and_counts_the_rest() {
    let tree = KubeTree::new();
    let loud = tree.container("shop", "loud-1", "app");
    let calm = tree.container("shop", "calm-1", "app");
    loud.append(0..250);
    calm.append(0..60);
    let es = EsServer::start();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args([
        "-E",
        &format!("rate_limit=[{{per: pod, limit: \"{DROP_LIMIT}\", policy: drop}}]"),
    ]);
    let running = Running::spawn(cmd);
    let settled = wait_until(Duration::from_secs(30), || {
        metric(
            &running,
            "loglynk_events_dropped_total{reason=\"rate_limit\"}",
        ) == Some(150.0)
            && metric(&running, "loglynk_events_in_flight") == Some(0.0)
    });
    let limited = limited_series(&running);
    let pods = metric(&running, "loglynk_rate_limited_pods");
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert!(settled, "stderr:\n{}", stopped.stderr);
    // Each pod has its own 100.
    let mut loud_seqs = seqs_of(&es, "loud-1");
    assert_eq!(loud_seqs.len(), 100, "{loud_seqs:?}");
    loud_seqs.dedup();
    assert_eq!(loud_seqs.len(), 100, "each once");
    assert_eq!(seqs_of(&es, "calm-1"), (0..60).collect::<Vec<_>>());
    assert_eq!(pods, Some(1.0));
    assert_eq!(limited.len(), 1, "{limited:?}");
    assert!(
        limited[0].contains("kubernetes_pod=\"loud-1\"") && limited[0].contains("policy=\"drop\""),
        "{limited:?}"
    );
    assert!(
        stopped
            .stderr
            .contains("rate limited: lines beyond the limit are dropped")
            && stopped
                .stderr
                .contains("\"kubernetes.pod.name\":\"loud-1\""),
        "logged with the pod:\n{}",
        stopped.stderr
    );
    // Dropped lines were acknowledged with their batches: a restart does not read them again.
    let es2 = EsServer::start();
    let mut cmd = run_cmd(&tree, &es2.url());
    cmd.args([
        "-E",
        &format!("rate_limit=[{{per: pod, limit: \"{DROP_LIMIT}\", policy: drop}}]"),
    ]);
    let again = Running::spawn(cmd);
    std::thread::sleep(Duration::from_secs(2));
    let stopped = again.stop("TERM", Duration::from_secs(20));
    assert!(
        es2.all_documents().is_empty(),
        "stderr:\n{}",
        stopped.stderr
    );
}

/// What the delayed pod may ship: `RATE` lines a second after a first `RATE` at once.
const RATE: u64 = 40;
const LINES: u64 = 200;

#[test]
fn a_delay_limit_ships_every_line_no_faster_than_it_allows_and_leaves_other_pods_alone() {
    let tree = KubeTree::new();
    let loud = tree.container("shop", "loud-1", "app");
    let calm = tree.container("shop", "calm-1", "app");
    let es = EsServer::start();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args([
        "-E",
        &format!("rate_limit=[{{per: pod, limit: {RATE}/s, pods: [{{namespaces: [shop]}}]}}]"),
    ]);
    let running = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(10), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let written = SystemTime::now();
    loud.append(0..LINES);
    calm.append(0..10);
    // Held while it drains, and shown so.
    let mut limited = Vec::new();
    let shown = wait_until(Duration::from_secs(5), || {
        limited = limited_series(&running);
        limited
            .iter()
            .any(|l| l.contains("kubernetes_pod=\"loud-1\"") && l.contains("policy=\"delay\""))
    });
    let calm_done = wait_until(Duration::from_secs(3), || {
        seqs_of(&es, "calm-1").len() == 10
    });
    let done = wait_until(Duration::from_secs(30), || {
        seqs_of(&es, "loud-1").len() as u64 >= LINES
    });
    let dropped = metric(
        &running,
        "loglynk_events_dropped_total{reason=\"rate_limit\"}",
    );
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert!(done, "stderr:\n{}", stopped.stderr);
    assert_eq!(dropped, Some(0.0), "nothing dropped under a delay limit");
    assert!(calm_done, "the other pod is not held by this pod's limit");
    assert!(shown, "{limited:?}");
    assert_eq!(
        seqs_of(&es, "loud-1"),
        (0..LINES).collect::<Vec<_>>(),
        "every line once"
    );
    // By any answer, no more lines were shipped than the limit let through since they were written.
    let mut answered: Vec<(SystemTime, u64)> = Vec::new();
    for request in es.requests().bulk() {
        let Some(at) = request.answered_at else {
            continue;
        };
        let body = String::from_utf8_lossy(&request.body);
        let loud_lines = body
            .lines()
            .filter(|l| l.contains("\"loud-1\"") && l.contains("seq="))
            .count() as u64;
        answered.push((at, loud_lines));
    }
    answered.sort();
    let mut shipped = 0;
    for (at, n) in answered {
        shipped += n;
        let elapsed = at.duration_since(written).unwrap_or_default().as_secs_f64();
        let allowed = RATE as f64 * (1.0 + elapsed);
        assert!(
            shipped as f64 <= allowed + 1.0,
            "{shipped} lines shipped {elapsed:.2}s after they were written; the limit allows {allowed:.0}"
        );
    }
}

const TOKEN: &str = "limits-t0ken";

#[test]
fn the_hint_limits_its_pod_a_malformed_one_is_left_out_and_rules_select_by_labels() {
    let kube = KubeServer::start(KubeOptions::with_token(TOKEN));
    kube.add_namespace(fixture("namespace-shop.json")).unwrap();
    kube.add_node(fixture("node-node-a1.json")).unwrap();
    let tree = KubeTree::new();
    let loud = tree.container("shop", "loud-1", "app");
    let odd = tree.container("shop", "odd-1", "app");
    let annotate = |c: &Container, pod: &str, value: &str| {
        let mut pod = pod_for(c, "shop", pod, "app");
        pod["metadata"]["annotations"] = json!({ "loglynk.io/rate_limit": value });
        pod
    };
    kube.add_pod(annotate(&loud, "loud-1", "30/h drop"))
        .unwrap();
    kube.add_pod(annotate(&odd, "odd-1", "lots")).unwrap();
    let batch = tree.container("shop", "batch-1", "app");
    let mut pod = pod_for(&batch, "shop", "batch-1", "app");
    pod["metadata"]["labels"] = json!({"tier": "batch"});
    kube.add_pod(pod).unwrap();
    loud.append(0..80);
    odd.append(0..80);
    batch.append(0..80);
    let es = EsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    kube.write_kubeconfig(&kubeconfig).unwrap();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args([
        "-E",
        &format!("kubernetes.kubeconfig={}", kubeconfig.display()),
        "-E",
        "kubernetes.node_name=node-a1",
        "-E",
        "rate_limit=[{per: pod, limit: 20/h, policy: drop, pods: [{labels: \"tier=batch\"}]}]",
    ]);
    let running = Running::spawn(cmd);
    let settled = wait_until(Duration::from_secs(30), || {
        metric(
            &running,
            "loglynk_events_dropped_total{reason=\"rate_limit\"}",
        ) == Some(110.0)
            && seqs_of(&es, "odd-1").len() == 80
    });
    let invalid = metric(
        &running,
        "loglynk_hints_invalid_total{reason=\"invalid_rate_limit\"}",
    );
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert!(settled, "stderr:\n{}", stopped.stderr);
    assert_eq!(seqs_of(&es, "loud-1"), (0..30).collect::<Vec<_>>());
    assert_eq!(seqs_of(&es, "batch-1"), (0..20).collect::<Vec<_>>());
    assert_eq!(invalid, Some(1.0));
}

#[test]
fn a_rate_limit_reloads_without_a_restart_and_no_line_is_read_twice() {
    let tree = KubeTree::new();
    let c = tree.container("shop", "loud-1", "app");
    let es = EsServer::start();
    let limited = "rate_limit: [{per: pod, limit: 100/h, policy: drop}]\n";
    let text = |extra: &str| {
        crate::reload::config_text(&tree, &[&es.url()], &[Path::new(&tree.glob())], extra)
    };
    let file = tree.root().join("loglynk.yml");
    std::fs::write(&file, text(limited)).unwrap();
    let running = crate::reload::run_with(&file);
    c.append(0..150);
    let dropped = || {
        metric(
            &running,
            "loglynk_events_dropped_total{reason=\"rate_limit\"}",
        )
    };
    let first = wait_until(Duration::from_secs(30), || {
        dropped() == Some(50.0) && seqs_of(&es, "loud-1").len() == 100
    });
    // Lifted: what comes next ships whole, and what was dropped is not read again.
    crate::reload::replace(&file, &text("rate_limit: []\n"));
    let budget = Budget::new(Duration::from_secs(30));
    let reloaded = crate::reload::applied(&running, "rate_limit", &budget);
    c.append(150..400);
    let all = wait_until(budget.left(), || seqs_of(&es, "loud-1").len() == 350);
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert!(first && reloaded && all, "stderr:\n{}", stopped.stderr);
    let want: Vec<u64> = (0..100).chain(150..400).collect();
    assert_eq!(seqs_of(&es, "loud-1"), want);
}
