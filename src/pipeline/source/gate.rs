//! The read gate: whether a file is read now, later, or not at all. A file waits for its pod's metadata,
//! a container its hints exclude is held, and a file whose read-ahead is spent waits for
//! acknowledgements.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::ParsingSink;
use crate::config::RateUnit;
use crate::enrich::kube::{Decision, FileMetadata, KubeEnricher};
use crate::registry::lock;
use crate::tail::{Admit, FileKey, ReadGate};

/// Kubernetes API metadata for the files being read.
pub(super) struct Enrichment {
    pub(super) enricher: KubeEnricher,
    pub(super) files: HashMap<FileKey, FileMetadata>,
    /// Files held for their pod's metadata.
    pub(super) waiting: HashSet<FileKey>,
    /// Files left unread because their container's hints say `enabled: false`.
    pub(super) excluded: HashSet<FileKey>,
    /// Files held for their read-ahead: like `waiting`, they keep `tail --no-follow` going.
    pub(super) ahead: HashSet<FileKey>,
}

impl Enrichment {
    pub(super) fn new(enricher: KubeEnricher) -> Self {
        Self {
            enricher,
            files: HashMap::new(),
            waiting: HashSet::new(),
            excluded: HashSet::new(),
            ahead: HashSet::new(),
        }
    }
}

/// How soon a file held at its read-ahead is asked again: acknowledgements are not signalled to the
/// reading thread, so it looks again this often while a file is held.
const READ_AHEAD_RECHECK: Duration = Duration::from_millis(20);

/// An excluded file is asked about again this often (and whenever it grows), so a hint removed or
/// changed takes effect soon after the watch delivers it.
const EXCLUDED_RECHECK: Duration = Duration::from_secs(1);

/// A file whose pod is not cached yet waits (up to `metadata_wait`) before its lines are read, so they
/// ship with the pod's metadata; other files are read meanwhile. Once the pod is known, the file's
/// events carry its metadata.
///
/// A container whose hints say `co.elastic.logs/enabled: false` is not read: its file is held, and
/// asked about again as it grows and every second, so removing the hint resumes it where reading
/// stopped.
///
/// Fair reading: a file whose lines read and not yet acknowledged reach `read_ahead` is not read further
/// until some are acknowledged. The output's queue is first come, first served, so a container that
/// wrote a backlog would otherwise fill it and every other container's lines would wait behind the
/// backlog; bounded per file, the queue holds a little of every busy file, and the backlog waits in its
/// file. The output stays busy as long as `read_ahead` covers the requests it keeps in flight.
impl ReadGate for ParsingSink {
    fn admit(&mut self, key: FileKey, now: Instant) -> Admit {
        match self.admit_unlimited(key, now) {
            Admit::Now => {}
            held => return held,
        }
        match (self.limits.as_mut(), self.parsers.get(&key)) {
            (Some(limits), Some(parser)) => limits.admit(key, parser.origin(), now),
            _ => Admit::Now,
        }
    }

    /// A turn reads no further than the read-ahead left, nor than its rate limits allow.
    fn turn_bytes(&self, key: FileKey) -> Option<usize> {
        let ahead = self.unacknowledged(key).and_then(|(bytes, limit, _)| {
            let left = if bytes >= limit { limit } else { limit - bytes };
            usize::try_from(left).ok()
        });
        let limited = self
            .limits
            .as_ref()
            .and_then(|l| l.turn(key, RateUnit::Bytes));
        match (ahead, limited) {
            (Some(a), Some(l)) => Some(a.min(l)),
            (a, l) => a.or(l),
        }
    }

    fn turn_lines(&self, key: FileKey) -> Option<usize> {
        self.limits.as_ref()?.turn(key, RateUnit::Lines)
    }
}

impl ParsingSink {
    /// The read gate before rate limits: read-ahead, pod metadata and hint exclusion.
    fn admit_unlimited(&mut self, key: FileKey, now: Instant) -> Admit {
        if self
            .unacknowledged(key)
            .is_some_and(|(bytes, limit, in_flight)| in_flight && bytes >= limit)
        {
            if let Some(kube) = &mut self.kube {
                kube.ahead.insert(key);
            }
            return Admit::Ahead(now + READ_AHEAD_RECHECK);
        }
        let (Some(kube), Some(parser)) = (self.kube.as_mut(), self.parsers.get_mut(&key)) else {
            return Admit::Now;
        };
        kube.ahead.remove(&key);
        let file = kube.files.entry(key).or_default();
        let decision = kube.enricher.check(file, parser.origin(), now);
        for reason in kube.enricher.take_hint_errors() {
            self.telemetry.hint_invalid(reason);
        }
        match decision {
            Decision::Proceed(Some(origin)) => parser.set_origin(origin),
            Decision::Proceed(None) => {}
            Decision::Hold(until) => {
                kube.waiting.insert(key);
                return Admit::Later(until);
            }
        }
        kube.waiting.remove(&key);
        let origin = parser.origin();
        if origin.hints().is_some_and(|h| !h.enabled) {
            if kube.excluded.insert(key) {
                self.telemetry.file_excluded("hint");
                tracing::info!(path = %origin.path, "not read: its container's hints say enabled: false");
            }
            return Admit::Later(now + EXCLUDED_RECHECK);
        }
        if kube.excluded.remove(&key) {
            tracing::info!(path = %origin.path, "read again: its container's hints no longer exclude it");
        }
        Admit::Now
    }

    /// Every file the gate holds is held because a hint excludes it.
    pub(super) fn holds_only_excluded(&self) -> bool {
        !self.limits.as_ref().is_some_and(|l| l.holds_any())
            && self.kube.as_ref().is_some_and(|k| {
                k.waiting.is_empty() && k.ahead.is_empty() && !k.excluded.is_empty()
            })
    }

    /// Bytes of `key` read and not yet acknowledged, the read-ahead, and whether batches are in flight
    /// (with none, nothing could free the file, whatever the offsets say). `None` when unbounded.
    fn unacknowledged(&self, key: FileKey) -> Option<(u64, u64, bool)> {
        let (limit, tracker) = (self.read_ahead?, self.tracker.as_ref()?);
        let tracker = lock(tracker);
        let acked = tracker.offset(key);
        let handed = self.handed.get(&key).copied().or(acked)?;
        let bytes = handed.saturating_sub(acked.unwrap_or(handed));
        Some((bytes, limit, tracker.in_flight() > 0))
    }
}
