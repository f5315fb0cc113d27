//! The Elasticsearch output.

mod action_line;
pub mod backoff;
pub mod batcher;
pub mod bulk;
pub mod client;
pub mod dead_letter;
pub mod delivery;
pub mod doc_id;
pub mod gzip;
pub mod index;
mod output;
mod recycle;
pub mod request;
pub mod response;
mod route;
mod target;

pub use output::{EsOutput, EsOutputError, SetUpStep};
pub use target::{bulk_builder, check, routes, write_target, WriteTarget};
