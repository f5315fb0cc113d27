//! The binary with Kubernetes metadata: `tail --kube` over the fixture tree, and `run` shipping through
//! an API server outage, both against the test API server over HTTP with a bearer token.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::elasticsearch::EsServer;
use crate::kubernetes::{fixture, KubeOptions, KubeServer, PODS};
use crate::support::{
    documents, http_get, loglynk, metrics_address, pod_for, run_to_end, sample, seq_of, wait_until,
    KubeTree, Running,
};

const TOKEN: &str = "kube-t0ken";
const API_POD: &str = "pod-shop-api-5c8d9f7b6-k8s2p.json";

/// The fixture cluster's namespaces and node, and the fixture pods `pods`.
fn cluster(pods: &[&str]) -> KubeServer {
    let server = KubeServer::start(KubeOptions::with_token(TOKEN));
    for name in ["namespace-shop.json", "namespace-payments.json"] {
        server.add_namespace(fixture(name)).expect("namespace");
    }
    server.add_node(fixture("node-node-a1.json")).expect("node");
    for name in pods {
        server.add_pod(fixture(name)).expect("pod");
    }
    server
}

/// `-E` settings that point the agent at `server` through a kubeconfig in `dir`.
fn kube_settings(server: &KubeServer, dir: &Path) -> Vec<String> {
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    [
        format!("kubernetes.kubeconfig={}", kubeconfig.display()),
        "kubernetes.node_name=node-a1".to_owned(),
    ]
    .into_iter()
    .flat_map(|setting| ["-E".to_owned(), setting])
    .collect()
}

fn file_of(doc: &Value) -> &str {
    doc["log"]["file"]["path"].as_str().unwrap_or("")
}

fn flagged_missing(doc: &Value) -> bool {
    doc["log"]["flags"]
        .as_array()
        .is_some_and(|flags| flags.iter().any(|f| f == "kube_metadata_missing"))
}

