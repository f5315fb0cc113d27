//! The objects `loglynk bootstrap` installs, as the exact JSON bodies it sends.
//!
//! Daily indices get a policy without rollover: ILM puts an index whose policy rolls over but that has no
//! rollover alias into its ERROR step, after which warm and delete never run (elastic/beats#11866).
//! Their age comes from the date in their name instead (`parse_origination_date`), so an event landing
//! late in yesterday's index does not make it look younger than it is.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::features::Features;
use super::mappings::mappings;
use crate::config::{IndexMode, Setup, DATA_STREAM_PATTERN};

/// Above Elasticsearch's built-in templates (priority 100), so ours wins wherever patterns meet.
pub const TEMPLATE_PRIORITY: u32 = 200;
/// The data streams' template (`logs-*-*`): above the built-in `logs` template (100, the same
/// pattern; Elasticsearch refuses two overlapping templates at one priority), and below the 200 of
/// the templates Fleet installs for its integrations' datasets (`logs-nginx.access-*`), which would
/// otherwise clash with ours at that priority; where one is installed, a pod naming its dataset gets
/// its mappings and pipeline, as under Elastic Agent.
pub const DATA_STREAM_TEMPLATE_PRIORITY: u32 = 150;
/// Bumped whenever the template loglynk installs changes, so `GET _index_template` shows which one a
/// cluster has.
pub const TEMPLATE_VERSION: u32 = 5;

/// One object: where it is sent and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `ILM policy`, `index template`, `write index`: for messages.
    pub kind: &'static str,
    pub name: String,
    /// The path as shown, unencoded.
    pub path: String,
    pub body: Value,
}

/// Everything bootstrap installs for `setup` on a cluster with `features`, in the order it is
/// installed: the policy before the template that names it, the template before the first index it
/// shapes, the snapshot policy over the indices last.
pub fn objects(setup: &Setup, features: Features) -> Vec<Object> {
    let mut objects = vec![
        Object {
            kind: "ILM policy",
            name: setup.name.clone(),
            path: format!("/_ilm/policy/{}", setup.name),
            body: policy(setup),
        },
        Object {
            kind: "index template",
            name: setup.name.clone(),
            path: format!("/_index_template/{}", setup.name),
            body: template(setup, features),
        },
    ];
    if setup.mode == IndexMode::Rollover {
        objects.push(Object {
            kind: "write index",
            name: setup.name.clone(),
            path: format!("/<{}-{{now/d}}-000001>", setup.name),
            body: json!({ "aliases": { setup.name.as_str(): { "is_write_index": true } } }),
        });
    }
    if let Some(repository) = &setup.snapshot.repository {
        let indices = objects[1].body["index_patterns"].clone();
        objects.push(Object {
            kind: "snapshot policy",
            name: setup.name.clone(),
            path: format!("/_slm/policy/{}", setup.name),
            body: snapshot_policy(setup, repository, indices),
        });
    }
    objects
}

/// SLM's policy: the indices the template shapes (a data stream brings its backing indices), and
/// nothing of the cluster's global state, which is not loglynk's to restore.
fn snapshot_policy(setup: &Setup, repository: &str, indices: Value) -> Value {
    let snapshot = &setup.snapshot;
    json!({
        "name": format!("<{}-{{now/d}}>", setup.name),
        "schedule": snapshot.schedule,
        "repository": repository,
        "config": {
            "indices": indices,
            // Before the first document there is no index (or data stream) to match.
            "ignore_unavailable": true,
            "include_global_state": false,
            "metadata": meta(setup),
        },
        "retention": {
            "expire_after": time_value(snapshot.expire_after),
            "min_count": snapshot.min_count,
            "max_count": snapshot.max_count,
        }
    })
}

