//! Watch streams and faults: event order and resourceVersions, 410 Gone, bookmarks, timeouts, cut
//! streams, and a server that goes away and comes back on the same port.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

use crate::client::{get, End, Watch};
use crate::kubernetes::KubeOptions;
use crate::{fixture, seeded};

fn rv(event: &Value) -> u64 {
    event["object"]["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .expect("resourceVersion")
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect()
}

#[test]
fn watch_delivers_changes_in_order_after_the_list() {
    let server = seeded(KubeOptions::default());
    let list = get(server.addr(), "/api/v1/pods").json();
    let from = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let mut watch = Watch::open(
        server.addr(),
        &format!("/api/v1/pods?watch=1&resourceVersion={from}"),
        None,
    )
    .expect("watch");
    assert_eq!(watch.status, 200);
    let header = |name: &str| {
        watch
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("transfer-encoding").as_deref(), Some("chunked"));
    let mut web = fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    web["metadata"]["labels"]["tier"] = json!("edge");
    server.update_pod(web).expect("update");
    server
        .delete_pod("shop", "web-7d9f8b6c5-x2x4q")
        .expect("delete");
    let mut extra = fixture("pod-shop-api-5c8d9f7b6-k8s2p.json");
    extra["metadata"]["name"] = json!("api-5c8d9f7b6-new");
    server.add_pod(extra).expect("add");
    let events = watch.take(3);
    assert_eq!(types(&events), ["MODIFIED", "DELETED", "ADDED"]);
    assert_eq!(events[0]["object"]["kind"], "Pod");
    assert_eq!(events[0]["object"]["metadata"]["labels"]["tier"], "edge");
    assert_eq!(
        events[0]["object"]["metadata"]["uid"],
        "0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90"
    );
    let versions: Vec<u64> = events.iter().map(rv).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert!(versions[0] > from.parse::<u64>().expect("numeric"));

    // Resuming from the middle replays only what came after.
    let mut resumed = Watch::open(
        server.addr(),
        &format!("/api/v1/pods?watch=true&resourceVersion={}", versions[0]),
        None,
    )
    .expect("watch");
    assert_eq!(types(&resumed.take(2)), ["DELETED", "ADDED"]);
}

#[test]
fn watch_without_resource_version_starts_with_the_current_state() {
    let server = seeded(KubeOptions::default());
    let mut watch = Watch::open(server.addr(), "/api/v1/namespaces?watch=1", None).expect("watch");
    let events = watch.take(2);
    assert_eq!(types(&events), ["ADDED", "ADDED"]);
    assert_eq!(events[0]["object"]["kind"], "Namespace");
    assert_eq!(events[0]["object"]["metadata"]["name"], "payments");
}

#[test]
fn field_selector_turns_moves_into_added_and_deleted() {
    let server = seeded(KubeOptions::default());
    let from = server.resource_version();
    let path = format!(
        "/api/v1/pods?watch=1&resourceVersion={from}&fieldSelector=spec.nodeName%3Dnode-a1"
    );
    let mut watch = Watch::open(server.addr(), &path, None).expect("watch");
    let mut moved = fixture("pod-payments-worker-0.json");
    moved["spec"]["nodeName"] = json!("node-b2");
    server.update_pod(moved.clone()).expect("move away");
    let mut unrelated = fixture("pod-shop-api-5c8d9f7b6-k8s2p.json");
    unrelated["metadata"]["name"] = json!("api-elsewhere");
    unrelated["spec"]["nodeName"] = json!("node-b2");
    server.add_pod(unrelated).expect("pod on another node");
    moved["spec"]["nodeName"] = json!("node-a1");
    server.update_pod(moved).expect("move back");
    let events = watch.take(2);
    assert_eq!(types(&events), ["DELETED", "ADDED"]);
    assert!(events
        .iter()
        .all(|e| e["object"]["metadata"]["name"] == "worker-0"));
}

#[test]
fn watch_from_a_compacted_version_gets_410_as_an_event() {
    let server = seeded(KubeOptions::default());
    let old = server.resource_version() - 3;
    server.faults().expire_before(server.resource_version());
    let mut watch = Watch::open(
        server.addr(),
        &format!("/api/v1/pods?watch=1&resourceVersion={old}"),
        None,
    )
    .expect("watch");
    assert_eq!(
        watch.status, 200,
        "the real server reports 410 inside the stream"
    );
    let error = watch.next().expect("an event");
    assert_eq!(error["type"], "ERROR");
    assert_eq!(
        error["object"],
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": format!("too old resource version: {old} ({})", server.resource_version()),
               "reason": "Expired", "code": 410})
    );
    assert_eq!(watch.next().err(), Some(End::Clean));
}

