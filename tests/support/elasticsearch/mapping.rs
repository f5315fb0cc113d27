//! Dynamic mapping, reduced to what decides whether a log document is accepted: the first document to
//! set a field fixes its type, and later documents must fit it (with Elasticsearch's coercions: a
//! keyword takes numbers and booleans, a number takes numeric strings, a boolean takes "true"/"false").

use std::collections::HashMap;

use serde_json::json;

use super::errors::EsError;
use super::source::{column, Node, Spanned};

/// `index.mapping.total_fields.limit` and `index.mapping.depth.limit` defaults.
const TOTAL_FIELDS_LIMIT: usize = 1000;
const DEPTH_LIMIT: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Object,
    Keyword,
    Long,
    Float,
    Boolean,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Object => "object",
            FieldType::Keyword => "keyword",
            FieldType::Long => "long",
            FieldType::Float => "float",
            FieldType::Boolean => "boolean",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Mapping {
    fields: HashMap<String, FieldType>,
}

impl Mapping {
    pub fn field(&self, path: &str) -> Option<FieldType> {
        self.fields.get(path).copied()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Checks a document (its root must be an object) and adds the fields it introduces; when it is
    /// rejected the mapping is left as it was, as a failed document adds nothing in Elasticsearch.
    pub fn apply(&mut self, doc: &Spanned, text: &str, id: &str) -> Result<(), EsError> {
        let mut walk = Walk {
            mapping: self,
            staged: HashMap::new(),
            text,
            id,
        };
        if let Node::Object(fields) = &doc.node {
            walk.object("", fields, 0)?;
        }
        let added = walk.staged.len();
        if added > 0 && self.fields.len() + added > TOTAL_FIELDS_LIMIT {
            let message = format!(
                "Limit of total fields [{TOTAL_FIELDS_LIMIT}] has been exceeded while adding new fields [{added}]"
            );
            return Err(EsError::new(
                "document_parsing_exception",
                format!(
                    "[1:{}] failed to parse: {message}",
                    column(text, text.len())
                ),
            )
            .caused_by(EsError::new("illegal_argument_exception", message)));
        }
        let staged = walk.staged;
        self.fields.extend(staged);
        Ok(())
    }
}

struct Walk<'a> {
    mapping: &'a Mapping,
    staged: HashMap<String, FieldType>,
    text: &'a str,
    id: &'a str,
}

