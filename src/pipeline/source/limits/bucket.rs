//! A token bucket: one limit's lines or bytes per period, as Filebeat's rate_limit processor keeps them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{LimitPolicy, LimitScope, Rate, RateLimit, RateUnit};

/// A file held for a byte limit waits until this much (or the whole bucket) may be read: turns of a
/// few bytes would cost a read call per line.
const MIN_BYTE_TURN: f64 = 4096.0;

/// Which bucket: a rule's (by its index) for the node, a namespace or a pod, or a pod's hint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum BucketKey {
    Rule(usize, Arc<str>),
    Hint(Arc<str>),
}

/// One period's amount of lines or bytes, refilled as time passes.
#[derive(Debug)]
pub(super) struct Bucket {
    pub(super) rate: Rate,
    pub(super) policy: LimitPolicy,
    pub(super) scope: LimitScope,
    /// What may pass now; a `delay` turn may leave it below zero (a line is not cut).
    pub(super) tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(super) fn new(limit: RateLimit, scope: LimitScope, now: Instant) -> Bucket {
        Bucket {
            rate: limit.rate,
            policy: limit.policy,
            scope,
            tokens: limit.rate.amount as f64,
            last: now,
        }
    }

    pub(super) fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate.per_second()).min(self.capacity());
    }

    pub(super) fn capacity(&self) -> f64 {
        self.rate.amount as f64
    }

    /// What a turn of reading needs before it is worth starting.
    pub(super) fn enough(&self) -> f64 {
        match self.rate.unit {
            RateUnit::Lines => 1.0,
            RateUnit::Bytes => MIN_BYTE_TURN.min(self.capacity()),
        }
    }

    /// When the bucket holds `enough` again.
    pub(super) fn ready_at(&self, now: Instant) -> Instant {
        let missing = (self.enough() - self.tokens).max(0.0);
        now + Duration::from_secs_f64(missing / self.rate.per_second())
    }

    pub(super) fn cost(&self, lines: u64, bytes: u64) -> f64 {
        match self.rate.unit {
            RateUnit::Lines => lines as f64,
            RateUnit::Bytes => bytes as f64,
        }
    }
}
