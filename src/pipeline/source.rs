//! The reading thread: discovery, tailing and parsing, producing batches of events.
//!
//! File reading runs on one dedicated thread, as in Vector's file server: reads of local files are
//! blocking calls, and one thread that reads each ready file in turn, up to a byte budget, keeps the
//! work per wake-up bounded and fair without a task per file.
//!
//! A little over 400 lines: the thread's loop and the sink the tailer calls (`ParsingSink`, which
//! parses lines into batches and owns their checkpoints) change together; the gate the sink asks
//! before a file is read is in `gate.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

mod gate;

use super::checkpoints::BatchCheckpoints;
use super::files::{record, resume_of};
use super::handover::Handovers;
use super::reading::FinishError;
pub use crate::batch::Batch;
use crate::config::{deadline, PodSelector};
use crate::discover::{Changes, DirWatcher, Globs, NothingMatched, ScanDelta};
use crate::enrich::kube::KubeEnricher;
use crate::enrich::path_metadata;
use crate::event::{Event, Origin};
use crate::parse::{LineParser, MultilineRules};
use crate::registry::{lock, register_batch, Entry, SharedTracker};
use crate::tail::{FileEvent, FileKey, Line, LineSink, OpenedFile, Tailer, TailerConfig};
use crate::telemetry::Telemetry;
use gate::{Enrichment, Held, Selection};

/// A batch is sent when it holds this many events, or when the reader has nothing more to read now.
const BATCH_EVENTS: usize = 1024;

#[derive(Debug)]
pub struct SourceConfig {
    pub paths: Vec<String>,
    /// Where discovered files may resolve to besides the directories of `paths` (see
    /// `Globs::log_roots`).
    pub log_roots: Vec<std::path::PathBuf>,
    pub tailer: TailerConfig,
    pub scan_frequency: Duration,
    pub poll_interval: Duration,
    pub partial_timeout: Duration,
    /// How each file's lines are joined into events (stack traces).
    pub multiline: MultilineRules,
    /// `false`: read every file to its end once, then stop (`tail --no-follow`).
    pub follow: bool,
    /// `false`: find new files and growth by polling alone, as when inotify is unavailable.
    pub inotify: bool,
    /// Registry records to resume from.
    pub known: Vec<Entry>,
    /// Where delivered offsets are tracked; `None` keeps no state.
    pub tracker: Option<SharedTracker>,
    /// Pod metadata from the Kubernetes API; `None` ships what the paths say.
    pub kube: Option<KubeEnricher>,
    /// `kubernetes.include` and `kubernetes.exclude`: which containers' files are read at all.
    pub include: Vec<PodSelector>,
    pub exclude: Vec<PodSelector>,
    pub telemetry: Arc<Telemetry>,
    /// Bytes of one file read and not yet acknowledged beyond which it is not read further (see
    /// the read gate in `gate.rs`); `None`: no bound per file (no acknowledgements without a registry).
    pub read_ahead: Option<u64>,
}

