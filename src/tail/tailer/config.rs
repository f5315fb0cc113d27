//! How the tailer reads, built from the agent's configuration next to the tailer that uses it.

use std::time::Duration;

use crate::config::{Config, StartAt};

/// 64 KiB reads amortise the syscall.
const READ_CHUNK: usize = 64 * 1024;
/// A 256 KiB turn per file keeps latency fair across 2,000 files.
const FILE_BUDGET: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct TailerConfig {
    pub max_line_bytes: usize,
    /// For files found at the first scan with no registry record; later files start at their beginning.
    pub start_at: StartAt,
    /// Bytes asked of the kernel per read call.
    pub read_chunk: usize,
    /// Bytes read from one file before the others get a turn, so one busy file cannot starve the rest.
    pub file_budget: usize,
    pub close_removed_after: Duration,
    pub close_inactive: Duration,
    pub max_open_files: usize,
}

impl TailerConfig {
    pub fn from_config(config: &Config) -> TailerConfig {
        TailerConfig {
            // A limit beyond the address space could not be held anyway.
            max_line_bytes: usize::try_from(config.max_line_bytes).unwrap_or(usize::MAX),
            start_at: config.start_at,
            read_chunk: READ_CHUNK,
            file_budget: FILE_BUDGET,
            close_removed_after: config.close_removed_after,
            close_inactive: config.close_inactive,
            max_open_files: config.max_open_files,
        }
    }
}
