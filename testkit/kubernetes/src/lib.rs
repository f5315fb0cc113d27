//! A Kubernetes API server stand-in for end-to-end tests of pod metadata: it speaks the real wire
//! protocol (lists with `limit`/`continue`, field and label selectors, `resourceVersion` semantics,
//! chunked watch streams with bookmarks, 410 Gone, Status errors) over plain HTTP, so a kube-rs
//! reflector pointed at it with a kubeconfig behaves as it would against a cluster.
//!
//! Use it as a dev-dependency (`testkit_kubernetes`): `KubeServer::start(…)` serves on 127.0.0.1 until
//! dropped, and `write_kubeconfig` points a client at it.
//!
//! What it serves (GET, like a read-only RBAC role): `/version`, `/api`, `/api/v1/pods`,
//! `/api/v1/namespaces/{ns}/pods[/{name}]`, `/api/v1/namespaces[/{name}]`, `/api/v1/nodes[/{name}]`;
//! and one POST, `SelfSubjectAccessReview`s, answered from the RBAC rules a test sets.
//! Lists and watches of pods, namespaces and nodes honour `watch`, `resourceVersion`,
//! `resourceVersionMatch`, `limit`, `continue`, `fieldSelector`, `labelSelector`, `timeoutSeconds`
//! and `allowWatchBookmarks`.
//!
//! Deliberate simplifications, each safe for a reflector's tests: the whole history is kept in
//! memory and only `KubeFaults::expire_before` compacts it; label selectors are equality-based only
//! (`k=v`, `k==v`, `k!=v`, `k`, `!k`); there is no `sendInitialEvents` streaming list.

mod access;
mod body;
mod faults;
mod fixtures;
mod routes;
mod selectors;
mod server;
mod store;
mod watch;

pub use access::Rule;
pub use faults::KubeFaults;
pub use fixtures::{fixture, fixtures_dir, seeded, PODS};
pub use server::KubeServer;
pub use store::Kind;

// The modules reach the shared plumbing as `super::http_server`.
use testkit_http as http_server;

use std::time::Duration;

/// How the server is started.
#[derive(Clone, Debug)]
pub struct KubeOptions {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Seeds the uids given to objects added without one, so a failing run can be repeated.
    pub seed: u64,
    /// When set, a list without `limit` is still cut into pages of this size (a real server never
    /// does this; it proves a client follows `continue` whatever it asked for).
    pub page_size_default: Option<usize>,
    /// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK. The real server sends one
    /// about every minute; tests cannot wait that long.
    pub bookmark_interval: Duration,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            token: None,
            seed: 0x5eed,
            page_size_default: None,
            bookmark_interval: Duration::from_millis(200),
        }
    }
}

impl KubeOptions {
    pub fn with_token(token: &str) -> KubeOptions {
        KubeOptions {
            token: Some(token.to_string()),
            ..KubeOptions::default()
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The status sent; a watch counts as answered (200) once its stream starts.
    pub status: u16,
}
