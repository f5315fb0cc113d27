//! The `filter_path` response filter, which Filebeat-like shippers send with every bulk request
//! (`filter_path=errors,items.*.error,items.*.status`) to keep answers small. Arrays are transparent,
//! `*` matches one key, `**` any number of levels; `-` exclusions are not supported.

use serde_json::{Map, Value};

pub fn apply(value: &Value, filter: &str) -> Value {
    let patterns: Vec<Vec<&str>> = filter
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').collect())
        .collect();
    if patterns.is_empty() {
        return value.clone();
    }
    let refs: Vec<&[&str]> = patterns.iter().map(Vec::as_slice).collect();
    keep(value, &refs).unwrap_or_else(|| Value::Object(Map::new()))
}

fn keep(value: &Value, patterns: &[&[&str]]) -> Option<Value> {
    if patterns.iter().any(|p| p.is_empty()) {
        return Some(value.clone());
    }
    match value {
        Value::Array(items) => {
            let kept: Vec<Value> = items.iter().filter_map(|v| keep(v, patterns)).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                let mut rest: Vec<&[&str]> = Vec::new();
                for pattern in patterns {
                    match pattern[0] {
                        "**" => {
                            rest.push(pattern);
                            rest.push(&pattern[1..]);
                            if pattern.len() > 1 && matches(pattern[1], key) {
                                rest.push(&pattern[2..]);
                            }
                        }
                        segment if matches(segment, key) => rest.push(&pattern[1..]),
                        _ => {}
                    }
                }
                if rest.is_empty() {
                    continue;
                }
                if let Some(kept) = keep(child, &rest) {
                    out.insert(key.clone(), kept);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => None,
    }
}

/// A key pattern with `*` wildcards.
fn matches(pattern: &str, key: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == key;
    }
    let mut rest = key;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(stripped) = rest.strip_prefix(part) else {
                return false;
            };
            rest = stripped;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}
