//! Rate limits on the reading side: token buckets per node, namespace and pod, from `rate_limit` and
//! the `loglynk.io/rate_limit` hint.
//!
//! `delay` limits are kept by not reading: the read gate holds a file whose bucket is spent and gives
//! each turn no more bytes or lines than its buckets hold, so the lines wait in their file and nothing
//! is lost. `drop` limits are kept per event once it is parsed: an event beyond the limit is flagged,
//! and the processors drop it and count it (`dropped{reason="rate_limit"}`); its offset is
//! acknowledged with its batch like any other, so it is not read again.
//!
//! A bucket holds one period's amount (`1000/m` lets 1,000 lines through at once, then 1,000 a
//! minute), as Filebeat's rate_limit processor does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{LimitPolicy, LimitScope, Rate, RateLimit, RateLimitRule, RateUnit};
use crate::event::{Event, Flags, Origin};
use crate::tail::{Admit, FileKey, Line};
use crate::telemetry::{LimitedPod, Telemetry};

mod bucket;
use bucket::{Bucket, BucketKey};

/// A pod's labels, as the Kubernetes API gave them.
pub(super) type Labels = std::collections::BTreeMap<String, String>;

/// A pod counts as limited this long after it was last held or had a line dropped: a scrape every
/// 15 to 30 s still sees a pod limited in bursts.
const LIMITED_FOR: Duration = Duration::from_secs(10);
/// How often the pods limited are published for `/metrics` and `/status`, and ended ones logged.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// A file's pod and the buckets it is counted in, resolved again when its origin changes (its pod's
/// metadata or hints arrived or changed).
#[derive(Debug)]
struct FileLimits {
    origin: Arc<Origin>,
    pod: Arc<PodName>,
    delay: Vec<BucketKey>,
    drop: Vec<BucketKey>,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PodName {
    namespace: String,
    pod: String,
}

/// A pod held or dropped from lately.
#[derive(Debug)]
struct Limited {
    since: Instant,
    last: Instant,
    policy: LimitPolicy,
    scope: LimitScope,
    limit: Rate,
    dropped: u64,
}

/// The configured limits and their buckets. Only built when some limit is configured, or hints may set
/// one (with Kubernetes metadata): without, reading pays nothing for them.
#[derive(Debug)]
pub(super) struct Limits {
    rules: Vec<RateLimitRule>,
    buckets: HashMap<BucketKey, Bucket>,
    files: HashMap<FileKey, FileLimits>,
    limited: HashMap<Arc<PodName>, Limited>,
    /// Files held by a `delay` limit at their last turn.
    held: std::collections::HashSet<FileKey>,
    telemetry: Arc<Telemetry>,
    next_publish: Instant,
}

impl Limits {
    pub(super) fn new(rules: Vec<RateLimitRule>, telemetry: Arc<Telemetry>) -> Limits {
        Limits {
            rules,
            buckets: HashMap::new(),
            files: HashMap::new(),
            limited: HashMap::new(),
            held: std::collections::HashSet::new(),
            telemetry,
            next_publish: Instant::now(),
        }
    }

    /// Whether `key` may be read now: its `delay` buckets must hold enough for a turn. `labels`: its
    /// pod's labels, asked for only when the file's limits are decided and some rule selects by them.
    pub(super) fn admit(
        &mut self,
        key: FileKey,
        origin: &Arc<Origin>,
        labels: impl FnOnce() -> Option<Labels>,
        now: Instant,
    ) -> Admit {
        self.resolve(key, origin, labels, now);
        let Some(file) = self.files.get(&key) else {
            return Admit::Now;
        };
        let mut until: Option<Instant> = None;
        let mut spent = None;
        for id in &file.delay {
            let Some(bucket) = self.buckets.get_mut(id) else {
                continue;
            };
            bucket.refill(now);
            if bucket.tokens < bucket.enough() {
                let at = bucket.ready_at(now);
                if until.is_none_or(|u| at > u) {
                    until = Some(at);
                    spent = Some((bucket.policy, bucket.scope, bucket.rate));
                }
            }
        }
        let pod = Arc::clone(&file.pod);
        let admit = match (until, spent) {
            (Some(until), Some((policy, scope, rate))) => {
                self.note_limited(pod, now, policy, scope, rate, 0);
                self.held.insert(key);
                Admit::Limited(until)
            }
            _ => {
                self.held.remove(&key);
                Admit::Now
            }
        };
        self.publish(now);
        admit
    }

