//! Per-file readers: open (following the /var/log/containers symlink), read in chunks, frame lines,
//! follow growth and rotation.
//!
//! Tailing knows nothing of the registry: files are known by their identity (`identity`), taken up from
//! an earlier run as [`Resume`] records, and what happens to them is told as [`FileEvent`]s, which the
//! pipeline maps onto the registry.

mod events;
mod framer;
mod identity;
mod line;
mod progress;
mod reader;
mod siblings;
mod tailer;

pub use events::{Admit, FileEvent, LineSink, OpenedFile, ReadGate, Resume};
pub use framer::Framer;
pub use identity::{FileIdentity, FileKey, Fingerprint, FINGERPRINT_BYTES};
pub use line::Line;
pub use progress::Progress;
pub use reader::{FileReader, ReadStatus};
pub use siblings::{find_rotated, Found};
pub use tailer::{OpenError, Tailer, TailerConfig};
