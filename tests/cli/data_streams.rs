//! `setup.mode: data_stream`: pods name their data stream with `elastic.co/dataset` and
//! `elastic.co/namespace` (on the pod, or on its namespace as a default), the configuration fills what
//! they leave, an invalid one falls back and is counted; bootstrap, then `run` into the data streams;
//! and `tail --bulk` shows the same routing without a cluster.

use std::time::Duration;

use serde_json::{json, Value};

use crate::bootstrap::run_bootstrap;
use crate::elasticsearch::EsServer;
use crate::hints::{annotated, cluster, kube_args, messages, write};
use crate::kubernetes::KubeServer;
use crate::support::{
    documents, http_get, loglynk, metrics_address, run_to_end, sample, wait_until, KubeTree,
    Running,
};

const MODE: [&str; 4] = [
    "-E",
    "setup.mode=data_stream",
    "-E",
    "data_stream.namespace=staging",
];

/// Four pods: one naming nothing in a namespace that names its namespace, one naming both, one in a
/// namespace naming nothing, one whose dataset is invalid. Each writes one line, its name.
fn four_pods(kube: &KubeServer, tree: &KubeTree) -> [(&'static str, &'static str); 4] {
    let pods = [
        ("shop", "plain-1", json!({})),
        (
            "shop",
            "orders-1",
            json!({"elastic.co/dataset": "shop.orders", "elastic.co/namespace": "prod"}),
        ),
        ("payments", "worker-1", json!({})),
        (
            "payments",
            "bad-1",
            json!({"elastic.co/dataset": "Bad-Name"}),
        ),
    ];
    for (namespace, pod, notes) in pods {
        let c = tree.container(namespace, pod, "app");
        kube.add_pod(annotated(&c, namespace, pod, "app", notes))
            .unwrap();
        write(&c, &[pod]);
    }
    [
        // The namespace's annotation over the configured namespace.
        ("plain-1", "logs-kubernetes.container_logs-shop"),
        // The pod's own over its namespace's.
        ("orders-1", "logs-shop.orders-prod"),
        // Neither: the configuration's.
        ("worker-1", "logs-kubernetes.container_logs-staging"),
        // Invalid: the default, counted.
        ("bad-1", "logs-kubernetes.container_logs-staging"),
    ]
}

fn dataset_and_namespace(name: &str) -> (&str, &str) {
    let rest = name.strip_prefix("logs-").unwrap();
    rest.split_once('-').unwrap()
}

#[test]
fn pods_name_their_data_streams_and_documents_land_there_after_bootstrap() {
    let kube = cluster(json!({"elastic.co/namespace": "shop"}));
    let tree = KubeTree::new();
    let expected = four_pods(&kube, &tree);
    let es = EsServer::start();
    let setup = run_bootstrap(&es.url(), &MODE);
    assert_eq!(setup.code, Some(0), "{}", setup.stderr);
    assert!(
        setup
            .lines
            .iter()
            .any(|l| l.starts_with("  covers logs-*-* at priority 150")
                && l.ends_with("logs-kubernetes.container_logs-staging)")),
        "{:?}",
        setup.lines
    );

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::run_cmd(&tree, &es.url());
    cmd.args(MODE).args(kube_args(&kube, dir.path()));
    let running = Running::spawn(cmd);
    assert!(
        wait_until(Duration::from_secs(30), || messages(&es).len() == 4),
        "shipped {:?}; stderr:\n{}",
        messages(&es).iter().map(|(m, _)| m).collect::<Vec<_>>(),
        running.stderr_so_far()
    );
    for (pod, stream) in expected {
        let docs = es.documents(stream);
        let doc = docs
            .iter()
            .find(|d| d["message"] == pod)
            .unwrap_or_else(|| panic!("{pod} not in {stream}: {docs:?}"));
        let (dataset, namespace) = dataset_and_namespace(stream);
        assert_eq!(
            doc["data_stream"],
            json!({"type": "logs", "dataset": dataset, "namespace": namespace}),
            "{pod}"
        );
        assert_eq!(doc["event"]["dataset"], dataset, "{pod}");
        // Made by the first write through loglynk's template, not the cluster's built-in `logs`.
        let address = es.url().trim_start_matches("http://").to_owned();
        let (status, body) = http_get(&address, &format!("/_data_stream/{stream}"));
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["data_streams"][0]["template"], "funlynk-logs");
    }
    assert_eq!(
        es.documents("logs-kubernetes.container_logs-staging").len(),
        2
    );
    let address = metrics_address(&running.stderr_so_far()).expect("metrics address");
    let metric = |name: &str| sample(&http_get(&address, "/metrics").1, name);
    assert_eq!(
        metric("loglynk_hints_invalid_total{reason=\"invalid_name\"}"),
        Some(1.0)
    );
    let stderr = running.stderr_so_far();
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("hint ignored for this pod"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].contains("elastic.co/dataset") && said[0].contains("bad-1"));
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