pub fn policy(setup: &Setup) -> Value {
    let ilm = &setup.ilm;
    let mut phases = Map::new();
    if setup.mode != IndexMode::Daily {
        phases.insert(
            "hot".into(),
            json!({
                "min_age": "0ms",
                "actions": { "rollover": {
                    "max_size": ilm.rollover_max_size.to_ascii_lowercase(),
                    "max_age": time_value(ilm.rollover_max_age),
                }}
            }),
        );
    }
    phases.insert(
        "warm".into(),
        json!({
            "min_age": time_value(ilm.warm_after),
            "actions": { "allocate": { "number_of_replicas": ilm.warm_replicas } }
        }),
    );
    // The seed's delete phase had no delete action, which deletes nothing.
    phases.insert(
        "delete".into(),
        json!({
            "min_age": time_value(ilm.delete_after),
            "actions": { "delete": { "delete_searchable_snapshot": true } }
        }),
    );
    json!({ "policy": { "_meta": meta(setup), "phases": phases } })
}

pub fn template(setup: &Setup, features: Features) -> Value {
    let mut lifecycle = Map::new();
    lifecycle.insert("name".into(), json!(setup.name));
    match setup.mode {
        IndexMode::Daily => {
            lifecycle.insert("parse_origination_date".into(), json!(true));
        }
        IndexMode::Rollover => {
            lifecycle.insert("rollover_alias".into(), json!(setup.name));
        }
        // A data stream rolls over its own backing indices: no alias.
        IndexMode::DataStream => {}
    }
    let mut settings = json!({ "index": {
        "lifecycle": lifecycle,
        "number_of_shards": setup.shards,
        "number_of_replicas": setup.replicas,
        "refresh_interval": time_value(setup.refresh_interval),
    }});
    // Standard is left unsaid: it is the default, and 7.17 knows no `index.mode` at all. LogsDB
    // sorts on `host.name` and `@timestamp`, which the mappings give as a keyword and a date.
    if features.uses_logsdb(setup) {
        settings["index"]["mode"] = json!("logsdb");
    }
    let mut body = json!({
        "index_patterns": [pattern(setup)],
        "priority": priority(setup),
        "version": TEMPLATE_VERSION,
        "_meta": meta(setup),
        "template": {
            "settings": settings,
            "mappings": mappings(setup.json_mapping),
        }
    });
    if setup.mode == IndexMode::DataStream {
        body["data_stream"] = json!({});
        if setup.failure_store {
            // Applied when the data stream is created; an existing one keeps its own options.
            body["template"]["data_stream_options"] =
                json!({ "failure_store": { "enabled": true } });
        }
    }
    body
}

/// The names the template covers: what `run` writes to in `setup.mode`.
pub fn pattern(setup: &Setup) -> String {
    match setup.mode {
        // Any dataset and namespace a pod's hints may name.
        IndexMode::DataStream => DATA_STREAM_PATTERN.to_owned(),
        IndexMode::Daily | IndexMode::Rollover => format!("{}-*", setup.name),
    }
}

pub fn priority(setup: &Setup) -> u32 {
    match setup.mode {
        IndexMode::DataStream => DATA_STREAM_TEMPLATE_PRIORITY,
        IndexMode::Daily | IndexMode::Rollover => TEMPLATE_PRIORITY,
    }
}

fn meta(setup: &Setup) -> Value {
    json!({ "managed_by": "loglynk", "mode": mode_name(setup.mode) })
}

pub fn mode_name(mode: IndexMode) -> &'static str {
    match mode {
        IndexMode::Daily => "daily",
        IndexMode::DataStream => "data_stream",
        IndexMode::Rollover => "rollover",
    }
}

