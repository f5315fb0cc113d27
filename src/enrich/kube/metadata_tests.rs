//! The pod metadata a file's events carry, from real API objects: labels, annotations, owners, the
//! node, namespaces, dedotting and hints, each case one test (12 of them), beside `metadata.rs`. Over
//! 400 lines because each case builds its pods as the API server sends them.

use super::*;
use crate::event::{Encoder, Event, Origin, PathMetadata, StaticFields, Text, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

fn fixture<T: DeserializeOwned>(name: &str) -> T {
    let path = format!(
        "{}/fixtures/kubernetes/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn pod(name: &str) -> Pod {
    fixture(&format!("pod-{name}"))
}

/// What a container's events carry, as JSON: `{"kubernetes":…,"container":…}`, from the document the
/// encoder writes for an event of a file known by its container name alone.
fn doc(meta: &PodMetadata, container: &str) -> Value {
    let mut doc = encoded(meta, container);
    let container = doc.get_mut("container").map_or(json!({}), Value::take);
    json!({"kubernetes": doc["kubernetes"].take(), "container": container})
}

/// The whole document the encoder writes for an event of `container`, known by its name alone.
fn encoded(meta: &PodMetadata, container: &str) -> Value {
    let origin = Origin::with_kubernetes(
        "/x.log".into(),
        PathMetadata::default(),
        meta.for_container(container).unwrap(),
    );
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: json!({}),
    });
    let event = Event::new(origin, Timestamp::from_nanos(0), Text::from("x"), 0);
    let mut out = Vec::new();
    encoder.encode(&event, &mut out);
    serde_json::from_slice(&out).unwrap()
}

fn meta(pod_name: &str, ns: Option<&str>, options: &MetadataOptions) -> PodMetadata {
    let ns: Option<Namespace> = ns.map(|n| fixture(&format!("namespace-{n}")));
    let node: Node = fixture("node-node-a1");
    PodMetadata::from_pod(&pod(pod_name), ns.as_ref(), Some(&node), options).unwrap()
}

#[test]
fn deployment_pod() {
    let m = meta(
        "shop-web-7d9f8b6c5-x2x4q",
        Some("shop"),
        &MetadataOptions::default(),
    );
    assert_eq!(
        doc(&m, "nginx"),
        json!({
            "kubernetes": {
                "pod": {"name": "web-7d9f8b6c5-x2x4q", "uid": "0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90",
                        "ip": "10.42.1.31"},
                "namespace": "shop",
                "namespace_uid": "d7c6b5a4-9382-4716-a5f4-e3d2c1b0a998",
                "namespace_labels": {"environment": "production", "kubernetes_io/metadata_name": "shop",
                                     "logging_funlynk_io/index": "shop", "team": "storefront"},
                "node": {"name": "node-a1"},
                "labels": {"app_kubernetes_io/name": "web", "app_kubernetes_io/part-of": "shop",
                           "app_kubernetes_io/version": "1.27.3", "pod-template-hash": "7d9f8b6c5",
                           "tier": "frontend"},
                "replicaset": {"name": "web-7d9f8b6c5"},
                "deployment": {"name": "web"},
                "container": {"name": "nginx", "image": "nginx:1.27.3"},
            },
            "container": {
                "id": "cc61b52e867a19f36f76bd81500cb14d883a2b1d50ec81ef5c6875545d06ab04",
                "image": {"name": "nginx:1.27.3"},
                "runtime": "containerd",
            },
        })
    );
    assert!(m.for_container("sidecar").is_none());
}

