//! The node-scoped pod cache: kube-rs reflectors over this node's pods (and all namespaces),
//! looked up by pod UID or container ID, that keep answering through API server outages and keep a
//! deleted pod for `cleanup_timeout` so its last lines still get metadata.

mod client;
mod health;
mod index;
mod node;

pub use client::{client_from_env, KubeError};

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{watcher as watch_api, WatchStreamExt};
use kube::{Api, Client};
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

use super::{trim_pod, MetadataOptions};
use crate::telemetry::{self, CacheStatus, PodCacheHealth};
use health::Health;
use index::PodIndex;
use node::fetch_node;

/// How the cache watches.
#[derive(Debug, Clone)]
pub struct PodCacheConfig {
    /// Only pods scheduled here are watched: one small watch per node instead of every node
    /// holding every pod of the cluster. `None` watches every pod (the debug mode, off-cluster).
    pub node_name: Option<String>,
    /// How long a deleted pod is still found (Filebeat's `cleanup_timeout`, 60 s).
    pub cleanup_timeout: Duration,
    /// Also watch namespaces (for `kubernetes.namespace_labels.*`).
    pub watch_namespaces: bool,
    /// A watch failing for longer than this makes [`CacheStatus::stale`] true.
    pub stale_after: Duration,
    /// While the watch fails, how often the API server is probed (`GET /version`), so a resumed
    /// watch on a quiet node is seen as recovered without waiting for a change.
    pub probe_interval: Duration,
    /// What [`trim_pod`] keeps of each pod.
    pub metadata: MetadataOptions,
}

impl PodCacheConfig {
    pub fn new(node_name: impl Into<String>) -> PodCacheConfig {
        PodCacheConfig {
            node_name: Some(node_name.into()),
            ..PodCacheConfig::all_nodes()
        }
    }

    /// Every pod of the cluster: for the debug mode off-cluster, not for an agent on each node.
    pub fn all_nodes() -> PodCacheConfig {
        PodCacheConfig {
            node_name: None,
            cleanup_timeout: Duration::from_secs(60),
            watch_namespaces: true,
            stale_after: Duration::from_secs(30),
            probe_interval: Duration::from_secs(5),
            metadata: MetadataOptions::default(),
        }
    }
}

struct Shared {
    index: RwLock<PodIndex>,
    /// Bumped on every change a lookup could see, so a reader re-resolves a file only when it changed.
    generation: AtomicU64,
    node: RwLock<Option<Arc<Node>>>,
    metadata: MetadataOptions,
    namespaces: Option<Store<Namespace>>,
    health: Health,
    cleanup_timeout: Duration,
    pods_ready: signal::Sender<bool>,
    namespaces_ready: signal::Sender<bool>,
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, PodIndex> {
        // The index is replaced or updated whole under the lock: a panic cannot leave it half-written.
        self.index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, PodIndex> {
        self.changed();
        self.index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }
}

/// Stops the watchers when the last handle goes: they hold only the shared state, not a handle.
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// A cloneable handle: lookups are cheap reads of the in-memory index.
#[derive(Clone)]
pub struct PodCache {
    shared: Arc<Shared>,
    _tasks: Arc<Tasks>,
}

impl std::fmt::Debug for PodCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodCache")
            .field("status", &self.status())
            .finish()
    }
}

