//! The failure store (generally available in 8.19 and 9.1): a data stream whose template had
//! `template.data_stream_options.failure_store.enabled: true` when it was created keeps the
//! documents its mappings refuse in failure indices (`.fs-{name}-{date}-{generation}`), and the bulk
//! item answers `201 created` with `"failure_store": "used"` and the failure index as `_index`.
//! Without it, a refused document's item says `"failure_store": "not_enabled"` on those versions.
//!
//! What is redirected: a document the mapping or the JSON parser refuses (400). Version conflicts and
//! back-pressure are answered as they are, as Elasticsearch does. Left out: ingest pipelines (there
//! are none), the failure indices' own mapping and lifecycle, and `::failures` selectors in searches.

use serde_json::{json, Value};

use super::errors::EsError;
use super::index_mode::version_of;
use super::mapping::Mapping;
use super::request_body::{fields, unknown_field, wrong_type, Body};
use super::settings::Settings;
use super::source::{Node, Spanned};
use super::store::{new_id, now_millis, Index, Store};

/// Whether a node of `version` has the failure store (and `data_stream_options` in templates).
pub fn available(version: &str) -> bool {
    let v = version_of(version);
    v >= (9, 1) || (v.0 == 8 && v >= (8, 19))
}

/// A template's `data_stream_options`, as `DataStreamOptions.Template`'s parser reads it:
/// `{"failure_store": {"enabled": bool}}`, either level may be null.
pub fn parse_options(body: &Body, value: &Spanned) -> Result<Value, EsError> {
    let Some(options) = fields(value) else {
        return Err(wrong_type(
            body,
            value,
            "data_stream_options",
            "data_stream_options",
        ));
    };
    let mut parsed = json!({});
    for (key, inner) in options {
        if key != "failure_store" {
            return Err(unknown_field(body, inner, "data_stream_options", key));
        }
        if matches!(inner.node, Node::Null) {
            parsed["failure_store"] = Value::Null;
            continue;
        }
        let Some(store) = fields(inner) else {
            return Err(wrong_type(body, inner, "failure_store", "failure_store"));
        };
        let mut failure_store = json!({});
        for (k, v) in store {
            match (k.as_str(), &v.node) {
                ("enabled", Node::Bool(b)) => failure_store["enabled"] = json!(b),
                ("enabled", _) => return Err(wrong_type(body, v, "failure_store", k)),
                _ => return Err(unknown_field(body, v, "failure_store", k)),
            }
        }
        parsed["failure_store"] = failure_store;
    }
    Ok(parsed)
}

pub fn enabled(options: Option<&Value>) -> bool {
    options.and_then(|o| o.pointer("/failure_store/enabled")) == Some(&json!(true))
}

/// Keeps the document `source` (as sent), refused with `error`, in `stream`'s failure store; the
/// item's answer, or `None` when the data stream has no failure store.
pub fn redirect(
    store: &mut Store,
    stream: &str,
    id: &str,
    source: &str,
    error: &EsError,
) -> Option<Value> {
    let ds = store.data_streams.get_mut(stream)?;
    if !ds.failure_store {
        return None;
    }
    if ds.failure_indices.is_empty() {
        ds.generation += 1;
        let date = chrono::Utc::now().format("%Y.%m.%d");
        let name = format!(".fs-{stream}-{date}-{:06}", ds.generation);
        ds.failure_indices.push(name.clone());
        let mut settings = Settings::new();
        settings.insert("index.hidden".into(), json!("true"));
        settings.insert(
            "index.creation_date".into(),
            json!(now_millis().to_string()),
        );
        let index = Index::with(new_id(22), Mapping::default(), settings);
        store.indices.insert(name, index);
    }
    let name = ds.failure_indices.last()?.clone();
    let document = serde_json::from_str::<Value>(source).unwrap_or_else(|_| json!(source));
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let failure = json!({
        "@timestamp": timestamp,
        "document": { "id": id, "index": stream, "source": document },
        "error": { "type": error.kind, "message": error.reason },
    });
    let idx = store.indices.get_mut(&name)?;
    let failure_id = new_id(20);
    let (version, seq_no) = idx.put(&failure_id, failure);
    Some(json!({
        "_index": name,
        "_id": failure_id,
        "_version": version,
        "result": "created",
        "_shards": { "total": 2, "successful": 1, "failed": 0 },
        "_seq_no": seq_no,
        "_primary_term": 1,
        "failure_store": "used",
        "status": 201,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_8_19_and_9_1() {
        for (version, yes) in [
            ("8.17.0", false),
            ("8.18.2", false),
            ("8.19.0", true),
            ("9.0.3", false),
            ("9.1.0", true),
            ("9.2.1", true),
        ] {
            assert_eq!(available(version), yes, "{version}");
        }
    }
}
