//! Reading a JSON request body the way the REST layer does: a missing body is `request body is
//! required`, malformed JSON (or a duplicate key) an `x_content_parse_exception`, and errors about a
//! field quote its `[line:column]`, as Jackson counts them (bodies are often pretty-printed).

use serde_json::Value;

use super::errors::EsError;
use super::source::{self, Node, Spanned};

pub struct Body {
    pub text: String,
    pub root: Spanned,
}

impl Body {
    /// `[line:column]` of a byte offset in the body.
    pub fn at(&self, offset: usize) -> String {
        location(&self.text, offset)
    }

    pub fn value(&self) -> Value {
        source::to_value(&self.root)
    }
}

pub fn value_of(node: &Spanned) -> Value {
    source::to_value(node)
}

pub fn location(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("[{line}:{column}]")
}

/// The body, required.
pub fn required(body: &[u8]) -> Result<Body, EsError> {
    optional(body)?.ok_or_else(|| EsError::new("parse_exception", "request body is required"))
}

/// The body if there is one (`PUT /{index}` may have none).
pub fn optional(body: &[u8]) -> Result<Option<Body>, EsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(body).into_owned();
    let root = source::parse(&text).map_err(|e| {
        EsError::new(
            "x_content_parse_exception",
            format!("[1:{}] {}", e.column(), e.jackson_message()),
        )
    })?;
    Ok(Some(Body { text, root }))
}

/// The fields of an object node, or `None` for anything else.
pub fn fields(node: &Spanned) -> Option<&[(String, Spanned)]> {
    match &node.node {
        Node::Object(fields) => Some(fields),
        _ => None,
    }
}

/// Where the key of the object member whose value starts at `value_offset` starts: parsers report
/// an unknown field at its name, while the parsers around it report where they had got to, the value.
pub fn key_offset(text: &str, value_offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = value_offset.min(bytes.len());
    let skip_space = |i: &mut usize| {
        while *i > 0 && bytes[*i - 1].is_ascii_whitespace() {
            *i -= 1;
        }
    };
    skip_space(&mut i);
    if i == 0 || bytes[i - 1] != b':' {
        return value_offset;
    }
    i -= 1;
    skip_space(&mut i);
    if i == 0 || bytes[i - 1] != b'"' {
        return value_offset;
    }
    i -= 1;
    while i > 0 {
        i -= 1;
        if bytes[i] == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
            return i;
        }
    }
    value_offset
}

/// `x_content_parse_exception` "[l:c] [parser] unknown field [name]", at the field's name; `at` is
/// the field's value.
pub fn unknown_field(body: &Body, at: &Spanned, parser: &str, name: &str) -> EsError {
    EsError::new(
        "x_content_parse_exception",
        format!(
            "{} [{parser}] unknown field [{name}]",
            body.at(key_offset(&body.text, at.offset))
        ),
    )
}

/// ObjectParser's complaint about a value of the wrong JSON type.
pub fn wrong_type(body: &Body, at: &Spanned, parser: &str, name: &str) -> EsError {
    EsError::new(
        "x_content_parse_exception",
        format!(
            "{} [{parser}] {name} doesn't support values of type: {}",
            body.at(at.offset),
            source::token_name(&at.node)
        ),
    )
}
