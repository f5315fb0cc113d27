//! Pods steer their own logs: `co.elastic.logs/*` and `elastic.co/*` annotations on pods and their
//! namespaces, read by the binary from the test API server, changed and removed while it runs.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::elasticsearch::EsServer;
use crate::kubernetes::{fixture, KubeOptions, KubeServer};
use crate::support::{
    documents, http_get, metrics_address, open_append, pod_for, run_to_end, sample, wait_until,
    Container, KubeTree, Running,
};

const TOKEN: &str = "hints-t0ken";

/// Appends one CRI line per message.
pub(crate) fn write(container: &Container, messages: &[&str]) {
    use std::io::Write;
    let text: String = messages
        .iter()
        .map(|m| format!("2026-11-24T10:00:00.000000000Z stdout F {m}\n"))
        .collect();
    open_append(&container.log())
        .write_all(text.as_bytes())
        .unwrap();
}

pub(crate) fn kube_args(server: &KubeServer, dir: &Path) -> Vec<String> {
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    vec![
        "-E".into(),
        format!("kubernetes.kubeconfig={}", kubeconfig.display()),
        "-E".into(),
        "kubernetes.node_name=node-a1".into(),
    ]
}

pub(crate) fn cluster(shop_annotations: Value) -> KubeServer {
    let server = KubeServer::start(KubeOptions::with_token(TOKEN));
    let mut shop = fixture("namespace-shop.json");
    shop["metadata"]["annotations"] = shop_annotations;
    server.add_namespace(shop).expect("namespace");
    server
        .add_namespace(fixture("namespace-payments.json"))
        .expect("namespace");
    server.add_node(fixture("node-node-a1.json")).expect("node");
    server
}

pub(crate) fn annotated(
    container: &Container,
    ns: &str,
    pod: &str,
    name: &str,
    notes: Value,
) -> Value {
    let mut pod = pod_for(container, ns, pod, name);
    pod["metadata"]["annotations"] = notes;
    pod
}

pub(crate) fn messages(es: &EsServer) -> Vec<(String, Value)> {
    es.all_documents()
        .into_iter()
        .map(|(_, doc)| (doc["message"].as_str().unwrap_or("").to_owned(), doc))
        .collect()
}

pub(crate) fn shipped(es: &EsServer, message: &str) -> bool {
    messages(es).iter().any(|(m, _)| m == message)
}

