//! The node-scoped pod cache against the test API server: lists and watches over real HTTP with a
//! bearer token, deletes kept for cleanup_timeout, UID reuse, outages, dropped watches and 410 Gone.

use testkit_kubernetes as kubernetes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kubernetes::{fixture, KubeOptions, KubeServer, PODS};
use loglynk::enrich::kube::cache::{client_from_env, KubeError, PodCache, PodCacheConfig};
use loglynk::telemetry::Metrics;
use serde_json::{json, Value};

const TOKEN: &str = "s3cret";
const WEB_UID: &str = "0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90";
const WORKER_UID: &str = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d";
const WORKER_CONTAINER: &str = "9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d";

fn seeded() -> KubeServer {
    kubernetes::seeded(KubeOptions::with_token(TOKEN))
}

/// A copy of the web pod under another name, uid and container ID.
fn extra_pod(name: &str, uid: &str, container: &str) -> Value {
    let mut pod = fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    pod["metadata"]["name"] = json!(name);
    pod["metadata"]["uid"] = json!(uid);
    pod["status"]["containerStatuses"][0]["containerID"] =
        json!(format!("containerd://{container}"));
    pod
}

fn config(cleanup: Duration) -> PodCacheConfig {
    PodCacheConfig {
        cleanup_timeout: cleanup,
        stale_after: Duration::from_millis(500),
        probe_interval: Duration::from_millis(200),
        ..PodCacheConfig::new("node-a1")
    }
}

async fn start(server: &KubeServer, config: PodCacheConfig) -> (PodCache, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    let client = client_from_env(Some(&path)).await.expect("client");
    let cache = PodCache::start(client, config);
    assert!(cache.wait_ready(Duration::from_secs(10)).await, "not ready");
    (cache, dir)
}

async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pod_watches(server: &KubeServer) -> usize {
    let requests = server.requests();
    requests
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .filter(|r| r.query.as_deref().unwrap_or("").contains("watch=true"))
        .count()
}

