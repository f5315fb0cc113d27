//! loglynk: container logs on a Kubernetes node, shipped to Elasticsearch at least once.
//!
//! Data flows one way through the modules: `discover` finds files, `tail` reads and frames them, `parse`
//! turns lines into [`event::Event`]s, `enrich` says where they came from, `process` decodes and drops,
//! `output` ships. `pipeline` wires those stages together; `config` and `telemetry` serve them all;
//! `bootstrap` prepares the cluster `output` ships to.
//!
//! Errors: an error that wraps a cause writes it into its own message (`cannot read registry …: Is a
//! directory`) and does not also return it from `source()`. The message is what the logs show
//! (`%error`), so it must be whole; and a cause both written and returned is printed twice by anything
//! that walks the chain, as `main`'s `{:#}` does.

pub mod batch;
pub mod bootstrap;
pub mod budget;
pub mod config;
pub mod discover;
pub mod doctor;
pub mod enrich;
pub mod event;
pub mod output;
pub mod parse;
pub mod pipeline;
pub mod process;
pub mod registry;
pub mod tail;
pub mod telemetry;
pub mod top;

#[cfg(test)]
mod layering;
#[cfg(test)]
mod readme_layout;
