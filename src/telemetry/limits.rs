//! Rate limits and what they cost: the pods being limited now (`loglynk_rate_limited_pods`, and one
//! series each for the first of them), logged when a pod starts and stops being limited; and bytes a
//! rotation deleted before they were read (`loglynk_lost_to_rotation_*`), logged with the pod.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;

use super::instruments::{add, load};
use super::metrics::encode_counters;
use super::Telemetry;

/// Per-pod series are bounded: every pod of a node could be limited at once.
pub(super) const LIMITED_SERIES: usize = 10;

/// A pod held back (`delay`) or dropped from (`drop`) by a rate limit lately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitedPod {
    pub namespace: String,
    pub pod: String,
    /// `delay` or `drop`.
    pub policy: &'static str,
    /// `node`, `namespace` or `pod`: the limit that held it (a node's limit holds every pod).
    pub scope: &'static str,
    /// The limit, as configured (`1000/s`).
    pub limit: String,
    /// Lines dropped since it became limited.
    pub dropped: u64,
    pub limited_for: Duration,
}

#[derive(Debug, Default)]
pub(super) struct LimitCounters {
    limited: Mutex<Vec<LimitedPod>>,
    lost_files: AtomicU64,
    lost_bytes: AtomicU64,
}

impl Telemetry {
    /// A pod is held back or dropped from by a rate limit, from now on.
    pub fn pod_limited(
        &self,
        namespace: &str,
        pod: &str,
        policy: &str,
        scope: &str,
        limit: &dyn std::fmt::Display,
    ) {
        tracing::info!(
            kubernetes.namespace = namespace,
            kubernetes.pod.name = pod,
            policy,
            scope,
            %limit,
            "rate limited: {}",
            match policy {
                "drop" => "lines beyond the limit are dropped",
                _ => "its lines wait in their files",
            }
        );
    }

    /// A pod has not been limited for a while.
    pub fn pod_unlimited(&self, namespace: &str, pod: &str, lasted: Duration, dropped: u64) {
        tracing::info!(
            kubernetes.namespace = namespace,
            kubernetes.pod.name = pod,
            lasted_s = lasted.as_secs(),
            dropped,
            "no longer rate limited"
        );
    }

    /// The pods limited now, as the reading side sees them.
    pub fn set_limited_pods(&self, mut pods: Vec<LimitedPod>) {
        pods.sort_by(|a, b| {
            b.dropped
                .cmp(&a.dropped)
                .then(b.limited_for.cmp(&a.limited_for))
                .then_with(|| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)))
        });
        *self
            .limits
            .limited
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = pods;
    }

    /// The pods limited now, those that dropped most first.
    pub fn limited_pods(&self) -> Vec<LimitedPod> {
        self.limits
            .limited
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A file was deleted by its rotation before it was read to its end: `bytes` of it are lost.
    pub fn lost_to_rotation(&self, path: &str, namespace: &str, pod: &str, bytes: u64) {
        add(&self.limits.lost_files, 1);
        add(&self.limits.lost_bytes, bytes);
        tracing::warn!(
            path,
            kubernetes.namespace = namespace,
            kubernetes.pod.name = pod,
            bytes,
            "lost to rotation: the file was deleted before it was read to its end"
        );
    }

    /// Files, and their bytes, lost to rotation so far.
    pub fn lost_to_rotation_counts(&self) -> (u64, u64) {
        (load(&self.limits.lost_files), load(&self.limits.lost_bytes))
    }
}

/// The limits' series, read at each scrape.
#[derive(Debug)]
pub(super) struct LimitsCollector(pub(super) Arc<Telemetry>);

impl Collector for LimitsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let pods = self.0.limited_pods();
        let count = ConstGauge::new(pods.len() as i64);
        count.encode(encoder.encode_descriptor(
            "rate_limited_pods",
            "Pods held back (delay) or dropped from (drop) by a rate limit in the last 10 s",
            None,
            count.metric_type(),
        )?)?;
        let mut each = encoder.encode_descriptor(
            "pod_rate_limited",
            "1 for each pod rate limited now (at most 10 series: those that dropped most, then the \
             longest limited), by policy and the scope of the limit",
            None,
            MetricType::Gauge,
        )?;
        for pod in pods.iter().take(LIMITED_SERIES) {
            let labels = [
                // Not `namespace` and `pod`: Prometheus sets those on every series to the agent's own.
                ("kubernetes_namespace", pod.namespace.as_str()),
                ("kubernetes_pod", pod.pod.as_str()),
                ("policy", pod.policy),
                ("scope", pod.scope),
            ];
            ConstGauge::new(1).encode(each.encode_family(&labels)?)?;
        }
        let (files, bytes) = self.0.lost_to_rotation_counts();
        encode_counters(
            &mut encoder,
            &[
                (
                    "lost_to_rotation_files",
                    "Files deleted by their rotation before they were read to their end",
                    files,
                ),
                (
                    "lost_to_rotation_bytes",
                    "Bytes of files deleted by their rotation before they were read",
                    bytes,
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Metrics;

    #[test]
    fn limited_pods_are_counted_and_the_first_ten_named_and_losses_counted() {
        let telemetry = Arc::new(Telemetry::default());
        let metrics = Metrics::new(&telemetry);
        let text = metrics.encode();
        assert!(text.contains("loglynk_rate_limited_pods 0\n"), "{text}");
        assert!(
            text.contains("loglynk_lost_to_rotation_files_total 0\n"),
            "{text}"
        );
        let pods = (0..12)
            .map(|i| LimitedPod {
                namespace: "shop".into(),
                pod: format!("web-{i:02}"),
                policy: if i == 11 { "drop" } else { "delay" },
                scope: "pod",
                limit: "10/s".into(),
                dropped: if i == 11 { 5 } else { 0 },
                limited_for: Duration::from_secs(i),
            })
            .collect();
        telemetry.set_limited_pods(pods);
        telemetry.lost_to_rotation("/var/log/containers/a.log", "shop", "web-00", 300);
        let text = metrics.encode();
        assert!(text.contains("loglynk_rate_limited_pods 12\n"), "{text}");
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("loglynk_pod_rate_limited{"))
            .collect();
        assert_eq!(series.len(), LIMITED_SERIES);
        assert!(
            series[0].contains("kubernetes_pod=\"web-11\"")
                && series[0].contains("policy=\"drop\""),
            "the pod dropping lines first: {series:?}"
        );
        assert!(series[1].contains("web-10"), "then the longest limited");
        assert!(
            text.contains("loglynk_lost_to_rotation_files_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("loglynk_lost_to_rotation_bytes_total 300\n"),
            "{text}"
        );
    }
}
