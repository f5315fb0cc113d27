//! Objects as Elasticsearch returns them, so a body loglynk sends and the object `GET` reads back
//! compare equal when nothing changed: settings nested under `index.` with string values, ILM
//! defaults filled in, byte sizes in lower case.

use serde_json::{Map, Value};

/// An ILM policy (`{"_meta":…, "phases":…}`, the inside of `{"policy": …}`).
pub fn policy(policy: &Value) -> Value {
    let mut policy = policy.clone();
    let Some(phases) = policy.get_mut("phases").and_then(Value::as_object_mut) else {
        return policy;
    };
    for phase in phases.values_mut() {
        let Some(phase) = phase.as_object_mut() else {
            continue;
        };
        phase.entry("min_age").or_insert_with(|| Value::from("0ms"));
        let actions = phase
            .entry("actions")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(actions) = actions.as_object_mut() else {
            continue;
        };
        if let Some(allocate) = actions.get_mut("allocate").and_then(Value::as_object_mut) {
            for key in ["include", "exclude", "require"] {
                allocate
                    .entry(key)
                    .or_insert_with(|| Value::Object(Map::new()));
            }
        }
        if let Some(delete) = actions.get_mut("delete").and_then(Value::as_object_mut) {
            delete
                .entry("delete_searchable_snapshot")
                .or_insert(Value::Bool(true));
        }
        if let Some(rollover) = actions.get_mut("rollover").and_then(Value::as_object_mut) {
            for value in rollover.values_mut() {
                if let Value::String(text) = value {
                    *text = text.to_ascii_lowercase();
                }
            }
        }
    }
    policy
}

/// A composable index template (the inside of `index_template` in a `GET`).
pub fn template(template: &Value) -> Value {
    let mut template = template.clone();
    // Elasticsearch prints an empty `composed_of` on every template, and from 9.2 when it was
    // created and last modified, which are the cluster's, not part of what loglynk installs.
    if let Some(object) = template.as_object_mut() {
        object
            .entry("composed_of")
            .or_insert_with(|| Value::Array(Vec::new()));
        for key in [
            "created_date",
            "created_date_millis",
            "modified_date",
            "modified_date_millis",
        ] {
            object.remove(key);
        }
    }
    if let Some(settings) = template.pointer_mut("/template/settings") {
        *settings = settings_tree(settings);
    }
    if let Some(stream) = template
        .get_mut("data_stream")
        .and_then(Value::as_object_mut)
    {
        stream.entry("hidden").or_insert(Value::Bool(false));
        stream
            .entry("allow_custom_routing")
            .or_insert(Value::Bool(false));
        // Newer 8.x versions report the failure store even when it was never asked for.
        if stream.get("failure_store") == Some(&Value::Bool(false)) {
            stream.remove("failure_store");
        }
    }
    template
}

/// Index settings as Elasticsearch keeps them: every key under `index.`, nested, values as strings.
pub fn settings_tree(settings: &Value) -> Value {
    let mut flat = Vec::new();
    flatten("", settings, &mut flat);
    let mut tree = Map::new();
    for (key, value) in flat {
        let key = if key.starts_with("index.") {
            key
        } else {
            format!("index.{key}")
        };
        insert(&mut tree, &key, value);
    }
    Value::Object(tree)
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        Value::Array(items) => out.push((
            prefix.to_owned(),
            Value::Array(items.iter().map(stringify).collect()),
        )),
        scalar => out.push((prefix.to_owned(), stringify(scalar))),
    }
}

fn stringify(value: &Value) -> Value {
    match value {
        Value::String(_) | Value::Null | Value::Object(_) | Value::Array(_) => value.clone(),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
    }
}

fn insert(tree: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            tree.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = tree
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(child) = child {
                insert(child, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_are_nested_under_index_as_strings() {
        let sent = json!({"index": {"lifecycle": {"name": "p", "parse_origination_date": true},
                                     "number_of_shards": 1}, "refresh_interval": "5s"});
        let returned = json!({"index": {"lifecycle": {"name": "p", "parse_origination_date": "true"},
                                         "number_of_shards": "1", "refresh_interval": "5s"}});
        assert_eq!(settings_tree(&sent), returned);
        assert_eq!(settings_tree(&returned), returned);
        let dotted = json!({"index.lifecycle.name": "p", "index.number_of_shards": "1"});
        assert_eq!(
            settings_tree(&dotted),
            json!({"index": {"lifecycle": {"name": "p"}, "number_of_shards": "1"}})
        );
    }

    #[test]
    fn policy_defaults_are_filled_in() {
        let sent = json!({"phases": {
            "hot": {"actions": {"rollover": {"max_size": "5GB"}}},
            "warm": {"min_age": "7d", "actions": {"allocate": {"number_of_replicas": 0}}},
            "delete": {"min_age": "30d", "actions": {"delete": {}}}
        }});
        let returned = json!({"phases": {
            "hot": {"min_age": "0ms", "actions": {"rollover": {"max_size": "5gb"}}},
            "warm": {"min_age": "7d", "actions": {"allocate": {"number_of_replicas": 0,
                "include": {}, "exclude": {}, "require": {}}}},
            "delete": {"min_age": "30d", "actions": {"delete": {"delete_searchable_snapshot": true}}}
        }});
        assert_eq!(policy(&sent), returned);
        assert_eq!(policy(&returned), returned);
    }

    #[test]
    fn a_templates_own_dates_are_not_compared() {
        let sent = json!({"index_patterns": ["a-*"], "priority": 200});
        let returned = json!({"index_patterns": ["a-*"], "priority": 200, "composed_of": [],
                              "created_date_millis": 1, "modified_date_millis": 2});
        assert_eq!(template(&sent), template(&returned));
    }
}
