//! What the screen shows, computed from two readings of the agent a second apart: rates from the
//! ledger's counters, the rest as `/status` and `/metrics` say it.

use std::time::Instant;

use serde_json::Value;

use crate::telemetry::human::{self, duration};

/// How the files are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    BytesBehind,
    SecondsBehind,
    Pod,
    State,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::BytesBehind => Sort::SecondsBehind,
            Sort::SecondsBehind => Sort::Pod,
            Sort::Pod => Sort::State,
            Sort::State => Sort::BytesBehind,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sort::BytesBehind => "bytes behind",
            Sort::SecondsBehind => "seconds behind",
            Sort::Pod => "pod",
            Sort::State => "state",
        }
    }
}

/// One reading.
#[derive(Debug, Clone)]
pub struct Reading {
    pub at: Instant,
    pub status: Value,
    pub metrics: String,
}

/// The screen's content, as text: summary lines, then the files' table.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub title: String,
    pub summary: Vec<(String, String)>,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

pub const HEADER: [&str; 8] = [
    "NAMESPACE",
    "POD",
    "CONTAINER",
    "STATE",
    "BEHIND",
    "FOR",
    "OFFSET",
    "SIZE",
];

impl View {
    pub fn new(url: &str, now: &Reading, before: Option<&Reading>, sort: Sort) -> View {
        let s = &now.status;
        let ledger = &s["ledger"];
        let rate = |name: &str| -> String {
            let Some(before) = before else {
                return "…".to_owned();
            };
            let seconds = now.at.duration_since(before.at).as_secs_f64();
            let (a, b) = (
                before.status["ledger"][name].as_f64(),
                ledger[name].as_f64(),
            );
            match (a, b) {
                (Some(a), Some(b)) if seconds > 0.0 => {
                    format!("{:.0}/s", (b - a).max(0.0) / seconds)
                }
                _ => "?".to_owned(),
            }
        };
        let dropped: u64 = ledger["dropped"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        let running = if s["pipeline_running"] == true {
            "running"
        } else {
            "NOT RUNNING"
        };
        let title = format!(
            "loglynk top — {url} — {} — up {} — pipeline {running} — sort: {} (s)  reverse (r)  quit (q)",
            s["version"].as_str().unwrap_or("?"),
            duration(s["uptime_seconds"].as_f64().unwrap_or(0.0)),
            sort.name()
        );
        let output = &s["output"];
        let retry = match output["retry_backoff_seconds"].as_f64() {
            Some(backoff) => format!(
                "backing off {}, next try in {}",
                duration(backoff),
                duration(output["retry_in_seconds"].as_f64().unwrap_or(0.0))
            ),
            None => "none".to_owned(),
        };
        let last_success = output["last_success_seconds_ago"]
            .as_f64()
            .map_or("never".to_owned(), |ago| format!("{} ago", duration(ago)));
        let bulk_errors = sum_samples(
            &now.metrics,
            "loglynk_bulk_requests_total{status=\"error\"}",
        );
        let retries = sum_samples(&now.metrics, "loglynk_bulk_retries_total");
        let kube = match s["kubernetes"].as_object() {
            None => "off".to_owned(),
            Some(k) => {
                let health = match k.get("watch_failing_seconds").and_then(Value::as_f64) {
                    Some(f) if f > 0.0 => format!("watch FAILING for {}", duration(f)),
                    _ => "watch healthy".to_owned(),
                };
                format!(
                    "{}, {} pods ({} deleted kept), {health}",
                    if k.get("ready") == Some(&Value::Bool(true)) {
                        "ready"
                    } else {
                        "NOT READY"
                    },
                    k.get("pods").unwrap_or(&Value::Null),
                    k.get("deleted_pods").unwrap_or(&Value::Null),
                )
            }
        };
        let registry = match s["registry"]["failing"].as_str() {
            Some(why) => format!("FAILING: {why}"),
            None => "saved".to_owned(),
        };
        let totals = &s["totals"];
        // Only on clusters with a failure store; elsewhere it is always 0.
        let failure_stored = ledger["failure_stored"]
            .as_u64()
            .filter(|n| *n > 0)
            .map(|n| format!("  failure-stored {n}"))
            .unwrap_or_default();
        let summary =
            vec![
                (
                    "Throughput".to_owned(),
                    format!(
                        "in {} lines   out {} events",
                        rate("lines_read"),
                        rate("shipped")
                    ),
                ),
                (
                    "Ledger".to_owned(),
                    format!(
                    "read {}  shipped {}  dropped {dropped}  dead-lettered {}{failure_stored}  \
                     in flight {}  unsaved {}",
                    ledger["lines_read"], ledger["shipped"], ledger["dead_lettered"],
                    ledger["in_flight"], ledger["registry_unsaved"]
                ),
                ),
                (
                    "Output".to_owned(),
                    format!(
                        "queue {}  requests {}  last success {last_success}  retry {retry}  \
                     retries {retries:.0}  unanswered {bulk_errors:.0}",
                        bytes(output["queued_bytes"].as_f64().unwrap_or(0.0)),
                        output["requests_in_flight"],
                    ),
                ),
                ("Kubernetes".to_owned(), kube),
                ("Registry".to_owned(), registry),
                (
                    "Files".to_owned(),
                    format!(
                        "{} tailed, {} open, {} behind",
                        totals["files"],
                        totals["open"],
                        bytes(totals["bytes_behind"].as_f64().unwrap_or(0.0))
                    ),
                ),
            ];
        let mut files: Vec<&Value> = s["files"]
            .as_array()
            .map(|f| f.iter().collect())
            .unwrap_or_default();
        let text = |f: &Value, key: &str| f[key].as_str().unwrap_or("").to_owned();
        let number = |f: &Value, key: &str| f[key].as_f64().unwrap_or(0.0);
        match sort {
            Sort::BytesBehind => files
                .sort_by(|a, b| number(b, "bytes_behind").total_cmp(&number(a, "bytes_behind"))),
            Sort::SecondsBehind => files.sort_by(|a, b| {
                number(b, "seconds_behind").total_cmp(&number(a, "seconds_behind"))
            }),
            Sort::Pod => {
                files.sort_by_key(|f| (text(f, "namespace"), text(f, "pod"), text(f, "container")))
            }
            Sort::State => files.sort_by_key(|f| (text(f, "state"), text(f, "pod"))),
        }
        let rows = files
            .iter()
            .map(|f| {
                let or_path = |v: String| {
                    if v.is_empty() {
                        "-".to_owned()
                    } else {
                        v
                    }
                };
                vec![
                    or_path(text(f, "namespace")),
                    if text(f, "pod").is_empty() {
                        text(f, "path")
                    } else {
                        text(f, "pod")
                    },
                    or_path(text(f, "container")),
                    text(f, "state"),
                    bytes(number(f, "bytes_behind")),
                    duration(number(f, "seconds_behind")),
                    bytes(number(f, "offset")),
                    f["size"].as_f64().map_or("-".to_owned(), bytes),
                ]
            })
            .collect();
        View {
            title,
            summary,
            header: HEADER.to_vec(),
            rows,
        }
    }

    /// The view as plain text: what a non-terminal gets, and what the tests read.
    pub fn to_text(&self, max_rows: usize) -> String {
        let mut out = format!("{}\n", self.title);
        for (label, value) in &self.summary {
            out.push_str(&format!("{label:<11} {value}\n"));
        }
        let rows: Vec<&Vec<String>> = self.rows.iter().take(max_rows).collect();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let mut text = String::new();
            for (cell, w) in cells.iter().zip(&widths) {
                text.push_str(&format!("{cell:<w$}  ", w = *w));
            }
            text.trim_end().to_owned() + "\n"
        };
        out.push('\n');
        out.push_str(&line(self.header.clone()));
        for row in rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        if self.rows.len() > max_rows {
            out.push_str(&format!("… {} more files\n", self.rows.len() - max_rows));
        }
        out
    }
}

