//! The test Kubernetes API server, exercised over real HTTP so its protocol is proven before a
//! reflector is tested against it. Watch and fault tests live in `watches.rs` and `odd_input.rs`.

use testkit_kubernetes as kubernetes;

mod access;
mod client;
mod odd_input;
mod watches;

use client::{get, request};
pub use kubernetes::{fixture, fixtures_dir, seeded, PODS};
use kubernetes::{KubeOptions, KubeServer};
use serde_json::{json, Value};

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    format!(
                        "{}/{}",
                        i["metadata"]["namespace"].as_str().unwrap_or(""),
                        i["metadata"]["name"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn fixtures_match_the_log_tree() {
    let containers = fixtures_dir().join("var/log/containers");
    let files: Vec<String> = std::fs::read_dir(containers)
        .expect("fixture log tree")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for name in PODS {
        let pod = fixture(name);
        let id = pod["status"]["containerStatuses"][0]["containerID"]
            .as_str()
            .expect("containerID");
        let (runtime, hex) = id.split_once("://").expect("runtime prefix");
        assert!(["containerd", "cri-o", "docker"].contains(&runtime), "{id}");
        assert_eq!(hex.len(), 64, "{id}");
        let ns = pod["metadata"]["namespace"].as_str().expect("namespace");
        let pod_name = pod["metadata"]["name"].as_str().expect("name");
        assert!(
            files
                .iter()
                .any(|f| f.starts_with(&format!("{pod_name}_{ns}_"))
                    && f.ends_with(&format!("-{hex}.log"))),
            "{name}: no log file for {id}"
        );
        let uid = pod["metadata"]["uid"].as_str().expect("uid");
        let pod_dir = fixtures_dir().join(format!("var/log/pods/{ns}_{pod_name}_{uid}"));
        assert!(pod_dir.is_dir(), "{}", pod_dir.display());
        assert_eq!(pod["spec"]["nodeName"], "node-a1");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["controller"], true);
    }
}

#[test]
fn lists_pods_as_the_real_server_shapes_them() {
    let server = seeded(KubeOptions::default());
    let reply = get(server.addr(), "/api/v1/pods");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let list = reply.json();
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(
        list["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
    assert!(list["metadata"].get("continue").is_none());
    // etcd key order: namespace, then name.
    assert_eq!(
        names(&list),
        [
            "batch/report-28391234-xk2jd",
            "kube-system/loglynk-7xk2p",
            "payments/worker-0",
            "shop/api-5c8d9f7b6-k8s2p",
            "shop/web-7d9f8b6c5-x2x4q"
        ]
    );
    let web = &list["items"][4];
    assert!(web.get("kind").is_none(), "list items carry no kind");
    assert_eq!(
        web["metadata"]["uid"],
        "0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90"
    );
    assert!(web["metadata"]["resourceVersion"].is_string());

    let shop = get(server.addr(), "/api/v1/namespaces/shop/pods").json();
    assert_eq!(
        names(&shop),
        ["shop/api-5c8d9f7b6-k8s2p", "shop/web-7d9f8b6c5-x2x4q"]
    );
    let one = get(server.addr(), "/api/v1/namespaces/payments/pods/worker-0").json();
    assert_eq!(one["kind"], "Pod");
    assert_eq!(one["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
    let namespaces = get(server.addr(), "/api/v1/namespaces").json();
    assert_eq!(namespaces["kind"], "NamespaceList");
    assert_eq!(
        namespaces["items"][0]["metadata"]["labels"]["team"],
        "payments"
    );
    let node = get(server.addr(), "/api/v1/nodes/node-a1").json();
    assert_eq!(node["kind"], "Node");
    assert_eq!(
        node["metadata"]["labels"]["topology.kubernetes.io/zone"],
        "eu-west-1a"
    );
}

#[test]
fn chunks_lists_with_limit_and_continue_on_one_snapshot() {
    let server = seeded(KubeOptions::default());
    let first = get(server.addr(), "/api/v1/pods?limit=2").json();
    assert_eq!(names(&first).len(), 2);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let snapshot = first["metadata"]["resourceVersion"].clone();
    // A write between pages must not show up in them: the token pins the first page's version.
    let mut late = fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    late["metadata"]["name"] = json!("web-7d9f8b6c5-zzzzz");
    late["metadata"]["uid"] = json!("00000000-0000-4000-8000-000000000001");
    server.add_pod(late).expect("late pod");
    let mut all = names(&first);
    let mut token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    loop {
        let page = get(
            server.addr(),
            &format!("/api/v1/pods?limit=2&continue={token}"),
        )
        .json();
        assert_eq!(page["metadata"]["resourceVersion"], snapshot);
        all.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(next) => token = next.to_string(),
            None => break,
        }
    }
    assert_eq!(all.len(), 5, "{all:?}");
    assert_eq!(names(&get(server.addr(), "/api/v1/pods").json()).len(), 6);

    let paged = seeded(KubeOptions {
        page_size_default: Some(4),
        ..KubeOptions::default()
    });
    assert!(get(paged.addr(), "/api/v1/pods").json()["metadata"]["continue"].is_string());
}

#[test]
fn expired_and_invalid_continue_tokens() {
    let server = seeded(KubeOptions::default());
    let first = get(server.addr(), "/api/v1/pods?limit=1").json();
    let token = first["metadata"]["continue"]
        .as_str()
        .expect("continue")
        .to_string();
    server
        .add_namespace(json!({"metadata": {"name": "batch"}}))
        .expect("namespace");
    server.faults().expire_before(server.resource_version());
    let expired = get(
        server.addr(),
        &format!("/api/v1/pods?limit=1&continue={token}"),
    );
    assert_eq!(expired.status, 410);
    let status = expired.json();
    assert_eq!(
        (
            status["kind"].as_str(),
            status["reason"].as_str(),
            status["code"].as_u64()
        ),
        (Some("Status"), Some("Expired"), Some(410))
    );
    let invalid = get(server.addr(), "/api/v1/pods?limit=1&continue=not-a-token");
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["reason"], "BadRequest");
}

#[test]
fn selects_by_field_and_label() {
    let server = seeded(KubeOptions::default());
    let mut elsewhere = fixture("pod-shop-api-5c8d9f7b6-k8s2p.json");
    elsewhere["metadata"]["name"] = json!("api-5c8d9f7b6-other");
    elsewhere["spec"]["nodeName"] = json!("node-b2");
    server.add_pod(elsewhere).expect("pod on another node");
    let on_node = get(
        server.addr(),
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a1",
    )
    .json();
    assert_eq!(names(&on_node).len(), 5);
    let other = get(
        server.addr(),
        "/api/v1/pods?fieldSelector=spec.nodeName=node-b2",
    )
    .json();
    assert_eq!(names(&other), ["shop/api-5c8d9f7b6-other"]);
    let by_name = get(
        server.addr(),
        "/api/v1/pods?fieldSelector=metadata.namespace%3Dshop,metadata.name!%3Dapi-5c8d9f7b6-other",
    )
    .json();
    assert_eq!(
        names(&by_name),
        ["shop/api-5c8d9f7b6-k8s2p", "shop/web-7d9f8b6c5-x2x4q"]
    );
    let labelled = get(
        server.addr(),
        "/api/v1/pods?labelSelector=app.kubernetes.io%2Fname%3Dweb",
    )
    .json();
    assert_eq!(names(&labelled), ["shop/web-7d9f8b6c5-x2x4q"]);

    let unsupported = get(server.addr(), "/api/v1/pods?fieldSelector=spec.foo%3Dx");
    assert_eq!(unsupported.status, 400);
    assert_eq!(
        unsupported.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "field label not supported: spec.foo", "reason": "BadRequest", "code": 400})
    );
}

#[test]
fn resource_version_semantics_of_lists() {
    let server = seeded(KubeOptions::default());
    let before = server.resource_version();
    server
        .delete_pod("shop", "web-7d9f8b6c5-x2x4q")
        .expect("delete");
    let exact = get(
        server.addr(),
        &format!("/api/v1/pods?resourceVersion={before}&resourceVersionMatch=Exact"),
    )
    .json();
    assert_eq!(names(&exact).len(), 5);
    assert_eq!(exact["metadata"]["resourceVersion"], before.to_string());
    let latest = get(
        server.addr(),
        &format!("/api/v1/pods?resourceVersion={before}"),
    )
    .json();
    assert_eq!(names(&latest).len(), 4);
    let too_large = get(server.addr(), "/api/v1/pods?resourceVersion=99999999");
    assert_eq!(
        (too_large.status, too_large.json()["reason"].as_str()),
        (504, Some("Timeout"))
    );
    let forbidden = get(server.addr(), "/api/v1/pods?resourceVersionMatch=Exact");
    assert_eq!(
        (forbidden.status, forbidden.json()["reason"].as_str()),
        (422, Some("Invalid"))
    );
    server.faults().expire_before(server.resource_version());
    let gone = get(
        server.addr(),
        &format!("/api/v1/pods?resourceVersion={before}&resourceVersionMatch=Exact"),
    );
    assert_eq!(
        (gone.status, gone.json()["reason"].as_str()),
        (410, Some("Expired"))
    );
}

#[test]
fn bearer_token_is_required_when_set() {
    let server = seeded(KubeOptions::with_token("s3cret"));
    let unauthorized = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401});
    for token in [None, Some("wrong")] {
        let reply = request(server.addr(), "GET", "/api/v1/pods", token).expect("answer");
        assert_eq!((reply.status, reply.json()), (401, unauthorized.clone()));
    }
    let reply = request(server.addr(), "GET", "/api/v1/pods", Some("s3cret")).expect("answer");
    assert_eq!(reply.status, 200);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 200]);
    assert_eq!(server.requests()[0].path, "/api/v1/pods");
}

