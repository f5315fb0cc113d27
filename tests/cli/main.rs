//! End-to-end tests: each runs the built `loglynk` binary against real files in real directories.
//!
//! One test binary with a module per subcommand, so the binary is linked once.

// Sets of sequence numbers are written as slices of ranges, `&[0..500]` included.
#![allow(clippy::single_range_in_vec_init)]
// Both test servers include the shared HTTP plumbing (support/http_server.rs) so that each can be used
// alone; here, where both run, it is compiled twice, harmlessly.
#![allow(clippy::duplicate_mod)]

#[path = "../support/elasticsearch/mod.rs"]
mod elasticsearch;

mod bootstrap;
mod bootstrap_install;
mod config_check;
mod errors;
mod filebeat_import;
mod kube;
#[path = "../support/kubernetes/mod.rs"]
mod kubernetes;
mod metrics;
mod prometheus;
mod restart;
mod rotation;
mod run;
mod security;
mod soak;
mod support;
mod tail_fixtures;
mod tail_follow;
