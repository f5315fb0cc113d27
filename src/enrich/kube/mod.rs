//! Kubernetes API metadata: what add_kubernetes_metadata adds to each event, from the Pod (and its
//! Namespace and Node) the API server returns, rather than only what the log path says.

pub mod cache;
mod dedot;
mod metadata;
mod owners;

pub use metadata::{split_container_id, trim_pod, ContainerMetadata, MetadataOptions, PodMetadata};
