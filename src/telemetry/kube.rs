//! The Kubernetes metadata cache's events: set-up, readiness, watch outages and recoveries. How many
//! pods it holds and how long the watch has failed are measured at each scrape (`kube_*`).

use std::fmt::Display;

use super::Telemetry;

impl Telemetry {
    /// `kubernetes.enabled: auto` found no configuration: events carry the path's metadata only.
    pub fn kube_not_configured(&self, error: &dyn Display) {
        tracing::warn!(
            %error,
            "no Kubernetes configuration (not in a pod, no kubeconfig): events carry only the \
             metadata in their log paths; set kubernetes.enabled: false to silence this"
        );
    }

    /// No node name in the debug mode: every node's pods are watched.
    pub fn kube_watching_every_node(&self) {
        tracing::warn!(
            "no node name (kubernetes.node_name or $NODE_NAME): watching the pods of every node"
        );
    }

    /// The first list of pods (and namespaces) completed.
    pub fn kube_cache_ready(&self, pods: usize, namespaces: usize) {
        tracing::info!(pods, namespaces, "Kubernetes metadata cache ready");
    }

    /// A watch of `resource` failed for the first time since it last worked.
    pub fn kube_watch_failing(&self, resource: &str, error: &dyn Display) {
        tracing::warn!(
            resource,
            error = %error,
            "Kubernetes API watch failing; serving the last known pods while it retries"
        );
    }

    /// A watch of `resource` that is failing failed again.
    pub fn kube_watch_retry_failed(&self, resource: &str, error: &dyn Display) {
        tracing::debug!(resource, error = %error, "Kubernetes API watch retry failed");
    }

    /// A watch of `resource` works again after `outage_secs` and `errors` errors.
    pub fn kube_watch_recovered(&self, resource: &str, outage_secs: f64, errors: u64) {
        tracing::info!(
            resource,
            outage_secs,
            errors,
            "Kubernetes API watch recovered"
        );
    }

    /// The watch has failed long enough for the cache to be stale.
    pub fn kube_cache_stale(&self, failing_secs: f64, errors: u64, last_error: &str) {
        tracing::warn!(
            failing_secs,
            errors,
            last_error,
            "Kubernetes metadata cache is stale: events get the last known pod metadata until the \
             API server answers again"
        );
    }

    /// This node's object could not be read (`node_metadata`); it is read again later.
    pub fn kube_node_unreadable(&self, node: &str, error: &dyn Display) {
        tracing::warn!(node = %node, %error, "cannot read this node's metadata; retrying");
    }
}