#[test]
fn statefulset_pod_on_docker_with_node_metadata() {
    let options = MetadataOptions {
        node_metadata: true,
        ..MetadataOptions::default()
    };
    let m = meta("payments-worker-0", Some("payments"), &options);
    assert_eq!(
        doc(&m, "worker"),
        json!({
            "kubernetes": {
                "pod": {"name": "worker-0", "uid": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "ip": "10.42.1.44"},
                "namespace": "payments",
                "namespace_uid": "8e7f6a5b-4c3d-4e2f-9a1b-0c9d8e7f6a5b",
                "namespace_labels": {"environment": "production", "kubernetes_io/metadata_name": "payments",
                                     "pci": "true", "team": "payments"},
                "node": {
                    "name": "node-a1",
                    "uid": "f0e1d2c3-b4a5-4968-8778-695a4b3c2d1e",
                    "labels": {
                        "beta_kubernetes_io/arch": "amd64", "beta_kubernetes_io/os": "linux",
                        "kubernetes_io/arch": "amd64", "kubernetes_io/hostname": "node-a1",
                        "kubernetes_io/os": "linux", "node_kubernetes_io/instance-type": "m6i.xlarge",
                        "topology_kubernetes_io/region": "eu-west-1",
                        "topology_kubernetes_io/zone": "eu-west-1a",
                    },
                },
                "labels": {"app_kubernetes_io/name": "worker", "app_kubernetes_io/instance": "payments-worker",
                           "apps_kubernetes_io/pod-index": "0", "controller-revision-hash": "worker-6f4d8b9c7d",
                           "statefulset_kubernetes_io/pod-name": "worker-0"},
                "statefulset": {"name": "worker"},
                "container": {"name": "worker", "image": "registry.funlynk.io/payments/worker:5.2.1"},
            },
            "container": {
                "id": "9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d",
                "image": {"name": "registry.funlynk.io/payments/worker:5.2.1"},
                "runtime": "docker",
            },
        })
    );
}

#[test]
fn cronjob_pod_without_namespace_object() {
    let m = meta(
        "batch-report-28391234-xk2jd",
        None,
        &MetadataOptions::default(),
    );
    assert_eq!(
        doc(&m, "report"),
        json!({
            "kubernetes": {
                "pod": {"name": "report-28391234-xk2jd", "uid": "abcdef01-2345-4678-9abc-def012345678",
                        "ip": "10.42.1.52"},
                "namespace": "batch",
                "node": {"name": "node-a1"},
                "labels": {"app_kubernetes_io/name": "report",
                           "batch_kubernetes_io/controller-uid": "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7",
                           "batch_kubernetes_io/job-name": "report-28391234",
                           "controller-uid": "e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7",
                           "job-name": "report-28391234"},
                "job": {"name": "report-28391234"},
                "cronjob": {"name": "report"},
                "container": {"name": "report", "image": "registry.funlynk.io/batch/report:0.9.4"},
            },
            "container": {
                "id": "c1aac19c06eafc75ec9a03ee9349f21668a48cbdd7e35ec1830e75d8278efddf",
                "image": {"name": "registry.funlynk.io/batch/report:0.9.4"},
                "runtime": "containerd",
            },
        })
    );
}

#[test]
fn daemonset_pod_and_a_namespace_that_is_not_its_own() {
    // The shop Namespace handed over for a kube-system pod: ignored rather than mislabelling the pod.
    let m = meta(
        "kube-system-loglynk-7xk2p",
        Some("shop"),
        &MetadataOptions::default(),
    );
    assert_eq!(
        doc(&m, "loglynk"),
        json!({
            "kubernetes": {
                "pod": {"name": "loglynk-7xk2p", "uid": "11111111-2222-4333-8444-555555555555",
                        "ip": "10.42.1.9"},
                "namespace": "kube-system",
                "node": {"name": "node-a1"},
                "labels": {"app_kubernetes_io/name": "loglynk", "controller-revision-hash": "6d9c8b7f5",
                           "pod-template-generation": "3"},
                "daemonset": {"name": "loglynk"},
                "container": {"name": "loglynk", "image": "registry.funlynk.io/platform/loglynk:0.1.0"},
            },
            "container": {
                "id": "66995170739eca8aaacc7ef47295198ddbc9daae320a9b509fa764663299aa1d",
                "image": {"name": "registry.funlynk.io/platform/loglynk:0.1.0"},
                "runtime": "containerd",
            },
        })
    );
}

#[test]
fn dedot_off_keeps_keys_as_kubernetes_has_them() {
    let options = MetadataOptions {
        dedot: false,
        include_annotations: vec!["co.elastic.logs/*".into()],
        ..MetadataOptions::default()
    };
    let d = doc(
        &meta("shop-web-7d9f8b6c5-x2x4q", Some("shop"), &options),
        "nginx",
    );
    assert_eq!(d["kubernetes"]["labels"]["app.kubernetes.io/name"], "web");
    assert_eq!(
        d["kubernetes"]["namespace_labels"]["kubernetes.io/metadata.name"],
        "shop"
    );
    assert_eq!(
        d["kubernetes"]["annotations"],
        json!({"co.elastic.logs/json.keys_under_root": "false"})
    );
}

