//! Running bulk items: each succeeds or fails on its own, with the result Elasticsearch gives it.

use serde_json::{json, Value};

use super::bulk::{Kind, Op};
use super::errors::{rejected_execution, EsError};
use super::failure_store;
use super::faults::Faults;
use super::indices;
use super::source::{self, Node};
use super::store::{new_id, Store};
use super::targets;
use super::versions;

/// Runs every item; returns the `items` array and whether any failed.
pub fn execute(ops: &[Op], store: &mut Store, faults: &Faults) -> (Vec<Value>, bool) {
    let mut errors = false;
    let items = ops
        .iter()
        .map(|op| {
            let requested = op.index.as_deref().unwrap_or_default();
            let mut index = requested.to_string();
            let outcome = run(op, &mut index, store, faults);
            let body = match outcome {
                Ok(success) => success,
                Err((id, status, error, stream)) => {
                    let redirected = stream.as_deref().and_then(|stream| {
                        let source = op.source.as_deref().unwrap_or_default();
                        let id = id.as_deref().unwrap_or_default();
                        failure_store::redirect(store, stream, id, source, &error)
                    });
                    match redirected {
                        Some(success) => success,
                        None => {
                            errors = true;
                            let mut body = json!({ "_index": index, "_id": id, "status": status,
                                                   "error": error.to_json() });
                            if stream.is_some() && failure_store::available(&store.version) {
                                body["failure_store"] = json!("not_enabled");
                            }
                            body
                        }
                    }
                }
            };
            let mut body = body;
            if versions::items_have_type(&store.version) {
                body["_type"] = json!("_doc");
            }
            json!({ op.kind.name(): body })
        })
        .collect();
    (items, errors)
}

/// The item's `_id`, status and error, and the data stream whose mapping refused the document.
type ItemFailure = (Option<String>, u16, Box<EsError>, Option<String>);

