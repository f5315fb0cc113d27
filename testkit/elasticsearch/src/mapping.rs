//! An index's mapping: its fields (explicit ones from a template or `PUT /{index}`, dynamic ones added
//! by documents), root options, dynamic templates and limits; and applying a document to it, all or
//! nothing, with the total-fields limit and a data stream's `@timestamp` rule. The walk through a
//! document is `mapping_walk.rs`.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::dynamic_templates::DynamicTemplate;
use super::errors::EsError;
pub use super::field_types::{Dynamic, Field, FieldType};
use super::mapping_walk;
use super::source::{column, Node, Spanned};

/// The limits and defaults an index's settings give its mapping.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `index.mapping.total_fields.limit`.
    pub total_fields: usize,
    /// `index.mapping.depth.limit`.
    pub depth: usize,
    /// `index.mapping.ignore_malformed`.
    pub ignore_malformed: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            total_fields: 1000,
            depth: 20,
            ignore_malformed: false,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Mapping {
    fields: HashMap<String, Field>,
    /// Root options as they were given (`dynamic`, `dynamic_templates`, `_source`, `_meta`, …).
    pub(super) root: Map<String, Value>,
    pub(super) dynamic: Option<Dynamic>,
    pub(super) templates: Vec<DynamicTemplate>,
    pub limits: Limits,
    /// A data stream's backing index: every document needs one `@timestamp`.
    pub timestamp_required: bool,
}

impl Mapping {
    pub fn field(&self, path: &str) -> Option<FieldType> {
        self.fields.get(path).map(|f| f.kind)
    }

    pub fn get(&self, path: &str) -> Option<&Field> {
        self.fields.get(path)
    }

    pub(super) fn insert(&mut self, path: String, field: Field) {
        self.fields.insert(path, field);
    }

    pub(super) fn fields(&self) -> impl Iterator<Item = (&String, &Field)> {
        self.fields.iter()
    }

    /// Checks a document (its root must be an object) and adds the fields it introduces; when it is
    /// rejected the mapping is left as it was, as a failed document adds nothing in Elasticsearch.
    pub fn apply(&mut self, doc: &Spanned, text: &str, id: &str) -> Result<(), EsError> {
        let mut staged = HashMap::new();
        if let Node::Object(fields) = &doc.node {
            staged = mapping_walk::walk(self, fields, text, id)?;
            if self.timestamp_required {
                timestamp_present(fields, text)?;
            }
        }
        let added = staged
            .keys()
            .filter(|k| !self.fields.contains_key(*k))
            .count();
        let limit = self.limits.total_fields;
        if added > 0 && self.fields.len() + added > limit {
            let message = format!(
                "Limit of total fields [{limit}] has been exceeded while adding new fields [{added}]"
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
        self.fields.extend(staged);
        Ok(())
    }
}

/// `DataStreamTimestampFieldMapper`'s check: exactly one non-null `@timestamp`.
fn timestamp_present(fields: &[(String, Spanned)], text: &str) -> Result<(), EsError> {
    let values: Vec<&Spanned> = fields
        .iter()
        .filter(|(k, _)| k == "@timestamp")
        .flat_map(|(_, v)| match &v.node {
            Node::Array(items) => items.iter().collect(),
            _ => vec![v],
        })
        .filter(|v| !matches!(v.node, Node::Null))
        .collect();
    let problem = match values.len() {
        0 => "data stream timestamp field [@timestamp] is missing",
        1 => return Ok(()),
        _ => "data stream timestamp field [@timestamp] encountered multiple values",
    };
    Err(EsError::new(
        "document_parsing_exception",
        format!(
            "[1:{}] failed to parse: {problem}",
            column(text, text.len())
        ),
    )
    .caused_by(EsError::new("illegal_argument_exception", problem)))
}

/// For assertions: the mapping as `{"path": "type"}`.
pub fn describe(mapping: &Mapping) -> Value {
    let mut paths: Vec<_> = mapping.fields.iter().collect();
    paths.sort_by_key(|(path, _)| *path);
    json!(paths
        .into_iter()
        .map(|(p, f)| (p.clone(), json!(f.kind.name())))
        .collect::<Map<_, _>>())
}
