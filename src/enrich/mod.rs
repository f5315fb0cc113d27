//! Metadata that says where a line came from: the Kubernetes identity in its path, the host, the agent.

mod agent;
mod host;
pub mod kube;
mod path;

pub use agent::{AgentMetadata, AGENT_TYPE};
pub use host::{HostMetadata, OsMetadata};
pub use path::path_metadata;
