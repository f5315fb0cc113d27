//! How long after a line was written Elasticsearch acknowledged it: the indicator of the log-delivery
//! SLO ("lines shipped within 60 s of being written", deploy/monitoring/prometheus/rules/slo.rules.yml).
//!
//! Observed once per bulk request rather than once per line: a request's write times are counted into
//! buckets on the stack and added under one lock, so the hot path pays a comparison per line and no
//! shared write.

use std::sync::{Mutex, PoisonError};

/// Upper bounds in seconds. 60 is the SLO's threshold and must stay one of them; the others show how
/// far off a bad hour was (a flush interval, a retry backoff, an outage).
pub const DELIVERY_BUCKETS: [f64; 13] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

const SLOTS: usize = DELIVERY_BUCKETS.len() + 1;

/// A histogram of delivery latencies, in seconds.
#[derive(Debug, Default)]
pub struct DeliveryLatency {
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    /// Per bucket, not cumulative; the last is over every bound (`+Inf`).
    buckets: [u64; SLOTS],
    count: u64,
    sum: f64,
}

/// One reading: sum, count and the non-cumulative buckets, `f64::MAX` standing for `+Inf` (as
/// prometheus-client's encoder expects).
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySnapshot {
    pub sum: f64,
    pub count: u64,
    pub buckets: Vec<(f64, u64)>,
}

impl DeliveryLatency {
    /// Lines written at `written` (Unix nanoseconds) were delivered at `now`. A write time after `now`
    /// (a runtime's clock ahead of ours) counts as delivered at once rather than as a negative time.
    pub fn observe(&self, written: &[i64], now: i64) {
        if written.is_empty() {
            return;
        }
        let mut local = State::default();
        for &at in written {
            let seconds = now.saturating_sub(at).max(0) as f64 / 1e9;
            let slot = DELIVERY_BUCKETS.partition_point(|&bound| bound < seconds);
            local.buckets[slot] += 1;
            local.sum += seconds;
        }
        local.count = written.len() as u64;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for (total, add) in state.buckets.iter_mut().zip(local.buckets) {
            *total += add;
        }
        state.count += local.count;
        state.sum += local.sum;
    }

    pub fn snapshot(&self) -> LatencySnapshot {
        let state = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let bounds = DELIVERY_BUCKETS.iter().copied().chain([f64::MAX]);
        LatencySnapshot {
            sum: state.sum,
            count: state.count,
            buckets: bounds.zip(state.buckets).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn count_at(snapshot: &LatencySnapshot, bound: f64) -> u64 {
        snapshot
            .buckets
            .iter()
            .find(|(b, _)| *b == bound)
            .map(|(_, n)| *n)
            .unwrap()
    }

    #[test]
    fn each_line_lands_in_the_first_bucket_that_holds_it() {
        let latency = DeliveryLatency::default();
        let now = 1_800_000_000 * SECOND;
        // 0.2 s, exactly 60 s (inclusive bound), 61 s, two hours, and a clock ahead of ours.
        latency.observe(
            &[
                now - SECOND / 5,
                now - 60 * SECOND,
                now - 61 * SECOND,
                now - 7200 * SECOND,
                now + 5 * SECOND,
            ],
            now,
        );
        let s = latency.snapshot();
        assert_eq!(s.count, 5);
        assert_eq!(count_at(&s, 0.5), 2, "0.2 s and the future line");
        assert_eq!(count_at(&s, 60.0), 1);
        assert_eq!(count_at(&s, 120.0), 1);
        assert_eq!(count_at(&s, f64::MAX), 1, "two hours is over every bound");
        assert_eq!(s.buckets.iter().map(|(_, n)| n).sum::<u64>(), 5);
        assert!(
            (s.sum - (0.2 + 60.0 + 61.0 + 7200.0)).abs() < 1e-6,
            "{}",
            s.sum
        );
    }

    #[test]
    fn observations_add_up_and_nothing_observed_is_all_zero() {
        let latency = DeliveryLatency::default();
        latency.observe(&[], 0);
        assert_eq!(latency.snapshot().count, 0);
        assert_eq!(latency.snapshot().buckets.len(), DELIVERY_BUCKETS.len() + 1);
        latency.observe(&[0, 0], 3 * SECOND);
        latency.observe(&[0], 3 * SECOND);
        let s = latency.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(count_at(&s, 5.0), 3);
        assert!((s.sum - 9.0).abs() < 1e-9);
    }
}
