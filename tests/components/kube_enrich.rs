//! Per-file enrichment against the test API server: the documents a file's events become once its pod
//! is known, the metadata wait, late pods, label changes, UID reuse and deletes.

use testkit_kubernetes as kubernetes;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kubernetes::{fixture, seeded, KubeOptions, KubeServer};
use loglynk::enrich::kube::cache::{client_from_env, PodCache, PodCacheConfig};
use loglynk::enrich::kube::{Decision, FileMetadata, KubeEnricher};
use loglynk::enrich::path_metadata;
use loglynk::event::{Encoder, Event, Origin, StaticFields, Text, Timestamp};
use loglynk::telemetry::Telemetry;
use serde_json::{json, Value};

const WEB_LINK: &str = "/var/log/containers/web-7d9f8b6c5-x2x4q_shop_nginx-cc61b52e867a19f36f76bd81500cb14d883a2b1d50ec81ef5c6875545d06ab04.log";
const WEB_TARGET: &str =
    "/var/log/pods/shop_web-7d9f8b6c5-x2x4q_0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90/nginx/0.log";
const WORKER_LINK: &str = "/var/log/containers/worker-0_payments_worker-9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d.log";

struct Cluster {
    server: KubeServer,
    cache: PodCache,
    _dir: tempfile::TempDir,
}

async fn cluster(options: PodCacheConfig) -> Cluster {
    let server = seeded(KubeOptions::with_token("t0ken"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    let client = client_from_env(Some(&path)).await.expect("client");
    let cache = PodCache::start(client, options);
    assert!(cache.wait_ready(Duration::from_secs(10)).await, "not ready");
    Cluster {
        server,
        cache,
        _dir: dir,
    }
}

fn node_a1() -> PodCacheConfig {
    PodCacheConfig {
        cleanup_timeout: Duration::from_millis(300),
        ..PodCacheConfig::new("node-a1")
    }
}

fn origin(link: &str, target: Option<&str>) -> Arc<Origin> {
    let meta = path_metadata(Path::new(link), target.map(Path::new));
    Origin::new(link.to_owned(), meta)
}

/// The document an event of this origin becomes.
fn doc(origin: &Arc<Origin>) -> Value {
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: json!({}),
    });
    let event = Event::new(
        Arc::clone(origin),
        Timestamp::from_nanos(0),
        Text::from("x"),
        0,
    );
    let mut out = Vec::new();
    encoder.encode(&event, &mut out);
    serde_json::from_slice(&out).expect("valid JSON")
}

fn proceed(decision: Decision) -> Option<Arc<Origin>> {
    match decision {
        Decision::Proceed(origin) => origin,
        Decision::Hold(until) => panic!("held until {until:?}"),
    }
}

