//! End-to-end tests: each runs the built `loglynk` binary against real files in real directories.
//!
//! One test binary with a module per subcommand, so the binary is linked once.

// Sets of sequence numbers are written as slices of ranges, `&[0..500]` included.
#![allow(clippy::single_range_in_vec_init)]

use testkit_elasticsearch as elasticsearch;
use testkit_kubernetes as kubernetes;

mod alerts;
mod bootstrap;
mod bootstrap_install;
mod config_check;
mod config_import;
mod data_streams;
mod dedup;
mod doctor;
mod doctor_local;
mod errors;
mod fairness;
mod file_output;
mod filebeat_import;
mod hints;
mod include_exclude;
mod kube;
mod metrics;
mod multiline;
mod progress;
mod prometheus;
mod rate_limit;
mod registry_save;
mod reload;
mod restart;
mod rotation;
mod run;
mod security;
mod soak;
mod status;
mod storage;
mod support;
mod tail_fixtures;
mod tail_follow;
mod top;
mod versions;
