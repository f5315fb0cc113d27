//! How the tailer reads, built from the agent's configuration next to the tailer that uses it.

use std::time::Duration;

use crate::config::{Config, StartAt};

/// A line handed out keeps its whole read chunk alive until it is delivered, and with hundreds of busy
/// files each pins one: with 64 KiB reads that was most of an 18 MiB malloc arena at run_throughput's
/// peak (200 files), memory the budget does not see. 16 KiB, interleaved with 64 KiB over 512 MiB:
/// peak RSS 36.0-38.1 against 42.4-44.7 MiB with the defaults and 68.7-69.8 against 74.5-75.5 at
/// `compression_level: 0`, with no more CPU (the copy costs the same; four times the syscalls is
/// some 25,000 more for 512 MiB).
const READ_CHUNK: usize = 16 * 1024;
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