#[test]
fn tail_kube_enriches_the_fixtures_and_flags_a_pod_the_api_does_not_know_without_holding_the_others(
) {
    let known: Vec<&str> = PODS.into_iter().filter(|p| *p != API_POD).collect();
    let server = cluster(&known);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = loglynk();
    cmd.args(["tail", "--kube", "--no-follow"])
        .args(kube_settings(&server, dir.path()))
        .args(["-E", "kubernetes.metadata_wait=1s"])
        .arg("fixtures/var/log/containers/*.log");
    let run = run_to_end(cmd, Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let docs = documents(run.lines.join("\n").as_bytes());

    let (api, others): (Vec<&Value>, Vec<&Value>) =
        docs.iter().partition(|d| file_of(d).contains("_shop_api-"));
    assert!(!api.is_empty() && !others.is_empty());
    for doc in &api {
        assert!(flagged_missing(doc), "{doc}");
        assert_eq!(doc["kubernetes"]["pod"]["name"], "api-5c8d9f7b6-k8s2p");
        assert_eq!(
            doc["kubernetes"]["labels"],
            Value::Null,
            "path metadata only"
        );
    }
    for doc in &others {
        assert!(!flagged_missing(doc), "{doc}");
        assert!(doc["kubernetes"]["pod"]["ip"].is_string(), "{doc}");
        assert!(doc["kubernetes"]["labels"].is_object(), "{doc}");
        assert!(doc["container"]["image"]["name"].is_string(), "{doc}");
    }
    let owner = |needle: &str, kind: &str| {
        let doc = others
            .iter()
            .find(|d| file_of(d).contains(needle))
            .unwrap_or_else(|| panic!("no document from {needle}"));
        doc["kubernetes"][kind]["name"].clone()
    };
    assert_eq!(owner("_shop_nginx-", "deployment"), "web");
    assert_eq!(owner("_payments_worker-", "statefulset"), "worker");
    assert_eq!(owner("_batch_report-", "cronjob"), "report");
    assert_eq!(
        others
            .iter()
            .find(|d| file_of(d).contains("_payments_worker-"))
            .map(|d| d["container"]["runtime"].clone()),
        Some(json!("docker"))
    );
    // The unknown pod's file waited; the others were read meanwhile, so they all come first (but for
    // a partial line flushed at the very end).
    let first_api = docs
        .iter()
        .position(|d| file_of(d).contains("_shop_api-"))
        .expect("api documents");
    let last_other = docs
        .iter()
        .rposition(|d| {
            !file_of(d).contains("_shop_api-") && !d["log"]["flags"].to_string().contains("partial")
        })
        .expect("other documents");
    assert!(
        last_other < first_api,
        "a waiting file held up the others: {last_other} >= {first_api}"
    );
    assert!(
        server.requests().iter().any(|r| r.path == "/api/v1/pods"
            && r.query
                .as_deref()
                .is_some_and(|q| q.contains("fieldSelector=spec.nodeName%3Dnode-a1"))),
        "the watch is scoped to the node"
    );
}

#[test]
fn kubernetes_enabled_true_without_a_configuration_is_a_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = loglynk();
    cmd.env("HOME", dir.path())
        .args(["tail", "--kube", "--no-follow"])
        .arg("fixtures/var/log/containers/*.log");
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("no Kubernetes configuration"),
        "{}",
        run.stderr
    );
    assert!(run.lines.is_empty(), "nothing shipped");

    // The agent likewise, before it reads anything.
    let tree = KubeTree::new();
    let mut cmd = loglynk();
    cmd.env("HOME", dir.path())
        .args(["run", "-E", "kubernetes.enabled=true", "-E"])
        .arg(format!("state_dir={}", tree.state_dir().display()))
        // A plain-HTTP host needs no CA file, whose absence would be found first (exit 2).
        .args(["-E", "output.elasticsearch.hosts=[\"http://127.0.0.1:9\"]"]);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("no Kubernetes configuration"));

    // auto (the default) warns once and ships what the paths say.
    let es = EsServer::start();
    let c = tree.container("shop", "web-1", "app");
    c.append(0..3);
    let mut cmd = run_cmd(&tree, &es, &[]);
    cmd.env("HOME", dir.path());
    let running = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(30), || shipped(&es).len() >= 3));
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_eq!(
        stopped
            .stderr
            .matches("no Kubernetes configuration")
            .count(),
        1
    );
    for doc in shipped(&es) {
        assert_eq!(doc["kubernetes"]["pod"]["name"], "web-1");
        assert!(!flagged_missing(&doc), "no wait without a cache: {doc}");
    }
}

fn run_cmd(tree: &KubeTree, es: &EsServer, kube: &[String]) -> Command {
    let mut cmd = crate::support::run_cmd(tree, &es.url());
    cmd.args(kube);
    cmd
}

/// Every sample name in an exposition.
fn served_names(metrics: &str) -> std::collections::BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or("").to_owned())
        .collect()
}

