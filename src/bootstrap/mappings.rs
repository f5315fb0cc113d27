//! Explicit mappings for every field loglynk writes, with ECS types, so no field's type depends on
//! which document happened to arrive first.

use serde_json::{json, Value};

use crate::config::JsonMapping;

/// Label and annotation maps: every value a keyword, whatever it looks like (`version: "1.10"` must not
/// become a float in one index and a keyword in the next).
const KEYWORD_MAPS: [(&str, &str); 4] = [
    ("kubernetes_labels", "kubernetes.labels.*"),
    (
        "kubernetes_namespace_labels",
        "kubernetes.namespace_labels.*",
    ),
    ("kubernetes_node_labels", "kubernetes.node.labels.*"),
    ("kubernetes_annotations", "kubernetes.annotations.*"),
];

/// Longer strings are not indexed as keywords (they still are in `_source`): a stack trace merged to
/// the root by decode_json_fields must not make a document fail.
const KEYWORD_IGNORE_ABOVE: u32 = 1024;

fn keyword() -> Value {
    json!({ "type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE })
}

fn keywords(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| ((*n).to_owned(), keyword())).collect())
}

/// `{"name": keyword}`, the shape of every owner reference and of `container.image`.
fn named() -> Value {
    json!({ "properties": { "name": keyword() } })
}

/// The `mappings` of the index template.
pub fn mappings(json_mapping: JsonMapping) -> Value {
    let mut dynamic_templates: Vec<Value> = KEYWORD_MAPS
        .iter()
        .map(|(name, path)| json!({ *name: { "path_match": path, "mapping": keyword() } }))
        .collect();
    // Fields loglynk does not know of (decode_json_fields into the root) default to keywords, as
    // Filebeat's template does, rather than to text with a keyword sub-field.
    dynamic_templates.push(json!({
        "strings_as_keyword": { "match_mapping_type": "string", "mapping": keyword() }
    }));
    let decoded = match json_mapping {
        JsonMapping::Flattened => {
            json!({ "type": "flattened", "ignore_above": KEYWORD_IGNORE_ABOVE })
        }
        JsonMapping::Dynamic => json!({ "type": "object", "dynamic": "true" }),
    };
    // `dynamic` as the string Elasticsearch returns it, so a stored template compares equal.
    json!({
        "dynamic": "true",
        "dynamic_templates": dynamic_templates,
        "properties": {
            "@timestamp": { "type": "date_nanos" },
            "message": { "type": "text" },
            "stream": keyword(),
            "log": { "properties": {
                "offset": { "type": "long" },
                "file": { "properties": { "path": keyword() } },
                "flags": keyword(),
                // Text, not a date: it is there because it is one no date field here can hold, and
                // left to dynamic mapping, date detection would make it a `date`.
                "original_timestamp": keyword(),
                "level": keyword(),
            }},
            // What Kibana's log views and the trace-to-logs link read (README, "Documents").
            "trace": { "properties": { "id": keyword() } },
            "span": { "properties": { "id": keyword() } },
            "transaction": { "properties": { "id": keyword() } },
            "service": { "properties": keywords(&["name", "version"]) },
            // ECS: the original is kept, not searched.
            "event": { "properties": {
                "original": { "type": "keyword", "index": false, "doc_values": false },
                "dataset": keyword(),
            }},
            "data_stream": { "properties": keywords(&["type", "dataset", "namespace"]) },
            "orchestrator": { "properties": {
                "type": keyword(),
                "namespace": keyword(),
                "cluster": { "properties": { "name": keyword() } },
                "resource": { "properties": keywords(&["type", "name"]) },
            }},
            "input": { "properties": { "type": keyword() } },
            "kubernetes": { "properties": {
                "pod": { "properties": {
                    "name": keyword(),
                    "uid": keyword(),
                    "ip": { "type": "ip" },
                }},
                "namespace": keyword(),
                "namespace_uid": keyword(),
                "namespace_labels": { "type": "object" },
                "node": { "properties": {
                    "name": keyword(),
                    "uid": keyword(),
                    "labels": { "type": "object" },
                }},
                "labels": { "type": "object" },
                "annotations": { "type": "object" },
                "container": { "properties": { "name": keyword(), "image": keyword() } },
                "deployment": named(),
                "replicaset": named(),
                "statefulset": named(),
                "daemonset": named(),
                "job": named(),
                "cronjob": named(),
            }},
            "container": { "properties": {
                "id": keyword(),
                "runtime": keyword(),
                "image": named(),
            }},
            "host": { "properties": {
                "name": keyword(),
                "hostname": keyword(),
                "architecture": keyword(),
                "id": keyword(),
                "os": { "properties": keywords(
                    &["type", "platform", "name", "version", "family", "codename", "kernel"]
                )},
            }},
            "agent": { "properties": keywords(&["type", "version", "name", "id", "ephemeral_id"]) },
            "ecs": { "properties": { "version": keyword() } },
            "error": { "properties": {
                "message": { "type": "text" },
                "type": keyword(),
            }},
            "json": decoded,
        }
    })
}
