//! The agent's own log: JSON lines on stderr, so it is parsed like any other container's log, and kept off
//! stdout, where the debug mode writes events.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    /// Human-readable, for a terminal.
    Text,
}

/// Installs the global subscriber. `LOGLYNK_LOG` (a tracing filter) overrides `level`. Returns an error
/// message for an invalid filter rather than failing silently.
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var("LOGLYNK_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(&env),
        _ => EnvFilter::try_new(level),
    }
    .map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
    // A second call (tests) keeps the first subscriber; that is not an error worth reporting.
    let _ = result;
    Ok(())
}
