//! The Kubernetes objects in `fixtures/kubernetes`, matching the log tree in `fixtures/var/log`.

use std::path::PathBuf;

use serde_json::Value;

use super::{KubeOptions, KubeServer};

pub const PODS: [&str; 5] = [
    "pod-shop-web-7d9f8b6c5-x2x4q.json",
    "pod-shop-api-5c8d9f7b6-k8s2p.json",
    "pod-payments-worker-0.json",
    "pod-batch-report-28391234-xk2jd.json",
    "pod-kube-system-loglynk-7xk2p.json",
];

/// The repository's `fixtures/` (this crate is `testkit/kubernetes`): the objects stay beside the log
/// tree they describe.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join("kubernetes").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A server holding every fixture: five pods on `node-a1`, two namespaces, the node.
pub fn seeded(options: KubeOptions) -> KubeServer {
    let server = KubeServer::start(options);
    for name in ["namespace-shop.json", "namespace-payments.json"] {
        server
            .add_namespace(fixture(name))
            .expect("namespace fixture");
    }
    server
        .add_node(fixture("node-node-a1.json"))
        .expect("node fixture");
    for name in PODS {
        server.add_pod(fixture(name)).expect("pod fixture");
    }
    server
}