#[test]
fn not_found_method_and_version_answers() {
    let server = seeded(KubeOptions::default());
    let unknown = get(server.addr(), "/apis/apps/v1/deployments");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("content-type"), Some("application/json"));
    assert_eq!(
        unknown.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "the server could not find the requested resource", "reason": "NotFound", "details": {}, "code": 404})
    );
    let missing = get(server.addr(), "/api/v1/namespaces/shop/pods/nope").json();
    assert_eq!(missing["message"], "pods \"nope\" not found");
    assert_eq!(missing["details"], json!({"name": "nope", "kind": "pods"}));
    let post = request(server.addr(), "POST", "/api/v1/pods", None).expect("answer");
    assert_eq!(
        (post.status, post.json()["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    let version = get(server.addr(), "/version").json();
    assert_eq!(version["major"], "1");
    assert!(version["gitVersion"]
        .as_str()
        .is_some_and(|v| v.starts_with("v1.")));
}

#[test]
fn kubeconfig_points_at_the_server_with_the_token() {
    let server = KubeServer::start(KubeOptions::with_token("s3cret"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path).expect("write kubeconfig");
    let config: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&path).expect("read")).expect("YAML");
    assert_eq!(config["kind"], "Config");
    let current = config["current-context"].as_str().expect("current-context");
    let context = config["contexts"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == current))
        .expect("context");
    let cluster = config["clusters"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["name"] == context["context"]["cluster"])
        })
        .expect("cluster");
    assert_eq!(cluster["cluster"]["server"], server.url());
    let user = config["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["name"] == context["context"]["user"]))
        .expect("user");
    assert_eq!(user["user"]["token"], "s3cret");
}
