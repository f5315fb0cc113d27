//! The agent's own signals: its logs (structured JSON through `tracing`), its metrics and its health
//! endpoint.

mod http;
mod logging;
mod metrics;

pub use http::{serve_http, HttpError};
pub use logging::{init_logging, LogFormat};
pub use metrics::Metrics;
