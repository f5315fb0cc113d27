//! `index.mode` as each version takes it, and what an index in LogsDB mode refuses (`IndexMode`,
//! `IndexSortConfig`, `DataStreamTimestampFieldMapper`):
//! - 7.x has no `index.mode`; 8.x has `standard` and `time_series`, `logsdb` from 8.15 (GA in 8.17)
//!   and `lookup` from 8.18. Another value is refused as the enum setting refuses it.
//! - `index.routing_path` and `index.time_series.*` need `time_series`.
//! - LogsDB adds `@timestamp` as a `date` and `host.name` as a keyword when they are not mapped (and
//!   `host` is free), sorts on them unless `index.sort.field` says otherwise, refuses an `@timestamp`
//!   that is not a date, and a `_source` that is disabled.
//! - A sort field must be mapped.
//!
//! Left out: the licence (synthetic `_source` needs Enterprise; on Basic, LogsDB keeps `_source`
//! stored, which changes nothing a shipper sees) and the sort's doc values checks.

use serde_json::{json, Value};

use super::errors::EsError;
use super::mapping::Mapping;
use super::settings::{self, Settings};

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

/// `(major, minor)` of a version string.
pub fn version_of(version: &str) -> (u32, u32) {
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(8), parts.next().unwrap_or(0))
}

/// The modes a node of `version` knows.
fn modes(version: &str) -> Vec<&'static str> {
    let v = version_of(version);
    let mut known = vec!["standard", "time_series"];
    if v >= (8, 15) {
        known.push("logsdb");
    }
    if v >= (8, 18) {
        known.push("lookup");
    }
    known
}

pub fn is_logsdb(settings: &Settings) -> bool {
    settings::get(settings, "index.mode") == Some("logsdb")
}

/// The settings' problem, in the words of a node of `version`.
pub fn check_settings(settings: &Settings, version: &str) -> Result<(), EsError> {
    let Some(mode) = settings::get(settings, "index.mode") else {
        return time_series_settings(settings, "standard");
    };
    if version_of(version).0 < 8 {
        return Err(iae(
            "unknown setting [index.mode] please check that any required plugins are installed, or \
             check the breaking changes documentation for removed settings",
        ));
    }
    if !modes(version).contains(&mode) {
        return Err(iae(format!(
            "No enum constant org.elasticsearch.index.IndexMode.{}",
            mode.to_uppercase()
        )));
    }
    time_series_settings(settings, mode)
}

fn time_series_settings(settings: &Settings, mode: &str) -> Result<(), EsError> {
    if mode == "time_series" {
        return Ok(());
    }
    for key in [
        "index.routing_path",
        "index.time_series.start_time",
        "index.time_series.end_time",
    ] {
        if settings.contains_key(key) {
            return Err(iae(format!("[{key}] requires [index.mode=time_series]")));
        }
    }
    Ok(())
}

/// LogsDB's default mappings under `mappings` (which win where they map the same field).
pub fn with_defaults(settings: &Settings, mappings: Value) -> Value {
    if !is_logsdb(settings) {
        return mappings;
    }
    let mut defaults = json!({ "properties": { "@timestamp": { "type": "date" } } });
    let host = mappings.pointer("/properties/host");
    let host_free = host.is_none_or(|h| h.get("type").is_none_or(|t| t == "object"));
    if sort_fields(settings).is_none() && host_free {
        defaults["properties"]["host"] = json!({ "properties": {
            "name": { "type": "keyword", "ignore_above": 1024 }
        }});
    }
    super::mapping_json::merge(&defaults, &mappings)
}