/// `tail --bulk`: every document after the action line `run` sends it with, so routing shows without
/// a cluster, by data stream as by `indices`; the documents are those `tail` prints alone.
#[test]
fn tail_bulk_shows_where_run_would_send_each_document() {
    let kube = cluster(json!({"elastic.co/namespace": "shop"}));
    let tree = KubeTree::new();
    let expected = four_pods(&kube, &tree);
    let dir = tempfile::tempdir().unwrap();
    let tail = |args: &[&str]| {
        let mut cmd = loglynk();
        cmd.args(["tail", "--kube", "--no-follow"])
            .args(kube_args(&kube, dir.path()))
            .args(args)
            .arg(tree.glob());
        let run = run_to_end(cmd, Duration::from_secs(30));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        documents(run.lines.join("\n").as_bytes())
    };
    let mut bulk: Vec<&str> = MODE.to_vec();
    bulk.push("--bulk");
    let lines = tail(&bulk);
    assert_eq!(lines.len(), 8, "{lines:?}");
    let mut routed: Vec<(String, String)> = lines
        .chunks(2)
        .map(|pair| {
            let action = &pair[0]["create"];
            assert!(action["_id"].is_string(), "deduplicating: {action}");
            (
                pair[1]["message"].as_str().unwrap().to_owned(),
                action["_index"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    routed.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(pod, stream)| ((*pod).to_owned(), (*stream).to_owned()))
        .collect();
    want.sort();
    assert_eq!(routed, want);
    // The documents are what `tail` prints without --bulk (but for the agent's identity, new in each
    // run without a state directory).
    let sorted = |mut docs: Vec<Value>| {
        for doc in &mut docs {
            doc.as_object_mut().unwrap().remove("agent");
        }
        docs.sort_by_key(|d| d["message"].as_str().unwrap().to_owned());
        docs
    };
    let printed = sorted(lines.chunks(2).map(|pair| pair[1].clone()).collect());
    assert!(printed
        .iter()
        .all(|d| d["data_stream"]["type"] == "logs" && d["event"]["dataset"].is_string()));
    assert!(
        sorted(tail(&MODE)) == printed,
        "the documents differ from tail's"
    );

    // Daily indices routed by `indices`: the same place shows it.
    let rule = "output.elasticsearch.indices=[{index: 'funlynk-logs-shop-%{+yyyy.MM.dd}', \
                when.equals: {kubernetes.namespace: shop}}]";
    let lines = tail(&[
        "-E",
        rule,
        "-E",
        "output.elasticsearch.deduplicate=false",
        "--bulk",
    ]);
    let mut daily: Vec<(String, String)> = lines
        .chunks(2)
        .map(|pair| {
            (
                pair[1]["message"].as_str().unwrap().to_owned(),
                pair[0]["index"]["_index"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    daily.sort();
    assert_eq!(
        daily,
        [
            ("bad-1", "funlynk-logs-2026.11.24"),
            ("orders-1", "funlynk-logs-shop-2026.11.24"),
            ("plain-1", "funlynk-logs-shop-2026.11.24"),
            ("worker-1", "funlynk-logs-2026.11.24"),
        ]
        .map(|(m, i)| (m.to_owned(), i.to_owned()))
    );
    assert!(lines.iter().all(|l| l.get("data_stream").is_none()));
}
