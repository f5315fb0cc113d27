//! The agent's own signals: its logs (structured JSON through `tracing`), its metrics (the loss ledger
//! among them) and its health endpoints. Every notable event is one function here: a method of
//! [`Telemetry`] when it is counted (it logs it and counts it), a free function when only the log tells
//! it (`files`, `kube`, `lifecycle`, `reload`), so the stages log nothing themselves.
//!
//! Telemetry imports no stage: what `/status` and `/metrics` read of them (the tailed files, the pod
//! cache, the registry's tracker) is behind the traits of `sources`, which the stages implement.

mod delivery;
mod elasticsearch;
mod file_metrics;
mod files;
mod http;
pub mod human;
mod instruments;
mod kube;
mod ledger;
mod lifecycle;
mod limits;
mod log_events;
mod logging;
mod metrics;
mod progress_line;
mod reading;
mod registry;
mod reload;
mod sources;
mod status;

pub use elasticsearch::{certificate_not_verified, DeliveryCounts};
pub use files::*;
pub use http::{serve_http, HttpError, ReloadOutcome, ReloadRequest, READY_WITHIN};
pub use instruments::Telemetry;
pub use kube::*;
pub use ledger::{Counts, DropReason};
pub use lifecycle::*;
pub use limits::LimitedPod;
pub use logging::{init_logging, set_log_level, LogFormat};
pub use metrics::Metrics;
pub use progress_line::{ProgressLine, Work};
pub use reading::ReadCounts;
pub use registry::registry_corrupt;
pub use reload::*;
pub use sources::{
    CacheStatus, FileNow, FileState, FilesNow, PodCacheHealth, TailedFiles, UnsavedEvents,
};
pub use status::status;
