//! The pod lookup tables behind [`super::PodCache`]: by UID and by container ID, over live pods and
//! pods deleted less than `cleanup_timeout` ago (their last lines are often read after the delete).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use crate::enrich::kube::split_container_id;

#[derive(Default)]
pub(super) struct PodIndex {
    live: HashMap<String, Arc<Pod>>,
    deleted: HashMap<String, (Arc<Pod>, Instant)>,
    /// Bare container ID -> pod UID. Entries outlive container restarts on purpose: a restarted
    /// container's previous log file still belongs to the same pod. They go when the pod is purged.
    containers: HashMap<String, String>,
}

impl PodIndex {
    /// An added or modified pod.
    pub(super) fn apply(&mut self, pod: Arc<Pod>, now: Instant) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        // A StatefulSet pod recreated under the same name while the watch was down: its Delete was
        // never seen, yet the old UID must keep answering with the old pod until cleanup.
        let replaced: Vec<String> = self
            .live
            .iter()
            .filter(|(other, old)| **other != uid && same_name(old, &pod))
            .map(|(other, _)| other.clone())
            .collect();
        for other in replaced {
            self.retire(&other, now);
        }
        self.add_containers(&uid, &pod);
        self.deleted.remove(&uid);
        self.live.insert(uid, pod);
    }

    /// A deleted pod, in its final state as the watch reported it.
    pub(super) fn delete(&mut self, pod: Arc<Pod>, now: Instant) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        self.add_containers(&uid, &pod);
        self.live.remove(&uid);
        self.deleted.insert(uid, (pod, now));
    }

    /// The complete state after a (re)list: a pod missing from it was deleted while the watch was
    /// not looking, and is kept as recently deleted like any other.
    pub(super) fn resync(&mut self, pods: Vec<Arc<Pod>>, now: Instant) {
        let mut fresh = HashMap::with_capacity(pods.len());
        for pod in pods {
            if let Some(uid) = pod.metadata.uid.clone() {
                self.add_containers(&uid, &pod);
                self.deleted.remove(&uid);
                fresh.insert(uid, pod);
            }
        }
        let old = std::mem::replace(&mut self.live, fresh);
        for (uid, pod) in old {
            if !self.live.contains_key(&uid) {
                self.deleted.insert(uid, (pod, now));
            }
        }
    }

    pub(super) fn purge(&mut self, now: Instant, keep: Duration) {
        self.deleted
            .retain(|_, (_, at)| now.saturating_duration_since(*at) < keep);
        let (live, deleted) = (&self.live, &self.deleted);
        self.containers
            .retain(|_, uid| live.contains_key(uid) || deleted.contains_key(uid));
    }

    pub(super) fn pod(&self, uid: &str, now: Instant, keep: Duration) -> Option<Arc<Pod>> {
        if let Some(pod) = self.live.get(uid) {
            return Some(pod.clone());
        }
        // Checked here too, so an answer never depends on when the last purge ran.
        self.deleted
            .get(uid)
            .filter(|(_, at)| now.saturating_duration_since(*at) < keep)
            .map(|(pod, _)| pod.clone())
    }

    pub(super) fn pod_by_container_id(
        &self,
        id: &str,
        now: Instant,
        keep: Duration,
    ) -> Option<Arc<Pod>> {
        let bare = split_container_id(id).map_or(id, |(_, bare)| bare);
        let uid = self.containers.get(bare)?;
        self.pod(uid, now, keep)
    }

    pub(super) fn live_count(&self) -> usize {
        self.live.len()
    }

    pub(super) fn deleted_count(&self) -> usize {
        self.deleted.len()
    }

    fn retire(&mut self, uid: &str, now: Instant) {
        if let Some(pod) = self.live.remove(uid) {
            self.deleted.insert(uid.to_owned(), (pod, now));
        }
    }

    fn add_containers(&mut self, uid: &str, pod: &Pod) {
        let Some(status) = &pod.status else {
            return;
        };
        let all = [
            &status.container_statuses,
            &status.init_container_statuses,
            &status.ephemeral_container_statuses,
        ];
        for statuses in all.into_iter().flatten() {
            for id in statuses.iter().filter_map(container_id) {
                self.containers.insert(id.to_owned(), uid.to_owned());
            }
        }
    }
}

fn container_id(status: &ContainerStatus) -> Option<&str> {
    let id = status.container_id.as_deref()?;
    let bare = split_container_id(id).map_or(id, |(_, bare)| bare);
    (!bare.is_empty()).then_some(bare)
}

fn same_name(a: &Pod, b: &Pod) -> bool {
    a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
}
