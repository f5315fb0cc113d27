//! The reading thread: discovery, tailing and parsing, producing batches of events.
//!
//! File reading runs on one dedicated thread, as in Vector's file server: reads of local files are
//! blocking calls, and one thread that reads each ready file in turn, up to a byte budget, keeps the
//! work per wake-up bounded and fair without a task per file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::discover::{Changes, DirWatcher, Globs, PatternError};
use crate::enrich::path_metadata;
use crate::event::{Event, Origin};
use crate::parse::LineParser;
use crate::tail::{FileKey, Line, LineSink, Tailer, TailerConfig};

/// Events handed downstream together, so the channel and the output see a few large units rather than
/// many small ones.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
}

/// A batch is sent when it holds this many events, or when the reader has nothing more to read now.
const BATCH_EVENTS: usize = 2048;

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub paths: Vec<String>,
    pub tailer: TailerConfig,
    pub scan_frequency: Duration,
    pub poll_interval: Duration,
    pub partial_timeout: Duration,
    /// `false`: read every file to its end once, then stop (`tail --no-follow`).
    pub follow: bool,
    /// `false`: find new files and growth by polling alone, as when inotify is unavailable.
    pub inotify: bool,
}

/// What the reading thread did, for the summary at the end of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SourceSummary {
    pub files_opened: u64,
    pub files_failed: u64,
    pub lines: u64,
    pub unparsed: u64,
}

/// Runs until every file was read (without follow), `changes` reports shutdown, or the receiver is gone.
pub fn run_source(
    config: SourceConfig,
    changes: Arc<Changes>,
    tx: mpsc::Sender<Batch>,
) -> Result<SourceSummary, PatternError> {
    let mut globs = Globs::new(&config.paths)?;
    let mut watcher = if config.follow && config.inotify {
        DirWatcher::new(Arc::clone(&changes))
    } else {
        DirWatcher::polling_only()
    };
    let base_dirs = globs.base_dirs();
    for dir in &base_dirs {
        watcher.watch(dir);
    }
    let mut tailer = Tailer::new(config.tailer.clone());
    let mut sink = ParsingSink {
        parsers: HashMap::new(),
        batch: Vec::with_capacity(BATCH_EVENTS),
        tx,
        max_line_bytes: config.tailer.max_line_bytes,
        partial_timeout: config.partial_timeout,
        now: Instant::now(),
        summary: SourceSummary::default(),
        closed: false,
    };

    let mut scan = |tailer: &mut Tailer, watcher: &mut DirWatcher, sink: &mut ParsingSink| {
        let delta = globs.scan();
        for path in &delta.added {
            match tailer.add(path, watcher, sink) {
                Ok(()) => {}
                Err(error) => {
                    sink.summary.files_failed += 1;
                    tracing::warn!(%error, "file skipped; retried at the next scan");
                }
            }
        }
        for path in &delta.removed {
            tailer.remove(path);
        }
    };

    scan(&mut tailer, &mut watcher, &mut sink);
    let mut next_scan = Instant::now() + config.scan_frequency;
    let mut next_poll = Instant::now() + config.poll_interval;
    loop {
        sink.now = Instant::now();
        let more = tailer.read_ready(&mut sink);
        sink.flush_expired();
        sink.send();
        if sink.closed {
            break;
        }
        if !config.follow && !more {
            tailer.finish_all(&mut sink);
            sink.flush_all();
            sink.send();
            break;
        }
        let now = Instant::now();
        let timeout = if more {
            Duration::ZERO
        } else {
            let mut wake = next_scan.min(next_poll);
            if let Some(deadline) = sink.next_deadline() {
                wake = wake.min(deadline);
            }
            wake.saturating_duration_since(now)
        };
        let pending = changes.wait(timeout);
        if pending.shutdown {
            // Lines half-joined so far are shipped flagged partial rather than lost with the process.
            sink.flush_all();
            sink.send();
            break;
        }
        let mut rescan = pending.rescan;
        for path in &pending.paths {
            if path
                .parent()
                .is_some_and(|p| base_dirs.iter().any(|b| b == p))
            {
                rescan = true;
            }
            tailer.changed(path);
        }
        let now = Instant::now();
        if rescan || now >= next_scan {
            scan(&mut tailer, &mut watcher, &mut sink);
            next_scan = now + config.scan_frequency;
        }
        if now >= next_poll {
            tailer.poll_all();
            next_poll = now + config.poll_interval;
        }
    }
    for parser in sink.parsers.values() {
        let stats = parser.stats();
        sink.summary.lines += stats.lines;
        sink.summary.unparsed += stats.unparsed;
    }
    Ok(sink.summary)
}