/// Runs until every file was read (without follow), `changes` reports shutdown, or the receiver is gone.
/// Without follow, no file matched at all is an error: there is nothing to wait for. What it read is
/// counted in `config.telemetry`.
pub fn run_source(
    config: SourceConfig,
    changes: Arc<Changes>,
    tx: mpsc::Sender<Batch>,
) -> Result<(), FinishError> {
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
    let known = config.known.into_iter().map(resume_of).collect();
    let mut tailer = Tailer::new(config.tailer.clone(), known);
    tailer.report_to(&config.telemetry);
    let mut sink = ParsingSink {
        parsers: HashMap::new(),
        batch: Vec::with_capacity(BATCH_EVENTS),
        checkpoints: BatchCheckpoints::default(),
        handovers: Handovers::default(),
        tracker: config.tracker,
        tx,
        max_line_bytes: config.tailer.max_line_bytes,
        partial_timeout: config.partial_timeout,
        multiline: config.multiline,
        now: Instant::now(),
        closed: false,
        kube: config.kube.map(Enrichment::new),
        selection: Selection::new(config.include, config.exclude),
        held: Held::default(),
        telemetry: Arc::clone(&config.telemetry),
        read_ahead: config.read_ahead,
        handed: HashMap::new(),
    };

    let log_roots = config.log_roots.clone();
    let mut scan = |tailer: &mut Tailer, watcher: &mut DirWatcher, sink: &mut ParsingSink| {
        let delta = globs.scan();
        tailer.set_roots(globs.log_roots(&log_roots));
        // Every matched name, not only new ones: a file that failed to open is tried again.
        let matched: Vec<std::path::PathBuf> = globs.matched().cloned().collect();
        for error in tailer.sync(&matched, watcher, sink) {
            sink.telemetry.file_failed(&error);
        }
        delta
    };

    let first = scan(&mut tailer, &mut watcher, &mut sink);
    if !config.follow && first.added.is_empty() {
        let patterns = config.paths.clone();
        return Err(NothingMatched { patterns }.into());
    }
    report_patterns(&first, &config.telemetry);
    let mut next_scan = deadline(Instant::now(), config.scan_frequency);
    let mut next_poll = deadline(Instant::now(), config.poll_interval);
    loop {
        sink.now = Instant::now();
        let more = tailer.read_ready(&mut sink);
        sink.flush_expired();
        sink.send();
        if sink.closed {
            break;
        }
        // Excluded files stay held for as long as the hint says so: they never end a read.
        if !config.follow && !more && (!tailer.has_held() || sink.holds_only_excluded()) {
            if sink.tracker.is_some() {
                // Unterminated last lines and half-joined lines are left for the next run to read
                // whole; the registry's offsets stop before them. Multiline groups are whole lines:
                // they ship.
                sink.flush_groups();
                tailer.close_all();
            } else {
                tailer.finish_all(&mut sink);
                sink.flush_all();
            }
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
            if let Some(deadline) = tailer.next_deadline() {
                wake = wake.min(deadline);
            }
            wake.saturating_duration_since(now)
        };
        let pending = changes.wait(timeout);
        if pending.shutdown {
            if sink.tracker.is_none() {
                // Without a registry, lines half-joined so far are shipped flagged partial rather than
                // lost with the process; with one, they are read again and joined after a restart.
                sink.flush_all();
            } else {
                // Multiline groups are whole lines, shipped at shutdown; only a kill leaves one open,
                // and then the registry makes the next run read it again from its first line.
                sink.flush_groups();
            }
            sink.send();
            tailer.close_all();
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
        tailer.check_changed(&mut watcher, &mut sink);
        let now = Instant::now();
        if rescan || now >= next_scan {
            let delta = scan(&mut tailer, &mut watcher, &mut sink);
            report_patterns(&delta, &config.telemetry);
            next_scan = deadline(now, config.scan_frequency);
        }
        if now >= next_poll {
            tailer.poll_all();
            next_poll = deadline(now, config.poll_interval);
        }
    }
    let parsers: Vec<LineParser> = sink.parsers.drain().map(|(_, p)| p).collect();
    for parser in &parsers {
        sink.count(parser);
    }
    Ok(())
}

/// A path that matches nothing is most often a typo, so it is named; with follow, files may still come.
fn report_patterns(delta: &ScanDelta, telemetry: &Telemetry) {
    for path in &delta.unmatched {
        telemetry.path_unmatched(path);
    }
    for path in &delta.now_matching {
        telemetry.path_matching(path);
    }
}

/// Turns tailed lines into events, one parser per file, and sends them downstream in batches.
struct ParsingSink {
    parsers: HashMap<FileKey, LineParser>,
    batch: Vec<Event>,
    /// Per file in `batch`, where reading resumes once the batch is delivered.
    checkpoints: BatchCheckpoints,
    /// Partial lines a rotated file left to its successor.
    handovers: Handovers,
    tracker: Option<SharedTracker>,
    tx: mpsc::Sender<Batch>,
    max_line_bytes: usize,
    partial_timeout: Duration,
    multiline: MultilineRules,
    /// The time of the current reading round; one clock read per round, not per line.
    now: Instant,
    /// The receiver is gone: nothing more can be delivered.
    closed: bool,
    kube: Option<Enrichment>,
    selection: Option<Selection>,
    held: Held,
    telemetry: Arc<Telemetry>,
    read_ahead: Option<u64>,
    /// Per file, the offset after the last line handed downstream (batched or sent).
    handed: HashMap<FileKey, u64>,
}

impl ParsingSink {
    fn send(&mut self) {
        if self.batch.is_empty() || self.closed {
            return;
        }
        let events = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_EVENTS));
        let checkpoints = self.checkpoints.take();
        // Registered before it is counted read: a scrape in between overstates the unsaved events
        // (registered minus in flight) rather than understating what a crash would send again.
        let ack = self
            .tracker
            .as_ref()
            .map(|tracker| register_batch(tracker, checkpoints, events.len() as u64));
        self.telemetry.lines_read(events.len() as u64);
        // Blocks while the channel is full: the output's pace sets the reading pace, and unread lines wait
        // in their files rather than in memory.
        if self.tx.blocking_send(Batch { events, ack }).is_err() {
            self.closed = true;
        }
    }

    /// Runs `f` on a file's parser and notes the checkpoint of the last event it produced.
    fn with_parser(&mut self, key: FileKey, f: impl FnOnce(&mut LineParser, &mut Vec<Event>)) {
        let Some(parser) = self.parsers.get_mut(&key) else {
            return;
        };
        let before = self.batch.len();
        f(parser, &mut self.batch);
        if self.batch.len() > before {
            if let Some(last) = self.batch.last() {
                self.checkpoints.parsed(key, last.checkpoint);
                self.handed.insert(key, last.checkpoint);
            }
        }
        if !self.handovers.is_empty() {
            let carries = self.parsers.get(&key).is_some_and(LineParser::carries);
            if let Some((previous, checkpoint)) = self.handovers.parsed(key, carries) {
                self.checkpoints.note(previous, checkpoint);
            }
        }
    }

    fn flush_expired(&mut self) {
        let now = self.now;
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_expired(now, out));
        }
    }

    fn flush_all(&mut self) {
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_all(out));
        }
    }

    fn flush_groups(&mut self) {
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_groups(out));
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.parsers
            .values()
            .filter_map(|p| p.next_deadline())
            .min()
    }

    /// A file's parser is done: what it could not parse is counted.
    fn count(&self, parser: &LineParser) {
        self.telemetry.lines_unparsed(parser.stats().unparsed);
    }
}

