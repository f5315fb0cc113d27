//! Per-file readers: open (following the /var/log/containers symlink), read in chunks, frame lines,
//! follow growth.

mod framer;
mod line;
mod reader;
mod tailer;

pub use framer::Framer;
pub use line::Line;
pub use reader::{FileReader, ReadStatus};
pub use tailer::{FileKey, LineSink, OpenError, Tailer, TailerConfig};