    /// The fewest tokens among `key`'s `delay` buckets of `unit`: what its turn may read.
    pub(super) fn turn(&self, key: FileKey, unit: RateUnit) -> Option<usize> {
        let file = self.files.get(&key)?;
        file.delay
            .iter()
            .filter_map(|id| self.buckets.get(id))
            .filter(|b| b.rate.unit == unit)
            .map(|b| b.tokens.max(0.0) as usize)
            .min()
    }

    /// A line of `key` was read: its `delay` buckets pay for it (one may go below zero by the end of a
    /// line longer than what was left; the file then waits for that too).
    pub(super) fn read(&mut self, key: FileKey, line: &Line) {
        if self.buckets.is_empty() {
            return;
        }
        let Some(file) = self.files.get(&key) else {
            return;
        };
        let bytes = line.end - line.offset;
        for id in &file.delay {
            if let Some(bucket) = self.buckets.get_mut(id) {
                bucket.tokens -= bucket.cost(1, bytes);
            }
        }
    }

    /// Events of `key` just parsed: those beyond a `drop` bucket are flagged to be dropped. A bucket
    /// is paid only by the events that pass all of them.
    pub(super) fn parsed(&mut self, key: FileKey, events: &mut [Event], now: Instant) {
        if self.buckets.is_empty() {
            return;
        }
        let Some(file) = self.files.get(&key) else {
            return;
        };
        if file.drop.is_empty() {
            return;
        }
        let mut dropped = 0;
        let mut over = None;
        for event in events {
            let bytes = event.message.as_str().len() as u64;
            let mut passes = true;
            for id in &file.drop {
                let Some(bucket) = self.buckets.get_mut(id) else {
                    continue;
                };
                bucket.refill(now);
                let cost = bucket.cost(1, bytes);
                // A full bucket lets one event through whatever its size, so an event larger than
                // the limit is not dropped forever.
                if bucket.tokens < cost && bucket.tokens < bucket.capacity() {
                    passes = false;
                    over = Some((bucket.scope, bucket.rate));
                }
            }
            if passes {
                for id in &file.drop {
                    if let Some(bucket) = self.buckets.get_mut(id) {
                        bucket.tokens -= bucket.cost(1, bytes);
                    }
                }
            } else {
                event.flags.insert(Flags::RATE_LIMITED);
                dropped += 1;
            }
        }
        if let Some((scope, rate)) = over {
            let pod = Arc::clone(&file.pod);
            self.note_limited(pod, now, LimitPolicy::Drop, scope, rate, dropped);
        }
    }

    /// `key` is finished: its buckets stay (other files of the pod may use them).
    pub(super) fn forget(&mut self, key: FileKey) {
        self.files.remove(&key);
        self.held.remove(&key);
    }

    /// Whether some file is held by a `delay` limit: `tail --no-follow` waits for it.
    pub(super) fn holds_any(&self) -> bool {
        !self.held.is_empty()
    }

