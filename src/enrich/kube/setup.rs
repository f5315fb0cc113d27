//! From the `kubernetes:` configuration to a running pod cache, or to none, as `enabled` says.

use super::cache::{client_from_env, KubeError, PodCache, PodCacheConfig};
use super::MetadataOptions;
use crate::config::{Kubernetes, KubernetesMode};
use crate::telemetry;

/// Whether a missing node name may widen the watch to every pod of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeScope {
    /// The agent: a DaemonSet pod without its node name is misconfigured, and watching the whole
    /// cluster from every node would load the API servers of a large cluster.
    Required,
    /// The debug mode on a developer's machine, reading logs copied from anywhere.
    AnyNode,
}

/// Starts the cache on the current runtime when the configuration asks for it. `node_name_env` is
/// `$NODE_NAME`, used when `node_name` is not set.
pub async fn start_pod_cache(
    config: &Kubernetes,
    node_name_env: Option<String>,
    scope: NodeScope,
) -> Result<Option<PodCache>, KubeError> {
    if config.enabled == KubernetesMode::Off {
        return Ok(None);
    }
    let client = match client_from_env(config.kubeconfig.as_deref()).await {
        Ok(client) => client,
        Err(KubeError::NoConfig(error)) if config.enabled == KubernetesMode::Auto => {
            telemetry::kube_not_configured(&error);
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    let node_name = config
        .node_name
        .clone()
        .or(node_name_env.filter(|n| !n.is_empty()));
    if node_name.is_none() {
        match scope {
            NodeScope::Required => return Err(KubeError::NoNodeName),
            NodeScope::AnyNode => telemetry::kube_watching_every_node(),
        }
    }
    let cache_config = PodCacheConfig {
        node_name,
        cleanup_timeout: config.cleanup_timeout,
        watch_namespaces: config.namespace_labels,
        metadata: MetadataOptions {
            dedot: config.dedot,
            include_annotations: config.include_annotations.clone(),
            namespace_labels: config.namespace_labels,
            node_metadata: config.node_metadata,
            cluster_name: config.cluster_name.clone(),
            hints: config.hints.enabled,
        },
        ..PodCacheConfig::all_nodes()
    };
    let cache = PodCache::start(client, cache_config);
    let watching = cache.clone();
    tokio::spawn(async move {
        if watching
            .wait_ready(std::time::Duration::from_secs(3600))
            .await
        {
            let status = watching.status();
            telemetry::kube_cache_ready(status.pods, status.namespaces);
        }
    });
    Ok(Some(cache))
}
