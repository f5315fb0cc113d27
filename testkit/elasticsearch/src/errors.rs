//! The shapes Elasticsearch gives its errors, so clients' error parsing meets the real thing.

use serde_json::{json, Map, Value};

/// One exception: `{"type":…,"reason":…}` plus whatever extra fields that exception carries
/// (`index_uuid`, `index`, `shard`, `header`, `caused_by`).
#[derive(Clone, Debug)]
pub struct EsError {
    pub kind: String,
    pub reason: String,
    pub extra: Map<String, Value>,
}

/// `ActionRequestValidationException`'s message: `Validation Failed: 1: …;2: …;`.
pub fn validation_failed(problems: &[String]) -> String {
    let listed: String = problems
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}: {p};", i + 1))
        .collect();
    format!("Validation Failed: {listed}")
}

impl EsError {
    pub fn new(kind: &str, reason: impl Into<String>) -> EsError {
        EsError {
            kind: kind.to_string(),
            reason: reason.into(),
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: Value) -> EsError {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn caused_by(self, cause: EsError) -> EsError {
        self.with("caused_by", cause.to_json())
    }

    /// The per-index fields Elasticsearch adds to index-level exceptions.
    pub fn on_index(self, index: &str, uuid: &str) -> EsError {
        self.with("index_uuid", json!(uuid))
            .with("index", json!(index))
    }

    pub fn on_shard(self, index: &str, uuid: &str) -> EsError {
        self.with("index_uuid", json!(uuid))
            .with("shard", json!("0"))
            .with("index", json!(index))
    }

    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("type".into(), json!(self.kind));
        object.insert("reason".into(), json!(self.reason));
        for (key, value) in &self.extra {
            object.insert(key.clone(), value.clone());
        }
        Value::Object(object)
    }

    /// The request-level body: the exception, its root cause (without `caused_by`, as Elasticsearch's
    /// is), and the status.
    pub fn body(&self, status: u16) -> Value {
        let mut root = root_cause(&self.to_json());
        if let Value::Object(root) = &mut root {
            root.remove("caused_by");
        }
        let mut error = self.to_json();
        if let Value::Object(error) = &mut error {
            let mut ordered = Map::new();
            ordered.insert("root_cause".into(), json!([root]));
            ordered.append(error);
            *error = ordered;
        }
        json!({ "error": error, "status": status })
    }
}

/// Exceptions that are plain Java (or Jackson) ones rather than Elasticsearch's own: the root-cause
/// search stops at them.
const JAVA_EXCEPTIONS: [&str; 6] = [
    "illegal_argument_exception",
    "illegal_state_exception",
    "json_parse_exception",
    "number_format_exception",
    "date_time_parse_exception",
    "arithmetic_exception",
];

fn is_parse_exception(kind: &str) -> bool {
    kind == "x_content_parse_exception" || kind == "named_object_not_found_exception"
}

/// `ElasticsearchException.guessRootCauses`: an Elasticsearch exception hands over to an Elasticsearch
/// cause, and a parse exception to a parse or Elasticsearch cause (so a nested request-body error
/// names its innermost field); anything else is its own root cause.
fn root_cause(error: &Value) -> Value {
    let kind = error["type"].as_str().unwrap_or_default();
    let Some(cause) = error.get("caused_by") else {
        return error.clone();
    };
    let cause_kind = cause["type"].as_str().unwrap_or_default();
    let cause_is_es = !JAVA_EXCEPTIONS.contains(&cause_kind) && !is_parse_exception(cause_kind);
    let follows = if is_parse_exception(kind) {
        cause_is_es || is_parse_exception(cause_kind)
    } else if JAVA_EXCEPTIONS.contains(&kind) {
        false
    } else {
        cause_is_es
    };
    if follows {
        root_cause(cause)
    } else {
        error.clone()
    }
}

/// The flat shape used by the REST layer before any handler runs (no handler, wrong method, bad
/// content type).
pub fn flat(message: impl Into<String>, status: u16) -> Value {
    json!({ "error": message.into(), "status": status })
}

pub fn rejected_execution(what: &str) -> EsError {
    EsError::new(
        "es_rejected_execution_exception",
        format!(
            "rejected execution of {what} on EsThreadPoolExecutor[name = es-test-node/write, \
             queue capacity = 10000, task execution EWMA = 1.2ms, active threads = 8, \
             queued tasks = 10000, completed tasks = 4207]"
        ),
    )
}
