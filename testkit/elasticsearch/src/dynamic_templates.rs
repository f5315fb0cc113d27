//! `dynamic_templates`: rules that pick the mapping of a field the first time a document brings it,
//! before the default dynamic rules, as `DynamicTemplate` does. The first template (in order) whose
//! `match`/`unmatch` (leaf name), `path_match`/`path_unmatch` (full dotted path) and
//! `match_mapping_type` fit wins. `match`, `path_match` and `unmatch_mapping_type` imply
//! `match_mapping_type: "*"`, which includes objects, so `kubernetes.labels.*` also catches an object
//! under `kubernetes.labels` (a dotted label key such as `app.kubernetes.io/name` becomes one) and
//! maps it as its concrete type, where the object then fails as it does in Elasticsearch.
//! Only `simple` (`*`) patterns are supported; `match_pattern: regex` is refused.

use serde_json::{Map, Value};

use super::errors::EsError;
use super::field_types::{Field, FieldType};
use super::patterns::simple_match;

/// What the JSON value of a new field looks like (`XContentFieldType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Object,
    String,
    Long,
    Double,
    Boolean,
}

const DETECTED_NAMES: [&str; 7] = [
    "object", "string", "long", "double", "boolean", "date", "binary",
];

impl Detected {
    fn name(self) -> &'static str {
        match self {
            Detected::Object => "object",
            Detected::String => "string",
            Detected::Long => "long",
            Detected::Double => "double",
            Detected::Boolean => "boolean",
        }
    }

    /// `{dynamic_type}`: the type the default rules would give (a string's is `text`).
    fn default_type(self) -> &'static str {
        match self {
            Detected::Object => "object",
            Detected::String => "text",
            Detected::Long => "long",
            Detected::Double => "float",
            Detected::Boolean => "boolean",
        }
    }
}

#[derive(Clone, Debug)]
pub struct DynamicTemplate {
    matches: Vec<String>,
    unmatches: Vec<String>,
    path_matches: Vec<String>,
    path_unmatches: Vec<String>,
    /// `None`: every type.
    types: Option<Vec<String>>,
    unmatch_types: Vec<String>,
    mapping: Map<String, Value>,
}

fn mapper_error(reason: String) -> EsError {
    EsError::new("mapper_parsing_exception", reason)
}

/// Reads `dynamic_templates`: an array of `{name: {…}}` objects.
pub fn parse(list: &Value) -> Result<Vec<DynamicTemplate>, EsError> {
    let Value::Array(items) = list else {
        return Err(mapper_error(format!(
            "Dynamic template syntax error. An array of named objects is expected, but was [{list}]"
        )));
    };
    let mut templates = Vec::new();
    for item in items {
        let single = item.as_object().filter(|o| o.len() == 1);
        let Some((name, body)) = single.and_then(|o| o.iter().next()) else {
            return Err(mapper_error(format!(
                "A dynamic template must be defined with a name, but was [{item}]"
            )));
        };
        templates.push(parse_one(name, body)?);
    }
    Ok(templates)
}

fn patterns(name: &str, value: &Value) -> Result<Vec<String>, EsError> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    mapper_error(format!(
                        "[{name}] values must either be a string or list of strings, but was [{value}]"
                    ))
                })
            })
            .collect(),
        Value::String(s) => Ok(vec![s.clone()]),
        other => Ok(vec![other.to_string()]),
    }
}

