//! Per-file readers: open, read in chunks, frame lines, follow growth.

mod line;

pub use line::Line;
