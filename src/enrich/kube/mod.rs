//! Kubernetes API metadata: what add_kubernetes_metadata adds to each event, from the Pod (and its
//! Namespace and Node) the API server returns, rather than only what the log path says.

pub mod cache;
mod dedot;
mod enricher;
mod hints;
mod metadata;
mod owners;
mod setup;

pub use enricher::{Decision, EnrichReport, FileMetadata, KubeEnricher};
pub use hints::{is_hint_annotation, HintError};
pub use metadata::{split_container_id, trim_pod, ContainerMetadata, MetadataOptions, PodMetadata};
pub use setup::{start_pod_cache, NodeScope};