impl Walk<'_> {
    fn existing(&self, path: &str) -> Option<FieldType> {
        self.staged
            .get(path)
            .copied()
            .or_else(|| self.mapping.field(path))
    }

    fn error_at(&self, spanned: &Spanned, message: String) -> EsError {
        EsError::new(
            "document_parsing_exception",
            format!("[1:{}] {message}", column(self.text, spanned.offset)),
        )
    }

    fn object(
        &mut self,
        prefix: &str,
        fields: &[(String, Spanned)],
        depth: usize,
    ) -> Result<(), EsError> {
        for (key, value) in fields {
            if key.is_empty() {
                return Err(self.error_at(
                    value,
                    "failed to parse: field name cannot be an empty string".to_string(),
                ));
            }
            if key.trim().is_empty() {
                return Err(self.error_at(
                    value,
                    format!(
                        "failed to parse: field name cannot contain only whitespaces: ['{key}']"
                    ),
                ));
            }
            let segments: Vec<&str> = key.split('.').collect();
            if segments.iter().any(|s| s.is_empty()) {
                return Err(self.error_at(
                    value,
                    format!(
                        "failed to parse: object field starting or ending with a [.] makes object \
                         resolution ambiguous: [{key}]"
                    ),
                ));
            }
            // A dotted name is shorthand for nested objects, so each prefix must be (or become) one.
            let mut path = prefix.to_string();
            let mut level = depth;
            for (i, segment) in segments.iter().enumerate() {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(segment);
                if i + 1 == segments.len() {
                    break;
                }
                level += 1;
                match self.existing(&path) {
                    None => self.add_object(&path, level, value)?,
                    Some(FieldType::Object) => {}
                    Some(other) => {
                        let full =
                            format!("{prefix}{}{key}", if prefix.is_empty() { "" } else { "." });
                        return Err(self.error_at(
                            value,
                            format!(
                                "failed to parse: Could not dynamically add mapping for field [{full}]. \
                                 Existing mapping for [{path}] must be of type object but found [{}].",
                                other.name()
                            ),
                        ));
                    }
                }
            }
            let leaf = segments.last().copied().unwrap_or_default();
            self.value(&path, leaf, value, level, false)?;
        }
        Ok(())
    }

    fn add_object(&mut self, path: &str, depth: usize, at: &Spanned) -> Result<(), EsError> {
        if depth > DEPTH_LIMIT {
            return Err(self.error_at(
                at,
                format!(
                    "failed to parse: Limit of mapping depth [{DEPTH_LIMIT}] has been exceeded due to \
                     object field [{path}]"
                ),
            ));
        }
        self.staged.insert(path.to_string(), FieldType::Object);
        Ok(())
    }

    fn value(
        &mut self,
        path: &str,
        leaf: &str,
        value: &Spanned,
        depth: usize,
        in_array: bool,
    ) -> Result<(), EsError> {
        match &value.node {
            Node::Null => Ok(()),
            Node::Array(items) => {
                for item in items {
                    self.value(path, leaf, item, depth, true)?;
                }
                Ok(())
            }
            Node::Object(fields) => {
                match self.existing(path) {
                    None => self.add_object(path, depth + 1, value)?,
                    Some(FieldType::Object) => {}
                    Some(concrete) => {
                        let cause = if matches!(concrete, FieldType::Long | FieldType::Float) {
                            EsError::new(
                                "x_content_parse_exception",
                                format!(
                                    "[1:{}] Current token (START_OBJECT) not numeric, can not use numeric value accessors",
                                    column(self.text, value.offset)
                                ),
                            )
                        } else {
                            EsError::new(
                                "illegal_state_exception",
                                format!(
                                    "Can't get text on a START_OBJECT at 1:{}",
                                    column(self.text, value.offset)
                                ),
                            )
                        };
                        return Err(self.field_error(path, concrete, value).caused_by(cause));
                    }
                }
                self.object(path, fields, depth + 1)
            }
            _ => match self.existing(path) {
                None => {
                    let dynamic = match &value.node {
                        Node::Bool(_) => FieldType::Boolean,
                        Node::Number(_, true) => FieldType::Float,
                        Node::Number(_, false) => FieldType::Long,
                        _ => FieldType::Keyword,
                    };
                    self.staged.insert(path.to_string(), dynamic);
                    Ok(())
                }
                Some(FieldType::Object) => {
                    let name = if in_array { "null" } else { leaf };
                    Err(self.error_at(
                        value,
                        format!(
                            "object mapping for [{path}] tried to parse field [{name}] as object, but \
                             found a concrete value"
                        ),
                    ))
                }
                Some(concrete) => {
                    match accepts(concrete, &value.node, column(self.text, value.offset)) {
                        Ok(()) => Ok(()),
                        Err(cause) => Err(self.field_error(path, concrete, value).caused_by(cause)),
                    }
                }
            },
        }
    }

    fn field_error(&self, path: &str, kind: FieldType, value: &Spanned) -> EsError {
        self.error_at(
            value,
            format!(
                "failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of \
                 field's value: '{}'",
                kind.name(),
                self.id,
                preview(value)
            ),
        )
    }
}

/// Whether a concrete value fits a concrete field, and if not the cause Elasticsearch gives.
fn accepts(kind: FieldType, node: &Node, col: usize) -> Result<(), EsError> {
    match (kind, node) {
        (FieldType::Keyword, _) => Ok(()),
        (FieldType::Long | FieldType::Float, Node::Number(..)) => Ok(()),
        (FieldType::Long | FieldType::Float, Node::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(()),
            _ => Err(EsError::new(
                "illegal_argument_exception",
                format!("For input string: \"{s}\""),
            )),
        },
        (FieldType::Long | FieldType::Float, other) => Err(EsError::new(
            "x_content_parse_exception",
            format!(
                "[1:{col}] Current token ({}) not numeric, can not use numeric value accessors",
                super::source::token_name(other)
            ),
        )),
        (FieldType::Boolean, Node::Bool(_)) => Ok(()),
        (FieldType::Boolean, Node::String(s)) if s == "true" || s == "false" || s.is_empty() => {
            Ok(())
        }
        (FieldType::Boolean, other) => Err(EsError::new(
            "illegal_argument_exception",
            format!(
                "Failed to parse value [{}] as only [true] or [false] are allowed.",
                scalar_text(other)
            ),
        )),
        (FieldType::Object, _) => Ok(()),
    }
}

fn scalar_text(node: &Node) -> String {
    match node {
        Node::String(s) => s.clone(),
        Node::Number(n, _) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Null => "null".to_string(),
        _ => String::new(),
    }
}

/// Java's `toString` of the parsed value, which is what Elasticsearch's preview shows.
fn preview(value: &Spanned) -> String {
    match &value.node {
        Node::Object(fields) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", preview(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Node::Array(items) => {
            let parts: Vec<String> = items.iter().map(preview).collect();
            format!("[{}]", parts.join(", "))
        }
        other => scalar_text(other),
    }
}

/// For assertions: the mapping as `{"path": "type"}`.
pub fn describe(mapping: &Mapping) -> serde_json::Value {
    let mut paths: Vec<_> = mapping.fields.iter().collect();
    paths.sort_by_key(|(path, _)| *path);
    json!(paths
        .into_iter()
        .map(|(p, t)| (p.clone(), json!(t.name())))
        .collect::<serde_json::Map<_, _>>())
}
