//! The agent's own signals: its logs (structured JSON through `tracing`), its metrics (the loss ledger
//! among them) and its health endpoints. Every notable event is one method of [`Telemetry`] that logs
//! it and counts it.

mod delivery;
mod elasticsearch;
mod http;
pub mod human;
mod instruments;
mod ledger;
mod lifecycle;
mod limits;
mod log_events;
mod logging;
mod metrics;
mod progress_line;
mod reading;
mod registry;
mod status;

pub use elasticsearch::DeliveryCounts;
pub use http::{serve_http, HttpError, ReloadOutcome, ReloadRequest, READY_WITHIN};
pub use instruments::Telemetry;
pub use ledger::{Counts, DropReason};
pub use limits::LimitedPod;
pub use logging::{init_logging, set_log_level, LogFormat};
pub use metrics::Metrics;
pub use progress_line::{ProgressLine, Work};
pub use reading::ReadCounts;
pub use status::status;
