//! The Kubernetes metadata cache's events: its start, its watch failing and recovering, going stale, the
//! node's own metadata, and hints left out. Free functions, as in `files`: they count nothing (the
//! cache's own health, which `/metrics` reads, counts its errors), and the cache's tasks have no handle
//! to telemetry.

use std::fmt::Display;
use std::time::Duration;

/// `kubernetes.enabled: auto` found no configuration: events carry their paths' metadata only.
pub fn kube_not_configured(error: &dyn Display) {
    tracing::warn!(
        %error,
        "no Kubernetes configuration (not in a pod, no kubeconfig): events carry only the metadata in \
         their log paths; set kubernetes.enabled: false to silence this"
    );
}

/// `tail --kube` has no node name: it watches every node's pods.
pub fn kube_watching_every_node() {
    tracing::warn!(
        "no node name (kubernetes.node_name or $NODE_NAME): watching the pods of every node"
    );
}

/// The first list of pods (and namespaces) completed.
pub fn kube_cache_ready(pods: usize, namespaces: usize) {
    tracing::info!(pods, namespaces, "Kubernetes metadata cache ready");
}

/// The watch of `resource` answers again after failing for `outage`.
pub fn kube_watch_recovered(resource: &str, outage: Duration, errors: u64) {
    tracing::info!(
        resource,
        outage_secs = outage.as_secs_f64(),
        errors,
        "Kubernetes API watch recovered"
    );
}

/// The watch of `resource` failed, the first time in an outage.
pub fn kube_watch_failing(resource: &str, error: &dyn Display) {
    tracing::warn!(
        resource,
        error = %error,
        "Kubernetes API watch failing; serving the last known pods while it retries"
    );
}

/// The watch of `resource` failed again during an outage.
pub fn kube_watch_retry_failed(resource: &str, error: &dyn Display) {
    tracing::debug!(resource, error = %error, "Kubernetes API watch retry failed");
}

/// The watch has failed for `stale_after`: lookups answer from the last state seen.
pub fn kube_cache_stale(failing_for: Option<Duration>, errors: u64, last_error: Option<&str>) {
    tracing::warn!(
        failing_secs = failing_for.map_or(0.0, |d| d.as_secs_f64()),
        errors,
        last_error = last_error.unwrap_or(""),
        "Kubernetes metadata cache is stale: events get the last known pod metadata until the API \
         server answers again"
    );
}

/// This node's object could not be read; tried again.
pub fn kube_node_unreadable(node: &str, error: &dyn Display) {
    tracing::warn!(node = %node, %error, "cannot read this node's metadata; retrying");
}

/// A pod's hint is left out (said once per pod and annotation); its other hints apply.
pub fn hint_ignored(pod: &str, namespace: &str, annotation: &str, reason: &str) {
    tracing::warn!(
        pod = %pod,
        namespace = %namespace,
        annotation = %annotation,
        reason,
        "hint ignored for this pod; its other hints apply"
    );
}
