//! ILM actions: the fields each action's parser declares, and the checks and defaults of each
//! action's constructor and `toXContent` (`delete` gets `delete_searchable_snapshot: true`,
//! `allocate` empty `include`/`exclude`/`require`, …), so a policy reads back as Elasticsearch
//! prints it.

use serde_json::{json, Map, Value};

use super::errors::EsError;

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

#[derive(Clone, Copy)]
pub enum Slot {
    Int,
    Long,
    Text,
    Bool,
    Map,
    Time,
    Bytes,
}

/// Each action's parser name and fields.
pub fn spec(action: &str) -> Option<(&'static str, &'static [(&'static str, Slot)])> {
    Some(match action {
        "rollover" => (
            "rollover_conditions",
            &[
                ("max_age", Slot::Time),
                ("max_docs", Slot::Long),
                ("max_size", Slot::Bytes),
                ("max_primary_shard_size", Slot::Bytes),
                ("max_primary_shard_docs", Slot::Long),
                ("min_age", Slot::Time),
                ("min_docs", Slot::Long),
                ("min_size", Slot::Bytes),
                ("min_primary_shard_size", Slot::Bytes),
                ("min_primary_shard_docs", Slot::Long),
            ],
        ),
        "delete" => ("delete", &[("delete_searchable_snapshot", Slot::Bool)]),
        "allocate" => (
            "allocate",
            &[
                ("number_of_replicas", Slot::Int),
                ("total_shards_per_node", Slot::Int),
                ("include", Slot::Map),
                ("exclude", Slot::Map),
                ("require", Slot::Map),
            ],
        ),
        "set_priority" => ("set_priority", &[("priority", Slot::Int)]),
        "forcemerge" => (
            "forcemerge",
            &[("max_num_segments", Slot::Int), ("index_codec", Slot::Text)],
        ),
        "readonly" => ("readonly", &[]),
        "shrink" => (
            "shrink",
            &[
                ("number_of_shards", Slot::Int),
                ("max_primary_shard_size", Slot::Bytes),
                ("allow_write_after_shrink", Slot::Bool),
            ],
        ),
        "migrate" => ("migrate", &[("enabled", Slot::Bool)]),
        "searchable_snapshot" => (
            "searchable_snapshot",
            &[
                ("snapshot_repository", Slot::Text),
                ("force_merge_index", Slot::Bool),
                ("total_shards_per_node", Slot::Int),
                ("replicate_for", Slot::Time),
            ],
        ),
        "unfollow" => ("unfollow", &[]),
        "wait_for_snapshot" => ("wait_for_snapshot", &[("policy", Slot::Text)]),
        "downsample" => (
            "downsample",
            &[("fixed_interval", Slot::Text), ("wait_timeout", Slot::Time)],
        ),
        "freeze" => ("freeze", &[]),
        _ => return None,
    })
}

fn int(values: &Map<String, Value>, key: &str) -> Option<i64> {
    values.get(key).and_then(Value::as_i64)
}

/// Each action's constructor checks, and the defaults `toXContent` prints.
pub fn normalize_action(name: &str, mut v: Map<String, Value>) -> Result<Value, EsError> {
    match name {
        "rollover" if !v.keys().any(|k| k.starts_with("max_")) => {
            return Err(iae("At least one max_* rollover condition must be set."));
        }
        "delete" => {
            v.entry("delete_searchable_snapshot").or_insert(json!(true));
        }
        "allocate" => {
            let empty = |k: &str| {
                v.get(k)
                    .and_then(Value::as_object)
                    .is_none_or(Map::is_empty)
            };
            if ["include", "exclude", "require"].iter().all(|k| empty(k))
                && int(&v, "number_of_replicas").is_none()
                && int(&v, "total_shards_per_node").is_none()
            {
                return Err(iae(
                    "At least one of include, exclude or require must contain attributes for action \
                     allocate. Otherwise the number_of_replicas or the total_shards_per_node options \
                     must be configured.",
                ));
            }
            if int(&v, "number_of_replicas").is_some_and(|r| r < 0) {
                return Err(iae("[number_of_replicas] must be >= 0"));
            }
            if int(&v, "total_shards_per_node").is_some_and(|t| t < -1) {
                return Err(iae("[total_shards_per_node] must be >= -1"));
            }
            for key in ["include", "exclude", "require"] {
                v.entry(key).or_insert(json!({}));
            }
        }
        "set_priority" => {
            if int(&v, "priority").is_some_and(|p| p < 0) {
                return Err(iae("[priority] must be 0 or greater"));
            }
            v.entry("priority").or_insert(Value::Null);
        }
        "forcemerge" => {
            match int(&v, "max_num_segments") {
                None => return Err(iae("Required [max_num_segments]")),
                Some(s) if s <= 0 => {
                    return Err(iae("[max_num_segments] must be a positive integer"))
                }
                Some(_) => {}
            }
            if let Some(codec) = v.get("index_codec").and_then(Value::as_str) {
                if codec != "best_compression" {
                    return Err(iae(format!("unknown index codec: [{codec}]")));
                }
            }
        }
        "shrink" => {
            match (
                v.contains_key("number_of_shards"),
                v.contains_key("max_primary_shard_size"),
            ) {
                (true, true) => {
                    return Err(iae(
                        "Cannot set both [number_of_shards] and [max_primary_shard_size]",
                    ))
                }
                (false, false) => {
                    return Err(iae(
                        "Either [number_of_shards] or [max_primary_shard_size] must be set",
                    ))
                }
                _ => {}
            }
            if int(&v, "number_of_shards").is_some_and(|s| s <= 0) {
                return Err(iae("[number_of_shards] must be greater than 0"));
            }
            v.entry("allow_write_after_shrink").or_insert(json!(false));
        }
        "migrate" => {
            v.entry("enabled").or_insert(json!(true));
        }
        "searchable_snapshot" => {
            if !v.contains_key("snapshot_repository") {
                return Err(iae("Required [snapshot_repository]"));
            }
            v.entry("force_merge_index").or_insert(json!(true));
        }
        "wait_for_snapshot" if !v.contains_key("policy") => return Err(iae("Required [policy]")),
        "downsample" => {
            if !v.contains_key("fixed_interval") {
                return Err(iae("Required [fixed_interval]"));
            }
            v.entry("wait_timeout").or_insert(json!("1d"));
        }
        _ => {}
    }
    Ok(Value::Object(v))
}
