//! `agent.*`: which loglynk shipped an event.

use serde::Serialize;

/// `agent.type`; Filebeat writes `filebeat` here, so a Kibana filter on it tells the two apart during a
/// migration.
pub const AGENT_TYPE: &str = "loglynk";

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AgentMetadata {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    /// The host's name, as Filebeat's `agent.name` defaults to.
    pub name: String,
    /// Stable across restarts when a state directory keeps it; else per process.
    pub id: String,
    /// New on every start, as Filebeat's, so restarts show in the data.
    pub ephemeral_id: String,
}

impl AgentMetadata {
    pub fn new(name: String, id: Option<String>) -> AgentMetadata {
        AgentMetadata {
            kind: AGENT_TYPE,
            version: env!("CARGO_PKG_VERSION"),
            name,
            id: id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            ephemeral_id: uuid::Uuid::new_v4().to_string(),
        }
    }
}
