//! The agent's own signals: its logs (structured JSON through `tracing`), its metrics (the loss ledger
//! among them) and its health endpoints. Every notable event is one method of [`Telemetry`] that logs
//! it and counts it; telemetry imports no stage of the pipeline, so every stage reports to it.

mod delivery;
mod gauges;
mod http;
mod instruments;
mod kube;
mod ledger;
mod lifecycle;
mod logging;
mod metrics;
mod reading;
mod registry;
mod tailing;

pub use delivery::DeliveryCounts;
pub use gauges::{FilesNow, KubeNow, MeasureFiles, MeasureKube};
pub use http::{serve_http, HttpError, READY_WITHIN};
pub use instruments::Telemetry;
pub use ledger::{Counts, DropReason};
pub use logging::{init_logging, LogFormat};
pub use metrics::Metrics;
pub use reading::ReadCounts;
