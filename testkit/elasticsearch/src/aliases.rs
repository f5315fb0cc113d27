//! Aliases: how they are read from requests (`Alias.fromXContent`), checked (`AliasValidator`),
//! resolved to a write index for bulk writes, and served by `GET|HEAD /_alias/{name}` (also
//! `/_alias`, `/{index}/_alias[/{name}]`), `PUT|DELETE /{index}/_alias/{name}` and `POST /_aliases`
//! (`add`, `remove`, `remove_index` actions).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::errors::{flat, EsError};
use super::index_name;
use super::indices;
use super::patterns::simple_match;
use super::request_body;
use super::store::Store;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AliasMeta {
    pub is_write_index: Option<bool>,
    pub is_hidden: Option<bool>,
    pub filter: Option<Value>,
    pub index_routing: Option<String>,
    pub search_routing: Option<String>,
}

impl AliasMeta {
    pub fn parse(alias: &str, value: &Value) -> Result<AliasMeta, EsError> {
        let mut meta = AliasMeta::default();
        let Some(fields) = value.as_object() else {
            return Err(iae(format!("Unknown token [{value}] in alias [{alias}]")));
        };
        for (key, value) in fields {
            match (key.as_str(), value) {
                ("is_write_index", Value::Bool(b)) => meta.is_write_index = Some(*b),
                ("is_hidden", Value::Bool(b)) => meta.is_hidden = Some(*b),
                ("filter", Value::Object(_)) => meta.filter = Some(value.clone()),
                ("routing", Value::String(s)) => {
                    meta.index_routing = Some(s.clone());
                    meta.search_routing = Some(s.clone());
                }
                ("index_routing", Value::String(s)) => meta.index_routing = Some(s.clone()),
                ("search_routing", Value::String(s)) => meta.search_routing = Some(s.clone()),
                (_, Value::String(_)) => {
                    return Err(iae(format!(
                        "Unsupported String type value [{key}] for alias [{alias}]"
                    )))
                }
                (_, Value::Bool(_)) => {
                    return Err(iae(format!(
                        "Unsupported boolean type value [{key}] for alias [{alias}]"
                    )))
                }
                _ => return Err(iae(format!("Unknown field [{key}] in alias [{alias}]"))),
            }
        }
        Ok(meta)
    }

    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(filter) = &self.filter {
            out.insert("filter".into(), filter.clone());
        }
        if let Some(routing) = &self.index_routing {
            out.insert("index_routing".into(), json!(routing));
        }
        if let Some(routing) = &self.search_routing {
            out.insert("search_routing".into(), json!(routing));
        }
        if let Some(write) = self.is_write_index {
            out.insert("is_write_index".into(), json!(write));
        }
        if let Some(hidden) = self.is_hidden {
            out.insert("is_hidden".into(), json!(hidden));
        }
        Value::Object(out)
    }
}

fn iae(reason: String) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

/// `AliasValidator.validateAliasStandalone` plus the checks against the cluster, for giving
/// `aliases` to `index` (which is being created when it is not in the store yet).
pub fn validate(
    store: &Store,
    index: &str,
    aliases: &BTreeMap<String, AliasMeta>,
) -> Result<(), EsError> {
    for (alias, meta) in aliases {
        if alias.is_empty() {
            return Err(iae("alias name is required".to_string()));
        }
        if let Err(rule) = index_name::check_alias(alias) {
            return Err(EsError::new(
                "invalid_alias_name_exception",
                format!("Invalid alias name [{alias}], {rule}"),
            ));
        }
        if alias == index
            || store.indices.contains_key(alias)
            || store.data_streams.contains_key(alias)
        {
            return Err(EsError::new(
                "invalid_alias_name_exception",
                format!(
                    "Invalid alias name [{alias}], an index or data stream exists with the same name as the alias"
                ),
            )
            .on_index(index, "_na_"));
        }
        if meta.is_write_index == Some(true) {
            let mut writers: Vec<&str> = store
                .alias(alias)
                .into_iter()
                .filter(|(name, m)| name.as_str() != index && m.is_write_index == Some(true))
                .map(|(name, _)| name.as_str())
                .collect();
            if !writers.is_empty() {
                writers.push(index);
                return Err(iae(format!(
                    "alias [{alias}] has more than one write index [{}]",
                    writers.join(",")
                )));
            }
        }
    }
    Ok(())
}

/// The index a write to `alias` goes to (`IndexAbstraction.Alias.getWriteIndex`).
pub fn write_index(store: &Store, alias: &str) -> Result<String, EsError> {
    let members = store.alias(alias);
    if let Some((name, _)) = members.iter().find(|(_, m)| m.is_write_index == Some(true)) {
        return Ok((*name).clone());
    }
    if let [(name, meta)] = members.as_slice() {
        if meta.is_write_index != Some(false) {
            return Ok((*name).clone());
        }
    }
    Err(iae(format!(
        "no write index is defined for alias [{alias}]. The write index may be explicitly disabled \
         using is_write_index=false or the alias points to multiple indices without one being \
         designated as a write index"
    )))
}

