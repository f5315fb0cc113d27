//! The reading thread: discovery, tailing and parsing, producing batches of events.
//!
//! File reading runs on one dedicated thread, as in Vector's file server: reads of local files are
//! blocking calls, and one thread that reads each ready file in turn, up to a byte budget, keeps the
//! work per wake-up bounded and fair without a task per file.
//!
//! The sink the tailer calls (`ParsingSink`, which parses lines into batches and owns their
//! checkpoints) is in `sink.rs`; the gate it asks before a file is read, in `gate.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

mod gate;
mod limits;
mod sink;

use super::checkpoints::BatchCheckpoints;
use super::files::resume_of;
use super::handover::Handovers;
use super::reading::FinishError;
pub use crate::batch::Batch;
use crate::config::{deadline, PodSelector};
use crate::discover::{Changes, DirWatcher, Globs, NothingMatched, ScanDelta};
use crate::enrich::kube::KubeEnricher;
use crate::parse::{LineParser, MultilineRules};
use crate::registry::{Entry, SharedTracker};
use crate::tail::{Tailer, TailerConfig};
use crate::telemetry::Telemetry;
use gate::{Enrichment, Held, Selection};
use limits::Limits;
use sink::{ParsingSink, BATCH_EVENTS};

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
    /// `rate_limit`: limits per node, namespace and pod (hints add their own with `kube`).
    pub rate_limit: Vec<crate::config::RateLimitRule>,
    /// `max_queued_bytes`, shared with the output: reading pauses while it is spent.
    pub budget: crate::budget::Budget,
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
    // Hints may set limits only where pods are known; otherwise only configured limits cost anything.
    let limits = (!config.rate_limit.is_empty() || config.kube.is_some())
        .then(|| Limits::new(config.rate_limit, Arc::clone(&config.telemetry)));
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
        limits,
        budget: config.budget,
        batch_bytes: 0,
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
        if let Some(limits) = &mut sink.limits {
            limits.publish(sink.now);
        }
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

#[cfg(test)]
mod tests {
    use super::sink::BATCH_BYTES;
    use crate::budget::Budget;
    use crate::config::Config;
    use crate::discover::Changes;
    use crate::pipeline::{ReadOptions, Reading};
    use std::sync::Arc;

    #[test]
    fn batches_are_bounded_in_bytes_as_well_as_in_events() {
        let dir = tempfile::tempdir().unwrap();
        let line = format!(
            "2026-12-07T10:00:00.000000000Z stdout F {}\n",
            "x".repeat(1000)
        );
        // One reading round takes up to 256 KiB of each file: all four files, 600 lines in all, fewer
        // than a batch's events but more than two batches' bytes.
        for file in 0..4 {
            std::fs::write(dir.path().join(format!("app-{file}.log")), line.repeat(150)).unwrap();
        }
        let config = Config::default();
        let options = ReadOptions {
            paths: vec![dir.path().join("*.log").display().to_string()],
            ..Default::default()
        };
        let budget = Budget::new(config.max_queued_bytes, Default::default());
        let changes = Arc::new(Changes::default());
        let (reading, mut batches) =
            Reading::start(&config, options, None, changes, 8, budget).unwrap();
        let mut sizes = Vec::new();
        while let Some(batch) = batches.blocking_recv() {
            sizes.push(batch.events.iter().map(|e| e.message.len()).sum::<usize>());
        }
        reading.finish().unwrap();
        let messages: usize = sizes.iter().sum();
        assert_eq!(messages, 600 * 1000, "every line read: {sizes:?}");
        assert!(sizes.len() >= 3, "{sizes:?}");
        assert!(
            sizes.iter().all(|&s| s <= BATCH_BYTES as usize),
            "a batch's lines stop at the first to reach {BATCH_BYTES} bytes: {sizes:?}"
        );
    }
}