impl PodCache {
    /// Starts the watchers on the current tokio runtime (it must be inside one).
    pub fn start(client: Client, config: PodCacheConfig) -> PodCache {
        let (namespace_store, namespace_writer) = reflector::store::<Namespace>();
        let shared = Arc::new(Shared {
            index: RwLock::new(PodIndex::default()),
            generation: AtomicU64::new(0),
            node: RwLock::new(None),
            metadata: config.metadata.clone(),
            namespaces: config.watch_namespaces.then_some(namespace_store),
            health: Health::new(config.stale_after),
            cleanup_timeout: config.cleanup_timeout,
            pods_ready: signal::channel(false).0,
            namespaces_ready: signal::channel(!config.watch_namespaces).0,
        });

        let (pod_store, pod_writer) = reflector::store::<Pod>();
        let mut watch_config = watcher::Config::default();
        if let Some(node) = &config.node_name {
            watch_config = watch_config.fields(&format!("spec.nodeName={node}"));
        }
        let options = config.metadata.clone();
        let pods = watch_api(Api::<Pod>::all(client.clone()), watch_config)
            .default_backoff()
            .modify(move |pod| trim_pod(pod, &options))
            .reflect(pod_writer);
        let mut tasks = vec![tokio::spawn(run_pods(
            Box::pin(pods),
            pod_store,
            shared.clone(),
        ))];

        if config.watch_namespaces {
            let namespaces = watch_api(Api::<Namespace>::all(client.clone()), Default::default())
                .default_backoff()
                .modify(|namespace| namespace.metadata.managed_fields = None)
                .reflect(namespace_writer);
            tasks.push(tokio::spawn(run_namespaces(
                Box::pin(namespaces),
                shared.clone(),
            )));
        }
        if let (true, Some(node)) = (config.metadata.node_metadata, &config.node_name) {
            tasks.push(tokio::spawn(fetch_node(
                Api::<Node>::all(client.clone()),
                node.clone(),
                shared.clone(),
            )));
        }
        tasks.push(tokio::spawn(maintain(
            client,
            shared.clone(),
            config.probe_interval,
        )));
        PodCache {
            shared,
            _tasks: Arc::new(Tasks(tasks)),
        }
    }

    /// By pod UID, never by name: a StatefulSet pod recreated under the same name has a new UID and
    /// must not get the old pod's labels (nor the old one the new pod's).
    pub fn pod(&self, uid: &str) -> Option<Arc<Pod>> {
        let keep = self.shared.cleanup_timeout;
        self.shared.read().pod(uid, Instant::now(), keep)
    }

    /// By container ID, with or without its `containerd://`, `cri-o://` or `docker://` prefix.
    pub fn pod_by_container_id(&self, id: &str) -> Option<Arc<Pod>> {
        let keep = self.shared.cleanup_timeout;
        self.shared
            .read()
            .pod_by_container_id(id, Instant::now(), keep)
    }

    /// `None` also when namespaces are not watched.
    pub fn namespace(&self, name: &str) -> Option<Arc<Namespace>> {
        self.shared.namespaces.as_ref()?.get(&ObjectRef::new(name))
    }

    /// This node, when node metadata is on and the API server returned it.
    pub fn node(&self) -> Option<Arc<Node>> {
        self.shared
            .node
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Changes whenever a lookup's answer may have changed (a pod, namespace or node changed).
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// What the cache keeps of each pod, and so what the enrichment can write.
    pub fn metadata_options(&self) -> &MetadataOptions {
        &self.shared.metadata
    }

    /// Namespaces are watched and their first list has not completed yet.
    pub fn namespaces_pending(&self) -> bool {
        !*self.shared.namespaces_ready.borrow()
    }

    /// Waits until the first list completed, at most `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut pods = self.shared.pods_ready.subscribe();
        let mut namespaces = self.shared.namespaces_ready.subscribe();
        let both = async {
            pods.wait_for(|ready| *ready).await.is_ok()
                && namespaces.wait_for(|ready| *ready).await.is_ok()
        };
        tokio::time::timeout(timeout, both).await.unwrap_or(false)
    }

    pub fn status(&self) -> CacheStatus {
        let health = self.shared.health.snapshot();
        let (pods, recently_deleted) = {
            let index = self.shared.read();
            (index.live_count(), index.deleted_count())
        };
        CacheStatus {
            ready: *self.shared.pods_ready.borrow() && *self.shared.namespaces_ready.borrow(),
            last_success: health.last_success,
            errors: health.errors,
            last_error: health.last_error,
            failing_for: health.failing_for,
            stale: health.stale,
            pods,
            recently_deleted,
            namespaces: self.shared.namespaces.as_ref().map_or(0, Store::len),
        }
    }
}

