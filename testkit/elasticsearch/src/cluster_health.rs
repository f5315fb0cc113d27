//! `GET /_cluster/health[/{index}]`: the one node's health. Green unless an index asks for replicas
//! (the default, 1), which a one-node cluster cannot assign: then yellow, as a real single node is.
//! A red cluster (a primary lost) cannot happen here, so a test sets it with `FaultConfig::health`.

use serde_json::{json, Value};

use super::settings;
use super::store::Store;

pub fn health(store: &Store, forced: Option<&str>) -> Value {
    let primaries = store.indices.len();
    let unassigned = store
        .indices
        .values()
        .map(|idx| {
            let replicas = settings::get(&idx.settings, "index.number_of_replicas")
                .and_then(|r| r.parse::<usize>().ok())
                .unwrap_or(1);
            let auto = settings::get(&idx.settings, "index.auto_expand_replicas")
                .is_some_and(|a| a != "false");
            if auto {
                0
            } else {
                replicas
            }
        })
        .sum::<usize>();
    let status = forced.unwrap_or(if unassigned > 0 { "yellow" } else { "green" });
    let total = primaries + unassigned;
    let active_percent = if total == 0 {
        100.0
    } else {
        primaries as f64 * 100.0 / total as f64
    };
    json!({
        "cluster_name": "es-test-cluster",
        "status": status,
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": primaries,
        "active_shards": primaries,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": unassigned,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": active_percent,
    })
}
