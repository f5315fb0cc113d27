//! The agent's own metrics, in the Prometheus text format: the loss ledger, delivery, files (in
//! `file_metrics`), the registry, and the Kubernetes metadata cache, read at each scrape.

use std::fmt::Write as _;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::file_metrics::FilesCollector;
use super::ledger::DropReason;
use super::sources::PodCacheHealth;
use super::Telemetry;

/// Every metric starts with `loglynk_`.
const PREFIX: &str = "loglynk";

/// What `/metrics` serves. Built once at start; collectors read live state at each scrape.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    pub fn new(telemetry: &Arc<Telemetry>) -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register(
            "build",
            "loglynk's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register_collector(Box::new(LedgerCollector {
            telemetry: Arc::clone(telemetry),
        }));
        registry.register_collector(Box::new(DeliveryCollector {
            telemetry: Arc::clone(telemetry),
        }));
        registry.register_collector(Box::new(super::log_events::LogEventsCollector(Arc::clone(
            telemetry,
        ))));
        registry.register_collector(Box::new(super::limits::LimitsCollector(Arc::clone(
            telemetry,
        ))));
        registry.register_collector(Box::new(FilesCollector::new(telemetry)));
        let t = telemetry;
        let reloads = &t.config_reloads;
        for result in ["success", "failure"] {
            // Both series exist from the start, so an alert on failures has a zero to compare with.
            let _ = reloads.get_or_create(&vec![("result", result)]);
        }
        registry.register(
            "config_reloads",
            "Reloads of the configuration: success (applied) or failure (refused, the running one kept)",
            reloads.clone(),
        );
        registry.register(
            "bulk_requests",
            "Bulk requests by HTTP status (\"error\": no answer)",
            t.bulk_requests.clone(),
        );
        registry.register(
            "hints_invalid",
            "Pod annotation hints left out, by reason, once per pod and annotation",
            t.hints_invalid.clone(),
        );
        registry.register(
            "files_excluded",
            "Files left unread, by reason (hint: co.elastic.logs/enabled false)",
            t.files_excluded.clone(),
        );
        registry.register(
            "shipped_bytes",
            "Bytes of bulk items (action and document lines, uncompressed) Elasticsearch settled, by \
             the Kubernetes namespace of their file",
            t.shipped_bytes.clone(),
        );
        let counters = [
            (
                "bulk_retries",
                "Bulk requests sent again, whole or in part",
                &t.bulk_retries,
            ),
            (
                "events_deduplicated",
                "Events Elasticsearch already held under their _id, sent again after a crash or a \
                 lost answer; counted shipped too",
                &t.events_deduplicated,
            ),
            (
                "files_refused",
                "Discovered files refused for resolving outside the log roots",
                &t.files_refused,
            ),
            (
                "registry_flush_failures",
                "Writes of the registry that failed; each is retried until one succeeds",
                &t.registry_flush_failures,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        let gauges = [(
            "queued_bytes",
            "Bulk request bodies built and not yet delivered",
            &t.queued_bytes,
        )];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        let histograms = [
            (
                "bulk_request_duration",
                "Time from sending a bulk request to its answer",
                &t.bulk_duration,
            ),
            (
                "registry_flush_duration",
                "Time to write the registry of delivered offsets",
                &t.registry_flush,
            ),
        ];
        for (name, help, histogram) in histograms {
            registry.register_with_unit(name, help, Unit::Seconds, histogram.clone());
        }
        registry.register_with_unit(
            "elasticsearch_last_success_timestamp",
            "When a bulk request last succeeded",
            Unit::Seconds,
            t.es_last_success.clone(),
        );
        Metrics { registry }
    }

    /// Adds the pod cache's size and watch health.
    pub fn register_kube(&mut self, cache: impl PodCacheHealth + 'static) {
        self.registry.register_collector(Box::new(KubeCollector {
            cache: Box::new(cache),
        }));
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

/// Encodes each `(name, help, value)` as a counter of its own, read at this scrape.
pub(super) fn encode_counters(
    encoder: &mut DescriptorEncoder,
    counters: &[(&str, &str, u64)],
) -> Result<(), std::fmt::Error> {
    for &(name, help, value) in counters {
        let counter = ConstCounter::new(value);
        counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
    }
    Ok(())
}

/// The ledger from one reading, so its lines balance in every scrape.
#[derive(Debug)]
struct LedgerCollector {
    telemetry: Arc<Telemetry>,
}

impl Collector for LedgerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // The ledger first, the tracker second: a batch read in between is counted unsaved without
        // being counted in flight, so the two gauges together overstate rather than understate what
        // a crash would send again.
        let counts = self.telemetry.ledger.counts();
        let not_in_registry = self.telemetry.events_not_in_registry();
        let counters = [
            (
                "lines_read",
                "Log lines handed to the pipeline (a joined partial line counts once)",
                counts.read,
            ),
            (
                "events_shipped",
                "Events Elasticsearch acknowledged",
                counts.shipped,
            ),
            (
                "events_dead_lettered",
                "Events Elasticsearch refused for good, kept in the dead-letter file",
                counts.dead_lettered,
            ),
            (
                "events_failure_stored",
                "Events the data stream's mappings refused, kept in its failure store (not shipped)",
                counts.failure_stored,
            ),
        ];
        encode_counters(&mut encoder, &counters)?;
        let mut dropped = encoder.encode_descriptor(
            "events_dropped",
            "Events dropped, by reason",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for reason in DropReason::ALL {
            let counter = ConstCounter::new(counts.dropped(reason));
            counter.encode(dropped.encode_family(&[("reason", reason.as_str())])?)?;
        }
        let in_flight = ConstGauge::new(counts.in_flight());
        in_flight.encode(encoder.encode_descriptor(
            "events_in_flight",
            "Lines read and not yet shipped, dropped or dead-lettered",
            None,
            in_flight.metric_type(),
        )?)?;
        let unsaved = ConstGauge::new((not_in_registry as i64 - counts.in_flight()).max(0));
        unsaved.encode(encoder.encode_descriptor(
            "registry_unsaved_events",
            "Events shipped, dropped or dead-lettered whose offsets the registry on disk lacks yet: \
             with those in flight, what a crash now would send again",
            None,
            unsaved.metric_type(),
        )?)?;
        Ok(())
    }
}

/// The delivery latency histogram (see `delivery`), read at the scrape.
#[derive(Debug)]
struct DeliveryCollector {
    telemetry: Arc<Telemetry>,
}

impl Collector for DeliveryCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = self.telemetry.delivery_latency.snapshot();
        let mut metric = encoder.encode_descriptor(
            "delivery_latency",
            "Time from a line being written (its @timestamp) to Elasticsearch settling it \
             (acknowledged, or refused into the dead-letter file)",
            Some(&Unit::Seconds),
            prometheus_client::metrics::MetricType::Histogram,
        )?;
        metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            now.sum,
            now.count,
            &now.buckets,
            None,
        )
    }
}

#[derive(Debug)]
struct KubeCollector {
    cache: Box<dyn PodCacheHealth>,
}

impl Collector for KubeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = self.cache.status();
        let flag = |b: bool| i64::from(b);
        let gauges: [(&str, &str, i64); 4] = [
            (
                "kube_cache_ready",
                "1 once the first list of pods (and namespaces) completed",
                flag(status.ready),
            ),
            (
                "kube_cache_stale",
                "1 while the watch has failed for longer than 30 s: events get the last known metadata",
                flag(status.stale),
            ),
            (
                "kube_cache_pods",
                "Pods of this node in the metadata cache",
                status.pods as i64,
            ),
            (
                "kube_cache_deleted_pods",
                "Deleted pods still answered for (cleanup_timeout)",
                status.recently_deleted as i64,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
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
