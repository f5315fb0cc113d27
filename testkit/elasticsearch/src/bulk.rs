//! The bulk API's body, read the way `BulkRequestParser` reads it: a malformed action line fails the
//! whole request before anything is written. Running the items is `items.rs`.

use serde_json::Value;

use super::errors::EsError;
use super::source::{self, column, Node};

const MAX_ID_BYTES: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Index,
    Create,
    Update,
    Delete,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Create => "create",
            Kind::Update => "update",
            Kind::Delete => "delete",
        }
    }
}

#[derive(Debug)]
pub struct Op {
    pub kind: Kind,
    pub index: Option<String>,
    pub id: Option<String>,
    /// The document line (index/create) as sent, `\r` trimmed.
    pub source: Option<String>,
    pub update: Option<UpdateBody>,
}

#[derive(Debug, Default)]
pub struct UpdateBody {
    pub doc: Option<Value>,
    pub upsert: Option<Value>,
    pub doc_as_upsert: bool,
    pub script: bool,
}

/// Reads the whole body; `Err` is the request-level 400.
pub fn parse(body: &[u8], default_index: Option<&str>) -> Result<Vec<Op>, EsError> {
    if !body.ends_with(b"\n") {
        return Err(EsError::new(
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]",
        ));
    }
    let mut ops: Vec<Op> = Vec::new();
    let mut awaiting_source = false;
    let lines = body[..body.len() - 1].split(|&b| b == b'\n');
    for (number, raw) in lines.enumerate() {
        let line = number + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if awaiting_source {
            awaiting_source = false;
            let Some(op) = ops.last_mut() else { continue };
            let text = String::from_utf8_lossy(raw).into_owned();
            if op.kind == Kind::Update {
                op.update = Some(parse_update(&text)?);
            }
            // A blank line is taken as the document, as Elasticsearch does, which then cannot use it.
            if !text.trim().is_empty() {
                op.source = Some(text);
            }
            continue;
        }
        let text = std::str::from_utf8(raw).map_err(|e| {
            EsError::new(
                "x_content_parse_exception",
                format!("[1:{}] Invalid UTF-8 start byte", e.valid_up_to() + 1),
            )
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let op = parse_action(text, line, default_index)?;
        awaiting_source = op.kind != Kind::Delete;
        ops.push(op);
    }
    validate(&ops)?;
    Ok(ops)
}

fn malformed(line: usize, what: String) -> EsError {
    EsError::new(
        "illegal_argument_exception",
        format!("Malformed action/metadata line [{line}], {what}"),
    )
}

fn syntax_error(error: &source::ParseError) -> EsError {
    EsError::new(
        "x_content_parse_exception",
        format!("[1:{}] {}", error.column(), error.jackson_message()),
    )
}

fn parse_action(text: &str, line: usize, default_index: Option<&str>) -> Result<Op, EsError> {
    let parsed = source::parse(text).map_err(|e| syntax_error(&e))?;
    let Node::Object(fields) = &parsed.node else {
        return Err(malformed(
            line,
            format!(
                "expected START_OBJECT but found [{}]",
                source::token_name(&parsed.node)
            ),
        ));
    };
    let Some((action, params)) = fields.first() else {
        return Err(malformed(
            line,
            "expected FIELD_NAME but found [END_OBJECT]".into(),
        ));
    };
    let kind = match action.as_str() {
        "index" => Kind::Index,
        "create" => Kind::Create,
        "update" => Kind::Update,
        "delete" => Kind::Delete,
        other => {
            return Err(malformed(
                line,
                format!(
                    "expected field [create], [delete], [index] or [update] but found [{other}]"
                ),
            ))
        }
    };
    let mut op = Op {
        kind,
        index: default_index.map(str::to_string),
        id: None,
        source: None,
        update: None,
    };
    let Node::Object(params) = &params.node else {
        return Err(malformed(
            line,
            format!(
                "expected START_OBJECT or END_OBJECT but found [{}]",
                source::token_name(&params.node)
            ),
        ));
    };
    for (name, value) in params {
        let text = match &value.node {
            Node::Null => continue,
            Node::String(s) => s.clone(),
            Node::Number(n, _) => n.to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Object(_) if name == "dynamic_templates" || name == "_source" => continue,
            Node::Array(_) | Node::Object(_) => {
                return Err(malformed(
                    line,
                    format!(
                        "expected a simple value for field [{name}] but found [{}]",
                        source::token_name(&value.node)
                    ),
                ))
            }
        };
        match name.as_str() {
            "_index" => op.index = Some(text),
            "_id" => op.id = Some(text),
            "op_type" if kind == Kind::Index && text == "create" => op.kind = Kind::Create,
            "routing"
            | "op_type"
            | "version"
            | "version_type"
            | "if_seq_no"
            | "if_primary_term"
            | "retry_on_conflict"
            | "pipeline"
            | "_source"
            | "require_alias"
            | "require_data_stream"
            | "list_executed_pipelines" => {}
            _ => {
                return Err(EsError::new(
                    "illegal_argument_exception",
                    format!("Action/metadata line [{line}] contains an unknown parameter [{name}]"),
                ))
            }
        }
    }
    if fields.len() > 1 {
        return Err(malformed(
            line,
            "expected END_OBJECT but found [FIELD_NAME]".into(),
        ));
    }
    Ok(op)
}

fn parse_update(text: &str) -> Result<UpdateBody, EsError> {
    let parsed = source::parse(text).map_err(|e| syntax_error(&e))?;
    let mut body = UpdateBody::default();
    let Node::Object(fields) = &parsed.node else {
        return Err(EsError::new(
            "x_content_parse_exception",
            "[1:1] [UpdateRequest] Expected START_OBJECT but was: ".to_string()
                + source::token_name(&parsed.node),
        ));
    };
    for (name, value) in fields {
        match name.as_str() {
            "doc" => body.doc = Some(source::to_value(value)),
            "upsert" => body.upsert = Some(source::to_value(value)),
            "doc_as_upsert" => body.doc_as_upsert = matches!(value.node, Node::Bool(true)),
            "script" => body.script = true,
            "detect_noop" | "scripted_upsert" | "_source" => {}
            other => {
                return Err(EsError::new(
                    "x_content_parse_exception",
                    format!(
                        "[1:{}] [UpdateRequest] unknown field [{other}]",
                        column(text, value.offset)
                    ),
                ))
            }
        }
    }
    Ok(body)
}

/// `BulkRequest.validate()`: every problem of every request, numbered.
fn validate(ops: &[Op]) -> Result<(), EsError> {
    let mut problems = Vec::new();
    if ops.is_empty() {
        problems.push("no requests added".to_string());
    }
    for op in ops {
        if op.index.is_none() {
            problems.push("index is missing".to_string());
        }
        match (op.kind, &op.id) {
            (Kind::Delete | Kind::Update, None) => problems.push("id is missing".to_string()),
            (_, Some(id)) if id.is_empty() => {
                problems.push("if _id is specified it must not be empty".to_string())
            }
            (_, Some(id)) if id.len() > MAX_ID_BYTES => problems.push(format!(
                "id [{id}] is too long, must be no longer than {MAX_ID_BYTES} bytes but was: {}",
                id.len()
            )),
            _ => {}
        }
        match op.kind {
            Kind::Index | Kind::Create if op.source.is_none() => {
                problems.push("source is missing".to_string())
            }
            Kind::Update if op.update.is_none() => {
                problems.push("script or doc is missing".to_string())
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let listed: String = problems
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}: {p};", i + 1))
        .collect();
    Err(EsError::new(
        "action_request_validation_exception",
        format!("Validation Failed: {listed}"),
    ))
}
