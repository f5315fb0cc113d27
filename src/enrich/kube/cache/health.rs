//! Watch health: one warning per outage (not one per retry), one info line on recovery, and the
//! numbers [`crate::telemetry::CacheStatus`] reports.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::telemetry;

#[derive(Default)]
struct State {
    last_success: Option<SystemTime>,
    errors: u64,
    last_error: Option<String>,
    last_error_at: Option<Instant>,
    failing_since: Option<Instant>,
}

pub(super) struct Health {
    state: Mutex<State>,
    stale_after: Duration,
}

/// What [`Health::snapshot`] reads in one lock.
pub(super) struct Snapshot {
    pub(super) last_success: Option<SystemTime>,
    pub(super) errors: u64,
    pub(super) last_error: Option<String>,
    pub(super) failing_for: Option<Duration>,
    pub(super) stale: bool,
}

impl Health {
    pub(super) fn new(stale_after: Duration) -> Health {
        Health {
            state: Mutex::new(State::default()),
            stale_after,
        }
    }

    /// The API server answered the watch (a listed object, a change, the end of a list).
    pub(super) fn success(&self, resource: &str) {
        let mut state = self.lock();
        state.last_success = Some(SystemTime::now());
        if let Some(since) = state.failing_since.take() {
            telemetry::kube_watch_recovered(resource, since.elapsed(), state.errors);
        }
    }

    pub(super) fn error(&self, resource: &str, error: &dyn Display) {
        let mut state = self.lock();
        let now = Instant::now();
        state.errors += 1;
        state.last_error = Some(error.to_string());
        state.last_error_at = Some(now);
        if state.failing_since.is_none() {
            state.failing_since = Some(now);
            telemetry::kube_watch_failing(resource, error);
        } else {
            telemetry::kube_watch_retry_failed(resource, error);
        }
    }

    /// A resumed watch with nothing new to say yields no event, so recovery is also declared when a
    /// probe sent at `sent` succeeded and no watch error came after it was sent.
    pub(super) fn probe_succeeded(&self, sent: Instant) {
        let quiet = self.lock().last_error_at.is_none_or(|at| at < sent);
        if quiet {
            self.success("probe");
        }
    }

    pub(super) fn failing(&self) -> bool {
        self.lock().failing_since.is_some()
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        let failing_for = state.failing_since.map(|since| since.elapsed());
        Snapshot {
            last_success: state.last_success,
            errors: state.errors,
            last_error: state.last_error.clone(),
            failing_for,
            stale: failing_for.is_some_and(|d| d >= self.stale_after),
        }
    }

    /// A panic elsewhere while holding the lock leaves plain counters behind: still usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
