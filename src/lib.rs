//! loglynk: container logs on a Kubernetes node, shipped to Elasticsearch at least once.

pub mod config;
pub mod event;
pub mod parse;
pub mod process;
pub mod output;
pub mod tail;
