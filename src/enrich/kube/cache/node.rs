//! This node's own object (`kubernetes.node_metadata`): read once, then again every ten minutes, and
//! retried with backoff while it cannot be read.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Api;

use super::Shared;
use crate::telemetry;

/// This node's object, for `kubernetes.node.{uid,labels}`: one GET, repeated now and then for label
/// changes, rather than a watch (nodes change rarely, and one watch per node on every node is costly).
pub(super) async fn fetch_node(api: Api<Node>, name: String, shared: Arc<Shared>) {
    const REFRESH: Duration = Duration::from_secs(600);
    let mut retry = Duration::from_secs(1);
    loop {
        match api.get(&name).await {
            Ok(node) => {
                let trimmed = Node {
                    metadata: kube::api::ObjectMeta {
                        name: node.metadata.name,
                        uid: node.metadata.uid,
                        labels: node.metadata.labels,
                        ..Default::default()
                    },
                    ..Node::default()
                };
                *shared
                    .node
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(trimmed));
                shared.changed();
                retry = Duration::from_secs(1);
                tokio::time::sleep(REFRESH).await;
            }
            Err(error) => {
                telemetry::kube_node_unreadable(&name, &error);
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(60));
            }
        }
    }
}
