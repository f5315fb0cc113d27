//! `loglynk_log_events_total{namespace,container,level}`: the applications' log lines counted by
//! level, what log-based alerts (a rising error rate per workload) are written on.
//!
//! Labels come from pods, so their number is the cluster's to choose: past [`MAX_SERIES`] series, new
//! namespace/container pairs are counted under `namespace="_overflow", container="_overflow"` (by
//! level still), so the total stays right and Prometheus' memory bounded. Levels are folded into a
//! fixed set for the same reason.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::MetricType;

/// Series kept before new namespace/container pairs go to the overflow series.
pub const MAX_SERIES: usize = 2000;
/// The label value of the overflow series' namespace and container.
pub const OVERFLOW: &str = "_overflow";

/// The `level` label: `log.level` folded into a fixed set.
const LEVELS: [&str; 8] = [
    "trace", "debug", "info", "warn", "error", "fatal", "other", "none",
];

/// Index into [`LEVELS`] of a `log.level` value (`None`: the line stated none).
pub fn level_index(level: Option<&str>) -> usize {
    match level {
        None => 7,
        Some("trace") => 0,
        Some("debug") => 1,
        Some("info" | "notice") => 2,
        Some("warn" | "warning") => 3,
        Some("error" | "err" | "severe") => 4,
        Some(
            "fatal" | "critical" | "crit" | "alert" | "emergency" | "emerg" | "panic" | "dpanic",
        ) => 5,
        Some(_) => 6,
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// namespace -> container -> count per level; a level's count exists once it was seen.
    by_source: HashMap<String, HashMap<String, [Option<u64>; 8]>>,
    overflow: [Option<u64>; 8],
    series: usize,
}

#[derive(Debug, Default)]
pub struct LogEvents {
    counts: Mutex<Counts>,
}

impl LogEvents {
    /// Adds `n` events of one source and level. Called once per run of like events in a batch.
    pub fn add(&self, namespace: &str, container: &str, level: usize, n: u64) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = &mut *counts;
        let existing = counts
            .by_source
            .get_mut(namespace)
            .and_then(|containers| containers.get_mut(container))
            .filter(|levels| levels[level].is_some());
        if let Some(levels) = existing {
            *levels[level].get_or_insert(0) += n;
            return;
        }
        if counts.series >= MAX_SERIES {
            *counts.overflow[level].get_or_insert(0) += n;
            return;
        }
        counts.series += 1;
        let levels = counts
            .by_source
            .entry(namespace.to_owned())
            .or_default()
            .entry(container.to_owned())
            .or_default();
        *levels[level].get_or_insert(0) += n;
    }
}

/// Serves the counts at each scrape.
#[derive(Debug)]
pub(super) struct LogEventsCollector(pub(super) std::sync::Arc<super::Telemetry>);

impl Collector for LogEventsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts = self
            .0
            .log_events
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut family = encoder.encode_descriptor(
            "log_events",
            "Log lines shipped onwards, by namespace, container and level (log.level folded into \
             trace, debug, info, warn, error, fatal, other, none); past 2000 series new pairs count \
             under _overflow",
            None,
            MetricType::Counter,
        )?;
        let sources = counts
            .by_source
            .iter()
            .flat_map(|(ns, containers)| containers.iter().map(move |(c, l)| (&**ns, &**c, l)))
            .chain(std::iter::once((OVERFLOW, OVERFLOW, &counts.overflow)));
        for (namespace, container, levels) in sources {
            for (level, count) in LEVELS.iter().zip(levels) {
                let Some(count) = count else { continue };
                let labels = [
                    ("namespace", namespace),
                    ("container", container),
                    ("level", *level),
                ];
                ConstCounter::new(*count).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_fold_into_a_fixed_set() {
        assert_eq!(LEVELS[level_index(Some("warning"))], "warn");
        assert_eq!(LEVELS[level_index(Some("critical"))], "fatal");
        assert_eq!(LEVELS[level_index(Some("verbose"))], "other");
        assert_eq!(LEVELS[level_index(None)], "none");
    }

    #[test]
    fn series_past_the_cap_count_under_overflow() {
        let events = LogEvents::default();
        for i in 0..MAX_SERIES {
            events.add("ns", &format!("c{i}"), 4, 1);
        }
        events.add("ns", "c0", 4, 2);
        events.add("ns", "late", 4, 5);
        events.add("other", "c0", 2, 1);
        let counts = events.counts.lock().unwrap();
        assert_eq!(counts.series, MAX_SERIES);
        assert_eq!(
            counts.by_source["ns"]["c0"][4],
            Some(3),
            "an existing series still counts"
        );
        assert!(!counts.by_source["ns"].contains_key("late"));
        assert_eq!(counts.overflow[4], Some(5));
        assert_eq!(counts.overflow[2], Some(1));
    }
}
