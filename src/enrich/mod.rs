//! Metadata that says where a line came from: the Kubernetes identity in its path, the host, the agent.

mod agent;
mod host;
pub mod kube;

pub use agent::{AgentMetadata, AGENT_TYPE};
pub use host::{HostMetadata, OsMetadata};
// Read from the path alone, so telemetry and the output can name a file's pod without enrichment.
pub use crate::event::path_metadata;
