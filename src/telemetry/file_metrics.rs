//! The tailed files' metrics, measured at each scrape: how many are tailed and open, the bytes not
//! read yet, and the containers furthest behind, by name and by how long.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use super::{FileNow, Telemetry};

/// The file gauges, measured at the scrape: they must move while the reading thread is blocked in a
/// stalled output (see `Progress`).
#[derive(Debug)]
pub(super) struct FilesCollector {
    telemetry: Arc<Telemetry>,
}

impl FilesCollector {
    pub(super) fn new(telemetry: &Arc<Telemetry>) -> FilesCollector {
        FilesCollector {
            telemetry: Arc::clone(telemetry),
        }
    }
}

impl Collector for FilesCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.telemetry.files_now();
        let gauges = [
            ("files_tailed", "Files being tailed", now.tailed),
            (
                "files_open",
                "Tailed files with an open descriptor",
                now.open,
            ),
            (
                "files_bytes_behind",
                "Bytes written to tailed files and not read yet, summed over files",
                now.behind,
            ),
            (
                "files_bytes_behind_max",
                "Bytes not read yet in the file furthest behind",
                now.behind_max,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let lagging = lagging_containers(&self.telemetry.files());
        let mut bytes = encoder.encode_descriptor(
            "container_lag_bytes",
            "Bytes written and not read yet, per container, for the containers furthest behind \
             (at most 10 series)",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for lag in &lagging {
            let gauge = ConstGauge::new(i64::try_from(lag.bytes).unwrap_or(i64::MAX));
            gauge.encode(bytes.encode_family(&lag.labels())?)?;
        }
        let mut seconds = encoder.encode_descriptor(
            "container_lag",
            "How long reading has not been at the end of the container's log: the age of its oldest \
             unread line at most; the same containers as container_lag_bytes",
            Some(&Unit::Seconds),
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for lag in &lagging {
            let gauge = ConstGauge::new(lag.seconds);
            gauge.encode(seconds.encode_family(&lag.labels())?)?;
        }
        Ok(())
    }
}

/// Per-container series are bounded: a node runs hundreds of containers, and only those behind matter.
const LAGGING_SERIES: usize = 10;

/// One container behind: its rotated files and its current one together.
#[derive(Debug, PartialEq)]
struct Lag {
    namespace: String,
    pod: String,
    container: String,
    bytes: u64,
    seconds: f64,
}

impl Lag {
    fn labels(&self) -> [(&'static str, &str); 3] {
        // Not `namespace` and `pod`: Prometheus sets those on every series to the agent's own.
        [
            ("kubernetes_namespace", &self.namespace),
            ("kubernetes_pod", &self.pod),
            ("kubernetes_container", &self.container),
        ]
    }
}

/// The containers with unread bytes, furthest behind first, at most [`LAGGING_SERIES`].
fn lagging_containers(files: &[FileNow]) -> Vec<Lag> {
    let mut by_container: std::collections::BTreeMap<(String, String, String), Lag> =
        std::collections::BTreeMap::new();
    for file in files.iter().filter(|f| f.behind > 0) {
        let meta = crate::event::path_metadata(&file.path, None);
        let name = |v: Option<String>| v.unwrap_or_default();
        let key = (
            name(meta.namespace),
            name(meta.pod_name),
            name(meta.container_name),
        );
        let lag = by_container.entry(key.clone()).or_insert(Lag {
            namespace: key.0,
            pod: key.1,
            container: key.2,
            bytes: 0,
            seconds: 0.0,
        });
        lag.bytes += file.behind;
        lag.seconds = lag.seconds.max(file.behind_for.as_secs_f64());
    }
    let mut lagging: Vec<Lag> = by_container.into_values().collect();
    lagging.sort_by_key(|lag| std::cmp::Reverse(lag.bytes));
    lagging.truncate(LAGGING_SERIES);
    lagging
}
