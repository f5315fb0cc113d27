//! The read gate: whether a file is read now, later, or not at all. A file waits for its pod's metadata,
//! a container the configuration or its hints exclude is held, and a file whose read-ahead is spent waits for
//! acknowledgements.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ParsingSink;
use crate::config::{selected, PodSelector, RateUnit};
use crate::enrich::kube::{Decision, FileMetadata, KubeEnricher};
use crate::event::Origin;
use crate::parse::MultilinePlan;
use crate::registry::lock;
use crate::tail::{Admit, FileKey, ReadGate};
use crate::telemetry::{self, Exclusion};

/// Kubernetes API metadata for the files being read.
pub(super) struct Enrichment {
    pub(super) enricher: KubeEnricher,
    pub(super) files: HashMap<FileKey, FileMetadata>,
    /// Files held for their pod's metadata.
    pub(super) waiting: HashSet<FileKey>,
}

impl Enrichment {
    pub(super) fn new(enricher: KubeEnricher) -> Self {
        Self {
            enricher,
            files: HashMap::new(),
            waiting: HashSet::new(),
        }
    }
}

/// Files held for a reason other than their pod's metadata.
#[derive(Default)]
pub(super) struct Held {
    /// Left unread because `kubernetes.include`/`exclude` or their container's hints say so.
    pub(super) excluded: HashSet<FileKey>,
    /// Held for their read-ahead: like `waiting`, they keep `tail --no-follow` going.
    pub(super) ahead: HashSet<FileKey>,
}

/// `kubernetes.include` and `kubernetes.exclude`, and what they decided for each file's current origin:
/// decided once per origin (a file's origin changes when its pod's metadata does), never per line.
pub(super) struct Selection {
    include: Vec<PodSelector>,
    exclude: Vec<PodSelector>,
    labels: bool,
    decided: HashMap<FileKey, (Arc<Origin>, bool)>,
}

impl Selection {
    /// `None` when every container is read.
    pub(super) fn new(include: Vec<PodSelector>, exclude: Vec<PodSelector>) -> Option<Selection> {
        if include.is_empty() && exclude.is_empty() {
            return None;
        }
        let labels = include.iter().chain(&exclude).any(PodSelector::uses_labels);
        Some(Selection {
            include,
            exclude,
            labels,
            decided: HashMap::new(),
        })
    }

    /// Whether the file with this origin is read. The namespace and container come from the API's
    /// description when there is one, else from the path; the labels from the pod as the cache holds
    /// it (none without the API, and then a selector with labels does not match).
    fn reads(&mut self, key: FileKey, origin: &Arc<Origin>, kube: Option<&KubeEnricher>) -> bool {
        if let Some((seen, read)) = self.decided.get(&key) {
            if Arc::ptr_eq(seen, origin) {
                return *read;
            }
        }
        let api = origin.kubernetes();
        let path = &origin.metadata;
        let namespace = api.and_then(|k| k.namespace.as_deref());
        let container = api.and_then(|k| k.container.name.as_deref());
        let pod = match (self.labels, kube, api.and_then(|k| k.pod.uid.as_deref())) {
            (true, Some(kube), Some(uid)) => kube.pod(uid),
            _ => None,
        };
        let read = selected(
            &self.include,
            &self.exclude,
            namespace.or(path.namespace.as_deref()),
            pod.as_ref().and_then(|p| p.metadata.labels.as_ref()),
            container.or(path.container_name.as_deref()),
        );
        self.decided.insert(key, (Arc::clone(origin), read));
        read
    }

    pub(super) fn forget(&mut self, key: FileKey) {
        self.decided.remove(&key);
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
/// A container `kubernetes.include`/`exclude` leave out, or whose hints say
/// `co.elastic.logs/enabled: false`, is not read: its file is held before its first read, and asked
/// about again as it grows and every second, so a changed label, setting or hint resumes it where
/// reading stopped.
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
        let (Some(limits), Some(parser)) = (self.limits.as_mut(), self.parsers.get(&key)) else {
            return Admit::Now;
        };
        let origin = parser.origin();
        let kube = self.kube.as_ref().map(|k| &k.enricher);
        let labels = || {
            let uid = origin.kubernetes()?.pod.uid.as_deref()?;
            kube?.pod(uid)?.metadata.labels.clone()
        };
        limits.admit(key, origin, labels, now)
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
            self.held.ahead.insert(key);
            return Admit::Ahead(now + READ_AHEAD_RECHECK);
        }
        self.held.ahead.remove(&key);
        let Some(parser) = self.parsers.get_mut(&key) else {
            return Admit::Now;
        };
        if let Some(kube) = self.kube.as_mut() {
            let file = kube.files.entry(key).or_default();
            let decision = kube.enricher.check(file, parser.origin(), now);
            for reason in kube.enricher.take_hint_errors() {
                self.telemetry.hint_invalid(reason);
            }
            match decision {
                Decision::Proceed(Some(origin)) => {
                    let multiline = |o: &Origin| o.hints().and_then(|h| h.multiline.clone());
                    let replan = multiline(parser.origin()) != multiline(&origin);
                    parser.set_origin(origin);
                    if replan {
                        self.replan_multiline(key);
                    }
                }
                Decision::Proceed(None) => {}
                Decision::Hold(until) => {
                    kube.waiting.insert(key);
                    return Admit::Later(until);
                }
            }
            if let Some(kube) = self.kube.as_mut() {
                kube.waiting.remove(&key);
            }
        }
        let Some(parser) = self.parsers.get(&key) else {
            return Admit::Now;
        };
        let origin = parser.origin();
        let enricher = self.kube.as_ref().map(|k| &k.enricher);
        let excluded = if self
            .selection
            .as_mut()
            .is_some_and(|s| !s.reads(key, origin, enricher))
        {
            Some(Exclusion::Config)
        } else if origin.hints().is_some_and(|h| !h.enabled) {
            Some(Exclusion::Hint)
        } else {
            None
        };
        if let Some(exclusion) = excluded {
            if self.held.excluded.insert(key) {
                self.telemetry.file_excluded(exclusion, &origin.path);
            }
            return Admit::Later(now + EXCLUDED_RECHECK);
        }
        if self.held.excluded.remove(&key) {
            telemetry::file_included_again(&origin.path);
        }
        Admit::Now
    }

    /// The file's multiline hints changed (or came with its pod's metadata): its lines are joined as
    /// they say from now on, or as the configuration says once they are gone. A group the old
    /// settings left open ships first.
    fn replan_multiline(&mut self, key: FileKey) {
        let Some(parser) = self.parsers.get(&key) else {
            return;
        };
        let origin = parser.origin();
        let plan = match origin.hints().and_then(|h| h.multiline.as_deref()) {
            Some(settings) => MultilinePlan::new(settings, self.max_line_bytes as u64),
            None => self.multiline.for_path(Path::new(&origin.path)),
        };
        self.with_parser(key, |p, out| p.set_multiline(plan, out));
    }

    /// Every file the gate holds is held because it is excluded.
    pub(super) fn holds_only_excluded(&self) -> bool {
        !self.held.excluded.is_empty()
            && self.held.ahead.is_empty()
            && self.kube.as_ref().is_none_or(|k| k.waiting.is_empty())
            && !self.limits.as_ref().is_some_and(|l| l.holds_any())
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
