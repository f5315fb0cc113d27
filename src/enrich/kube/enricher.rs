//! Per-file enrichment on the reading thread: which pod wrote a file, asked of the [`PodCache`] once per
//! file and again only when the cache changed, and how long a file waits for a pod not cached yet.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};

use super::cache::PodCache;
use super::PodMetadata;
use crate::config::deadline;
use crate::event::{Flags, Origin, PathMetadata};
use crate::telemetry::{self, Telemetry};

/// While a file waits for its pod, it is asked about again this often, so lines ship soon after the
/// watch delivers the pod rather than at the end of the wait.
const RECHECK: Duration = Duration::from_millis(100);

/// Where the enricher tells what it found of each file's pod: the agent's telemetry, which counts it.
pub trait EnrichReport: Send + Sync {
    /// A file's pod was found: its events carry the pod's metadata from now on.
    fn pod_found(&self);
    /// A file's pod was not found within the wait: its events ship with the path's metadata.
    fn pod_missing(&self, path: &str);
}

impl EnrichReport for Telemetry {
    fn pod_found(&self) {
        self.pod_metadata_found();
    }

    fn pod_missing(&self, path: &str) {
        self.pod_metadata_missing(path);
    }
}

/// What the reader should do with a file's lines now.
#[derive(Debug)]
pub enum Decision {
    /// Read on; with `Some`, the file's events carry this origin from now on.
    Proceed(Option<Arc<Origin>>),
    /// Do not read the file before this instant: its pod is not cached yet, and the wait is not over.
    Hold(Instant),
}

/// Where one file stands. Start each file with `FileMetadata::default()`.
#[derive(Debug, Default)]
pub struct FileMetadata {
    /// The cache generation last resolved against; `None` before the first look.
    generation: Option<u64>,
    state: State,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    New,
    Waiting {
        until: Instant,
    },
    Found(Arc<PodMetadata>),
    /// Shipped with path metadata and flagged; found later if the pod shows up.
    Missing,
    /// Not a Kubernetes container log (no pod UID or container ID in its path): nothing to look up.
    NotAPod,
}

/// A pod's metadata, built once and shared by its files for as long as the pod, its namespace and the
/// node are the objects it was built from.
struct Memo {
    pod: Arc<Pod>,
    namespace: Option<Arc<Namespace>>,
    node: Option<Arc<Node>>,
    metadata: Arc<PodMetadata>,
}

impl std::fmt::Debug for KubeEnricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeEnricher")
            .field("wait", &self.wait)
            .field("pods_memoized", &self.memo.len())
            .finish()
    }
}

pub struct KubeEnricher {
    cache: PodCache,
    wait: Duration,
    memo: HashMap<String, Memo>,
    /// Past this many memo entries, those of pods the cache no longer holds are dropped.
    memo_limit: usize,
    /// Told of each file whose pod was found, or not in time.
    report: Arc<dyn EnrichReport>,
    /// Hints already reported, by pod UID and annotation: a pod's metadata is rebuilt on every change
    /// that matters, its bad hint is reported once.
    reported_hints: std::collections::HashSet<(String, String)>,
    /// Reasons of hints reported and not yet counted (see [`KubeEnricher::take_hint_errors`]).
    hint_errors: Vec<&'static str>,
}

impl KubeEnricher {
    /// `wait`: how long a file whose pod is not cached waits before shipping without API metadata
    /// (`metadata_wait`).
    pub fn new(cache: PodCache, wait: Duration, report: Arc<dyn EnrichReport>) -> KubeEnricher {
        KubeEnricher {
            cache,
            wait,
            memo: HashMap::new(),
            memo_limit: 256,
            report,
            reported_hints: std::collections::HashSet::new(),
            hint_errors: Vec::new(),
        }
    }

    /// The pod with this UID as the cache holds it (its labels as written, before any dedot).
    pub fn pod(&self, uid: &str) -> Option<Arc<Pod>> {
        self.cache.pod(uid)
    }

