//! The Elasticsearch output.

mod action_line;
pub mod backoff;
pub mod batcher;
pub mod bulk;
pub mod client;
pub mod dead_letter;
pub mod delivery;
pub mod index;
pub mod request;
pub mod response;
