//! The Elasticsearch output.

mod action_line;
pub mod backoff;
pub mod bulk;
pub mod dead_letter;
pub mod index;
mod request;
pub mod response;
