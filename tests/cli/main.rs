//! End-to-end tests: each runs the built `loglynk` binary against real files in real directories.
//!
//! One test binary with a module per subcommand, so the binary is linked once.

mod config_check;
mod support;
mod tail_fixtures;
mod tail_follow;