impl PodCacheHealth for PodCache {
    fn status(&self) -> CacheStatus {
        PodCache::status(self)
    }
}

/// The next item of a watch stream. `futures` is not a dependency; `WatchStreamExt` has `Stream` as
/// its supertrait, which makes `poll_next` reachable through the bound.
fn next<S>(stream: &mut S) -> impl Future<Output = Option<S::Item>> + '_
where
    S: WatchStreamExt + Unpin,
{
    std::future::poll_fn(move |cx| Pin::new(&mut *stream).poll_next(cx))
}

async fn run_pods<S>(mut events: S, store: Store<Pod>, shared: Arc<Shared>)
where
    S: WatchStreamExt<Item = watcher::Result<Event<Pod>>> + Unpin,
{
    while let Some(event) = next(&mut events).await {
        let now = Instant::now();
        match event {
            Ok(Event::Apply(pod)) => {
                shared.health.success("pods");
                // The store's own Arc, so each pod is held once however many tables point at it.
                let stored = store
                    .get(&ObjectRef::from_obj(&pod))
                    .filter(|stored| stored.metadata.uid == pod.metadata.uid)
                    .unwrap_or_else(|| Arc::new(pod));
                shared.write().apply(stored, now);
            }
            Ok(Event::Delete(pod)) => {
                shared.health.success("pods");
                shared.write().delete(Arc::new(pod), now);
            }
            // Init is emitted before anything is asked of the server, so it proves nothing.
            Ok(Event::Init) => {}
            Ok(Event::InitApply(_)) => shared.health.success("pods"),
            Ok(Event::InitDone) => {
                shared.health.success("pods");
                // The reflector swapped its store before passing the event on: it is the new truth.
                shared.write().resync(store.state(), now);
                shared.pods_ready.send_replace(true);
            }
            Err(error) => shared.health.error("pods", &error),
        }
    }
}

async fn run_namespaces<S>(mut events: S, shared: Arc<Shared>)
where
    S: WatchStreamExt<Item = watcher::Result<Event<Namespace>>> + Unpin,
{
    while let Some(event) = next(&mut events).await {
        match event {
            Ok(Event::Init) => {}
            Ok(Event::InitDone) => {
                shared.health.success("namespaces");
                shared.changed();
                shared.namespaces_ready.send_replace(true);
            }
            Ok(Event::InitApply(_)) => shared.health.success("namespaces"),
            Ok(Event::Apply(_) | Event::Delete(_)) => {
                shared.health.success("namespaces");
                shared.changed();
            }
            Err(error) => shared.health.error("namespaces", &error),
        }
    }
}

/// Purges deleted pods past `cleanup_timeout`, and probes the API server during an outage.
async fn maintain(client: Client, shared: Arc<Shared>, probe_interval: Duration) {
    let tick =
        (shared.cleanup_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut last_probe: Option<Instant> = None;
    let mut was_stale = false;
    loop {
        tokio::time::sleep(tick).await;
        shared
            .index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .purge(Instant::now(), shared.cleanup_timeout);
        let health = shared.health.snapshot();
        if health.stale && !was_stale {
            telemetry::kube_cache_stale(
                health.failing_for,
                health.errors,
                health.last_error.as_deref(),
            );
        }
        was_stale = health.stale;
        if !shared.health.failing() || last_probe.is_some_and(|at| at.elapsed() < probe_interval) {
            continue;
        }
        let sent = Instant::now();
        last_probe = Some(sent);
        let probe = tokio::time::timeout(probe_interval, client.apiserver_version()).await;
        if matches!(probe, Ok(Ok(_))) {
            shared.health.probe_succeeded(sent);
        }
    }
}
