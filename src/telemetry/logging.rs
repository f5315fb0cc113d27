//! The agent's own log: JSON lines on stderr, so it is parsed like any other container's log, and kept off
//! stdout, where the debug mode writes events. Its filter (`logging.level`) can be replaced while the
//! agent runs, so a reload of the configuration changes it without a restart.

use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    /// Human-readable, for a terminal.
    Text,
}

/// The installed subscriber's filter, for [`set_log_level`].
static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// The variable whose tracing filter overrides `logging.level`.
const LOG_ENV: &str = "LOGLYNK_LOG";

/// Installs the global subscriber. `LOGLYNK_LOG` (a tracing filter) overrides `level`. Returns an error
/// message for an invalid filter rather than failing silently.
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = match env_filter() {
        Some(env) => EnvFilter::try_new(env),
        None => EnvFilter::try_new(level),
    }
    .map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    let (filter, handle) = reload::Layer::new(filter);
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(layer.json().flatten_event(true).with_current_span(false))
            .try_init(),
        LogFormat::Text => registry
            .with(
                layer
                    .with_target(false)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
            )
            .try_init(),
    };
    // A second call (tests) keeps the first subscriber; that is not an error worth reporting.
    if result.is_ok() {
        let _ = FILTER.set(handle);
    }
    Ok(())
}

/// Replaces the running filter with `level` (a reload of `logging.level`). `LOGLYNK_LOG`, when set, still
/// wins: the operator's variable is not overridden by a file. Returns whether the filter changed.
pub fn set_log_level(level: &str) -> Result<bool, String> {
    let filter =
        EnvFilter::try_new(level).map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    if env_filter().is_some() {
        return Ok(false);
    }
    let Some(handle) = FILTER.get() else {
        return Ok(false);
    };
    let before = handle.with_current(|f| f.to_string()).ok();
    if before.as_deref() == Some(filter.to_string().as_str()) {
        return Ok(false);
    }
    handle
        .reload(filter)
        .map_err(|e| format!("cannot change the log level: {e}"))?;
    Ok(true)
}

fn env_filter() -> Option<String> {
    std::env::var(LOG_ENV).ok().filter(|v| !v.is_empty())
}
