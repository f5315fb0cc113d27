//! `max_queued_bytes` as one byte budget: the bytes of lines read and not yet acknowledged, counted
//! once wherever they are held. A batch in the reader's channel counts its lines as read; encoded into
//! the request being built it counts the request's bytes instead; a request built, queued, in flight or
//! being retried counts its body as it goes on the wire (compressed, with gzip). Only the reading thread
//! waits for room: whatever is already in memory is counted, never refused, so the output cannot stall
//! on it, and reading pauses while the budget is spent. What the budget holds overshoots it by at most
//! what one batch adds (its lines, then its documents in the request that takes it). Delivered request
//! bodies kept to be written into again count too (recycle.rs), though `loglynk_queued_bytes` leaves
//! them out: they are memory the budget bounds, not lines waiting.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;

/// The budget, shared by the reading thread and the output.
#[derive(Clone)]
pub struct Budget(Arc<Shared>);

struct Shared {
    limit: u64,
    used: Mutex<Used>,
    room: Condvar,
    /// `loglynk_queued_bytes`: what was read and not yet acknowledged, the budget's use but for
    /// buffers kept for reuse.
    gauge: Gauge,
}

#[derive(Default)]
struct Used {
    all: u64,
    /// Of `all`, what holds lines read and not yet acknowledged.
    queued: u64,
}

/// How often a reader waiting for room checks whether it should give up waiting.
const RECHECK: Duration = Duration::from_millis(100);

impl Budget {
    pub fn new(limit: u64, gauge: Gauge) -> Budget {
        Budget(Arc::new(Shared {
            limit,
            used: Mutex::new(Used::default()),
            room: Condvar::new(),
            gauge,
        }))
    }

    /// Counts `bytes` now, whatever the budget's use: they are in memory already.
    pub fn charge(&self, bytes: u64) -> Charge {
        self.charge_as(bytes, true)
    }

    /// Counts `bytes` of memory kept for reuse (a delivered request's buffer): reading waits on them
    /// as on the rest, but `loglynk_queued_bytes` leaves them out, as they hold no line.
    pub fn charge_kept(&self, bytes: u64) -> Charge {
        self.charge_as(bytes, false)
    }

    fn charge_as(&self, bytes: u64, queued: bool) -> Charge {
        let mut charge = Charge {
            budget: self.clone(),
            bytes: 0,
            queued,
        };
        charge.set(bytes);
        charge
    }

    /// Blocks the calling thread while the budget is spent, or until `give_up` says there is no point
    /// waiting (nobody receives what it would read).
    pub fn wait_for_room(&self, give_up: impl Fn() -> bool) {
        let shared = &*self.0;
        let mut used = shared.used.lock().unwrap_or_else(PoisonError::into_inner);
        while used.all >= shared.limit && !give_up() {
            used = shared
                .room
                .wait_timeout(used, RECHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// What reading waits at.
    pub fn limit(&self) -> u64 {
        self.0.limit
    }

    /// Bytes counted now.
    pub fn used(&self) -> u64 {
        self.0
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .all
    }

    fn adjust(&self, from: u64, to: u64, queued: bool) {
        let shared = &*self.0;
        let mut used = shared.used.lock().unwrap_or_else(PoisonError::into_inner);
        used.all = (used.all + to).saturating_sub(from);
        if queued {
            used.queued = (used.queued + to).saturating_sub(from);
            shared
                .gauge
                .set(i64::try_from(used.queued).unwrap_or(i64::MAX));
        }
        if to < from && used.all < shared.limit {
            shared.room.notify_all();
        }
    }
}

impl fmt::Debug for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("limit", &self.0.limit)
            .field("used", &self.used())
            .finish()
    }
}

/// Bytes counted against the budget until dropped.
pub struct Charge {
    budget: Budget,
    bytes: u64,
    /// Shown in `loglynk_queued_bytes`.
    queued: bool,
}

impl Charge {
    /// Counts `bytes` instead of what it counted: what it stands for grew, shrank (compressed) or
    /// changed hands.
    pub fn set(&mut self, bytes: u64) {
        if bytes != self.bytes {
            self.budget.adjust(self.bytes, bytes, self.queued);
            self.bytes = bytes;
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.set(0);
    }
}

impl fmt::Debug for Charge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Charge({})", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    #[test]
    fn charges_count_until_dropped_and_the_gauge_follows() {
        let gauge = Gauge::default();
        let budget = Budget::new(100, gauge.clone());
        let mut a = budget.charge(60);
        let b = budget.charge(70);
        assert_eq!((budget.used(), gauge.get()), (130, 130), "never refused");
        a.set(10);
        assert_eq!(budget.used(), 80);
        drop(b);
        drop(a);
        assert_eq!((budget.used(), gauge.get()), (0, 0));
    }

    #[test]
    fn the_reader_waits_while_the_budget_is_spent_and_resumes_once_bytes_are_released() {
        let budget = Budget::new(100, Gauge::default());
        budget.wait_for_room(|| false);
        let held = budget.charge(100);
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                budget.wait_for_room(|| false);
                start.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
        let waited = waiting.join().unwrap();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
    }

    #[test]
    fn a_reader_nobody_receives_from_stops_waiting() {
        let budget = Budget::new(10, Gauge::default());
        let _held = budget.charge(10);
        let gone = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiting = s.spawn(|| budget.wait_for_room(|| gone.load(Ordering::Relaxed)));
            std::thread::sleep(Duration::from_millis(50));
            gone.store(true, Ordering::Relaxed);
            waiting.join().unwrap();
        });
    }
}
