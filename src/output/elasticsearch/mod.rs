//! The Elasticsearch output.

pub mod index;
