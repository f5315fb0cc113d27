//! Which files to tail: glob expansion, inotify on the glob bases, and a periodic rescan so a missed or
//! overflowed inotify event never loses a file.

mod changes;
mod globs;
mod watcher;

pub use changes::{Changes, Pending};
pub use globs::{check_pattern, Globs, NothingMatched, PatternError, ScanDelta};
pub use watcher::DirWatcher;
