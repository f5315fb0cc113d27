//! Reloading the configuration: what asks for a reload (SIGHUP, the configuration file's watch), what
//! each reload decided, and `loglynk_config_reloads_total` by result.

use std::fmt::Display;
use std::path::Path;
use std::time::Duration;

use super::Telemetry;

/// SIGHUP's handler could not be installed.
pub fn hangup_unavailable() {
    tracing::warn!("cannot listen for SIGHUP; the configuration is reloaded on file changes only");
}

/// The configuration file's directory cannot be watched: it is read every 10 s instead.
pub fn config_watch_failed(dir: &Path, error: &dyn Display) {
    tracing::warn!(dir = %dir.display(), %error,
        "cannot watch the configuration's directory; it is checked every 10s");
}

/// The configuration file's content changed: a reload is asked for.
pub fn config_file_changed(file: &Path) {
    tracing::info!(file = %file.display(), "the configuration file changed");
}

/// A reload changes `changed`: the running pipeline is stopped to start the next one.
pub fn reloading(cause: &str, changed: &[String]) {
    tracing::info!(cause, changed = ?changed, "reloading the configuration");
}

/// The new configuration's log level cannot be used.
pub fn log_level_kept(error: &dyn Display) {
    tracing::warn!(%error, "the log level is left as it was");
}

/// Settings that only a restart can change were changed; nothing to say when none were.
pub fn settings_kept(kept: &[&str]) {
    if !kept.is_empty() {
        tracing::warn!(
            kept = ?kept,
            "these settings cannot change without a restart; their running values are kept"
        );
    }
}

/// A reload's drain of the running pipeline took longer than `shutdown_timeout`.
pub fn reload_drain_timed_out(shutdown_timeout: Duration) {
    tracing::warn!(?shutdown_timeout,
        "in-flight events were not delivered within shutdown_timeout; they are abandoned and their \
         lines sent again under the new configuration");
}

impl Telemetry {
    /// The new configuration was refused; the running one is kept.
    pub fn config_refused(&self, cause: &str, error: &dyn Display) {
        tracing::error!(cause, %error, "the new configuration is invalid; the running one is kept");
        self.count_reload(false);
    }

    /// The configuration read again is the running one.
    pub fn config_unchanged(&self, cause: &str) {
        tracing::info!(cause, "configuration reloaded: nothing changed");
        self.count_reload(true);
    }

    /// Only settings that need a restart changed: nothing applies, and they are named.
    pub fn config_kept(&self, kept: &[&str]) {
        settings_kept(kept);
        self.count_reload(true);
    }

    /// The next pipeline runs the new configuration, which changed `changed`.
    pub fn config_reloaded(&self, changed: &[String]) {
        tracing::info!(changed = ?changed, "configuration reloaded");
        self.count_reload(true);
    }

    fn count_reload(&self, applied: bool) {
        let result = if applied { "success" } else { "failure" };
        self.config_reloads
            .get_or_create(&vec![("result", result)])
            .inc();
    }
}
