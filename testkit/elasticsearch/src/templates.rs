//! Composable index templates: `PUT|POST|GET|HEAD|DELETE /_index_template/{name}` (`GET` also without
//! a name, and with `*`), checked in `MetadataIndexTemplateService`'s order: the body parser, the
//! request's own checks, component templates (none exist here, so any `composed_of` name is
//! missing), overlapping patterns at the same priority, name/pattern/settings validation, then the
//! template composed as an index would be (mappings, aliases, a data stream's `@timestamp`).
//! Settings are kept normalized and answered as Elasticsearch answers them
//! (`{"index": {"number_of_shards": "1"}}`); mappings and the rest as they were sent.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::aliases::AliasMeta;
use super::errors::EsError;
use super::failure_store;
use super::patterns::{any_match, simple_match};
use super::request_body::{self, fields, unknown_field, wrong_type, Body};
use super::settings::{self, Settings};
use super::source::Node;
use super::store::now_millis;
use super::store::Store;
use super::template_checks;
use super::versions;

#[derive(Clone, Debug, Default)]
pub struct Template {
    pub index_patterns: Vec<String>,
    pub priority: Option<i64>,
    pub version: Option<i64>,
    pub meta: Option<Value>,
    pub composed_of: Vec<String>,
    /// Normalized: `{"hidden": …, "allow_custom_routing": …}`.
    pub data_stream: Option<Value>,
    pub allow_auto_create: Option<bool>,
    pub has_template: bool,
    pub settings: Settings,
    pub has_settings: bool,
    pub mappings: Option<Value>,
    pub aliases: Option<Map<String, Value>>,
    /// `template.data_stream_options` (8.19, 9.1+), as `failure_store.rs` reads it.
    pub data_stream_options: Option<Value>,
    /// When it was first put and last put, in epoch milliseconds.
    pub created: i64,
    pub modified: i64,
    /// Other keys kept as sent (`ignore_missing_component_templates`, `deprecated`, `lifecycle`).
    pub extra: Map<String, Value>,
}

impl Template {
    pub fn priority(&self) -> i64 {
        self.priority.unwrap_or(0)
    }

    pub fn alias_metas(&self) -> Result<BTreeMap<String, AliasMeta>, EsError> {
        let mut out = BTreeMap::new();
        for (name, value) in self.aliases.iter().flatten() {
            out.insert(name.clone(), AliasMeta::parse(name, value)?);
        }
        Ok(out)
    }

    fn to_json(&self, version: &str) -> Value {
        let mut out = Map::new();
        out.insert("index_patterns".into(), json!(self.index_patterns));
        if self.has_template {
            let mut inner = Map::new();
            if self.has_settings {
                inner.insert("settings".into(), settings::expand(&self.settings));
            }
            if let Some(mappings) = &self.mappings {
                inner.insert("mappings".into(), mappings.clone());
            }
            if let Some(aliases) = &self.aliases {
                inner.insert("aliases".into(), Value::Object(aliases.clone()));
            }
            if let Some(options) = &self.data_stream_options {
                inner.insert("data_stream_options".into(), options.clone());
            }
            out.insert("template".into(), Value::Object(inner));
        }
        out.insert("composed_of".into(), json!(self.composed_of));
        if let Some(priority) = self.priority {
            out.insert("priority".into(), json!(priority));
        }
        if let Some(version) = self.version {
            out.insert("version".into(), json!(version));
        }
        if let Some(meta) = &self.meta {
            out.insert("_meta".into(), meta.clone());
        }
        if let Some(stream) = &self.data_stream {
            out.insert("data_stream".into(), stream.clone());
        }
        if let Some(auto) = self.allow_auto_create {
            out.insert("allow_auto_create".into(), json!(auto));
        }
        out.extend(self.extra.clone());
        if versions::templates_have_dates(version) {
            out.insert("created_date_millis".into(), json!(self.created));
            out.insert("modified_date_millis".into(), json!(self.modified));
        }
        Value::Object(out)
    }
}

/// The template an index named `name` gets: the highest priority one whose patterns match.
pub fn find<'a>(store: &'a Store, name: &str) -> Option<(&'a String, &'a Template)> {
    store
        .templates
        .iter()
        .filter(|(_, t)| any_match(&t.index_patterns, name))
        .max_by_key(|(_, t)| t.priority())
}

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

