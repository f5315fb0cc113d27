//! The agent's own metrics, in the Prometheus text format: build information, and the Kubernetes
//! metadata cache's health read at each scrape.

use std::fmt::Write as _;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::enrich::kube::cache::PodCache;

/// Every metric starts with `loglynk_`.
const PREFIX: &str = "loglynk";

/// What `/metrics` serves. Built once at start; collectors read live state at each scrape.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register(
            "build",
            "loglynk's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        Metrics { registry }
    }

    /// Adds the pod cache's size and watch health.
    pub fn register_kube(&mut self, cache: PodCache) {
        self.registry
            .register_collector(Box::new(KubeCollector { cache }));
    }

    /// The text exposition (OpenMetrics, which Prometheus reads), ending in `# EOF`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Only a collector's own formatting could fail; say so rather than serve half a page.
            out.clear();
            let _ = writeln!(out, "# loglynk: metrics could not be encoded: {error}");
        }
        out
    }
}

#[derive(Debug)]
struct KubeCollector {
    cache: PodCache,
}

impl Collector for KubeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.cache.status();
        let flag = |b: bool| i64::from(b);
        let gauges: [(&str, &str, Option<Unit>, i64); 4] = [
            (
                "kube_cache_ready",
                "1 once the first list of pods (and namespaces) completed",
                None,
                flag(status.ready),
            ),
            (
                "kube_cache_stale",
                "1 while the watch has failed for longer than 30 s: events get the last known metadata",
                None,
                flag(status.stale),
            ),
            (
                "kube_cache_pods",
                "Pods of this node in the metadata cache",
                None,
                status.pods as i64,
            ),
            (
                "kube_cache_deleted_pods",
                "Deleted pods still answered for (cleanup_timeout)",
                None,
                status.recently_deleted as i64,
            ),
        ];
        for (name, help, unit, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(
                name,
                help,
                unit.as_ref(),
                gauge.metric_type(),
            )?)?;
        }
        let failing = ConstGauge::new(status.failing_for.map_or(0.0, |d| d.as_secs_f64()));
        failing.encode(encoder.encode_descriptor(
            "kube_watch_failing",
            "How long the Kubernetes API watch has been failing; 0 when healthy",
            Some(&Unit::Seconds),
            failing.metric_type(),
        )?)?;
        let errors = ConstCounter::new(status.errors);
        errors.encode(encoder.encode_descriptor(
            "kube_watch_errors",
            "Kubernetes API watch and list errors, every retry counted",
            None,
            errors.metric_type(),
        )?)?;
        Ok(())
    }
}
