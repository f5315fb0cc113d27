//! The walk through one document that decides whether a mapping accepts it: explicit fields must be
//! fitted by the document's values (`field_values.rs`), and a field seen for the first time is mapped
//! by the first matching dynamic template, else by the dynamic rules: the first document to set a
//! field fixes its type, later documents must fit it. `dynamic: false` (on the root or an object,
//! inherited) ignores unmapped fields, `runtime` likewise for leaves, `strict` rejects them.
//! Flattened fields and `enabled: false` objects take anything without adding fields.
//! Simplification: dynamic strings map to `keyword` (what Filebeat's template does, not the bare
//! `text` + `.keyword` default), and there is no date or numeric detection.

use std::collections::HashMap;

use serde_json::json;

use super::dynamic_templates::{self, Detected};
use super::errors::EsError;
use super::field_types::{Dynamic, Field, FieldType};
use super::field_values;
use super::mapping::Mapping;
use super::source::{column, Node, Spanned};

/// Walks a document's root fields; `Ok` is the fields it adds (or changes), to be committed by the
/// caller once the whole document is accepted.
pub fn walk(
    mapping: &Mapping,
    fields: &[(String, Spanned)],
    text: &str,
    id: &str,
) -> Result<HashMap<String, Field>, EsError> {
    let mut walk = Walk {
        mapping,
        staged: HashMap::new(),
        text,
        id,
    };
    walk.object("", fields, 0)?;
    Ok(walk.staged)
}

struct Walk<'a> {
    mapping: &'a Mapping,
    staged: HashMap<String, Field>,
    text: &'a str,
    id: &'a str,
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(parent, _)| parent)
}

fn detect(node: &Node) -> Detected {
    match node {
        Node::Object(_) => Detected::Object,
        Node::Bool(_) => Detected::Boolean,
        Node::Number(_, true) => Detected::Double,
        Node::Number(_, false) => Detected::Long,
        _ => Detected::String,
    }
}

