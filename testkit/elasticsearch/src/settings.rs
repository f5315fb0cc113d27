//! Index settings in the shape Elasticsearch keeps them (`Settings`): flat dotted keys, every key under
//! `index.` (`normalizePrefix`), every value a string or a list of strings. A request may nest or dot
//! its keys and send numbers and booleans; a `GET` answers with the keys expanded back into nested
//! objects and the values as strings, so `number_of_shards: 1` reads back as
//! `{"index": {"number_of_shards": "1"}}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::errors::EsError;

/// Flat, normalized settings: `"index.number_of_shards" → "1"`, lists as arrays of strings.
pub type Settings = BTreeMap<String, Value>;

/// Reads a request's `settings` object. Nulls are dropped (they mean "unset" in Elasticsearch).
pub fn normalize(value: &Value) -> Result<Settings, EsError> {
    let mut flat = Settings::new();
    let Value::Object(map) = value else {
        return Err(EsError::new(
            "settings_exception",
            format!("Failed to load settings from [{value}]"),
        ));
    };
    flatten("", map, &mut flat)?;
    Ok(flat
        .into_iter()
        .map(|(key, value)| {
            if key.starts_with("index.") || key.ends_with('*') {
                (key, value)
            } else {
                (format!("index.{key}"), value)
            }
        })
        .collect())
}

fn flatten(prefix: &str, map: &Map<String, Value>, out: &mut Settings) -> Result<(), EsError> {
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let leaf = match value {
            Value::Object(inner) => {
                flatten(&path, inner, out)?;
                continue;
            }
            Value::Null => continue,
            Value::Array(items) => {
                let mut strings = Vec::new();
                for item in items {
                    match scalar(item) {
                        Some(text) => strings.push(Value::String(text)),
                        None => {
                            return Err(EsError::new(
                                "illegal_state_exception",
                                format!("only value lists are allowed in serialized settings, found [{path}]"),
                            ))
                        }
                    }
                }
                Value::Array(strings)
            }
            other => Value::String(scalar(other).unwrap_or_default()),
        };
        if out.insert(path.clone(), leaf).is_some() {
            return Err(EsError::new(
                "settings_exception",
                format!("duplicate settings key [{path}] found"),
            ));
        }
    }
    Ok(())
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The nested form a `GET` answers with (`flat_settings=false`, the default).
pub fn expand(settings: &Settings) -> Value {
    let mut tree = Map::new();
    for (key, value) in settings {
        insert(&mut tree, key, value.clone());
    }
    Value::Object(tree)
}

/// The flat form (`flat_settings=true`).
pub fn flat(settings: &Settings) -> Value {
    Value::Object(
        settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

fn insert(tree: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            tree.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = tree
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                // `a` and `a.b` both set: Elasticsearch keeps the leaf; so does this.
                return;
            }
            if let Value::Object(child) = child {
                insert(child, rest, value);
            }
        }
    }
}

/// A setting's string value, if set.
pub fn get<'a>(settings: &'a Settings, key: &str) -> Option<&'a str> {
    settings.get(key).and_then(Value::as_str)
}

/// A boolean setting as `Settings.getAsBoolean` reads it (absent → `default`).
pub fn get_bool(settings: &Settings, key: &str, default: bool) -> bool {
    match get(settings, key) {
        Some("true") => true,
        Some("false") => false,
        _ => default,
    }
}

/// Later settings win, as a request's settings override its template's.
pub fn merge(base: &Settings, over: &Settings) -> Settings {
    let mut merged = base.clone();
    merged.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    merged
}
