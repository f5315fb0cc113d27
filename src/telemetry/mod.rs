//! The agent's own signals: its logs (structured JSON through `tracing`), later its metrics and health.

mod logging;

pub use logging::{init_logging, LogFormat};
