//! `kubernetes.include` and `kubernetes.exclude`: containers left out by namespace, container name
//! (known from the path alone) and pod labels (from the test API server), before their files are read.

use std::time::Duration;

use serde_json::json;

use crate::elasticsearch::EsServer;
use crate::hints::{cluster, kube_args, messages, shipped, write};
use crate::support::{
    documents, http_get, metrics_address, pod_for, run_to_end, sample, wait_until, KubeTree,
    Running,
};

fn tail_messages(tree: &KubeTree, settings: &[&str]) -> Vec<String> {
    let mut cmd = crate::support::loglynk();
    cmd.args(["tail", "--no-follow", "-E", "kubernetes.enabled=false"]);
    for setting in settings {
        cmd.args(["-E", setting]);
    }
    cmd.arg(tree.glob());
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut got: Vec<String> = documents(run.lines.join("\n").as_bytes())
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    got
}

#[test]
fn namespaces_and_containers_are_left_out_from_the_path_alone() {
    let tree = KubeTree::new();
    for (ns, pod, container) in [
        ("shop", "web-1", "app"),
        ("shop", "web-1", "istio-proxy"),
        ("kube-system", "dns-1", "coredns"),
        ("payments", "pay-1", "app"),
    ] {
        let c = tree.container(ns, pod, container);
        write(&c, &[&format!("{ns}/{container}")]);
    }
    let exclude = "kubernetes.exclude=[{namespaces: [kube-*]}, {containers: [istio-proxy]}]";
    assert_eq!(
        tail_messages(&tree, &[exclude]),
        ["payments/app", "shop/app"]
    );
    // Both criteria of one selector must hold; include, then exclude.
    assert_eq!(
        tail_messages(
            &tree,
            &[
                "kubernetes.include=[{namespaces: [shop], containers: [app]}, {namespaces: [kube-system]}]",
                "kubernetes.exclude=[{containers: [coredns]}]",
            ]
        ),
        ["shop/app"]
    );
    assert_eq!(tail_messages(&tree, &[]).len(), 4);
}

#[test]
fn a_pod_label_selector_leaves_a_file_unread_until_its_labels_change() {
    let kube = cluster(json!({}));
    let tree = KubeTree::new();
    let web = tree.container("shop", "web-1", "app");
    let debug = tree.container("shop", "debug-1", "app");
    kube.add_pod(pod_for(&web, "shop", "web-1", "app")).unwrap();
    let mut debug_pod = pod_for(&debug, "shop", "debug-1", "app");
    debug_pod["metadata"]["labels"]["tier"] = json!("debug");
    kube.add_pod(debug_pod.clone()).unwrap();
    write(&web, &["web-1"]);
    let noisy: Vec<String> = (0..200)
        .map(|i| format!("debug-{i} {}", "x".repeat(100)))
        .collect();
    let noisy: Vec<&str> = noisy.iter().map(String::as_str).collect();
    write(&debug, &noisy);
    let unread = std::fs::metadata(debug.log()).unwrap().len();

    let es = EsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::run_cmd(&tree, &es.url());
    cmd.args(kube_args(&kube, dir.path()))
        .args(["-E", "kubernetes.exclude=[{labels: tier=debug}]"]);
    let running = Running::spawn(cmd);
    assert!(
        wait_until(Duration::from_secs(30), || shipped(&es, "web-1")),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    let address = metrics_address(&running.stderr_so_far()).expect("metrics address");
    let metric = |name: &str| sample(&http_get(&address, "/metrics").1, name);
    assert!(
        wait_until(Duration::from_secs(10), || metric(
            "loglynk_files_excluded_total{reason=\"config\"}"
        ) == Some(1.0)),
        "{}",
        http_get(&address, "/metrics").1
    );
    // Not one byte of the excluded file was read: all of it is still behind.
    assert_eq!(
        metric("loglynk_files_bytes_behind"),
        Some(unread as f64),
        "{}",
        http_get(&address, "/metrics").1
    );
    assert!(messages(&es).iter().all(|(m, _)| !m.starts_with("debug-")));

    // Relabelled while running: the file is read from its start.
    debug_pod["metadata"]["labels"]["tier"] = json!("backend");
    kube.update_pod(debug_pod).unwrap();
    let debug_lines = || {
        messages(&es)
            .iter()
            .filter(|(m, _)| m.starts_with("debug-"))
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(30), || debug_lines() == 200),
        "{} shipped; stderr:\n{}",
        debug_lines(),
        running.stderr_so_far()
    );
    assert!(running
        .stderr_so_far()
        .contains("kubernetes.include/exclude leave its container out"));
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