fn sort_fields(settings: &Settings) -> Option<Vec<String>> {
    match settings.get("index.sort.field")? {
        Value::String(one) => Some(vec![one.clone()]),
        Value::Array(many) => Some(
            many.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

/// What the index's mapping must be in its mode. `mappings` is the composed JSON (for `_source`).
pub fn check_mapping(
    settings: &Settings,
    mappings: &Value,
    mapping: &Mapping,
) -> Result<(), EsError> {
    if let Some(fields) = sort_fields(settings) {
        if let Some(unknown) = fields.iter().find(|f| mapping.field(f).is_none()) {
            return Err(iae(format!("unknown index sort field:[{unknown}]")));
        }
    }
    if !is_logsdb(settings) {
        return Ok(());
    }
    let disabled = mappings.pointer("/_source/enabled") == Some(&json!(false))
        || settings::get(settings, "index.mapping.source.mode") == Some("disabled");
    if disabled {
        return Err(EsError::new(
            "mapper_parsing_exception",
            "Failed to parse mapping: _source can not be disabled in index using [logsdb] index mode",
        ));
    }
    super::indices::check_timestamp(mapping)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Limits;
    use crate::mapping_json;

    fn settings(value: Value) -> Settings {
        settings::normalize(&value).unwrap()
    }

    fn reason(result: Result<(), EsError>) -> String {
        result.unwrap_err().reason
    }

    #[test]
    fn logsdb_is_known_from_8_15_and_index_mode_from_8() {
        let logsdb = settings(json!({"index": {"mode": "logsdb"}}));
        assert!(check_settings(&logsdb, "8.15.0").is_ok());
        assert!(check_settings(&logsdb, "9.1.0").is_ok());
        assert_eq!(
            reason(check_settings(&logsdb, "8.14.3")),
            "No enum constant org.elasticsearch.index.IndexMode.LOGSDB"
        );
        assert!(
            reason(check_settings(&logsdb, "7.17.25")).starts_with("unknown setting [index.mode]")
        );
        let lookup = settings(json!({"index.mode": "lookup"}));
        assert!(check_settings(&lookup, "8.17.0").is_err());
        assert!(check_settings(&lookup, "8.18.0").is_ok());
    }

    #[test]
    fn time_series_settings_need_time_series() {
        let routed = settings(json!({"index": {"mode": "logsdb", "routing_path": ["host.name"]}}));
        assert_eq!(
            reason(check_settings(&routed, "9.0.0")),
            "[index.routing_path] requires [index.mode=time_series]"
        );
        let started = settings(json!({"index.time_series.start_time": "2024-01-01T00:00:00Z"}));
        assert_eq!(
            reason(check_settings(&started, "9.0.0")),
            "[index.time_series.start_time] requires [index.mode=time_series]"
        );
    }

    fn parsed(settings: &Settings, mappings: Value) -> (Value, Result<(), EsError>) {
        let composed = with_defaults(settings, mappings);
        let mapping = mapping_json::parse(&composed, Limits::default()).unwrap();
        let result = check_mapping(settings, &composed, &mapping);
        (composed, result)
    }

    #[test]
    fn logsdb_adds_its_sort_fields_and_refuses_what_it_cannot_sort_or_synthesize() {
        let logsdb = settings(json!({"index.mode": "logsdb"}));
        let (composed, ok) = parsed(
            &logsdb,
            json!({"properties": {"message": {"type": "text"}}}),
        );
        assert!(ok.is_ok());
        assert_eq!(composed["properties"]["@timestamp"]["type"], "date");
        assert_eq!(
            composed["properties"]["host"]["properties"]["name"]["type"],
            "keyword"
        );
        // A date_nanos @timestamp and a host.name of its own are kept.
        let (composed, ok) = parsed(
            &logsdb,
            json!({"properties": {"@timestamp": {"type": "date_nanos"},
                                  "host": {"properties": {"name": {"type": "keyword"}}}}}),
        );
        assert!(ok.is_ok());
        assert_eq!(composed["properties"]["@timestamp"]["type"], "date_nanos");
        let (_, keyword_time) = parsed(
            &logsdb,
            json!({"properties": {"@timestamp": {"type": "keyword"}}}),
        );
        assert_eq!(
            reason(keyword_time),
            "data stream timestamp field [@timestamp] is of type [keyword], but [date,date_nanos] is expected"
        );
        let (_, no_source) = parsed(&logsdb, json!({"_source": {"enabled": false}}));
        assert_eq!(
            reason(no_source),
            "Failed to parse mapping: _source can not be disabled in index using [logsdb] index mode"
        );
        let sorted = settings(json!({"index": {"mode": "logsdb", "sort.field": ["host_name"]}}));
        let (_, unknown) = parsed(&sorted, json!({}));
        assert_eq!(reason(unknown), "unknown index sort field:[host_name]");
        // Standard indices keep a disabled _source and a keyword @timestamp.
        let standard = Settings::new();
        let (_, ok) = parsed(
            &standard,
            json!({"_source": {"enabled": false}, "properties": {"@timestamp": {"type": "keyword"}}}),
        );
        assert!(ok.is_ok());
    }
}
