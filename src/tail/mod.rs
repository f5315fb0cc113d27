//! Per-file readers: open (following the /var/log/containers symlink), read in chunks, frame lines,
//! follow growth and rotation.

mod framer;
mod line;
mod progress;
mod reader;
mod siblings;
mod tailer;

pub use framer::Framer;
pub use line::Line;
pub use progress::{FilesNow, Progress};
pub use reader::{FileReader, ReadStatus};
pub use siblings::{find_rotated, Found};
pub use tailer::{FileKey, LineSink, OpenError, OpenedFile, Tailer, TailerConfig};
