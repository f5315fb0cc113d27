//! The agent's own signals: its logs (structured JSON through `tracing`), its metrics (the loss ledger
//! among them) and its health endpoints.

mod delivery;
mod http;
pub mod human;
mod instruments;
mod ledger;
mod logging;
mod metrics;
mod progress_line;
mod status;

pub use http::{serve_http, HttpError, ReloadOutcome, ReloadRequest, READY_WITHIN};
pub use instruments::Telemetry;
pub use ledger::{Counts, DropReason};
pub use logging::{init_logging, set_log_level, LogFormat};
pub use metrics::Metrics;
pub use progress_line::{ProgressLine, Work};
pub use status::status;
