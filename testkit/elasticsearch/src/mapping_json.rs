//! Explicit mappings as JSON: reading them into a `Mapping` with the checks Elasticsearch's mapper
//! parsers make (unknown types and parameters, `scaling_factor`, alias paths, `dynamic` values,
//! dynamic templates), merging a request's mappings over its template's, and writing a mapping
//! back in the shape `GET /{index}` answers with (`properties` trees).

use serde_json::{Map, Value};

use super::dynamic_templates;
use super::errors::EsError;
use super::field_types::{Dynamic, Field, FieldType};
use super::mapping::{Limits, Mapping};

/// Root keys a mapping may have besides `properties`, `dynamic` and `dynamic_templates`.
const ROOT_KEYS: [&str; 11] = [
    "_source",
    "_routing",
    "_meta",
    "_field_names",
    "_data_stream_timestamp",
    "date_detection",
    "numeric_detection",
    "dynamic_date_formats",
    "runtime",
    "subobjects",
    "enabled",
];

fn mapper_error(reason: String) -> EsError {
    EsError::new("mapper_parsing_exception", reason)
}

/// `getRemainingFields`: how unsupported parameters are listed (` [key : value]` each).
fn remaining(map: &Map<String, Value>) -> String {
    map.iter()
        .map(|(k, v)| format!(" [{k} : {}]", java_text(v)))
        .collect()
}

fn java_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", java_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// Reads a mapping; `Err` is the inner exception (callers add "Failed to parse mapping: …").
pub fn parse(json: &Value, limits: Limits) -> Result<Mapping, EsError> {
    let mut mapping = Mapping::default();
    mapping.limits = limits;
    let Some(mut root) = json.as_object().cloned() else {
        return Err(mapper_error(format!(
            "Expected map for mappings but got [{json}]"
        )));
    };
    // `{"_doc": {…}}` is the typed form; Elasticsearch unwraps it.
    if root.len() == 1 {
        if let Some(Value::Object(inner)) = root.get("_doc") {
            root = inner.clone();
        }
    }
    let mut unsupported = Map::new();
    for (key, value) in &root {
        match key.as_str() {
            "properties" => properties(&mut mapping, "", value)?,
            "dynamic" => {
                mapping.dynamic = Some(dynamic_value("_doc", value)?);
                mapping.root.insert(key.clone(), value.clone());
            }
            "dynamic_templates" => {
                mapping.templates = dynamic_templates::parse(value)?;
                mapping.root.insert(key.clone(), value.clone());
            }
            known if ROOT_KEYS.contains(&known) => {
                mapping.root.insert(key.clone(), value.clone());
            }
            _ => {
                unsupported.insert(key.clone(), value.clone());
            }
        }
    }
    if !unsupported.is_empty() {
        return Err(mapper_error(format!(
            "Root mapping definition has unsupported parameters: {}",
            remaining(&unsupported)
        )));
    }
    check_aliases(&mapping)?;
    Ok(mapping)
}

fn dynamic_value(on: &str, value: &Value) -> Result<Dynamic, EsError> {
    Dynamic::parse(value).ok_or_else(|| {
        mapper_error(format!(
            "Could not convert [{on}.dynamic] to boolean: [{}] is not one of true, false, strict or runtime",
            java_text(value)
        ))
    })
}

fn properties(mapping: &mut Mapping, prefix: &str, value: &Value) -> Result<(), EsError> {
    let Some(fields) = value.as_object() else {
        return Err(mapper_error(format!(
            "Expected map for property [properties] on field [{prefix}] but got a {}",
            java_class(value)
        )));
    };
    for (name, definition) in fields {
        if name.trim().is_empty() {
            return Err(mapper_error(
                "field name cannot be an empty string".to_string(),
            ));
        }
        // A dotted name in a mapping stands for objects, as in documents.
        let mut path = prefix.to_string();
        let segments: Vec<&str> = name.split('.').collect();
        for segment in &segments[..segments.len() - 1] {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
            if mapping.get(&path).is_none() {
                mapping.insert(path.clone(), Field::of(FieldType::Object));
            }
        }
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(segments[segments.len() - 1]);
        field(mapping, &path, segments[segments.len() - 1], definition)?;
    }
    Ok(())
}

fn java_class(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "class java.lang.String",
        Value::Number(_) => "class java.lang.Integer",
        Value::Bool(_) => "class java.lang.Boolean",
        Value::Array(_) => "class java.util.ArrayList",
        _ => "class java.lang.Object",
    }
}

fn field(mapping: &mut Mapping, path: &str, leaf: &str, definition: &Value) -> Result<(), EsError> {
    let Some(definition) = definition.as_object() else {
        return Err(mapper_error(format!(
            "Expected map for property [fields] on field [{leaf}] but got a {}",
            java_class(definition)
        )));
    };
    let parsed = definition_of(leaf, definition)?;
    let is_object = parsed.kind.is_object();
    let children = definition.get("properties").cloned();
    let mut params = parsed.params;
    params.remove("properties");
    if let Some(dynamic) = params.get("dynamic") {
        dynamic_value(leaf, dynamic)?;
    }
    mapping.insert(
        path.to_string(),
        Field {
            kind: parsed.kind,
            params,
        },
    );
    if is_object {
        if let Some(children) = children {
            properties(mapping, path, &children)?;
        }
    }
    Ok(())
}