/// An Elasticsearch time value in the largest whole unit: `7d`, `12h`, `5s`, `250ms`.
pub fn time_value(d: Duration) -> String {
    let ms = d.as_millis();
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    units
        .iter()
        .find(|(size, _)| ms > 0 && ms.is_multiple_of(*size))
        .map_or_else(
            || format!("{ms}ms"),
            |(size, unit)| format!("{}{unit}", ms / size),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_values_use_the_largest_whole_unit() {
        let cases = [
            (Duration::from_secs(7 * 86_400), "7d"),
            (Duration::from_secs(36 * 3_600), "36h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::ZERO, "0ms"),
        ];
        for (d, text) in cases {
            assert_eq!(time_value(d), text);
        }
    }

    #[test]
    fn daily_indices_never_roll_over_and_age_by_their_name() {
        let setup = Setup::default();
        let features = Features::newest();
        let policy = policy(&setup);
        assert!(policy["policy"]["phases"].get("hot").is_none());
        assert_eq!(policy["policy"]["phases"]["warm"]["min_age"], "7d");
        assert_eq!(
            policy["policy"]["phases"]["delete"]["actions"]["delete"],
            json!({"delete_searchable_snapshot": true})
        );
        let template = template(&setup, features);
        let lifecycle = &template["template"]["settings"]["index"]["lifecycle"];
        assert_eq!(lifecycle["parse_origination_date"], true);
        assert!(lifecycle.get("rollover_alias").is_none());
        assert_eq!(template["index_patterns"], json!(["funlynk-logs-*"]));
        assert_eq!(objects(&setup, features).len(), 2);
    }

    #[test]
    fn rollover_modes_keep_the_seeds_hot_phase() {
        for mode in [IndexMode::DataStream, IndexMode::Rollover] {
            let setup = Setup {
                mode,
                ..Setup::default()
            };
            let rollover = &policy(&setup)["policy"]["phases"]["hot"]["actions"]["rollover"];
            assert_eq!(rollover, &json!({"max_size": "5gb", "max_age": "1d"}));
            let lifecycle =
                &template(&setup, Features::newest())["template"]["settings"]["index"]["lifecycle"];
            assert!(lifecycle.get("parse_origination_date").is_none());
        }
        let setup = Setup {
            mode: IndexMode::Rollover,
            ..Setup::default()
        };
        let objects = objects(&setup, Features::newest());
        assert_eq!(objects[2].path, "/<funlynk-logs-{now/d}-000001>");
        assert_eq!(
            objects[1].body["template"]["settings"]["index"]["lifecycle"]["rollover_alias"],
            "funlynk-logs"
        );
    }

    #[test]
    fn logsdb_where_the_cluster_has_it_and_the_failure_store_when_asked() {
        let mut setup = Setup::default();
        let mode = |setup: &Setup, version: &str| {
            template(setup, Features::of(version))["template"]["settings"]["index"]
                .get("mode")
                .cloned()
        };
        assert_eq!(mode(&setup, "8.17.0"), Some(json!("logsdb")));
        assert_eq!(mode(&setup, "9.0.0"), Some(json!("logsdb")));
        assert_eq!(mode(&setup, "8.16.1"), None);
        assert_eq!(mode(&setup, "7.17.25"), None);
        setup.index_mode = crate::config::SetupIndexMode::Standard;
        assert_eq!(mode(&setup, "9.1.0"), None);
        setup.mode = IndexMode::DataStream;
        setup.failure_store = true;
        let body = template(&setup, Features::newest());
        assert_eq!(
            body["template"]["data_stream_options"],
            json!({"failure_store": {"enabled": true}})
        );
        setup.failure_store = false;
        let body = template(&setup, Features::newest());
        assert!(body["template"].get("data_stream_options").is_none());
    }

    #[test]
    fn the_snapshot_policy_covers_what_the_template_shapes() {
        let mut setup = Setup::default();
        assert!(objects(&setup, Features::newest())
            .iter()
            .all(|o| o.kind != "snapshot policy"));
        setup.snapshot.repository = Some("backups".into());
        for (mode, indices) in [
            (IndexMode::Daily, json!(["funlynk-logs-*"])),
            (IndexMode::DataStream, json!(["logs-*-*"])),
            (IndexMode::Rollover, json!(["funlynk-logs-*"])),
        ] {
            setup.mode = mode;
            let objects = objects(&setup, Features::newest());
            let slm = objects.last().unwrap();
            assert_eq!(slm.kind, "snapshot policy");
            assert_eq!(slm.path, "/_slm/policy/funlynk-logs");
            assert_eq!(slm.body["repository"], "backups");
            assert_eq!(slm.body["name"], "<funlynk-logs-{now/d}>");
            assert_eq!(slm.body["config"]["indices"], indices);
            assert_eq!(
                slm.body["retention"],
                json!({"expire_after": "30d", "min_count": 5, "max_count": 50})
            );
        }
    }
}