/// Turns tailed lines into events, one parser per file, and sends them downstream in batches.
struct ParsingSink {
    parsers: HashMap<FileKey, LineParser>,
    batch: Vec<Event>,
    tx: mpsc::Sender<Batch>,
    max_line_bytes: usize,
    partial_timeout: Duration,
    /// The time of the current reading round; one clock read per round, not per line.
    now: Instant,
    summary: SourceSummary,
    /// The receiver is gone: nothing more can be delivered.
    closed: bool,
}

impl ParsingSink {
    fn send(&mut self) {
        if self.batch.is_empty() || self.closed {
            return;
        }
        let events = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_EVENTS));
        // Blocks while the channel is full: the output's pace sets the reading pace, and unread lines wait
        // in their files rather than in memory.
        if self.tx.blocking_send(Batch { events }).is_err() {
            self.closed = true;
        }
    }

    fn flush_expired(&mut self) {
        for parser in self.parsers.values_mut() {
            parser.flush_expired(self.now, &mut self.batch);
        }
    }

    fn flush_all(&mut self) {
        for parser in self.parsers.values_mut() {
            parser.flush_all(&mut self.batch);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.parsers
            .values()
            .filter_map(|p| p.next_deadline())
            .min()
    }
}

impl LineSink for ParsingSink {
    fn opened(&mut self, key: FileKey, path: &Path, target: &Path) {
        self.summary.files_opened += 1;
        let origin = Origin::new(
            path.display().to_string(),
            path_metadata(path, Some(target)),
        );
        self.parsers.insert(
            key,
            LineParser::new(origin, self.max_line_bytes, self.partial_timeout),
        );
    }

    fn line(&mut self, key: FileKey, line: Line) {
        if let Some(parser) = self.parsers.get_mut(&key) {
            parser.push(line, self.now, &mut self.batch);
            if self.batch.len() >= BATCH_EVENTS {
                self.send();
            }
        }
    }

    fn closed(&mut self, key: FileKey) {
        if let Some(mut parser) = self.parsers.remove(&key) {
            parser.flush_all(&mut self.batch);
            let stats = parser.stats();
            self.summary.lines += stats.lines;
            self.summary.unparsed += stats.unparsed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StartAt;
    use std::io::Write;

    fn config(dir: &Path, inotify: bool) -> SourceConfig {
        SourceConfig {
            paths: vec![format!("{}/*.log", dir.display())],
            tailer: TailerConfig::new(1024, StartAt::Beginning),
            scan_frequency: Duration::from_millis(200),
            poll_interval: Duration::from_millis(100),
            partial_timeout: Duration::from_secs(5),
            follow: true,
            inotify,
        }
    }

    /// Messages from the source, forwarded to a std channel so the test can wait with a deadline.
    fn start(config: SourceConfig, changes: Arc<Changes>) -> std::sync::mpsc::Receiver<String> {
        let (tx, mut rx) = mpsc::channel(4);
        std::thread::spawn(move || run_source(config, changes, tx));
        let (fwd, out) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            while let Some(batch) = rx.blocking_recv() {
                for event in batch.events {
                    let _ = fwd.send(event.message.to_string());
                }
            }
        });
        out
    }

    #[test]
    fn without_inotify_polling_finds_new_files_and_growth() {
        let dir = tempfile::tempdir().unwrap();
        let changes = Arc::new(Changes::default());
        let messages = start(config(dir.path(), false), Arc::clone(&changes));
        let path = dir.path().join("a.log");
        std::fs::write(&path, "2026-11-24T10:00:00Z stdout F first\n").unwrap();
        let wait = Duration::from_secs(5);
        assert_eq!(messages.recv_timeout(wait).unwrap(), "first");
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"2026-11-24T10:00:01Z stdout F second\n")
            .unwrap();
        assert_eq!(messages.recv_timeout(wait).unwrap(), "second");
        changes.shutdown();
        assert!(
            messages.recv_timeout(wait).is_err(),
            "the source stops and closes its channel"
        );
    }
}