/// One field's definition checked on its own (also used for multi-fields, which have no path).
fn definition_of(leaf: &str, definition: &Map<String, Value>) -> Result<Field, EsError> {
    let kind = match definition.get("type") {
        None => FieldType::Object,
        Some(Value::String(name)) => FieldType::from_name(name).ok_or_else(|| {
            mapper_error(format!(
                "No handler for type [{name}] declared on field [{leaf}]"
            ))
        })?,
        Some(other) => {
            return Err(mapper_error(format!(
                "No handler for type [{}] declared on field [{leaf}]",
                java_text(other)
            )))
        }
    };
    let mut params = definition.clone();
    if !matches!(kind, FieldType::Nested) {
        params.remove("type");
    }
    if let Some(allowed) = kind.params() {
        let unknown: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| *k != "type" && !allowed.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some((first, _)) = unknown.iter().next() {
            return Err(if kind.is_object() {
                mapper_error(format!(
                    "Mapping definition for [{leaf}] has unsupported parameters: {}",
                    remaining(&unknown)
                ))
            } else {
                mapper_error(format!(
                    "unknown parameter [{first}] on mapper [{leaf}] of type [{}]",
                    kind.name()
                ))
            });
        }
    }
    if kind == FieldType::ScaledFloat && !params.contains_key("scaling_factor") {
        return Err(mapper_error(
            "Field [scaling_factor] is required".to_string(),
        ));
    }
    if kind == FieldType::Alias && !params.get("path").is_some_and(Value::is_string) {
        return Err(mapper_error(format!(
            "The [path] property must be specified for field [{leaf}]."
        )));
    }
    if let Some(multi) = params.get("fields") {
        let Some(multi) = multi.as_object() else {
            return Err(mapper_error(format!(
                "Expected map for property [fields] on field [{leaf}] but got a {}",
                java_class(multi)
            )));
        };
        for (name, sub) in multi {
            let Some(sub) = sub.as_object() else {
                return Err(mapper_error(format!(
                    "illegal field [{name}], only fields can be specified inside fields"
                )));
            };
            definition_of(name, sub)?;
        }
    }
    Ok(Field { kind, params })
}

/// `FieldAliasMapper`'s check, once every field is known.
fn check_aliases(mapping: &Mapping) -> Result<(), EsError> {
    for (path, field) in mapping.fields() {
        if field.kind != FieldType::Alias {
            continue;
        }
        let target = field.param_str("path").unwrap_or_default();
        let ok = mapping
            .get(target)
            .is_some_and(|t| !t.kind.is_object() && t.kind != FieldType::Alias);
        if !ok {
            return Err(mapper_error(format!(
                "Invalid [path] value [{target}] for field alias [{path}]: an alias must refer to an \
                 existing field in the mappings."
            )));
        }
    }
    Ok(())
}

/// A request's mappings over its template's: objects merge key by key, a field given a concrete
/// `type` replaces the template's, dynamic templates of the same name are replaced.
pub fn merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut merged = b.clone();
            for (key, value) in o {
                let next = match (merged.get(key), key.as_str()) {
                    (Some(Value::Array(old)), "dynamic_templates") => merge_templates(old, value),
                    (Some(old), _) if old.is_object() && value.is_object() && !is_leaf(value) => {
                        merge(old, value)
                    }
                    _ => value.clone(),
                };
                merged.insert(key.clone(), next);
            }
            Value::Object(merged)
        }
        _ => over.clone(),
    }
}

fn is_leaf(definition: &Value) -> bool {
    definition
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "object" && t != "nested")
}

fn merge_templates(old: &[Value], new: &Value) -> Value {
    let Value::Array(new) = new else {
        return new.clone();
    };
    let name = |t: &Value| t.as_object().and_then(|o| o.keys().next().cloned());
    let mut merged: Vec<Value> = old
        .iter()
        .filter(|t| !new.iter().any(|n| name(n) == name(t)))
        .cloned()
        .collect();
    merged.extend(new.iter().cloned());
    Value::Array(merged)
}

/// The mapping as `GET /{index}` shows it.
pub fn render(mapping: &Mapping) -> Value {
    let mut root = mapping.root.clone();
    let mut paths: Vec<(&String, &Field)> = mapping.fields().collect();
    paths.sort_by(|a, b| a.0.cmp(b.0));
    let mut properties = Map::new();
    for (path, field) in paths {
        let mut json = field.params.clone();
        if !field.kind.is_object() {
            json.insert("type".into(), Value::String(field.kind.name().to_string()));
        }
        let segments: Vec<&str> = path.split('.').collect();
        place(&mut properties, &segments, json);
    }
    if !properties.is_empty() {
        root.insert("properties".into(), Value::Object(properties));
    }
    Value::Object(root)
}

/// Puts a field's JSON at its place in a `properties` tree, under its parents' `properties`.
fn place(level: &mut Map<String, Value>, segments: &[&str], json: Map<String, Value>) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    if rest.is_empty() {
        match level.get_mut(*first) {
            Some(Value::Object(existing)) => existing.extend(json),
            _ => {
                level.insert(first.to_string(), Value::Object(json));
            }
        }
        return;
    }
    let parent = level
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(parent) = parent {
        let children = parent
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(children) = children {
            place(children, rest, json);
        }
    }
}