#[test]
fn hints_from_pods_and_namespaces_steer_each_container_as_they_change() {
    // The namespace's default: lines starting with "skip" are not shipped.
    let kube = cluster(json!({"co.elastic.logs/exclude_lines": "^skip"}));
    let tree = KubeTree::new();
    let a = tree.container("shop", "a-1", "app");
    let b = tree.container("shop", "b-1", "app");
    let c = tree.container("shop", "c-1", "quiet");
    let d = tree.container("payments", "d-1", "worker");
    kube.add_pod(annotated(&a, "shop", "a-1", "app", json!({})))
        .unwrap();
    // The pod's own exclude_lines replaces the namespace's.
    let b_pod = annotated(
        &b,
        "shop",
        "b-1",
        "app",
        json!({"co.elastic.logs/exclude_lines": "^drop"}),
    );
    kube.add_pod(b_pod.clone()).unwrap();
    // Only its container "quiet" is disabled.
    let c_pod = annotated(
        &c,
        "shop",
        "c-1",
        "quiet",
        json!({"co.elastic.logs.quiet/enabled": "false", "co.elastic.logs.other/enabled": "true"}),
    );
    kube.add_pod(c_pod.clone()).unwrap();
    // A malformed hint is left out; the pod's other hint applies.
    kube.add_pod(annotated(
        &d,
        "payments",
        "d-1",
        "worker",
        json!({"co.elastic.logs/include_lines": "(unclosed", "co.elastic.logs/exclude_lines": "^drop"}),
    ))
    .unwrap();

    write(&a, &["keep-a1", "skip-a1"]);
    write(&b, &["keep-b1", "skip-b1", "drop-b1"]);
    write(&c, &["quiet-1"]);
    write(&d, &["keep-d1", "drop-d1", "ERROR boom-d1"]);

    let es = EsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::run_cmd(&tree, &es.url());
    cmd.args(kube_args(&kube, dir.path()));
    let running = Running::spawn(cmd);
    let want = ["keep-a1", "keep-b1", "skip-b1", "keep-d1", "ERROR boom-d1"];
    assert!(
        wait_until(Duration::from_secs(30), || want
            .iter()
            .all(|m| shipped(&es, m))),
        "shipped {:?}; stderr:\n{}",
        messages(&es).iter().map(|(m, _)| m).collect::<Vec<_>>(),
        running.stderr_so_far()
    );
    let address = metrics_address(&running.stderr_so_far()).expect("metrics address");
    let metric = |name: &str| sample(&http_get(&address, "/metrics").1, name);
    assert!(
        wait_until(Duration::from_secs(10), || metric(
            "loglynk_events_dropped_total{reason=\"excluded_lines\"}"
        ) == Some(3.0)),
        "{}",
        http_get(&address, "/metrics").1
    );
    for gone in ["skip-a1", "drop-b1", "quiet-1", "drop-d1"] {
        assert!(!shipped(&es, gone), "{gone} was shipped");
    }
    assert_eq!(
        metric("loglynk_files_excluded_total{reason=\"hint\"}"),
        Some(1.0)
    );
    // The lines passed on, by source and level: what log-based alerts are written on.
    let events = |labels: &str| metric(&format!("loglynk_log_events_total{{{labels}}}"));
    assert_eq!(
        events(r#"namespace="shop",container="app",level="none""#),
        Some(3.0)
    );
    assert_eq!(
        events(r#"namespace="payments",container="worker",level="none""#),
        Some(1.0)
    );
    assert_eq!(
        events(r#"namespace="payments",container="worker",level="error""#),
        Some(1.0)
    );
    assert_eq!(
        metric("loglynk_hints_invalid_total{reason=\"invalid_regex\"}"),
        Some(1.0)
    );
    let warnings = running
        .stderr_so_far()
        .matches("hint ignored for this pod")
        .count();
    assert_eq!(warnings, 1, "{}", running.stderr_so_far());

    // While running: b's own hint is removed (the namespace's default applies again) and it asks
    // for the original event; c's exclusion is removed, so its file is read from where it stood.
    let mut b_pod = b_pod;
    b_pod["metadata"]["annotations"] = json!({"elastic.co/preserve_original_event": "true"});
    kube.update_pod(b_pod).unwrap();
    let mut c_pod = c_pod;
    c_pod["metadata"]["annotations"] = json!({});
    kube.update_pod(c_pod).unwrap();
    let mut n = 0;
    let preserved = wait_until(Duration::from_secs(30), || {
        n += 1;
        write(&b, &[&format!("probe-b{n}")]);
        std::thread::sleep(Duration::from_millis(50));
        messages(&es)
            .iter()
            .any(|(m, doc)| m.starts_with("probe-b") && doc["event"]["original"] == json!(m))
    });
    assert!(preserved, "stderr:\n{}", running.stderr_so_far());
    write(&b, &["skip-b2", "drop-b2", "keep-b2"]);
    assert!(
        wait_until(Duration::from_secs(20), || shipped(&es, "keep-b2")
            && shipped(&es, "quiet-1")),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    assert!(
        shipped(&es, "drop-b2"),
        "the pod's removed hint no longer excludes"
    );
    assert!(!shipped(&es, "skip-b2"), "the namespace's default is back");

    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_eq!(
        stopped.stderr.matches("hint ignored for this pod").count(),
        1,
        "reported once per pod and annotation, however often the pod changes"
    );
}

#[test]
fn tail_no_follow_ends_with_a_disabled_container_unread() {
    let kube = cluster(json!({"co.elastic.logs/enabled": "false"}));
    let tree = KubeTree::new();
    let off = tree.container("shop", "off-1", "app");
    let on = tree.container("shop", "on-1", "app");
    kube.add_pod(annotated(&off, "shop", "off-1", "app", json!({})))
        .unwrap();
    // The pod turns its namespace's default back on.
    kube.add_pod(annotated(
        &on,
        "shop",
        "on-1",
        "app",
        json!({"co.elastic.logs/enabled": "true"}),
    ))
    .unwrap();
    write(&off, &["off-1"]);
    write(&on, &["on-1", "on-2"]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::loglynk();
    cmd.args(["tail", "--kube", "--no-follow"])
        .args(kube_args(&kube, dir.path()))
        .arg(tree.glob());
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let docs = documents(run.lines.join("\n").as_bytes());
    let got: Vec<&str> = docs
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["on-1", "on-2"]);
}

/// `co.elastic.logs/multiline.*`: the pod's own way of joining its lines, a container's override, and
/// a hint added while the agent runs.
#[test]
fn multiline_hints_join_each_containers_lines_as_its_pod_says() {
    let kube = cluster(json!({}));
    let tree = KubeTree::new();
    let java = tree.container("shop", "java-1", "app");
    let plain = tree.container("shop", "plain-1", "app");
    let pattern = json!({
        "co.elastic.logs/multiline.pattern": "^\\[",
        "co.elastic.logs/multiline.negate": "true",
        "co.elastic.logs/multiline.match": "after",
        "co.elastic.logs.sidecar/multiline.type": "none",
    });
    kube.add_pod(annotated(&java, "shop", "java-1", "app", pattern.clone()))
        .unwrap();
    let plain_pod = annotated(&plain, "shop", "plain-1", "app", json!({}));
    kube.add_pod(plain_pod.clone()).unwrap();
    let record = ["[1] start", "detail a", "detail b", "[2] next"];
    write(&java, &record);
    write(&plain, &record);

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::loglynk();
    cmd.args(["tail", "--kube", "-E", "multiline.type=none"])
        .args(kube_args(&kube, dir.path()))
        .arg(tree.glob());
    let running = Running::spawn(cmd);
    let mut docs: Vec<Value> = Vec::new();
    let mut next = |n: usize| {
        for _ in 0..n {
            match running.next_document(Duration::from_secs(20)) {
                Some(doc) => docs.push(doc),
                None => panic!("{docs:#?}\nstderr:\n{}", running.stderr_so_far()),
            }
        }
        let got: Vec<(String, String)> = docs
            .drain(..)
            .map(|d| {
                let pod = d["kubernetes"]["pod"]["name"].as_str().unwrap().to_owned();
                (pod, d["message"].as_str().unwrap().to_owned())
            })
            .collect();
        got
    };
    // The hinted pod's lines are joined by its pattern (the last group ships at its timeout); the
    // other's stay one event a line, as the configuration says.
    let mut got = next(6);
    got.sort();
    assert_eq!(
        got,
        [
            ("java-1", "[1] start\ndetail a\ndetail b"),
            ("java-1", "[2] next"),
            ("plain-1", "[1] start"),
            ("plain-1", "[2] next"),
            ("plain-1", "detail a"),
            ("plain-1", "detail b"),
        ]
        .map(|(p, m)| (p.to_owned(), m.to_owned()))
    );

    // Added while running: the plain pod's next lines are joined too.
    let mut plain_pod = plain_pod;
    plain_pod["metadata"]["annotations"] = pattern;
    kube.update_pod(plain_pod).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    write(&plain, &["[3] later", "detail c"]);
    assert_eq!(
        next(1),
        [("plain-1".to_owned(), "[3] later\ndetail c".to_owned())]
    );
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
