//! The registry's events: each write of delivered offsets, timed; a failing write, counted, warned about
//! once and then once a minute while writes keep failing, and reported by readiness; the recovery; and a
//! last write at exit that failed.

use std::fmt::Display;
use std::path::Path;
use std::time::{Duration, Instant};

use super::instruments::guard;
use super::Telemetry;

/// While writes keep failing, the warning is repeated this often; every failure is counted.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Writes of the registry failing in a row.
#[derive(Debug)]
pub(super) struct Failing {
    since: Instant,
    count: u64,
    warned: Option<Instant>,
    /// The last failure, for readiness.
    error: String,
}

impl Telemetry {
    /// The registry was written, in `took`.
    pub fn registry_saved(&self, took: Duration) {
        self.registry_flush.observe(took.as_secs_f64());
        if let Some(failing) = guard(&self.registry_failing).take() {
            tracing::info!(
                failures = failing.count,
                failed_for_secs = failing.since.elapsed().as_secs(),
                "the registry is written again"
            );
        }
    }

    /// Writing the registry failed after `took`; it is tried again. `unsaved`: events whose offsets
    /// the registry on disk lacks, which a crash now would send again.
    pub fn registry_save_failed(&self, took: Duration, error: &dyn Display, unsaved: u64) {
        self.registry_flush.observe(took.as_secs_f64());
        self.registry_flush_failures.inc();
        let now = Instant::now();
        let mut failing = guard(&self.registry_failing);
        let failing = failing.get_or_insert_with(|| Failing {
            since: now,
            count: 0,
            warned: None,
            error: String::new(),
        });
        failing.count += 1;
        failing.error = error.to_string();
        // Offsets stay in memory and shipping goes on: a full disk delays the registry, and each
        // retry may write it. Said once, then again now and then rather than at every retry.
        if failing
            .warned
            .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
        {
            failing.warned = Some(now);
            tracing::warn!(
                %error,
                failures = failing.count,
                failing_for_secs = failing.since.elapsed().as_secs(),
                unsaved,
                "cannot write the registry; retrying (a crash now sends the unsaved events again)"
            );
        }
    }

    /// The last write, at exit, failed after `took`: a restart sends `unsaved` events again.
    /// `message` says so whole.
    pub fn registry_last_save_failed(
        &self,
        took: Duration,
        registry: &Path,
        error: &dyn Display,
        unsaved: u64,
        message: &dyn Display,
    ) {
        self.registry_flush.observe(took.as_secs_f64());
        self.registry_flush_failures.inc();
        tracing::error!(
            registry = %registry.display(),
            unsaved,
            error = %error,
            "{message}"
        );
    }

    /// Why the registry cannot be written, while it cannot.
    pub fn registry_failing(&self) -> Option<String> {
        guard(&self.registry_failing)
            .as_ref()
            .map(|failing| failing.error.clone())
    }
}

/// The registry on disk could not be read and is kept aside as `kept_as`: files are read as if new.
pub fn registry_corrupt(registry: &Path, kept_as: &Path, reason: &str) {
    tracing::error!(
        registry = %registry.display(),
        kept_as = %kept_as.display(),
        reason,
        "the registry was corrupt and is kept aside; files are read as if new (start_at)"
    );
}
