//! The HTTP side: a hyper server on its own thread and runtime, so a test can use it from plain
//! `#[test]` functions and from async ones alike.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::access::{self, Rule};
use super::faults::lock;
use super::http_server::{self, ServerThread};
use super::routes::{self, Answer};
use super::store::{key, Change, Kind, Store};
use super::{KubeFaults, KubeOptions, RequestRecord};

/// A running API server; dropping it stops the server.
pub struct KubeServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Dropped last: stops the server.
    _server: ServerThread,
}

pub(super) struct Shared {
    pub(super) options: KubeOptions,
    pub(super) faults: KubeFaults,
    pub(super) store: Mutex<Store>,
    /// Carries the current resourceVersion; watches wake on every write.
    pub(super) written: watch::Sender<u64>,
    pub(super) shutdown: watch::Receiver<bool>,
    log: Mutex<Vec<RequestRecord>>,
    /// The caller's RBAC rules for access reviews; `None`: allowed everything.
    pub(super) rules: Mutex<Option<Vec<Rule>>>,
}

impl KubeServer {
    pub fn start(options: KubeOptions) -> KubeServer {
        let (listener, addr) = http_server::bind();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            faults: KubeFaults::new(),
            store: Mutex::new(Store::new(options.seed)),
            written: watch::channel(0).0,
            shutdown: shutdown_rx.clone(),
            log: Mutex::new(Vec::new()),
            rules: Mutex::new(None),
            options,
        });
        let for_thread = shared.clone();
        let server = ServerThread::spawn(
            format!("kube-test-server-{}", addr.port()),
            None,
            shutdown,
            move || accept_loop(for_thread, listener, shutdown_rx),
        );
        KubeServer {
            shared,
            addr,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn faults(&self) -> &KubeFaults {
        &self.shared.faults
    }

    /// The kubeconfig a client would get from `kubectl config view --raw --minify`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        let user = match &self.shared.options.token {
            Some(token) => json!({ "token": token }),
            None => json!({}),
        };
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": "loglynk-test", "cluster": { "server": self.url() } }],
            "users": [{ "name": "loglynk-test", "user": user }],
            "contexts": [{
                "name": "loglynk-test",
                "context": { "cluster": "loglynk-test", "user": "loglynk-test", "namespace": "default" }
            }],
            "current-context": "loglynk-test",
            "preferences": {},
        });
        let yaml = serde_yaml_ng::to_string(&config).map_err(std::io::Error::other)?;
        std::fs::write(path, yaml)
    }

    /// Each write returns the resourceVersion it was given; `Err` says why it was refused.
    pub fn add_pod(&self, pod: Value) -> Result<u64, String> {
        self.write(Kind::Pod, Change::Added, pod)
    }

    pub fn update_pod(&self, pod: Value) -> Result<u64, String> {
        self.write(Kind::Pod, Change::Modified, pod)
    }

    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<u64, String> {
        let stub = json!({ "metadata": { "namespace": namespace, "name": name } });
        self.write(Kind::Pod, Change::Deleted, stub)
    }

    pub fn add_namespace(&self, namespace: Value) -> Result<u64, String> {
        self.write(Kind::Namespace, Change::Added, namespace)
    }

    pub fn update_namespace(&self, namespace: Value) -> Result<u64, String> {
        self.write(Kind::Namespace, Change::Modified, namespace)
    }

    pub fn delete_namespace(&self, name: &str) -> Result<u64, String> {
        let stub = json!({ "metadata": { "name": name } });
        self.write(Kind::Namespace, Change::Deleted, stub)
    }

    pub fn add_node(&self, node: Value) -> Result<u64, String> {
        self.write(Kind::Node, Change::Added, node)
    }

    /// The current state of one pod, as `GET` would return it.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Value> {
        lock(&self.shared.store)
            .get(Kind::Pod, &key(namespace, name))
            .cloned()
    }

    /// The global resourceVersion: that of the latest write.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).rv
    }

    /// The RBAC rules the caller is bound to, for `SelfSubjectAccessReview`s; `None` (the default):
    /// allowed everything, as a kubeconfig's cluster admin.
    pub fn set_rules(&self, rules: Option<Vec<Rule>>) {
        *lock(&self.shared.rules) = rules;
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    fn write(&self, kind: Kind, change: Change, object: Value) -> Result<u64, String> {
        let rv = lock(&self.shared.store).write(kind, change, object)?;
        self.shared.written.send_replace(rv);
        Ok(rv)
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    shutdown: watch::Receiver<bool>,
) {
    let changes = shared.faults.subscribe();
    let down = || shared.faults.get().down;
    http_server::accept_loop(listener, shutdown, changes, down, |stream, _| {
        tokio::spawn(connection(shared.clone(), stream));
    })
    .await;
}

async fn connection(shared: Arc<Shared>, stream: TcpStream) {
    let for_service = shared.clone();
    let service = hyper::service::service_fn(move |request| {
        let shared = for_service.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&shared, request).await) }
    });
    let serve =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut shutdown = shared.shutdown.clone();
    // Leaving the select drops the connection, which closes the socket without a word.
    tokio::select! {
        _ = serve => {}
        _ = shared.faults.wait_while(|f| !f.down) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}

async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Answer {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().map(str::to_string);
    let answer = match routes::authenticate(shared, &request) {
        Some(refused) => refused,
        None if path == routes::ACCESS_REVIEWS => review(shared, request).await,
        None => routes::dispatch(shared, &request),
    };
    lock(&shared.log).push(RequestRecord {
        method,
        path,
        query,
        status: answer.status().as_u16(),
    });
    answer
}

/// Access reviews are the one endpoint with a request body.
async fn review(shared: &Arc<Shared>, request: Request<Incoming>) -> Answer {
    use http_body_util::BodyExt;
    if request.method() != hyper::Method::POST {
        let message = "the server does not allow this method on the requested resource";
        let body = routes::status(405, "MethodNotAllowed", message, Some(json!({})));
        return routes::respond(405, &body);
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return routes::respond(
                400,
                &routes::status(400, "BadRequest", "unreadable body", None),
            )
        }
    };
    let rules = lock(&shared.rules).clone();
    let (code, answer) = access::review(rules.as_deref(), &body);
    routes::respond(code, &answer)
}