/// The sum of a sample's values over its label sets (`name{…}` or bare `name`).
fn sum_samples(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix(name))
        .filter_map(|rest| rest.rsplit(' ').next()?.parse::<f64>().ok())
        // An empty sum of floats is -0.0, which would print as "-0".
        .fold(0.0, |sum, x| sum + x)
}

/// The numbers of `/status` are JSON numbers.
fn bytes(n: f64) -> String {
    human::bytes(n.max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn reading(at: Instant, read: u64, shipped: u64) -> Reading {
        Reading {
            at,
            status: json!({
                "version": "0.1.0", "uptime_seconds": 75.0, "pipeline_running": true,
                "ledger": {"lines_read": read, "shipped": shipped, "dropped": {"own_logs": 1},
                           "dead_lettered": 0, "in_flight": read - shipped - 1, "registry_unsaved": 0},
                "output": {"queued_bytes": 2048, "requests_in_flight": 1, "last_success_seconds_ago": 0.5,
                           "retry_backoff_seconds": 4.0, "retry_in_seconds": 2.5},
                "registry": {"failing": null},
                "kubernetes": null,
                "totals": {"files": 2, "open": 2, "bytes_behind": 300},
                "files": [
                    {"path": "/p/a", "namespace": "shop", "pod": "web", "container": "app", "offset": 10,
                     "size": 110, "bytes_behind": 100, "seconds_behind": 1.0, "state": "reading"},
                    {"path": "/p/b", "namespace": "pay", "pod": "api", "container": "srv", "offset": 0,
                     "size": 200, "bytes_behind": 200, "seconds_behind": 90.0, "state": "waiting_for_metadata"},
                ],
            }),
            metrics:
                "loglynk_bulk_retries_total 3\nloglynk_bulk_requests_total{status=\"error\"} 2\n"
                    .into(),
        }
    }

    #[test]
    fn rates_come_from_two_readings_and_files_sort_as_asked() {
        let start = Instant::now();
        let before = reading(start, 1000, 900);
        let now = reading(start + Duration::from_secs(2), 3000, 2900);
        let view = View::new("http://x:5066", &now, Some(&before), Sort::BytesBehind);
        let text = view.to_text(10);
        assert!(
            text.contains("in 1000/s lines   out 1000/s events"),
            "{text}"
        );
        assert!(
            text.contains("retry backing off 4s, next try in 2.5s"),
            "{text}"
        );
        assert!(text.contains("retries 3  unanswered 2"), "{text}");
        assert_eq!(view.rows[0][1], "api");
        let by_pod = View::new("u", &now, None, Sort::Pod);
        assert_eq!(by_pod.rows[0][0], "pay");
        assert!(by_pod.to_text(10).contains("in …"));
        let by_state = View::new("u", &now, None, Sort::State);
        assert_eq!(by_state.rows[0][3], "reading");
        assert!(View::new("u", &now, None, Sort::BytesBehind)
            .to_text(1)
            .contains("… 1 more files"));
        assert!(!text.contains("failure-stored"), "{text}");
        let mut stored = reading(start, 1000, 900);
        stored.status["ledger"]["failure_stored"] = json!(4);
        let text = View::new("u", &stored, None, Sort::Pod).to_text(10);
        assert!(
            text.contains("dead-lettered 0  failure-stored 4  in flight"),
            "{text}"
        );
    }
}
