//! Creating indices (by `PUT /{index}`, by a bulk write's auto-create, or as a data stream's backing
//! index) the way `MetadataCreateIndexService` does: name checks, the highest-priority matching
//! template's settings, mappings and aliases under the request's own, settings validation and
//! defaults, mapping parsing, alias checks, and ILM's `parse_origination_date` name check. Also
//! `GET|HEAD|DELETE /{index}` and the resolution of index expressions (names, `*` patterns,
//! aliases, data streams) other endpoints share.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::aliases::{self, AliasMeta};
use super::errors::EsError;
use super::explain;
use super::index_mode;
use super::index_name;
use super::mapping::{FieldType, Limits, Mapping};
use super::mapping_json;
use super::patterns::{is_wildcard, simple_match};
use super::request_body;
use super::setting_rules;
use super::settings::{self, Settings};
use super::store::{new_id, Index, Store};
use super::templates;

/// `index.version.created` of 8.15.
const VERSION_CREATED: &str = "8512000";

/// Who is creating the index.
pub enum Origin {
    /// `PUT /{index}`.
    Api,
    /// A bulk write to a name that does not exist (`action.auto_create_index`).
    AutoCreate,
    /// A data stream's backing index, configured by the data stream's template.
    Backing {
        data_stream: String,
        template: String,
    },
}

#[derive(Default)]
pub struct CreateRequest {
    pub settings: Settings,
    pub mappings: Option<Value>,
    pub aliases: BTreeMap<String, AliasMeta>,
}

/// `CreateIndexRequest.source`: `settings`, `mappings`, `aliases`.
pub fn parse_create_body(body: &[u8]) -> Result<CreateRequest, EsError> {
    let mut request = CreateRequest::default();
    let Some(body) = request_body::optional(body)? else {
        return Ok(request);
    };
    let Value::Object(top) = body.value() else {
        return Err(EsError::new(
            "parse_exception",
            "request body must be an object",
        ));
    };
    for (key, value) in top {
        match key.as_str() {
            "settings" => request.settings = settings::normalize(&value)?,
            "mappings" if value.is_object() => request.mappings = Some(value),
            "aliases" if value.is_object() => {
                for (alias, spec) in value.as_object().into_iter().flatten() {
                    request
                        .aliases
                        .insert(alias.clone(), AliasMeta::parse(alias, spec)?);
                }
            }
            other => {
                return Err(EsError::new(
                    "parse_exception",
                    format!("unknown key [{other}] for create index"),
                ))
            }
        }
    }
    Ok(request)
}

/// The settings Elasticsearch gives every index, as strings.
pub fn default_settings(name: &str, uuid: &str, backing: bool) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "index.creation_date".to_string(),
            super::store::now_millis().to_string(),
        ),
        ("index.number_of_shards".to_string(), "1".to_string()),
        ("index.number_of_replicas".to_string(), "1".to_string()),
        ("index.uuid".to_string(), uuid.to_string()),
        ("index.provided_name".to_string(), name.to_string()),
        (
            "index.version.created".to_string(),
            VERSION_CREATED.to_string(),
        ),
        (
            "index.routing.allocation.include._tier_preference".to_string(),
            if backing { "data_hot" } else { "data_content" }.to_string(),
        ),
    ];
    if backing {
        out.push(("index.hidden".to_string(), "true".to_string()));
    }
    out
}

/// A data stream's backing index maps `@timestamp` as `date` unless its template says otherwise;
/// the request's mappings go over the template's.
pub fn compose_mappings(backing: bool, template: Option<&Value>, request: Option<&Value>) -> Value {
    let mut mappings = if backing {
        json!({ "properties": { "@timestamp": { "type": "date" } } })
    } else {
        json!({})
    };
    for layer in [template, request].into_iter().flatten() {
        mappings = mapping_json::merge(&mappings, layer);
    }
    mappings
}

/// `validateTimestampFieldMapping`.
pub fn check_timestamp(mapping: &Mapping) -> Result<(), EsError> {
    match mapping.field("@timestamp") {
        Some(FieldType::Date | FieldType::DateNanos) => Ok(()),
        other => Err(EsError::new(
            "illegal_argument_exception",
            format!(
                "data stream timestamp field [@timestamp] is of type [{}], but [date,date_nanos] is expected",
                other.map_or("null", FieldType::name)
            ),
        )),
    }
}

