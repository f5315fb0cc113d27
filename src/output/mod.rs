//! Where events go: Elasticsearch in the agent, stdout in the debug mode.

pub mod elasticsearch;
pub mod stdout;