/// loglynk's names in `deploy/checks/metrics.yaml`, the list `deploy/check` holds dashboards and
/// alert rules to.
fn listed_names() -> std::collections::BTreeSet<String> {
    let path = crate::support::repo_root().join("deploy/checks/metrics.yaml");
    let text = std::fs::read_to_string(&path).expect("deploy/checks/metrics.yaml");
    let list: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("YAML");
    list["loglynk"]["metrics"]
        .as_sequence()
        .expect("loglynk.metrics")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn shipped(es: &EsServer) -> Vec<Value> {
    es.all_documents().into_iter().map(|(_, doc)| doc).collect()
}

fn tier_of(es: &EsServer, seq: u64) -> Option<String> {
    shipped(es)
        .iter()
        .find(|d| seq_of(d) == Some(seq))
        .and_then(|d| {
            d["kubernetes"]["labels"]["tier"]
                .as_str()
                .map(str::to_owned)
        })
}

#[test]
fn run_enriches_and_keeps_shipping_through_an_api_outage() {
    let kube = cluster(&[]);
    let es = EsServer::start();
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let mut pod = pod_for(&c, "shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    kube.add_pod(pod.clone()).expect("pod");
    let dir = tempfile::tempdir().unwrap();
    let running = Running::spawn(run_cmd(&tree, &es, &kube_settings(&kube, dir.path())));

    c.append(0..100);
    let count = |es: &EsServer| shipped(es).len();
    assert!(
        wait_until(Duration::from_secs(30), || count(&es) >= 100),
        "shipped {}; stderr:\n{}",
        count(&es),
        running.stderr_so_far()
    );
    let docs = shipped(&es);
    assert!(docs.iter().all(|d| !flagged_missing(d)));
    assert!(docs
        .iter()
        .all(|d| d["kubernetes"]["deployment"]["name"] == "web"
            && d["kubernetes"]["namespace_labels"]["team"] == "storefront"));
    assert_eq!(tier_of(&es, 0).as_deref(), Some("frontend"));

    // The API server goes away: shipping goes on with the cached metadata.
    kube.faults().set_down(true);
    kube.faults().drop_watches();
    c.append(100..300);
    assert!(
        wait_until(Duration::from_secs(30), || count(&es) >= 300),
        "shipping stalled during the outage: {}",
        count(&es)
    );
    assert_eq!(tier_of(&es, 299).as_deref(), Some("frontend"));
    assert!(
        wait_until(Duration::from_secs(15), || running
            .stderr_so_far()
            .contains("Kubernetes API watch failing")),
        "the outage is not in the agent's log:\n{}",
        running.stderr_so_far()
    );
    let address = metrics_address(&running.stderr_so_far()).expect("the metrics address");
    let scrape = || {
        let (status, body) = http_get(&address, "/metrics");
        assert_eq!(status, 200, "{body}");
        body
    };
    assert!(
        wait_until(Duration::from_secs(10), || {
            let metrics = scrape();
            sample(&metrics, "loglynk_kube_watch_failing_seconds").unwrap_or(0.0) > 0.0
                && sample(&metrics, "loglynk_kube_watch_errors_total").unwrap_or(0.0) >= 1.0
        }),
        "the outage is not in the metrics:\n{}",
        scrape()
    );
    assert_eq!(sample(&scrape(), "loglynk_kube_cache_pods"), Some(1.0));
    // Per-container lag is served only for containers behind, and per-pod limits only for pods
    // limited, so only while some are.
    let on_demand =
        |names: std::collections::BTreeSet<String>| -> std::collections::BTreeSet<String> {
            names
                .into_iter()
                .filter(|n| {
                    !n.starts_with("loglynk_container_lag") && n != "loglynk_pod_rate_limited"
                })
                .collect()
        };
    assert_eq!(
        on_demand(served_names(&scrape())),
        on_demand(listed_names()),
        "the names /metrics serves and the list deploy/ checks dashboards and rules against"
    );
    assert_eq!(http_get(&address, "/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(http_get(&address, "/").0, 404);

    // Back, with a changed label: later lines carry it.
    kube.faults().set_down(false);
    pod["metadata"]["labels"]["tier"] = json!("edge");
    kube.update_pod(pod).expect("update");
    let mut next = 300;
    let relabelled = wait_until(Duration::from_secs(30), || {
        c.append(next..next + 1);
        next += 1;
        std::thread::sleep(Duration::from_millis(50));
        shipped(&es)
            .iter()
            .any(|d| d["kubernetes"]["labels"]["tier"] == "edge")
    });
    assert!(relabelled, "stderr:\n{}", running.stderr_so_far());
    assert!(running
        .stderr_so_far()
        .contains("Kubernetes API watch recovered"));
    assert!(
        wait_until(Duration::from_secs(10), || sample(
            &scrape(),
            "loglynk_kube_watch_failing_seconds"
        ) == Some(0.0)),
        "{}",
        scrape()
    );

    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "stderr:\n{}", stopped.stderr);
    assert!(wait_until(Duration::from_secs(5), || count(&es) as u64 >= next));
}