fn label(pod: Option<Arc<Pod>>, key: &str) -> Option<String> {
    pod?.metadata.labels.as_ref()?.get(key).cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_after_the_first_list_with_only_this_nodes_pods() {
    let server = seeded();
    let mut elsewhere = extra_pod(
        "web-elsewhere",
        "00000000-0000-4000-8000-0000000000b2",
        &"b".repeat(64),
    );
    elsewhere["spec"]["nodeName"] = json!("node-b2");
    server.add_pod(elsewhere).expect("pod on node-b2");
    let (cache, _dir) = start(&server, config(Duration::from_secs(60))).await;

    for name in PODS {
        let pod = fixture(name);
        let uid = pod["metadata"]["uid"].as_str().expect("uid");
        let found = cache.pod(uid).unwrap_or_else(|| panic!("{name} by uid"));
        assert_eq!(
            found.metadata.name.as_deref(),
            pod["metadata"]["name"].as_str()
        );
        assert!(found.metadata.managed_fields.is_none(), "trimmed");
        let id = pod["status"]["containerStatuses"][0]["containerID"]
            .as_str()
            .expect("containerID");
        let bare = id.split_once("://").expect("prefix").1;
        for id in [id, bare] {
            let by_id = cache.pod_by_container_id(id).expect("by container ID");
            assert_eq!(by_id.metadata.uid.as_deref(), Some(uid), "{id}");
        }
    }
    assert!(cache.pod("00000000-0000-4000-8000-0000000000b2").is_none());
    assert!(cache.pod_by_container_id(&"b".repeat(64)).is_none());
    let shop = cache.namespace("shop").expect("namespace shop");
    assert!(shop.metadata.labels.is_some());
    assert!(cache.namespace("nope").is_none());

    let status = cache.status();
    assert!(status.ready && !status.stale, "{status:?}");
    assert_eq!((status.pods, status.namespaces, status.errors), (5, 2, 0));
    assert!(status.last_success.is_some());

    let requests = server.requests();
    assert!(requests.iter().all(|r| r.status != 401), "{requests:?}");
    let pod_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .collect();
    assert!(!pod_requests.is_empty());
    for request in pod_requests {
        let query = request.query.as_deref().unwrap_or("");
        assert!(
            query.contains("fieldSelector=spec.nodeName%3Dnode-a1"),
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_ready_never_blocks_past_its_timeout() {
    let server = seeded();
    server.faults().set_down(true);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    let cache = PodCache::start(
        client_from_env(Some(&path)).await.expect("client"),
        config(Duration::from_secs(1)),
    );
    let started = Instant::now();
    assert!(!cache.wait_ready(Duration::from_millis(300)).await);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(cache.pod(WEB_UID).is_none());
    assert!(!cache.status().ready);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_kubeconfig_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing");
    let Err(error) = client_from_env(Some(&missing)).await else {
        panic!("a missing kubeconfig gave a client");
    };
    assert!(matches!(error, KubeError::Kubeconfig { .. }));
    assert!(error.to_string().contains("missing"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn adds_modifies_and_keeps_deletes_for_cleanup_timeout() {
    let server = seeded();
    let (cache, _dir) = start(&server, config(Duration::from_secs(1))).await;
    let uid = "00000000-0000-4000-8000-00000000000a";
    let container = "a".repeat(64);
    let mut pod = extra_pod("web-new", uid, &container);
    server.add_pod(pod.clone()).expect("add");
    eventually("added pod", Duration::from_secs(10), || {
        cache.pod(uid).is_some()
    })
    .await;

    pod["metadata"]["labels"]["tier"] = json!("gold");
    server.update_pod(pod).expect("update");
    eventually("modified labels", Duration::from_secs(10), || {
        label(cache.pod(uid), "tier").as_deref() == Some("gold")
    })
    .await;

    server.delete_pod("shop", "web-new").expect("delete");
    eventually("delete seen", Duration::from_secs(10), || {
        cache.status().recently_deleted == 1
    })
    .await;
    let deleted_at = Instant::now();
    assert_eq!(cache.status().pods, 5);
    assert_eq!(label(cache.pod(uid), "tier").as_deref(), Some("gold"));
    let by_id = cache.pod_by_container_id(&format!("containerd://{container}"));
    assert_eq!(
        by_id.and_then(|p| p.metadata.uid.clone()).as_deref(),
        Some(uid)
    );

    eventually("deleted pod purged", Duration::from_secs(5), || {
        cache.pod(uid).is_none() && cache.pod_by_container_id(&container).is_none()
    })
    .await;
    assert!(
        deleted_at.elapsed() >= Duration::from_millis(700),
        "purged too early"
    );
    assert!(cache.pod(WEB_UID).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recreated_statefulset_pod_never_gets_the_old_labels() {
    let server = seeded();
    let (cache, _dir) = start(&server, config(Duration::from_secs(2))).await;
    server.delete_pod("payments", "worker-0").expect("delete");
    let new_uid = "00000000-0000-4000-8000-0000000000aa";
    let new_container = "c".repeat(64);
    let mut pod = fixture("pod-payments-worker-0.json");
    pod["metadata"]["uid"] = json!(new_uid);
    pod["metadata"]["labels"]["controller-revision-hash"] = json!("worker-new");
    pod["status"]["containerStatuses"][0]["containerID"] =
        json!(format!("docker://{new_container}"));
    server.add_pod(pod).expect("recreate");

    let hash = "controller-revision-hash";
    eventually("new pod", Duration::from_secs(10), || {
        cache.pod(new_uid).is_some()
    })
    .await;
    assert_eq!(
        label(cache.pod(new_uid), hash).as_deref(),
        Some("worker-new")
    );
    assert_eq!(
        label(cache.pod(WORKER_UID), hash).as_deref(),
        Some("worker-6f4d8b9c7d")
    );
    assert_eq!(
        label(cache.pod_by_container_id(&new_container), hash).as_deref(),
        Some("worker-new")
    );
    assert_eq!(
        label(cache.pod_by_container_id(WORKER_CONTAINER), hash).as_deref(),
        Some("worker-6f4d8b9c7d")
    );
    eventually("old uid purged", Duration::from_secs(6), || {
        cache.pod(WORKER_UID).is_none()
    })
    .await;
    assert_eq!(
        label(cache.pod(new_uid), hash).as_deref(),
        Some("worker-new")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outage_serves_the_last_state_then_recovers() {
    let server = seeded();
    let (cache, _dir) = start(&server, config(Duration::from_secs(60))).await;
    let mut metrics = Metrics::new(&std::sync::Arc::default());
    metrics.register_kube(cache.clone());
    let gauge = |metrics: &Metrics, name: &str| {
        let text = metrics.encode();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
            .to_owned();
        line[name.len() + 1..].parse::<f64>().expect("a number")
    };
    assert_eq!(gauge(&metrics, "loglynk_kube_cache_stale"), 0.0);
    assert_eq!(gauge(&metrics, "loglynk_kube_cache_pods"), 5.0);
    assert_eq!(gauge(&metrics, "loglynk_kube_cache_ready"), 1.0);

    server.faults().set_down(true);
    eventually("stale", Duration::from_secs(15), || cache.status().stale).await;
    let status = cache.status();
    assert!(
        status.errors > 0 && status.failing_for.is_some(),
        "{status:?}"
    );
    assert_eq!(
        gauge(&metrics, "loglynk_kube_cache_stale"),
        1.0,
        "the metric says so"
    );
    assert!(gauge(&metrics, "loglynk_kube_watch_failing_seconds") >= 0.5);
    assert!(gauge(&metrics, "loglynk_kube_watch_errors_total") >= 1.0);
    assert!(
        cache.pod(WEB_UID).is_some(),
        "lookups answer during the outage"
    );
    assert!(cache.pod_by_container_id(WORKER_CONTAINER).is_some());

    let uid = "00000000-0000-4000-8000-0000000000dd";
    server
        .add_pod(extra_pod("web-during-outage", uid, &"d".repeat(64)))
        .expect("add");
    server.faults().set_down(false);
    eventually("recovered", Duration::from_secs(40), || {
        cache.pod(uid).is_some() && !cache.status().stale
    })
    .await;
    let status = cache.status();
    assert!(
        status.failing_for.is_none() && status.pods == 6,
        "{status:?}"
    );
    assert_eq!(gauge(&metrics, "loglynk_kube_cache_stale"), 0.0);
    assert_eq!(gauge(&metrics, "loglynk_kube_watch_failing_seconds"), 0.0);

    // A second outage with nothing changing: the resumed watch says nothing, the probe sees it.
    let errors = status.errors;
    server.faults().set_down(true);
    eventually("stale again", Duration::from_secs(15), || {
        cache.status().stale
    })
    .await;
    server.faults().set_down(false);
    eventually("quiet recovery", Duration::from_secs(40), || {
        cache.status().failing_for.is_none()
    })
    .await;
    assert!(cache.status().errors > errors);
    assert_eq!(cache.status().pods, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_watches_and_expired_history_relist_correctly() {
    let server = seeded();
    let (cache, _dir) = start(&server, config(Duration::from_secs(1))).await;
    // Dropping a watch that has not started yet would prove nothing.
    eventually("pod watch open", Duration::from_secs(10), || {
        pod_watches(&server) == 1
    })
    .await;
    server.faults().drop_watches();
    let first = "00000000-0000-4000-8000-0000000000e1";
    server
        .add_pod(extra_pod("web-after-drop", first, &"e".repeat(64)))
        .expect("add");
    eventually("pod after a dropped watch", Duration::from_secs(30), || {
        cache.pod(first).is_some()
    })
    .await;

    // Changes the watch cannot see, then history compacted past them: only a relist finds them.
    assert!(pod_watches(&server) >= 2, "the dropped watch was resumed");
    server.faults().set_down(true);
    eventually("watch cut", Duration::from_secs(10), || {
        cache.status().failing_for.is_some()
    })
    .await;
    // Both watches are cut together; give the second one time to notice too.
    tokio::time::sleep(Duration::from_millis(200)).await;
    server
        .delete_pod("shop", "web-7d9f8b6c5-x2x4q")
        .expect("delete");
    let second = "00000000-0000-4000-8000-0000000000e2";
    server
        .add_pod(extra_pod("web-after-410", second, &"f".repeat(64)))
        .expect("add");
    server.faults().expire_before(server.resource_version());
    server.faults().set_down(false);
    eventually("relisted", Duration::from_secs(40), || {
        cache.pod(second).is_some()
    })
    .await;
    // The 410 arrives as an ERROR event inside a 200 watch; what shows is the second list.
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .filter(|r| !r.query.as_deref().unwrap_or("").contains("watch=true"))
        .count();
    assert_eq!(lists, 2, "{:?}", server.requests());
    assert_eq!(cache.status().pods, 6);
    // The pod deleted unseen is kept like any deleted pod, then purged.
    eventually("unseen delete purged", Duration::from_secs(5), || {
        cache.pod(WEB_UID).is_none()
    })
    .await;
    assert!(cache.pod(first).is_some() && cache.pod(second).is_some());
}