async fn eventually<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_gets_its_pods_metadata_by_uid_and_by_container_id() {
    let c = cluster(node_a1()).await;
    let telemetry: Arc<Telemetry> = Arc::default();
    let mut enricher =
        KubeEnricher::new(c.cache.clone(), Duration::from_secs(2), telemetry.clone());

    let web = origin(WEB_LINK, Some(WEB_TARGET));
    let mut file = FileMetadata::default();
    let enriched = proceed(enricher.check(&mut file, &web, Instant::now())).expect("found");
    let d = doc(&enriched);
    assert_eq!(d["kubernetes"]["deployment"]["name"], "web");
    assert_eq!(d["kubernetes"]["replicaset"]["name"], "web-7d9f8b6c5");
    assert_eq!(d["kubernetes"]["pod"]["ip"], "10.42.1.31");
    assert_eq!(d["kubernetes"]["namespace_labels"]["team"], "storefront");
    assert_eq!(d["kubernetes"]["labels"]["app_kubernetes_io/name"], "web");
    assert_eq!(d["kubernetes"]["container"]["name"], "nginx");
    assert_eq!(d["container"]["image"]["name"], "nginx:1.27.3");
    assert_eq!(d["container"]["runtime"], "containerd");
    assert_eq!(d["log"]["flags"], Value::Null);
    // Nothing changed since: the file keeps its origin without another lookup.
    assert!(proceed(enricher.check(&mut file, &enriched, Instant::now())).is_none());

    // Docker's layout resolves the symlink elsewhere: only the container ID in its name is left.
    let worker = origin(WORKER_LINK, Some("/var/lib/docker/containers/x/x-json.log"));
    assert_eq!(worker.metadata.pod_uid, None);
    let mut file = FileMetadata::default();
    let enriched = proceed(enricher.check(&mut file, &worker, Instant::now())).expect("found");
    let d = doc(&enriched);
    assert_eq!(d["kubernetes"]["statefulset"]["name"], "worker");
    assert_eq!(
        d["kubernetes"]["pod"]["uid"],
        "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
    );
    assert_eq!(d["container"]["runtime"], "docker");
    assert_eq!(telemetry.read_counts().kube_found, 2);

    // A file that is no container log is never held.
    let mut file = FileMetadata::default();
    let plain = origin("/var/log/syslog", None);
    assert!(proceed(enricher.check(&mut file, &plain, Instant::now())).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pod_not_cached_holds_its_file_until_the_wait_ends_then_ships_flagged() {
    let c = cluster(node_a1()).await;
    let wait = Duration::from_millis(400);
    let telemetry: Arc<Telemetry> = Arc::default();
    let mut enricher = KubeEnricher::new(c.cache.clone(), wait, telemetry.clone());
    let unknown = origin(
        "/var/log/containers/ghost-1_shop_app-0000000000000000000000000000000000000000000000000000000000000001.log",
        Some("/var/log/pods/shop_ghost-1_00000000-0000-4000-8000-00000000beef/app/0.log"),
    );
    let mut file = FileMetadata::default();
    let start = Instant::now();
    let Decision::Hold(first) = enricher.check(&mut file, &unknown, start) else {
        panic!("a file whose pod is unknown is held");
    };
    assert!(first <= start + wait, "never past the wait");
    let Decision::Hold(_) = enricher.check(&mut file, &unknown, start + wait / 2) else {
        panic!("still held within the wait");
    };
    let flagged = proceed(enricher.check(&mut file, &unknown, start + wait)).expect("flagged");
    let d = doc(&flagged);
    assert_eq!(d["log"]["flags"], json!(["kube_metadata_missing"]));
    assert_eq!(
        d["kubernetes"]["pod"]["name"], "ghost-1",
        "the path's metadata"
    );
    assert_eq!(telemetry.read_counts().kube_missing, 1);
    assert!(proceed(enricher.check(&mut file, &flagged, Instant::now())).is_none());

    // The pod shows up later: the file's next events carry its metadata, unflagged.
    let mut ghost = fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    ghost["metadata"]["name"] = json!("ghost-1");
    ghost["metadata"]["uid"] = json!("00000000-0000-4000-8000-00000000beef");
    ghost["spec"]["containers"][0]["name"] = json!("app");
    ghost["status"]["containerStatuses"][0]["name"] = json!("app");
    ghost["status"]["containerStatuses"][0]["containerID"] =
        json!(format!("containerd://{}", "0".repeat(63) + "1"));
    c.server.add_pod(ghost).expect("add");
    let found = eventually("the late pod", Duration::from_secs(10), || {
        match enricher.check(&mut file, &flagged, Instant::now()) {
            Decision::Proceed(found) => found,
            Decision::Hold(_) => panic!("never held again after the wait"),
        }
    })
    .await;
    let d = doc(&found);
    assert_eq!(d["log"]["flags"], Value::Null);
    assert_eq!(d["kubernetes"]["deployment"]["name"], "web");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wait_ends_as_soon_as_the_pod_arrives() {
    let c = cluster(node_a1()).await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_secs(60),
        Arc::new(Telemetry::default()),
    );
    let mut late = fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    late["metadata"]["name"] = json!("late-1");
    late["metadata"]["uid"] = json!("00000000-0000-4000-8000-0000000000aa");
    late["status"]["containerStatuses"][0]["containerID"] =
        json!(format!("containerd://{}", "a".repeat(64)));
    let link = format!(
        "/var/log/containers/late-1_shop_nginx-{}.log",
        "a".repeat(64)
    );
    let file_origin = origin(
        &link,
        Some("/var/log/pods/shop_late-1_00000000-0000-4000-8000-0000000000aa/nginx/0.log"),
    );
    let mut file = FileMetadata::default();
    let start = Instant::now();
    let Decision::Hold(recheck) = enricher.check(&mut file, &file_origin, start) else {
        panic!("held");
    };
    assert!(
        recheck <= start + Duration::from_millis(100),
        "asked again soon, not only at the end of the wait"
    );
    c.server.add_pod(late).expect("add");
    let found = eventually("the pod", Duration::from_secs(10), || {
        match enricher.check(&mut file, &file_origin, Instant::now()) {
            Decision::Proceed(found) => Some(found.expect("a new origin")),
            Decision::Hold(_) => None,
        }
    })
    .await;
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(doc(&found)["kubernetes"]["pod"]["name"], "late-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn label_changes_reach_the_files_next_events() {
    let c = cluster(node_a1()).await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_secs(2),
        Arc::new(Telemetry::default()),
    );
    let web = origin(WEB_LINK, Some(WEB_TARGET));
    let mut file = FileMetadata::default();
    let first = proceed(enricher.check(&mut file, &web, Instant::now())).expect("found");
    assert_eq!(doc(&first)["kubernetes"]["labels"]["tier"], "frontend");

    // A change to what is not shipped (a status condition) keeps the file's origin.
    let mut pod = c
        .server
        .pod("shop", "web-7d9f8b6c5-x2x4q")
        .expect("stored pod");
    let before = c.cache.generation();
    pod["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    c.server.update_pod(pod.clone()).expect("update");
    eventually("the status change", Duration::from_secs(10), || {
        (c.cache.generation() != before).then_some(())
    })
    .await;
    assert!(proceed(enricher.check(&mut file, &first, Instant::now())).is_none());

    pod["metadata"]["labels"]["tier"] = json!("edge");
    c.server.update_pod(pod).expect("update");
    let changed = eventually("the new label", Duration::from_secs(10), || {
        proceed(enricher.check(&mut file, &first, Instant::now()))
    })
    .await;
    assert_eq!(doc(&changed)["kubernetes"]["labels"]["tier"], "edge");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recreated_statefulset_pod_and_its_predecessor_keep_their_own_labels() {
    let c = cluster(PodCacheConfig {
        cleanup_timeout: Duration::from_secs(60),
        ..PodCacheConfig::new("node-a1")
    })
    .await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_secs(2),
        Arc::new(Telemetry::default()),
    );
    let old_uid = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d";
    let new_uid = "9a8b7c6d-5e4f-4a3b-2c1d-00000000new0";
    let pod_file = |uid: &str| {
        origin(
            &format!("/var/log/pods/payments_worker-0_{uid}/worker/0.log"),
            None,
        )
    };

    c.server.delete_pod("payments", "worker-0").expect("delete");
    let mut recreated = fixture("pod-payments-worker-0.json");
    recreated["metadata"]["uid"] = json!(new_uid);
    recreated["metadata"]["labels"]["controller-revision-hash"] = json!("payments-new");
    recreated["status"]["containerStatuses"][0]["containerID"] =
        json!(format!("docker://{}", "c".repeat(64)));
    c.server.add_pod(recreated).expect("recreate");
    eventually("the new pod", Duration::from_secs(10), || {
        c.cache.pod(new_uid)
    })
    .await;

    let old_file = pod_file(old_uid);
    let old = proceed(enricher.check(&mut FileMetadata::default(), &old_file, Instant::now()))
        .expect("the deleted pod is kept for cleanup_timeout");
    let new_file = pod_file(new_uid);
    let new = proceed(enricher.check(&mut FileMetadata::default(), &new_file, Instant::now()))
        .expect("the new pod");
    let (old, new) = (doc(&old), doc(&new));
    assert_eq!(old["kubernetes"]["pod"]["uid"], old_uid);
    assert_eq!(new["kubernetes"]["pod"]["uid"], new_uid);
    assert_eq!(
        new["kubernetes"]["labels"]["controller-revision-hash"],
        "payments-new"
    );
    assert_ne!(
        old["kubernetes"]["labels"]["controller-revision-hash"],
        "payments-new"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_pods_files_keep_their_metadata_after_cleanup() {
    let c = cluster(node_a1()).await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_millis(200),
        Arc::new(Telemetry::default()),
    );
    let web = origin(WEB_LINK, Some(WEB_TARGET));
    let mut file = FileMetadata::default();
    let found = proceed(enricher.check(&mut file, &web, Instant::now())).expect("found");

    c.server
        .delete_pod("shop", "web-7d9f8b6c5-x2x4q")
        .expect("delete");
    let uid = "0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90";
    eventually(
        "purged after cleanup_timeout",
        Duration::from_secs(10),
        || (c.cache.status().recently_deleted == 0 && c.cache.pod(uid).is_none()).then_some(()),
    )
    .await;
    assert!(
        proceed(enricher.check(&mut file, &found, Instant::now())).is_none(),
        "the file keeps the metadata it had"
    );
    // A file of that pod opened only now has nothing to find: it waits, then ships flagged.
    let mut late = FileMetadata::default();
    let now = Instant::now();
    assert!(matches!(
        enricher.check(&mut late, &web, now),
        Decision::Hold(_)
    ));
    let flagged = proceed(enricher.check(&mut late, &web, now + Duration::from_millis(200)));
    assert_eq!(
        doc(&flagged.expect("flagged"))["log"]["flags"],
        json!(["kube_metadata_missing"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn node_metadata_is_opt_in() {
    let mut options = node_a1();
    options.metadata.node_metadata = true;
    let c = cluster(options).await;
    eventually("the node", Duration::from_secs(10), || c.cache.node()).await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_secs(2),
        Arc::new(Telemetry::default()),
    );
    let web = origin(WEB_LINK, Some(WEB_TARGET));
    let found =
        proceed(enricher.check(&mut FileMetadata::default(), &web, Instant::now())).expect("found");
    let node = &doc(&found)["kubernetes"]["node"];
    assert_eq!(node["name"], "node-a1");
    assert!(node["uid"].is_string(), "{node}");
    assert!(node["labels"].is_object(), "{node}");

    let c = cluster(node_a1()).await;
    let mut enricher = KubeEnricher::new(
        c.cache.clone(),
        Duration::from_secs(2),
        Arc::new(Telemetry::default()),
    );
    let found =
        proceed(enricher.check(&mut FileMetadata::default(), &web, Instant::now())).expect("found");
    assert_eq!(
        doc(&found)["kubernetes"]["node"],
        json!({"name": "node-a1"})
    );
    assert!(c.cache.node().is_none(), "no GET of the node without it");
}

/// A pod found before the namespaces' first list would ship without its namespace's labels; the file
/// waits for that list (within metadata_wait) instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_waits_for_the_namespaces_first_list_before_it_ships() {
    let server = seeded(KubeOptions::with_token("t0ken"));
    server
        .faults()
        .refuse_lists(kubernetes::Kind::Namespace, true);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("kubeconfig");
    let client = client_from_env(Some(&path)).await.expect("client");
    let cache = PodCache::start(client, node_a1());
    eventually("the pods' first list", Duration::from_secs(10), || {
        cache
            .pod("0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90")
            .map(|_| ())
    })
    .await;
    let mut enricher = KubeEnricher::new(
        cache.clone(),
        Duration::from_secs(60),
        Arc::new(Telemetry::default()),
    );
    let web = origin(WEB_LINK, Some(WEB_TARGET));
    let mut file = FileMetadata::default();
    assert!(
        matches!(
            enricher.check(&mut file, &web, Instant::now()),
            Decision::Hold(_)
        ),
        "a file whose namespace is not listed yet must wait"
    );
    server
        .faults()
        .refuse_lists(kubernetes::Kind::Namespace, false);
    let found = eventually(
        "the namespaces",
        Duration::from_secs(30),
        || match enricher.check(&mut file, &web, Instant::now()) {
            Decision::Proceed(found) => Some(found.expect("a new origin")),
            Decision::Hold(_) => None,
        },
    )
    .await;
    let d = doc(&found);
    assert_eq!(d["kubernetes"]["pod"]["name"], "web-7d9f8b6c5-x2x4q");
    assert_eq!(
        d["kubernetes"]["namespace_labels"]["environment"], "production",
        "{d}"
    );
}