#[test]
fn bookmarks_carry_only_the_resource_version() {
    let server = seeded(KubeOptions {
        bookmark_interval: Duration::from_millis(50),
        ..KubeOptions::default()
    });
    let from = server.resource_version();
    let path = format!("/api/v1/pods?watch=1&resourceVersion={from}&allowWatchBookmarks=true");
    let mut watch = Watch::open(server.addr(), &path, None).expect("watch");
    let bookmark = watch.next().expect("a bookmark");
    assert_eq!(
        bookmark,
        json!({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": from.to_string()}}})
    );
    // Without allowWatchBookmarks, or with bookmarks switched off, none arrive before the timeout.
    let quiet = format!("/api/v1/pods?watch=1&resourceVersion={from}&timeoutSeconds=1");
    assert_eq!(
        Watch::open(server.addr(), &quiet, None)
            .expect("watch")
            .next()
            .err(),
        Some(End::Clean)
    );
    server.faults().set_bookmarks(false);
    let off = format!("{path}&timeoutSeconds=1");
    assert_eq!(
        Watch::open(server.addr(), &off, None)
            .expect("watch")
            .next()
            .err(),
        Some(End::Clean)
    );
}

#[test]
fn drop_watches_cuts_open_streams() {
    let server = seeded(KubeOptions::default());
    let from = server.resource_version();
    let mut watch = Watch::open(
        server.addr(),
        &format!("/api/v1/pods?watch=1&resourceVersion={from}"),
        None,
    )
    .expect("watch");
    server
        .delete_pod("batch", "report-28391234-xk2jd")
        .expect("delete");
    assert_eq!(types(&watch.take(1)), ["DELETED"]);
    server.faults().drop_watches();
    watch.set_timeout(Duration::from_secs(5));
    assert_eq!(watch.next().err(), Some(End::Cut));
    // New watches work again at once.
    let mut again = Watch::open(
        server.addr(),
        &format!("/api/v1/pods?watch=1&resourceVersion={from}"),
        None,
    )
    .expect("watch");
    assert_eq!(types(&again.take(1)), ["DELETED"]);
}

#[test]
fn down_refuses_connections_then_comes_back_on_the_same_port() {
    let server = seeded(KubeOptions::default());
    let addr = server.addr();
    let mut watch = Watch::open(addr, "/api/v1/pods?watch=1", None).expect("watch");
    watch.take(5);
    server.faults().set_down(true);
    watch.set_timeout(Duration::from_secs(5));
    assert_eq!(watch.next().err(), Some(End::Cut));
    let refused = (0..100).any(|_| {
        let failed = TcpStream::connect(addr).is_err();
        if !failed {
            std::thread::sleep(Duration::from_millis(20));
        }
        failed
    });
    assert!(refused, "connections must be refused while down");
    server.faults().set_down(false);
    let back = (0..100).find_map(|_| {
        let reply = crate::client::request(addr, "GET", "/version", None).ok();
        if reply.is_none() {
            std::thread::sleep(Duration::from_millis(20));
        }
        reply
    });
    assert_eq!(back.map(|r| r.status), Some(200));
    assert_eq!(server.addr(), addr);
}

#[test]
fn a_refused_kind_is_answered_503_until_released_and_other_kinds_are_not() {
    let server = seeded(KubeOptions::default());
    server
        .faults()
        .refuse_lists(crate::kubernetes::Kind::Namespace, true);
    let refused = get(server.addr(), "/api/v1/namespaces");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.json()["reason"], "ServiceUnavailable");
    assert_eq!(get(server.addr(), "/api/v1/pods").status, 200);
    server
        .faults()
        .refuse_lists(crate::kubernetes::Kind::Namespace, false);
    let listed = get(server.addr(), "/api/v1/namespaces");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["kind"], "NamespaceList");
}