/// Runs one item; `index` starts as the requested name and ends as the one the answer reports (the
/// concrete index once resolved).
fn run(
    op: &Op,
    index: &mut String,
    store: &mut Store,
    faults: &Faults,
) -> Result<Value, ItemFailure> {
    let name = targets::name(index)
        .map_err(|(status, error)| (op.id.clone(), status, Box::new(error), None))?;
    *index = name.clone();
    if op.kind == Kind::Delete {
        let id = op.id.clone().unwrap_or_default();
        let resolved = targets::resolve(store, &name, op.kind)
            .map_err(|(status, error)| (Some(id.clone()), status, Box::new(error), None))?;
        if let Some(concrete) = &resolved {
            *index = concrete.clone();
        }
        let index = index.as_str();
        let Some(idx) = resolved.and_then(|r| store.indices.get_mut(&r)) else {
            let error = EsError::new(
                "index_not_found_exception",
                format!("no such index [{index}]"),
            )
            .with("resource.type", json!("index_expression"))
            .with("resource.id", json!(index))
            .on_index(index, "_na_");
            return Err((Some(id), 404, Box::new(error), None));
        };
        let (result, status, (version, seq_no)) = match idx.delete(&id) {
            Some(deleted) => ("deleted", 200, deleted),
            None => ("not_found", 404, (1, idx.take_seq_no())),
        };
        return Ok(success(index, &id, version, result, seq_no, status));
    }
    let config = faults.get();
    if faults.roll(config.item_fraction_429) {
        let error = rejected_execution("primary operation [shard bulk request]");
        return Err((op.id.clone(), 429, Box::new(error), None));
    }
    let id = op.id.clone().unwrap_or_else(|| new_id(20));
    let fail = |status: u16, error: EsError| Err((Some(id.clone()), status, Box::new(error), None));
    let concrete = match targets::resolve(store, &name, op.kind) {
        Ok(Some(concrete)) => concrete,
        Ok(None) => name.clone(),
        Err((status, error)) => return fail(status, error),
    };
    *index = concrete.clone();
    let index = index.as_str();
    let Some(idx) = store.indices.get_mut(&concrete) else {
        return fail(404, indices::not_found(&concrete));
    };
    // A document a data stream's mapping refuses may go to its failure store (`execute`).
    let stream = idx.data_stream.clone().filter(|_| op.kind != Kind::Update);
    let refuse = |status: u16, error: EsError| {
        Err((Some(id.clone()), status, Box::new(error), stream.clone()))
    };
    let (text, document) = match op.kind {
        Kind::Update => {
            let Some(update) = op.update.as_ref() else {
                return fail(
                    400,
                    EsError::new(
                        "action_request_validation_exception",
                        "Validation Failed: 1: script or doc is missing;",
                    ),
                );
            };
            if update.script {
                return fail(
                    400,
                    EsError::new(
                        "illegal_argument_exception",
                        "the test server runs no scripts",
                    ),
                );
            }
            let merged = match (idx.get(&id), &update.doc) {
                (Some(existing), Some(doc)) => merge(existing.source.clone(), doc),
                (Some(existing), None) => existing.source.clone(),
                (None, Some(doc)) if update.doc_as_upsert => doc.clone(),
                (None, _) => match &update.upsert {
                    Some(upsert) => upsert.clone(),
                    None => {
                        let error = EsError::new(
                            "document_missing_exception",
                            format!("[{id}]: document missing"),
                        )
                        .on_shard(index, &idx.uuid);
                        return fail(404, error);
                    }
                },
            };
            let text = merged.to_string();
            match source::parse(&text) {
                Ok(parsed) => (text, parsed),
                Err(e) => return fail(400, document_error(&e)),
            }
        }
        _ => {
            let text = op.source.clone().unwrap_or_default();
            match source::parse(&text) {
                Ok(parsed) => (text, parsed),
                Err(e) => return refuse(400, document_error(&e)),
            }
        }
    };
    if !matches!(document.node, Node::Object(_)) {
        let error = EsError::new(
            "document_parsing_exception",
            "[1:1] failed to parse: Malformed content, must start with an object",
        );
        return refuse(400, error);
    }
    if faults.roll(config.item_fraction_400) {
        let error = EsError::new(
            "document_parsing_exception",
            format!(
                "[1:2] failed to parse field [fault_injected] of type [long] in document with id \
                 '{id}'. Preview of field's value: 'injected by the test server'"
            ),
        );
        return refuse(400, error);
    }
    if let Err(error) = idx.mapping.apply(&document, &text, &id) {
        return refuse(400, error);
    }
    let existing = idx.get(&id).map(|d| d.version);
    if let (Kind::Create, Some(current)) = (op.kind, existing) {
        let error = EsError::new(
            "version_conflict_engine_exception",
            format!(
                "[{id}]: version conflict, document already exists (current version [{current}])"
            ),
        )
        .on_shard(index, &idx.uuid);
        return fail(409, error);
    }
    let (version, seq_no) = idx.put(&id, source::to_value(&document));
    let (result, status) = if existing.is_some() {
        ("updated", 200)
    } else {
        ("created", 201)
    };
    Ok(success(index, &id, version, result, seq_no, status))
}

fn document_error(error: &source::ParseError) -> EsError {
    let message = error.jackson_message();
    EsError::new(
        "document_parsing_exception",
        format!("[1:{}] failed to parse: {message}", error.column()),
    )
    .caused_by(EsError::new("json_parse_exception", message))
}

fn success(index: &str, id: &str, version: u64, result: &str, seq_no: u64, status: u16) -> Value {
    json!({
        "_index": index,
        "_id": id,
        "_version": version,
        "result": result,
        "_shards": { "total": 2, "successful": 1, "failed": 0 },
        "_seq_no": seq_no,
        "_primary_term": 1,
        "status": status,
    })
}

/// A partial update: objects merge key by key, anything else replaces.
fn merge(mut base: Value, patch: &Value) -> Value {
    match (&mut base, patch) {
        (Value::Object(base_map), Value::Object(patch_map)) => {
            for (key, value) in patch_map {
                let merged = merge(base_map.remove(key).unwrap_or(Value::Null), value);
                base_map.insert(key.clone(), merged);
            }
            base
        }
        _ => patch.clone(),
    }
}