#[test]
fn include_annotations_by_exact_key_and_prefix() {
    let options = MetadataOptions {
        include_annotations: vec![
            "prometheus.io/scrape".into(),
            "kubectl.kubernetes.io/*".into(),
        ],
        ..MetadataOptions::default()
    };
    let d = doc(
        &meta("shop-web-7d9f8b6c5-x2x4q", Some("shop"), &options),
        "nginx",
    );
    assert_eq!(
        d["kubernetes"]["annotations"],
        json!({"prometheus_io/scrape": "true",
               "kubectl_kubernetes_io/restartedAt": "2026-11-20T09:12:44Z"})
    );
    // None by default.
    let d = doc(
        &meta(
            "shop-web-7d9f8b6c5-x2x4q",
            Some("shop"),
            &MetadataOptions::default(),
        ),
        "nginx",
    );
    assert!(d["kubernetes"].get("annotations").is_none());
}

#[test]
fn container_by_id_for_each_runtime_prefix() {
    let options = MetadataOptions::default();
    for (pod_name, container, runtime, id) in [
        (
            "shop-web-7d9f8b6c5-x2x4q",
            "nginx",
            "containerd",
            "cc61b52e867a19f36f76bd81500cb14d883a2b1d50ec81ef5c6875545d06ab04",
        ),
        (
            "shop-api-5c8d9f7b6-k8s2p",
            "api",
            "cri-o",
            "55a8077da02a3d8ffb9ac430ec0067ea92ec7cc42c07b73c2f04925fc680deda",
        ),
        (
            "payments-worker-0",
            "worker",
            "docker",
            "9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d",
        ),
    ] {
        let m = meta(pod_name, None, &options);
        for query in [id.to_owned(), format!("{runtime}://{id}")] {
            let c = m.container_by_id(&query).unwrap();
            assert_eq!(c.name, container);
            assert_eq!(c.id.as_deref(), Some(id));
            assert_eq!(c.runtime.as_deref(), Some(runtime));
        }
        assert!(m.container_by_id("0123").is_none());
        assert_eq!(doc(&m, container)["container"]["runtime"], runtime);
    }
}

#[test]
fn split_container_id_strips_the_runtime() {
    assert_eq!(split_container_id("cri-o://abc"), Some(("cri-o", "abc")));
    assert_eq!(split_container_id("docker://abc"), Some(("docker", "abc")));
    assert_eq!(split_container_id("abc"), None);
    assert_eq!(split_container_id("containerd://"), None);
}

#[test]
fn trimmed_pods_give_the_same_metadata() {
    let options = MetadataOptions {
        include_annotations: vec!["co.elastic.logs/*".into()],
        node_metadata: true,
        ..MetadataOptions::default()
    };
    let node: Node = fixture("node-node-a1");
    for name in [
        "batch-report-28391234-xk2jd",
        "kube-system-loglynk-7xk2p",
        "payments-worker-0",
        "shop-api-5c8d9f7b6-k8s2p",
        "shop-web-7d9f8b6c5-x2x4q",
    ] {
        let original = pod(name);
        let mut trimmed = original.clone();
        trim_pod(&mut trimmed, &options);
        let before = serde_json::to_vec(&original).unwrap().len();
        let after = serde_json::to_vec(&trimmed).unwrap().len();
        assert!(after * 2 < before, "{name}: {before} -> {after} bytes");
        assert!(trimmed
            .metadata
            .annotations
            .iter()
            .flatten()
            .all(|(k, _)| k.starts_with("co.elastic.logs/")));
        assert_eq!(
            PodMetadata::from_pod(&trimmed, None, Some(&node), &options),
            PodMetadata::from_pod(&original, None, Some(&node), &options),
            "{name}"
        );
    }
}