    fn resolve(
        &mut self,
        key: FileKey,
        origin: &Arc<Origin>,
        labels: impl FnOnce() -> Option<Labels>,
        now: Instant,
    ) {
        if self
            .files
            .get(&key)
            .is_some_and(|f| Arc::ptr_eq(&f.origin, origin))
        {
            return;
        }
        let meta = &origin.metadata;
        let namespace = meta.namespace.clone().unwrap_or_default();
        let pod = meta.pod_name.clone().unwrap_or_default();
        // The pod's UID, when the path has it, tells a pod from a later one of the same name.
        let pod_id: Arc<str> = match &meta.pod_uid {
            Some(uid) => uid.as_str().into(),
            None => format!("{namespace}/{pod}").into(),
        };
        let mut limits = FileLimits {
            origin: Arc::clone(origin),
            pod: Arc::new(PodName { namespace, pod }),
            delay: Vec::new(),
            drop: Vec::new(),
        };
        let mut add =
            |id: BucketKey, limit: RateLimit, scope: LimitScope, limits: &mut FileLimits| {
                let bucket = self
                    .buckets
                    .entry(id.clone())
                    .or_insert_with(|| Bucket::new(limit, scope, now));
                if (bucket.rate, bucket.policy) != (limit.rate, limit.policy) {
                    // A hint changed: the new limit starts full, as a new one would.
                    *bucket = Bucket::new(limit, scope, now);
                }
                match limit.policy {
                    LimitPolicy::Delay => limits.delay.push(id),
                    LimitPolicy::Drop => limits.drop.push(id),
                }
            };
        let hint = origin.hints().and_then(|h| h.rate_limit);
        // As `kubernetes.include` decides: the API's names when it described the pod, else the path's.
        let api = origin.kubernetes();
        let namespace = api.and_then(|k| k.namespace.as_deref());
        let namespace = namespace.or(meta.namespace.as_deref());
        let container = api.and_then(|k| k.container.name.as_deref());
        let container = container.or(meta.container_name.as_deref());
        let labels = if self.rules.iter().any(RateLimitRule::uses_labels) {
            labels()
        } else {
            None
        };
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.applies_to(namespace, labels.as_ref(), container) {
                continue;
            }
            let who: Arc<str> = match rule.per {
                LimitScope::Node => "".into(),
                LimitScope::Namespace => limits.pod.namespace.as_str().into(),
                // The pod's own annotation replaces the configured per-pod limits.
                LimitScope::Pod if hint.is_some() => continue,
                LimitScope::Pod => Arc::clone(&pod_id),
            };
            let limit = RateLimit {
                rate: rule.limit,
                policy: rule.policy,
            };
            add(BucketKey::Rule(i, who), limit, rule.per, &mut limits);
        }
        if let Some(limit) = hint {
            add(BucketKey::Hint(pod_id), limit, LimitScope::Pod, &mut limits);
        }
        self.files.insert(key, limits);
    }

    fn note_limited(
        &mut self,
        pod: Arc<PodName>,
        now: Instant,
        policy: LimitPolicy,
        scope: LimitScope,
        limit: Rate,
        dropped: u64,
    ) {
        let entry = self.limited.entry(pod).or_insert_with_key(|pod| {
            self.telemetry.pod_limited(
                &pod.namespace,
                &pod.pod,
                policy.as_str(),
                scope.as_str(),
                &limit,
            );
            // Shown at the next turn rather than up to a second later.
            self.next_publish = now;
            Limited {
                since: now,
                last: now,
                policy,
                scope,
                limit,
                dropped: 0,
            }
        });
        entry.last = now;
        entry.dropped += dropped;
    }

    /// Publishes the pods limited now, at most once a [`PUBLISH_EVERY`], and logs those no longer
    /// limited.
    pub(super) fn publish(&mut self, now: Instant) {
        if now < self.next_publish {
            return;
        }
        self.next_publish = now + PUBLISH_EVERY;
        let telemetry = &self.telemetry;
        self.limited.retain(|pod, limited| {
            let ongoing = now.duration_since(limited.last) < LIMITED_FOR;
            if !ongoing {
                telemetry.pod_unlimited(
                    &pod.namespace,
                    &pod.pod,
                    limited.last.duration_since(limited.since),
                    limited.dropped,
                );
            }
            ongoing
        });
        let pods = self
            .limited
            .iter()
            .map(|(pod, l)| LimitedPod {
                namespace: pod.namespace.clone(),
                pod: pod.pod.clone(),
                policy: l.policy.as_str(),
                scope: l.scope.as_str(),
                limit: l.limit.to_string(),
                dropped: l.dropped,
                limited_for: now.duration_since(l.since),
            })
            .collect();
        self.telemetry.set_limited_pods(pods);
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