    /// The reasons of the hints left out since the last call, one per pod and annotation, for the
    /// agent's metrics (this module knows no telemetry).
    pub fn take_hint_errors(&mut self) -> Vec<&'static str> {
        std::mem::take(&mut self.hint_errors)
    }

    fn report_hints(&mut self, metadata: &PodMetadata) {
        for error in &metadata.hint_errors {
            let key = (metadata.uid.clone(), error.annotation.clone());
            if self.reported_hints.contains(&key) {
                continue;
            }
            if self.reported_hints.len() >= 16 * 1024 {
                self.reported_hints.clear();
            }
            self.reported_hints.insert(key);
            telemetry::hint_ignored(
                &metadata.name,
                &metadata.namespace,
                &error.annotation,
                error.reason,
            );
            self.hint_errors.push(error.reason);
        }
    }

    /// Decides for a file whose current origin is `origin`, at `now`. Cheap when nothing changed: one
    /// atomic load.
    pub fn check(&mut self, file: &mut FileMetadata, origin: &Origin, now: Instant) -> Decision {
        let generation = self.cache.generation();
        let unchanged = file.generation == Some(generation);
        match file.state {
            State::NotAPod => return Decision::Proceed(None),
            State::Waiting { until } if unchanged && now < until => {
                return Decision::Hold(until.min(now + RECHECK))
            }
            State::Found(_) | State::Missing if unchanged => return Decision::Proceed(None),
            _ => {}
        }
        file.generation = Some(generation);
        let meta = &origin.metadata;
        if meta.pod_uid.is_none() && meta.container_id.is_none() {
            file.state = State::NotAPod;
            return Decision::Proceed(None);
        }
        if let Some((pod, container)) = self.lookup(meta) {
            if let Some(hold) = self.wait_for_namespaces(file, now) {
                return hold;
            }
            if let State::Found(previous) = &file.state {
                // Most pod updates change only what is not shipped (status conditions, the
                // resourceVersion): the file keeps its origin.
                if Arc::ptr_eq(previous, &pod) || **previous == *pod {
                    file.state = State::Found(pod);
                    return Decision::Proceed(None);
                }
            }
            let Some(api) = pod.for_container(&container) else {
                return self.not_found(file, origin, now);
            };
            let enriched = Origin::with_kubernetes(origin.path.clone(), meta.clone(), api);
            if !matches!(file.state, State::Found(_)) {
                self.report.pod_found();
            }
            file.state = State::Found(pod);
            return Decision::Proceed(Some(enriched));
        }
        self.not_found(file, origin, now)
    }

    /// A pod found before the namespaces were first listed would ship without its namespace's labels:
    /// its file waits for the list too, within the same `metadata_wait`, then ships with what is known.
    fn wait_for_namespaces(&self, file: &mut FileMetadata, now: Instant) -> Option<Decision> {
        if !self.cache.namespaces_pending() {
            return None;
        }
        match file.state {
            State::New if !self.wait.is_zero() => {
                let until = deadline(now, self.wait);
                file.state = State::Waiting { until };
                Some(Decision::Hold(until.min(now + RECHECK)))
            }
            State::Waiting { until } if now < until => {
                Some(Decision::Hold(until.min(now + RECHECK)))
            }
            _ => None,
        }
    }

    fn not_found(&mut self, file: &mut FileMetadata, origin: &Origin, now: Instant) -> Decision {
        match file.state {
            // Purged after its deletion: the last metadata known is still the truest.
            State::Found(_) | State::Missing | State::NotAPod => Decision::Proceed(None),
            State::New if !self.wait.is_zero() => {
                let until = deadline(now, self.wait);
                file.state = State::Waiting { until };
                Decision::Hold(until.min(now + RECHECK))
            }
            State::Waiting { until } if now < until => Decision::Hold(until.min(now + RECHECK)),
            State::New | State::Waiting { .. } => {
                file.state = State::Missing;
                self.report.pod_missing(&origin.path);
                Decision::Proceed(Some(Origin::flagged(
                    origin.path.clone(),
                    origin.metadata.clone(),
                    Flags::KUBE_METADATA_MISSING,
                )))
            }
        }
    }

    /// The pod (by UID, else by container ID) and the container name the file belongs to.
    fn lookup(&mut self, meta: &PathMetadata) -> Option<(Arc<PodMetadata>, String)> {
        let pod = match meta.pod_uid.as_deref().and_then(|uid| self.cache.pod(uid)) {
            Some(pod) => pod,
            None => self
                .cache
                .pod_by_container_id(meta.container_id.as_deref()?)?,
        };
        let uid = pod.metadata.uid.clone()?;
        let namespace = pod
            .metadata
            .namespace
            .as_deref()
            .and_then(|ns| self.cache.namespace(ns));
        let node = self.cache.node();
        let fresh = |memo: &Memo| {
            Arc::ptr_eq(&memo.pod, &pod)
                && same(&memo.namespace, &namespace)
                && same(&memo.node, &node)
        };
        let metadata = match self.memo.get(&uid) {
            Some(memo) if fresh(memo) => Arc::clone(&memo.metadata),
            _ => {
                let built = PodMetadata::from_pod(
                    &pod,
                    namespace.as_deref(),
                    node.as_deref(),
                    self.cache.metadata_options(),
                )?;
                let metadata = Arc::new(built);
                self.report_hints(&metadata);
                self.remember(
                    uid,
                    Memo {
                        pod,
                        namespace,
                        node,
                        metadata: Arc::clone(&metadata),
                    },
                );
                metadata
            }
        };
        let container = match &meta.container_name {
            Some(name) => name.clone(),
            None => metadata
                .container_by_id(meta.container_id.as_deref()?)?
                .name
                .clone(),
        };
        Some((metadata, container))
    }

    fn remember(&mut self, uid: String, memo: Memo) {
        self.memo.insert(uid, memo);
        if self.memo.len() > self.memo_limit {
            let cache = &self.cache;
            self.memo.retain(|uid, _| cache.pod(uid).is_some());
            self.memo_limit = (self.memo.len() * 2).max(256);
        }
    }
}

fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}