fn parse(body: &Body, version: &str) -> Result<Template, EsError> {
    let mut t = Template::default();
    let top = fields(&body.root)
        .ok_or_else(|| wrong_type(body, &body.root, "index_template", "index_template"))?;
    let mut patterns = None;
    for (key, value) in top {
        let v = request_body::value_of(value);
        let wrong = || wrong_type(body, value, "index_template", key);
        match key.as_str() {
            "index_patterns" => {
                patterns = Some(match &v {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) if items.iter().all(Value::is_string) => items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect(),
                    _ => return Err(wrong()),
                })
            }
            "composed_of" => {
                t.composed_of = v
                    .as_array()
                    .ok_or_else(wrong)?
                    .iter()
                    .map(|i| i.as_str().map(str::to_string).ok_or_else(wrong))
                    .collect::<Result<_, _>>()?
            }
            "priority" => t.priority = Some(v.as_i64().ok_or_else(wrong)?),
            "version" => t.version = Some(v.as_i64().ok_or_else(wrong)?),
            "_meta" => t.meta = Some(v.as_object().map(|_| v.clone()).ok_or_else(wrong)?),
            "allow_auto_create" => t.allow_auto_create = Some(v.as_bool().ok_or_else(wrong)?),
            "ignore_missing_component_templates" | "deprecated" => {
                t.extra.insert(key.clone(), v.clone());
            }
            "data_stream" => {
                let Some(stream) = fields(value) else {
                    return Err(wrong());
                };
                let mut normalized = json!({ "hidden": false, "allow_custom_routing": false });
                for (k, sv) in stream {
                    match (k.as_str(), &sv.node) {
                        ("hidden" | "allow_custom_routing", Node::Bool(b)) => {
                            normalized[k] = json!(b)
                        }
                        _ => {
                            let inner = unknown_field(body, sv, "data_stream_template", k);
                            return Err(nested(
                                body,
                                value,
                                "index_template",
                                "data_stream",
                                inner,
                            ));
                        }
                    }
                }
                t.data_stream = Some(normalized);
            }
            "template" => {
                let Some(inner) = fields(value) else {
                    return Err(wrong());
                };
                t.has_template = true;
                for (k, iv) in inner {
                    let ivalue = request_body::value_of(iv);
                    match k.as_str() {
                        "settings" => {
                            t.has_settings = true;
                            t.settings = settings::normalize(&ivalue)?;
                        }
                        "mappings" if ivalue.is_object() => t.mappings = Some(ivalue),
                        "aliases" if ivalue.is_object() => t.aliases = ivalue.as_object().cloned(),
                        "lifecycle" => {
                            t.extra.insert("lifecycle".into(), ivalue);
                        }
                        "data_stream_options" if failure_store::available(version) => {
                            t.data_stream_options =
                                Some(failure_store::parse_options(body, iv).map_err(|inner| {
                                    nested(body, value, "index_template", "template", inner)
                                })?);
                        }
                        _ => {
                            let inner = unknown_field(body, iv, "template", k);
                            return Err(nested(body, value, "index_template", "template", inner));
                        }
                    }
                }
            }
            other => return Err(unknown_field(body, value, "index_template", other)),
        }
    }
    t.index_patterns = patterns.ok_or_else(|| iae("Required [index_patterns]"))?;
    Ok(t)
}

fn nested(
    body: &Body,
    at: &super::source::Spanned,
    parser: &str,
    field: &str,
    inner: EsError,
) -> EsError {
    EsError::new(
        "x_content_parse_exception",
        format!(
            "{} [{parser}] failed to parse field [{field}]",
            body.at(at.offset)
        ),
    )
    .caused_by(inner)
}

pub fn put(store: &mut Store, name: &str, body: &[u8], create: bool) -> Result<Value, EsError> {
    let body = request_body::required(body)?;
    let template = parse(&body, &store.version)?;
    if template.data_stream_options.is_some() && template.data_stream.is_none() {
        return Err(iae(format!(
            "index template [{name}] specifies data stream options that can only be used in \
             combination with a data stream"
        )));
    }
    if template.priority.is_some_and(|p| p < 0) {
        return Err(EsError::new(
            "action_request_validation_exception",
            "Validation Failed: 1: index template priority must be >= 0;",
        ));
    }
    if !template.composed_of.is_empty() {
        return Err(template_checks::invalid(
            name,
            format!(
                "index template [{name}] specifies component templates [{}] that do not exist",
                template.composed_of.join(", ")
            ),
        ));
    }
    if create && store.templates.contains_key(name) {
        return Err(iae(format!("index template [{name}] already exists")));
    }
    template_checks::check_overlap(store, name, &template)?;
    template_checks::validate(name, &template, &store.version)?;
    template_checks::compose(store, name, &template).map_err(|cause| {
        iae(format!(
            "composable template [{name}] template after composition is invalid"
        ))
        .caused_by(cause)
    })?;
    template_checks::check_data_streams_kept(store, name, &template)?;
    let mut template = template;
    template.modified = now_millis();
    template.created = store
        .templates
        .get(name)
        .map_or(template.modified, |t| t.created);
    store.templates.insert(name.to_string(), template);
    Ok(json!({ "acknowledged": true }))
}

/// `GET /_index_template[/{name}]`; `flat` answers settings with dotted keys (`flat_settings`).
pub fn get(store: &Store, name: Option<&str>, flat: bool) -> Result<Value, EsError> {
    let wanted =
        |n: &str| name.is_none_or(|pattern| pattern.split(',').any(|p| simple_match(p, n)));
    let listed: Vec<Value> = store
        .templates
        .iter()
        .filter(|(n, _)| wanted(n))
        .map(|(n, t)| {
            let mut body = t.to_json(&store.version);
            if flat && t.has_settings {
                body["template"]["settings"] = settings::flat(&t.settings);
            }
            json!({ "name": n, "index_template": body })
        })
        .collect();
    if let Some(name) = name {
        if listed.is_empty() && !name.contains('*') {
            return Err(EsError::new(
                "resource_not_found_exception",
                format!("index template matching [{name}] not found"),
            ));
        }
    }
    Ok(json!({ "index_templates": listed }))
}

pub fn delete(store: &mut Store, name: &str) -> Result<Value, EsError> {
    let names: Vec<String> = store
        .templates
        .keys()
        .filter(|n| simple_match(name, n))
        .cloned()
        .collect();
    if names.is_empty() {
        if name == "*" {
            return Ok(json!({ "acknowledged": true }));
        }
        return Err(EsError::new(
            "index_template_missing_exception",
            format!("index_template [{name}] missing"),
        ));
    }
    let in_use: Vec<&String> = store
        .data_streams
        .keys()
        .filter(|ds| find(store, ds).is_some_and(|(t, _)| names.contains(t)))
        .collect();
    if !in_use.is_empty() {
        let uses: Vec<&str> = in_use.iter().map(|s| s.as_str()).collect();
        return Err(iae(format!(
            "unable to remove composable templates [{}] as they are in use by a data streams [{}]",
            names.join(", "),
            uses.join(", ")
        )));
    }
    for n in names {
        store.templates.remove(&n);
    }
    Ok(json!({ "acknowledged": true }))
}