#[test]
fn a_pod_with_only_its_identity() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "bare", "namespace": "default", "uid": "u-1"},
    }))
    .unwrap();
    let m = PodMetadata::from_pod(&pod, None, None, &MetadataOptions::default()).unwrap();
    assert_eq!(
        (m.name.as_str(), m.namespace.as_str(), m.uid.as_str()),
        ("bare", "default", "u-1")
    );
    assert!(m.containers.is_empty() && m.node_name.is_none());

    // Scheduled, not started: no status yet, so no ID and no runtime, but the container is known.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "new", "namespace": "default", "uid": "u-2"},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
    }))
    .unwrap();
    let m = PodMetadata::from_pod(&pod, None, None, &MetadataOptions::default()).unwrap();
    assert_eq!(
        doc(&m, "app"),
        json!({
            "kubernetes": {"pod": {"name": "new", "uid": "u-2"}, "namespace": "default",
                           "container": {"name": "app", "image": "app:1"}},
            "container": {"image": {"name": "app:1"}},
        })
    );

    let nameless: Pod =
        serde_json::from_value(json!({"metadata": {"namespace": "default"}})).unwrap();
    assert!(PodMetadata::from_pod(&nameless, None, None, &MetadataOptions::default()).is_none());
}

/// `service.*` and `orchestrator.*` of a container's events, from the whole document.
fn derived(meta: &PodMetadata, container: &str) -> Value {
    let doc = encoded(meta, container);
    json!({"service": doc["service"], "orchestrator": doc["orchestrator"]})
}

#[test]
fn service_from_the_recommended_labels_else_app_else_the_workload() {
    let options = MetadataOptions {
        cluster_name: Some("funlynk-prod".into()),
        ..MetadataOptions::default()
    };
    // app.kubernetes.io/name and /version, read before dedot.
    let web = meta("shop-web-7d9f8b6c5-x2x4q", Some("shop"), &options);
    assert_eq!(
        derived(&web, "nginx"),
        json!({
            "service": {"name": "web", "version": "1.27.3"},
            "orchestrator": {"type": "kubernetes", "cluster": {"name": "funlynk-prod"},
                             "namespace": "shop",
                             "resource": {"type": "pod", "name": "web-7d9f8b6c5-x2x4q"}},
        })
    );

    let mut bare = pod("shop-web-7d9f8b6c5-x2x4q");
    let labels = bare.metadata.labels.as_mut().unwrap();
    labels.remove("app.kubernetes.io/name");
    labels.remove("app.kubernetes.io/version");
    labels.insert("app".into(), "storefront".into());
    let m = PodMetadata::from_pod(&bare, None, None, &MetadataOptions::default()).unwrap();
    assert_eq!(
        derived(&m, "nginx")["service"],
        json!({"name": "storefront"})
    );

    bare.metadata.labels.as_mut().unwrap().remove("app");
    let m = PodMetadata::from_pod(&bare, None, None, &MetadataOptions::default()).unwrap();
    assert_eq!(
        derived(&m, "nginx"),
        json!({
            "service": {"name": "web"},
            "orchestrator": {"type": "kubernetes", "namespace": "shop",
                             "resource": {"type": "pod", "name": "web-7d9f8b6c5-x2x4q"}},
        }),
        "the Deployment's name, no cluster name unless configured"
    );
}

#[test]
fn hint_annotations_survive_trimming_and_reach_the_container() {
    let mut p = pod("shop-web-7d9f8b6c5-x2x4q");
    let annotations = p.metadata.annotations.get_or_insert_with(Default::default);
    annotations.insert("co.elastic.logs/exclude_lines".into(), "^DEBUG".into());
    annotations.insert("co.elastic.logs.nginx/enabled".into(), "nope".into());
    annotations.insert("unrelated/big".into(), "x".repeat(1000));
    let options = MetadataOptions::default();
    trim_pod(&mut p, &options);
    let kept = p.metadata.annotations.as_ref().unwrap();
    assert!(kept.contains_key("co.elastic.logs/exclude_lines"));
    assert!(!kept.contains_key("unrelated/big"));
    let m = PodMetadata::from_pod(&p, None, None, &options).unwrap();
    let hints = m.for_container("nginx").unwrap().hints.unwrap();
    assert!(!hints.keeps_line("DEBUG x"));
    assert!(hints.enabled, "the malformed hint is left out");
    assert_eq!(m.hint_errors.len(), 1);
    assert_eq!(m.hint_errors[0].reason, "invalid_bool");
    // Hints are not shipped as annotations.
    assert!(doc(&m, "nginx")["kubernetes"].get("annotations").is_none());

    let off = MetadataOptions {
        hints: false,
        ..MetadataOptions::default()
    };
    let m = PodMetadata::from_pod(&p, None, None, &off).unwrap();
    assert!(m.for_container("nginx").unwrap().hints.is_none());
}