fn parse_one(name: &str, body: &Value) -> Result<DynamicTemplate, EsError> {
    let Some(body) = body.as_object() else {
        return Err(mapper_error(format!(
            "template [{name}] must have either mapping or runtime set"
        )));
    };
    let mut template = DynamicTemplate {
        matches: Vec::new(),
        unmatches: Vec::new(),
        path_matches: Vec::new(),
        path_unmatches: Vec::new(),
        types: None,
        unmatch_types: Vec::new(),
        mapping: Map::new(),
    };
    let mut explicit_types = Vec::new();
    let mut has_mapping = false;
    for (key, value) in body {
        match key.as_str() {
            "match" => template.matches = patterns(key, value)?,
            "unmatch" => template.unmatches = patterns(key, value)?,
            "path_match" => template.path_matches = patterns(key, value)?,
            "path_unmatch" => template.path_unmatches = patterns(key, value)?,
            "match_mapping_type" => explicit_types = patterns(key, value)?,
            "unmatch_mapping_type" => template.unmatch_types = patterns(key, value)?,
            "match_pattern" => {
                if value.as_str() == Some("regex") {
                    return Err(mapper_error(format!(
                        "dynamic template [{name}]: the test server supports only simple match patterns"
                    )));
                }
                if value.as_str() != Some("simple") {
                    return Err(EsError::new(
                        "illegal_argument_exception",
                        format!(
                            "No matching pattern matched on [{}]",
                            value.as_str().unwrap_or_default()
                        ),
                    ));
                }
            }
            "mapping" | "runtime" => {
                if has_mapping {
                    return Err(mapper_error(format!(
                        "mapping and runtime cannot be both specified in the same dynamic template [{name}]"
                    )));
                }
                has_mapping = true;
                template.mapping = value.as_object().cloned().unwrap_or_default();
            }
            other => {
                return Err(EsError::new(
                    "illegal_argument_exception",
                    format!("Illegal dynamic template parameter: [{other}]"),
                ))
            }
        }
    }
    if !has_mapping {
        return Err(mapper_error(format!(
            "template [{name}] must have either mapping or runtime set"
        )));
    }
    for t in explicit_types.iter().chain(&template.unmatch_types) {
        if t != "*" && !DETECTED_NAMES.contains(&t.as_str()) {
            return Err(EsError::new(
                "illegal_argument_exception",
                format!(
                    "No field type matched on [{t}], possible values are [{}]",
                    DETECTED_NAMES.join(", ")
                ),
            ));
        }
    }
    let implied = explicit_types.is_empty()
        && (!template.matches.is_empty()
            || !template.path_matches.is_empty()
            || !template.unmatch_types.is_empty());
    let wildcard = implied || explicit_types == ["*"];
    template.types = (!wildcard).then_some(explicit_types);
    // The mapping's type must be a real one (placeholders resolve at use).
    if let Some(kind) = template.mapping.get("type").and_then(Value::as_str) {
        if !kind.contains('{') && FieldType::from_name(kind).is_none() {
            return Err(mapper_error(format!(
                "dynamic template [{name}] has invalid content [{}], caused by [No mapper found for type [{kind}]]",
                Value::Object(body.clone())
            )));
        }
    }
    Ok(template)
}

impl DynamicTemplate {
    fn matches(&self, path: &str, leaf: &str, detected: Detected) -> bool {
        let any =
            |patterns: &[String], value: &str| patterns.iter().any(|p| simple_match(p, value));
        if !self.path_matches.is_empty() && !any(&self.path_matches, path) {
            return false;
        }
        if !self.matches.is_empty() && !any(&self.matches, leaf) {
            return false;
        }
        if any(&self.path_unmatches, path) || any(&self.unmatches, leaf) {
            return false;
        }
        if self.unmatch_types.iter().any(|t| t == detected.name()) {
            return false;
        }
        match &self.types {
            None => true,
            Some(types) => types.iter().any(|t| t == detected.name()),
        }
    }

    /// The field this template maps a new field to, placeholders filled in.
    fn field(&self, leaf: &str, detected: Detected) -> Field {
        let fill = |text: &str| {
            text.replace("{name}", leaf)
                .replace("{dynamic_type}", detected.default_type())
                .replace("{dynamicType}", detected.default_type())
        };
        let kind_name = self
            .mapping
            .get("type")
            .and_then(Value::as_str)
            .map_or_else(|| detected.default_type().to_string(), fill);
        let kind = FieldType::from_name(&kind_name).unwrap_or(FieldType::Other("unknown"));
        let mut params = Map::new();
        for (key, value) in &self.mapping {
            if key == "type" {
                continue;
            }
            let value = match value {
                Value::String(s) => Value::String(fill(s)),
                other => other.clone(),
            };
            params.insert(key.clone(), value);
        }
        Field { kind, params }
    }
}

/// The mapping the first matching template gives a new field, if any.
pub fn find(
    templates: &[DynamicTemplate],
    path: &str,
    leaf: &str,
    detected: Detected,
) -> Option<Field> {
    templates
        .iter()
        .find(|t| t.matches(path, leaf, detected))
        .map(|t| t.field(leaf, detected))
}
