//! The index templates a real cluster installs itself at start (its stack template registry, on while
//! `stack.templates.enabled` is true, the default): here the one a log shipper meets, `logs`
//! (`logs-*-*`, priority 100, a data stream template, `allow_auto_create`). It is listed, answered and
//! applied like any other: a `create` to `logs-app-default` with no template of the user's makes a data
//! stream through it, and a user's template at priority 100 overlapping `logs-*-*` is refused.
//!
//! Simplifications: no component templates exist here, so what Elasticsearch composes from
//! `logs@mappings`, `logs@settings` and `ecs@mappings` is folded into the template itself and cut to
//! what decides whether a shipper's documents are taken: `@timestamp` as a `date` and `data_stream.*`
//! as `constant_keyword` (every document of one data stream must carry the same dataset and
//! namespace). Its settings (`index.lifecycle.name: logs`, the default pipeline) are left out, as the
//! built-in ILM policies and ingest pipelines are.

use serde_json::json;

use super::templates::Template;

pub const LOGS: &str = "logs";

/// The built-in templates, by name.
pub fn templates() -> Vec<(String, Template)> {
    let logs = Template {
        index_patterns: vec!["logs-*-*".to_string()],
        priority: Some(100),
        meta: Some(json!({
            "description": "default logs template installed by x-pack",
            "managed": true
        })),
        data_stream: Some(json!({ "hidden": false, "allow_custom_routing": false })),
        allow_auto_create: Some(true),
        has_template: true,
        mappings: Some(json!({
            "properties": {
                "@timestamp": { "type": "date" },
                "data_stream": { "properties": {
                    "type": { "type": "constant_keyword", "value": "logs" },
                    "dataset": { "type": "constant_keyword" },
                    "namespace": { "type": "constant_keyword" },
                }},
            }
        })),
        ..Template::default()
    };
    vec![(LOGS.to_string(), logs)]
}