impl Walk<'_> {
    fn existing(&self, path: &str) -> Option<Field> {
        self.staged
            .get(path)
            .or_else(|| self.mapping.get(path))
            .cloned()
    }

    /// The `dynamic` setting in force for new fields under `parent` (the nearest one set).
    fn dynamic_for(&self, parent: &str) -> Dynamic {
        let mut path = parent;
        while !path.is_empty() {
            let setting = self
                .existing(path)
                .and_then(|f| f.params.get("dynamic").and_then(Dynamic::parse));
            if let Some(dynamic) = setting {
                return dynamic;
            }
            path = parent_of(path);
        }
        self.mapping.dynamic.unwrap_or(Dynamic::True)
    }

    /// How a field the mapping does not have yet is mapped; `None` when it is ignored.
    fn new_field(
        &self,
        path: &str,
        leaf: &str,
        detected: Detected,
        offset: usize,
    ) -> Result<Option<Field>, EsError> {
        let parent = parent_of(path);
        match self.dynamic_for(parent) {
            Dynamic::False => return Ok(None),
            Dynamic::Runtime if detected != Detected::Object => return Ok(None),
            Dynamic::Strict => {
                let within = if parent.is_empty() { "_doc" } else { parent };
                return Err(EsError::new(
                    "strict_dynamic_mapping_exception",
                    format!(
                        "[1:{}] mapping set to strict, dynamic introduction of [{leaf}] within \
                         [{within}] is not allowed",
                        column(self.text, offset)
                    ),
                ));
            }
            Dynamic::True | Dynamic::Runtime => {}
        }
        if let Some(field) = dynamic_templates::find(&self.mapping.templates, path, leaf, detected)
        {
            return Ok(Some(field));
        }
        let kind = match detected {
            Detected::Object => FieldType::Object,
            Detected::Boolean => FieldType::Boolean,
            Detected::Double => FieldType::Float,
            Detected::Long => FieldType::Long,
            Detected::String => FieldType::Keyword,
        };
        Ok(Some(Field::of(kind)))
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
        'keys: for (key, value) in fields {
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
                    None => match self.new_field(&path, segment, Detected::Object, value.offset)? {
                        None => continue 'keys,
                        Some(field) if field.kind.is_object() => {
                            self.add_object(&path, field, level, value)?
                        }
                        Some(field) => {
                            let rest = segments[i + 1..].join(".");
                            let preview = format!("{{{rest}={}}}", preview(value));
                            return Err(self.object_into_concrete(&path, &field, value, preview));
                        }
                    },
                    Some(field) if field.opaque() => continue 'keys,
                    Some(field) if field.kind.is_object() => {}
                    Some(other) => {
                        let full =
                            format!("{prefix}{}{key}", if prefix.is_empty() { "" } else { "." });
                        return Err(self.error_at(
                            value,
                            format!(
                                "failed to parse: Could not dynamically add mapping for field [{full}]. \
                                 Existing mapping for [{path}] must be of type object but found [{}].",
                                other.kind.name()
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

    fn add_object(
        &mut self,
        path: &str,
        field: Field,
        depth: usize,
        at: &Spanned,
    ) -> Result<(), EsError> {
        let limit = self.mapping.limits.depth;
        if depth > limit {
            return Err(self.error_at(
                at,
                format!(
                    "failed to parse: Limit of mapping depth [{limit}] has been exceeded due to \
                     object field [{path}]"
                ),
            ));
        }
        self.staged.insert(path.to_string(), field);
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
                let field = match self.existing(path) {
                    Some(field) => field,
                    None => match self.new_field(path, leaf, Detected::Object, value.offset)? {
                        None => return Ok(()),
                        Some(field) if field.kind.is_object() => {
                            self.add_object(path, field.clone(), depth + 1, value)?;
                            field
                        }
                        Some(field) => field,
                    },
                };
                if field.opaque() || matches!(field.kind, FieldType::GeoPoint | FieldType::Other(_))
                {
                    return Ok(());
                }
                if field.kind == FieldType::Alias {
                    return Err(self.alias_error(path, value));
                }
                if field.kind.is_object() {
                    return self.object(path, fields, depth + 1);
                }
                Err(self.object_into_concrete(path, &field, value, preview(value)))
            }
            scalar => {
                let field = match self.existing(path) {
                    Some(field) => field,
                    None => match self.new_field(path, leaf, detect(scalar), value.offset)? {
                        None => return Ok(()),
                        Some(field) => {
                            if !field.kind.is_object() {
                                self.staged.insert(path.to_string(), field.clone());
                            }
                            field
                        }
                    },
                };
                if field.opaque() {
                    return Ok(());
                }
                if field.kind.is_object() {
                    let name = if in_array { "null" } else { leaf };
                    return Err(self.error_at(
                        value,
                        format!(
                            "object mapping for [{path}] tried to parse field [{name}] as object, but \
                             found a concrete value"
                        ),
                    ));
                }
                if field.kind == FieldType::Alias {
                    return Err(self.alias_error(path, value));
                }
                let col = column(self.text, value.offset);
                let ignore = self.mapping.limits.ignore_malformed;
                if let Err(cause) = field_values::accepts(path, &field, scalar, col, ignore) {
                    return Err(self
                        .field_error(path, field.kind, &preview(value), value)
                        .caused_by(cause));
                }
                if field.kind == FieldType::ConstantKeyword && field.param_str("value").is_none() {
                    // The first value a constant_keyword sees becomes its value.
                    let mut fixed = field;
                    fixed
                        .params
                        .insert("value".into(), json!(field_values::text(scalar)));
                    self.staged.insert(path.to_string(), fixed);
                }
                Ok(())
            }
        }
    }

    fn alias_error(&self, path: &str, at: &Spanned) -> EsError {
        let message = format!("Cannot write to a field alias [{path}].");
        self.error_at(at, format!("failed to parse: {message}"))
            .caused_by(EsError::new("illegal_argument_exception", message))
    }

    /// An object arriving where a concrete field is mapped.
    fn object_into_concrete(
        &self,
        path: &str,
        field: &Field,
        at: &Spanned,
        shown: String,
    ) -> EsError {
        let col = column(self.text, at.offset);
        let cause = if field.kind.is_numeric() {
            EsError::new(
                "x_content_parse_exception",
                format!(
                    "[1:{col}] Current token (START_OBJECT) not numeric, can not use numeric value accessors"
                ),
            )
        } else {
            EsError::new(
                "illegal_state_exception",
                format!("Can't get text on a START_OBJECT at 1:{col}"),
            )
        };
        self.field_error(path, field.kind, &shown, at)
            .caused_by(cause)
    }

    fn field_error(&self, path: &str, kind: FieldType, shown: &str, at: &Spanned) -> EsError {
        self.error_at(
            at,
            format!(
                "failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of \
                 field's value: '{shown}'",
                kind.name(),
                self.id
            ),
        )
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
        other => field_values::text(other),
    }
}
