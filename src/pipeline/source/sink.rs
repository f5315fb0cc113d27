//! The sink the tailer calls: it parses each file's lines into events, one parser per file, owns the
//! checkpoints of the batch it fills, and sends the batch downstream when it is full or a turn ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::gate::{Enrichment, Held, Selection};
use super::limits::Limits;
use crate::batch::Batch;
use crate::budget::Budget;
use crate::enrich::path_metadata;
use crate::event::{Event, Origin};
use crate::parse::{LineParser, MultilineRules};
use crate::pipeline::checkpoints::BatchCheckpoints;
use crate::pipeline::files::record;
use crate::pipeline::handover::Handovers;
use crate::registry::{lock, register_batch, SharedTracker};
use crate::tail::{FileEvent, FileKey, Line, LineSink, OpenedFile};
use crate::telemetry::Telemetry;

/// A batch is sent when it holds this many events or `BATCH_BYTES` of lines, or when the reader has
/// nothing more to read now.
pub(super) const BATCH_EVENTS: usize = 1024;

/// A batch is never split across requests, so a request overshoots `bulk_max_bytes` by up to one
/// batch, and the budget's use overshoots `max_queued_bytes` by about as much while the batches in
/// flight become documents. 1,024 events of this backlog's mix were up to 2 MiB of documents (requests
/// averaged 6.4 MiB for 5 MiB); bounded in bytes too, a batch adds at most about a twentieth of a
/// request. run_throughput with `compression_level: 0` (same spell): peak RSS 69.4 against 62.5 MiB,
/// no more CPU.
pub(super) const BATCH_BYTES: u64 = 256 * 1024;

/// Turns tailed lines into events, one parser per file, and sends them downstream in batches.
pub(super) struct ParsingSink {
    pub(super) parsers: HashMap<FileKey, LineParser>,
    pub(super) batch: Vec<Event>,
    /// Per file in `batch`, where reading resumes once the batch is delivered.
    pub(super) checkpoints: BatchCheckpoints,
    /// Partial lines a rotated file left to its successor.
    pub(super) handovers: Handovers,
    pub(super) tracker: Option<SharedTracker>,
    pub(super) tx: mpsc::Sender<Batch>,
    pub(super) max_line_bytes: usize,
    pub(super) partial_timeout: Duration,
    pub(super) multiline: MultilineRules,
    /// The time of the current reading round; one clock read per round, not per line.
    pub(super) now: Instant,
    /// The receiver is gone: nothing more can be delivered.
    pub(super) closed: bool,
    pub(super) kube: Option<Enrichment>,
    pub(super) selection: Option<Selection>,
    pub(super) held: Held,
    pub(super) telemetry: Arc<Telemetry>,
    pub(super) read_ahead: Option<u64>,
    /// Per file, the offset after the last line handed downstream (batched or sent).
    pub(super) handed: HashMap<FileKey, u64>,
    pub(super) limits: Option<Limits>,
    /// `max_queued_bytes`: a batch is sent only while it has room, and counts its lines against it.
    pub(super) budget: Budget,
    /// Bytes of the lines read into the batch being filled (a joined line counts where it was read).
    pub(super) batch_bytes: u64,
}

impl ParsingSink {
    pub(super) fn send(&mut self) {
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
        // Blocks while the budget is spent or the channel is full: the output's pace sets the reading
        // pace, and unread lines wait in their files rather than in memory.
        let tx = &self.tx;
        self.budget.wait_for_room(|| tx.is_closed());
        let charge = Some(self.budget.charge(std::mem::take(&mut self.batch_bytes)));
        if self
            .tx
            .blocking_send(Batch {
                events,
                ack,
                charge,
            })
            .is_err()
        {
            self.closed = true;
        }
    }

    /// Runs `f` on a file's parser and notes the checkpoint of the last event it produced.
    pub(super) fn with_parser(
        &mut self,
        key: FileKey,
        f: impl FnOnce(&mut LineParser, &mut Vec<Event>),
    ) {
        let Some(parser) = self.parsers.get_mut(&key) else {
            return;
        };
        let before = self.batch.len();
        f(parser, &mut self.batch);
        if self.batch.len() > before {
            if let Some(limits) = &mut self.limits {
                limits.parsed(key, &mut self.batch[before..], self.now);
            }
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

    pub(super) fn flush_expired(&mut self) {
        let now = self.now;
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_expired(now, out));
        }
    }

    pub(super) fn flush_all(&mut self) {
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_all(out));
        }
    }

    pub(super) fn flush_groups(&mut self) {
        let keys: Vec<FileKey> = self.parsers.keys().copied().collect();
        for key in keys {
            self.with_parser(key, |p, out| p.flush_groups(out));
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.parsers
            .values()
            .filter_map(|p| p.next_deadline())
            .min()
    }

    /// A file's parser is done: what it could not parse is counted.
    pub(super) fn count(&self, parser: &LineParser) {
        self.telemetry.lines_unparsed(parser.stats().unparsed);
    }
}

impl LineSink for ParsingSink {
    fn line(&mut self, key: FileKey, line: Line) {
        if let Some(limits) = &mut self.limits {
            limits.read(key, &line);
        }
        self.batch_bytes += line.bytes.len() as u64;
        let now = self.now;
        self.with_parser(key, |p, out| p.push(line, now, out));
        if self.batch.len() >= BATCH_EVENTS || self.batch_bytes >= BATCH_BYTES {
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
            FileEvent::Lost { key, bytes } => self.lost(key, bytes),
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

    fn lost(&self, key: FileKey, bytes: u64) {
        let Some(origin) = self.parsers.get(&key).map(LineParser::origin) else {
            return;
        };
        let name = |v: &Option<String>| v.clone().unwrap_or_default();
        let meta = &origin.metadata;
        let (namespace, pod) = (name(&meta.namespace), name(&meta.pod_name));
        self.telemetry
            .lost_to_rotation(&origin.path, &namespace, &pod, bytes);
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
        if let Some(limits) = &mut self.limits {
            limits.forget(key);
        }
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