impl LineSink for ParsingSink {
    fn line(&mut self, key: FileKey, line: Line) {
        let now = self.now;
        self.with_parser(key, |p, out| p.push(line, now, out));
        if self.batch.len() >= BATCH_EVENTS {
            self.send();
        }
    }

    /// Parsing's part first (a finished file's last lines join the batch), then the registry's.
    fn file(&mut self, event: FileEvent<'_>) {
        match event {
            FileEvent::Opened { key, file } => self.opened(key, file),
            FileEvent::Renamed { key, file } => self.renamed(key, file),
            FileEvent::Continues {
                next,
                previous,
                start,
            } => self.continues(next, previous, start),
            FileEvent::Refused { path, target } => self.refused(path, target),
            FileEvent::Finished { key, end } => self.finished(key, end),
            FileEvent::FingerprintGrew { .. } | FileEvent::Resolved => {}
        }
        if let Some(tracker) = &self.tracker {
            record(&mut lock(tracker), event);
        }
    }
}

impl ParsingSink {
    fn opened(&mut self, key: FileKey, file: &OpenedFile) {
        self.telemetry.file_opened(&file.path);
        let origin = Origin::new(
            file.path.display().to_string(),
            path_metadata(&file.path, Some(&file.target)),
        );
        self.parsers.insert(
            key,
            LineParser::new(origin, self.max_line_bytes, self.partial_timeout)
                .with_multiline(self.multiline.for_path(&file.path)),
        );
    }

    fn refused(&mut self, path: &std::path::Path, target: &std::path::Path) {
        self.telemetry.file_refused(path, target);
    }

    /// Events from now on carry the new name and what it says; the offset and a pending partial line
    /// carry on.
    fn renamed(&mut self, key: FileKey, file: &OpenedFile) {
        if let Some(parser) = self.parsers.get_mut(&key) {
            parser.set_origin(Origin::new(
                file.path.display().to_string(),
                path_metadata(&file.path, Some(&file.target)),
            ));
        }
        if let Some(kube) = &mut self.kube {
            kube.files.remove(&key);
        }
    }

    /// The partial lines `previous` left are completed by `next`'s.
    fn continues(&mut self, next: FileKey, previous: FileKey, start: u64) {
        let Some(mut before) = self.parsers.remove(&previous) else {
            return;
        };
        if let Some(parser) = self.parsers.get_mut(&next) {
            if let Some(release) = parser.take_over(&mut before, start) {
                self.handovers.lend(previous, next, release);
            }
        }
        self.parsers.insert(previous, before);
    }

    fn finished(&mut self, key: FileKey, end: u64) {
        self.with_parser(key, |p, out| p.flush_all(out));
        if let Some((key, checkpoint)) = self.handovers.finished(key, end) {
            self.checkpoints.note(key, checkpoint);
        }
        if let Some(parser) = self.parsers.remove(&key) {
            self.count(&parser);
        }
        self.handed.remove(&key);
        if let Some(kube) = &mut self.kube {
            kube.files.remove(&key);
            kube.waiting.remove(&key);
        }
        if let Some(selection) = &mut self.selection {
            selection.forget(key);
        }
        self.held.excluded.remove(&key);
        self.held.ahead.remove(&key);
    }
}