fn limits(settings: &Settings) -> Limits {
    let defaults = Limits::default();
    let number = |key: &str, default: usize| {
        settings::get(settings, key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    Limits {
        total_fields: number("index.mapping.total_fields.limit", defaults.total_fields),
        depth: number("index.mapping.depth.limit", defaults.depth),
        ignore_malformed: settings::get_bool(settings, "index.mapping.ignore_malformed", false),
    }
}

fn invalid_name(name: &str, rule: &str) -> EsError {
    EsError::new(
        "invalid_index_name_exception",
        index_name::reason(name, rule),
    )
    .on_index(name, "_na_")
}

/// Creates `name` (date math already resolved; `provided` is the name as sent).
pub fn create(
    store: &mut Store,
    name: &str,
    provided: &str,
    request: CreateRequest,
    origin: Origin,
) -> Result<(), EsError> {
    index_name::check(name).map_err(|rule| invalid_name(name, &rule))?;
    if let Some(existing) = store.indices.get(name) {
        let uuid = existing.uuid.clone();
        return Err(EsError::new(
            "resource_already_exists_exception",
            format!("index [{name}/{uuid}] already exists"),
        )
        .on_index(name, &uuid));
    }
    if store.is_alias(name) {
        return Err(invalid_name(name, "already exists as alias"));
    }
    if store.data_streams.contains_key(name) {
        return Err(invalid_name(name, "already exists as data stream"));
    }
    let (template, data_stream) = match &origin {
        Origin::Backing {
            data_stream,
            template,
        } => (
            store.templates.get(template).cloned(),
            Some(data_stream.clone()),
        ),
        _ => {
            let found = templates::find(store, name).map(|(n, t)| (n.clone(), t.clone()));
            if let (Origin::Api, Some((template_name, t))) = (&origin, &found) {
                if t.data_stream.is_some() {
                    return Err(EsError::new(
                        "illegal_argument_exception",
                        format!(
                            "cannot create index with name [{name}], because it matches with template \
                             [{template_name}] that creates data streams only, use create data stream api instead"
                        ),
                    ));
                }
            }
            (found.map(|(_, t)| t), None)
        }
    };
    let backing = data_stream.is_some();
    let template_settings = template
        .as_ref()
        .map(|t| t.settings.clone())
        .unwrap_or_default();
    let mut chosen = settings::merge(&template_settings, &request.settings);
    if let Some(problem) = setting_rules::problems(&chosen).into_iter().next() {
        return Err(EsError::new("illegal_argument_exception", problem));
    }
    index_mode::check_settings(&chosen, &store.version)?;
    let uuid = new_id(22);
    for (key, value) in default_settings(provided, &uuid, backing) {
        let fixed = matches!(
            key.as_str(),
            "index.uuid" | "index.provided_name" | "index.version.created"
        );
        if fixed || !chosen.contains_key(&key) {
            chosen.insert(key, Value::String(value));
        }
    }
    let mappings = index_mode::with_defaults(
        &chosen,
        compose_mappings(
            backing,
            template.as_ref().and_then(|t| t.mappings.as_ref()),
            request.mappings.as_ref(),
        ),
    );
    let mut mapping = mapping_json::parse(&mappings, limits(&chosen)).map_err(|inner| {
        EsError::new(
            "mapper_parsing_exception",
            format!("Failed to parse mapping: {}", inner.reason),
        )
        .caused_by(inner)
    })?;
    index_mode::check_mapping(&chosen, &mappings, &mapping)?;
    if backing {
        check_timestamp(&mapping)?;
        mapping.timestamp_required = true;
    }
    let mut alias_map = match (&template, backing) {
        (Some(t), false) => t.alias_metas()?,
        _ => BTreeMap::new(),
    };
    alias_map.extend(request.aliases);
    aliases::validate(store, name, &alias_map)?;
    if settings::get_bool(&chosen, "index.lifecycle.parse_origination_date", false)
        && settings::get(&chosen, "index.lifecycle.origination_date").is_none()
    {
        explain::origination_date_from_name(name)
            .map_err(|reason| EsError::new("illegal_argument_exception", reason))?;
    }
    let mut index = Index::with(uuid, mapping, chosen);
    index.aliases = alias_map;
    index.data_stream = data_stream;
    store.indices.insert(name.to_string(), index);
    Ok(())
}

pub fn not_found(name: &str) -> EsError {
    EsError::new(
        "index_not_found_exception",
        format!("no such index [{name}]"),
    )
    .with("resource.type", json!("index_or_alias"))
    .with("resource.id", json!(name))
    .on_index(name, "_na_")
}

/// The concrete indices an expression names: comma-separated names, aliases and data streams, or
/// `*` patterns over them (which skip hidden indices, as `expand_wildcards=open` does). A name that
/// does not exist is an error; a pattern that matches nothing is not.
pub fn resolve(store: &Store, expression: &str) -> Result<Vec<String>, EsError> {
    let mut out: Vec<String> = Vec::new();
    for part in expression.split(',').filter(|p| !p.is_empty()) {
        let part = if part == "_all" { "*" } else { part };
        if is_wildcard(part) {
            for (name, idx) in &store.indices {
                if !idx.hidden() && simple_match(part, name) {
                    out.push(name.clone());
                }
            }
            for alias in store.alias_names() {
                if simple_match(part, &alias) {
                    out.extend(store.alias(&alias).into_iter().map(|(n, _)| n.clone()));
                }
            }
            for (name, ds) in &store.data_streams {
                if simple_match(part, name) {
                    out.extend(ds.indices.iter().cloned());
                }
            }
        } else if store.indices.contains_key(part) {
            out.push(part.to_string());
        } else if let Some(ds) = store.data_streams.get(part) {
            out.extend(ds.indices.iter().cloned());
        } else if store.is_alias(part) {
            out.extend(store.alias(part).into_iter().map(|(n, _)| n.clone()));
        } else {
            return Err(not_found(part));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `GET /{index}`: each index's aliases, mappings and settings.
pub fn get(store: &Store, expression: &str, flat: bool) -> Result<Value, EsError> {
    let mut out = Map::new();
    for name in resolve(store, expression)? {
        let Some(idx) = store.indices.get(&name) else {
            continue;
        };
        let aliases: Map<String, Value> = idx
            .aliases
            .iter()
            .map(|(a, m)| (a.clone(), m.to_json()))
            .collect();
        let settings = if flat {
            settings::flat(&idx.settings)
        } else {
            settings::expand(&idx.settings)
        };
        let mut body = json!({
            "aliases": aliases,
            "mappings": mapping_json::render(&idx.mapping),
            "settings": settings,
        });
        if let Some(ds) = &idx.data_stream {
            body["data_stream"] = json!(ds);
        }
        out.insert(name, body);
    }
    Ok(Value::Object(out))
}

/// `DELETE /{index}`: concrete names only (`action.destructive_requires_name` is on by default).
pub fn delete(store: &mut Store, expression: &str) -> Result<Value, EsError> {
    let parts: Vec<&str> = expression.split(',').collect();
    for part in &parts {
        if is_wildcard(part) || *part == "_all" {
            return Err(EsError::new(
                "illegal_argument_exception",
                "Wildcard expressions or all indices are not allowed",
            ));
        }
        if store.is_alias(part) && !store.indices.contains_key(*part) {
            return Err(EsError::new(
                "illegal_argument_exception",
                format!(
                    "The provided expression [{part}] matches an alias, specify the corresponding \
                     concrete indices instead."
                ),
            ));
        }
        let Some(idx) = store.indices.get(*part) else {
            return Err(not_found(part));
        };
        if let Some(ds) = idx
            .data_stream
            .as_ref()
            .and_then(|d| store.data_streams.get(d))
        {
            if ds.write_index() == *part {
                return Err(EsError::new(
                    "illegal_argument_exception",
                    format!(
                        "index [{part}] is the write index for data stream [{}] and cannot be deleted",
                        ds.name
                    ),
                ));
            }
        }
    }
    for part in parts {
        if let Some(idx) = store.indices.remove(part) {
            if let Some(ds) = idx.data_stream.and_then(|d| store.data_streams.get_mut(&d)) {
                ds.indices.retain(|i| i != part);
            }
        }
    }
    Ok(json!({ "acknowledged": true }))
}