/// `GET|HEAD /_alias/{name}`, `/{index}/_alias/{name}` and their no-name forms.
pub fn get(
    store: &Store,
    index: Option<&str>,
    name: Option<&str>,
) -> Result<(u16, Value), EsError> {
    let indices = match index {
        Some(expression) => indices::resolve(store, expression)?,
        None => store.indices.keys().cloned().collect(),
    };
    let requested: Vec<&str> = name.map_or_else(Vec::new, |n| n.split(',').collect());
    let wanted = |alias: &str| {
        requested.is_empty()
            || requested
                .iter()
                .any(|r| *r == "_all" || simple_match(r, alias))
    };
    let mut out = Map::new();
    for index in &indices {
        let Some(idx) = store.indices.get(index) else {
            continue;
        };
        let aliases: Map<String, Value> = idx
            .aliases
            .iter()
            .filter(|(alias, _)| wanted(alias))
            .map(|(alias, meta)| (alias.clone(), meta.to_json()))
            .collect();
        // Without a name every index is listed; with one, only those that have a match.
        if name.is_none() || !aliases.is_empty() {
            out.insert(index.clone(), json!({ "aliases": aliases }));
        }
    }
    let missing: Vec<&str> = requested
        .iter()
        .filter(|r| !r.contains('*') && **r != "_all")
        .filter(|r| !out.values().any(|v| v["aliases"].get(**r).is_some()))
        .copied()
        .collect();
    if missing.is_empty() {
        return Ok((200, Value::Object(out)));
    }
    let what = if missing.len() == 1 {
        "alias"
    } else {
        "aliases"
    };
    let mut body = out;
    if let Value::Object(error) = flat(format!("{what} [{}] missing", missing.join(",")), 404) {
        body.extend(error);
    }
    Ok((404, Value::Object(body)))
}

/// `POST /_aliases`: `{"actions": [{"add": {"index", "alias", "is_write_index"…}}, {"remove": …}]}`,
/// applied all or nothing.
pub fn update(store: &mut Store, body: &[u8]) -> Result<Value, EsError> {
    let body = request_body::required(body)?.value();
    let Some(actions) = body.get("actions").and_then(Value::as_array) else {
        return Err(EsError::new(
            "action_request_validation_exception",
            "Validation Failed: 1: Must specify at least one alias action;",
        ));
    };
    let mut planned: Vec<(&str, String, String, AliasMeta)> = Vec::new();
    for action in actions {
        let Some((kind, spec)) = action.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let list = |single: &str, many: &str| -> Vec<String> {
            match (spec.get(single), spec.get(many)) {
                (Some(Value::String(s)), _) => vec![s.clone()],
                (_, Some(Value::Array(items))) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut meta_fields = spec.as_object().cloned().unwrap_or_default();
        for key in ["index", "indices", "alias", "aliases", "must_exist"] {
            meta_fields.remove(key);
        }
        for index_expression in list("index", "indices") {
            for index in indices::resolve(store, &index_expression)? {
                let aliases = if kind == "remove_index" {
                    vec![String::new()]
                } else {
                    list("alias", "aliases")
                };
                for alias in aliases {
                    let meta = AliasMeta::parse(&alias, &Value::Object(meta_fields.clone()))?;
                    let kind: &str = match kind.as_str() {
                        "add" => "add",
                        "remove" => "remove",
                        "remove_index" => "remove_index",
                        other => {
                            return Err(iae(format!("Unsupported action [{other}]")));
                        }
                    };
                    planned.push((kind, index.clone(), alias, meta));
                }
            }
        }
    }
    for (kind, index, alias, meta) in &planned {
        match *kind {
            "add" => {
                let one = BTreeMap::from([(alias.clone(), meta.clone())]);
                validate(store, index, &one)?;
            }
            "remove"
                if !store
                    .indices
                    .get(index)
                    .is_some_and(|i| i.aliases.contains_key(alias)) =>
            {
                return Err(EsError::new(
                    "aliases_not_found_exception",
                    format!("aliases [{alias}] missing"),
                )
                .with("resource.type", json!("aliases"))
                .with("resource.id", json!(alias)));
            }
            _ => {}
        }
    }
    for (kind, index, alias, meta) in planned {
        match kind {
            "add" => {
                if let Some(idx) = store.indices.get_mut(&index) {
                    idx.aliases.insert(alias, meta);
                }
            }
            "remove" => {
                if let Some(idx) = store.indices.get_mut(&index) {
                    idx.aliases.remove(&alias);
                }
            }
            _ => {
                store.indices.remove(&index);
            }
        }
    }
    Ok(json!({ "acknowledged": true, "errors": false }))
}

/// `PUT /{index}/_alias/{name}` (with an optional alias body) and `DELETE /{index}/_alias/{name}`.
pub fn put_or_delete(
    store: &mut Store,
    index: &str,
    alias: &str,
    delete: bool,
    body: &[u8],
) -> Result<Value, EsError> {
    let kind = if delete { "remove" } else { "add" };
    let mut spec = request_body::optional(body)?
        .map(|b| b.value())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    spec.insert("index".into(), json!(index));
    spec.insert("alias".into(), json!(alias));
    let request = json!({ "actions": [{ kind: spec }] });
    update(store, request.to_string().as_bytes()).map(|_| json!({ "acknowledged": true }))
}
