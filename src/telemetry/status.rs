//! `GET /status`: what the agent is doing now, as one JSON document for a person (through `loglynk
//! top`) or a script: each tailed file with its pod, offset, size, how far and how long it is behind
//! and its state; the output's queue, requests in flight, last success and retry wait; the metadata
//! cache; the loss ledger. Read from live state at each request, like `/metrics`; no setting and no
//! secret is in it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::ledger::DropReason;
use super::Telemetry;
use crate::event::path_metadata;

/// The document, built now.
pub fn status(telemetry: &Telemetry) -> Value {
    let counts = telemetry.counts();
    let not_in_registry = telemetry.events_not_in_registry() as i64;
    let mut dropped = serde_json::Map::new();
    for reason in DropReason::ALL {
        dropped.insert(reason.as_str().into(), json!(counts.dropped(reason)));
    }
    let files = telemetry.files();
    let (mut open, mut behind) = (0, 0);
    let files: Vec<Value> = files
        .iter()
        .map(|file| {
            open += u64::from(!matches!(file.state.as_str(), "closed" | "limited"));
            behind += file.behind;
            let meta = path_metadata(&file.path, None);
            json!({
                "path": file.path.display().to_string(),
                "namespace": meta.namespace,
                "pod": meta.pod_name,
                "container": meta.container_name,
                "offset": file.offset,
                "size": file.size,
                "bytes_behind": file.behind,
                "seconds_behind": seconds(file.behind_for),
                "state": file.state.as_str(),
            })
        })
        .collect();
    let backoff = telemetry.backoff();
    let last_success = telemetry.last_success();
    let kubernetes = telemetry.kube_status().map(|s| {
        json!({
            "ready": s.ready,
            "stale": s.stale,
            "pods": s.pods,
            "deleted_pods": s.recently_deleted,
            "namespaces": s.namespaces,
            "watch_failing_seconds": s.failing_for.map_or(0.0, seconds),
            "watch_errors": s.errors,
            "last_error": s.last_error,
        })
    });
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": seconds(telemetry.uptime()),
        "pipeline_running": telemetry.pipeline_running(),
        "ledger": {
            "lines_read": counts.read,
            "shipped": counts.shipped,
            "dropped": dropped,
            "dead_lettered": counts.dead_lettered,
            "failure_stored": counts.failure_stored,
            "in_flight": counts.in_flight(),
            "registry_unsaved": (not_in_registry - counts.in_flight()).max(0),
        },
        "output": {
            "queued_bytes": telemetry.queued_bytes(),
            "requests_in_flight": telemetry.requests_in_flight(),
            "last_success": last_success.map(rfc3339),
            "last_success_seconds_ago": last_success.map(|t| seconds(t.elapsed().unwrap_or_default())),
            "last_answer_seconds_ago": telemetry.since_es_answered().map(seconds),
            "retry_backoff_seconds": backoff.map(|(length, _)| seconds(length)),
            "retry_in_seconds": backoff.map(|(_, left)| seconds(left)),
        },
        "registry": { "failing": telemetry.registry_failing() },
        "kubernetes": kubernetes,
        "totals": { "files": files.len(), "open": open, "bytes_behind": behind },
        "files": files,
    })
}

/// Seconds with millisecond precision.
fn seconds(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    chrono::DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_agent_shows_a_balanced_ledger_and_no_output_trouble() {
        let telemetry = Telemetry::default();
        telemetry.lines_read(10);
        telemetry.events_shipped(7);
        telemetry.events_dropped(DropReason::OwnLogs, 1);
        telemetry.bulk_sent();
        let status = status(&telemetry);
        assert_eq!(status["ledger"]["lines_read"], 10);
        assert_eq!(status["ledger"]["in_flight"], 2);
        assert_eq!(status["ledger"]["dropped"]["own_logs"], 1);
        assert_eq!(status["output"]["requests_in_flight"], 1);
        assert_eq!(status["output"]["retry_backoff_seconds"], Value::Null);
        assert_eq!(status["output"]["last_success"], Value::Null);
        telemetry.backing_off(Duration::from_secs(8));
        telemetry.bulk_answered(200, Duration::from_millis(5));
        let status = super::status(&telemetry);
        assert_eq!(status["output"]["requests_in_flight"], 0);
        assert_eq!(
            status["output"]["retry_backoff_seconds"],
            Value::Null,
            "a success ends the wait"
        );
        assert!(status["output"]["last_success"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        assert_eq!(status["files"], json!([]));
        assert_eq!(status["kubernetes"], Value::Null);
    }
}
