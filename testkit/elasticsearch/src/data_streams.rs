//! Data streams: created by `PUT /_data_stream/{name}` or by the first write to a name whose template
//! has `data_stream`, each with one backing index `.ds-{name}-{uuuu.MM.dd}-000001` (today in UTC)
//! configured by that template; `GET /_data_stream[/{name}]` and `DELETE /_data_stream/{name}`.
//! The status is the backing indices' health on this one-node cluster: `YELLOW` while they ask for
//! replicas (the default, 1), `GREEN` with `number_of_replicas: 0` or `auto_expand_replicas`.

use serde_json::{json, Value};

use super::errors::EsError;
use super::failure_store;
use super::indices::{self, CreateRequest, Origin};
use super::patterns::{is_wildcard, simple_match};
use super::settings;
use super::store::Store;
use super::templates;

#[derive(Clone, Debug)]
pub struct DataStream {
    pub name: String,
    /// Backing indices, oldest first; the last is the write index.
    pub indices: Vec<String>,
    pub generation: u64,
    pub hidden: bool,
    /// From the template's `data_stream_options` when the data stream was created.
    pub failure_store: bool,
    /// The failure store's indices, created at the first failure.
    pub failure_indices: Vec<String>,
}

impl DataStream {
    pub fn write_index(&self) -> &str {
        self.indices.last().map_or("", String::as_str)
    }

    /// The template that now matches the name, as `GET` reports it.
    pub fn template<'a>(&self, store: &'a Store) -> Option<&'a String> {
        templates::find(store, &self.name).map(|(name, _)| name)
    }

    /// The ILM policy its template sets, if any.
    pub fn ilm_policy(&self, store: &Store) -> Option<String> {
        templates::find(store, &self.name).and_then(|(_, t)| {
            settings::get(&t.settings, "index.lifecycle.name").map(str::to_string)
        })
    }
}

fn iae(reason: String) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

/// `MetadataCreateDataStreamService`: the name's rules, a data stream template, the backing index.
pub fn create(store: &mut Store, name: &str) -> Result<(), EsError> {
    let rules = [
        (name.contains('#'), "must not contain '#'"),
        (name.contains(':'), "must not contain ':'"),
        (name.starts_with('_'), "must not start with '_'"),
        (name.to_lowercase() != name, "must be lowercase"),
        (name.starts_with(".ds-"), "must not start with '.ds-'"),
    ];
    if let Some((_, rule)) = rules.iter().find(|(bad, _)| *bad) {
        return Err(iae(format!("data_stream [{name}] {rule}")));
    }
    if store.data_streams.contains_key(name) {
        return Err(EsError::new(
            "resource_already_exists_exception",
            format!("data_stream [{name}] already exists"),
        ));
    }
    let Some((template_name, template)) = templates::find(store, name) else {
        return Err(iae(format!(
            "no matching index template found for data stream [{name}]"
        )));
    };
    let failure_store = failure_store::enabled(template.data_stream_options.as_ref());
    let Some(stream) = template.data_stream.clone() else {
        return Err(iae(format!(
            "matching index template [{template_name}] for data stream [{name}] has no data stream template"
        )));
    };
    let template_name = template_name.clone();
    let date = chrono::Utc::now().format("%Y.%m.%d");
    let backing = format!(".ds-{name}-{date}-{:06}", 1);
    let origin = Origin::Backing {
        data_stream: name.to_string(),
        template: template_name,
    };
    indices::create(store, &backing, &backing, CreateRequest::default(), origin)?;
    store.data_streams.insert(
        name.to_string(),
        DataStream {
            name: name.to_string(),
            indices: vec![backing],
            generation: 1,
            hidden: stream["hidden"] == json!(true),
            failure_store,
            failure_indices: Vec::new(),
        },
    );
    Ok(())
}

fn not_found(name: &str) -> EsError {
    indices::not_found(name)
}

fn status(store: &Store, ds: &DataStream) -> &'static str {
    let wants_replicas = ds
        .indices
        .iter()
        .filter_map(|i| store.indices.get(i))
        .any(|idx| {
            let replicas = settings::get(&idx.settings, "index.number_of_replicas").unwrap_or("1");
            let auto = settings::get(&idx.settings, "index.auto_expand_replicas")
                .is_some_and(|a| a != "false");
            replicas != "0" && !auto
        });
    if wants_replicas {
        "YELLOW"
    } else {
        "GREEN"
    }
}

fn describe(store: &Store, ds: &DataStream) -> Value {
    let manager = |policy: &Option<String>| {
        if policy.is_some() {
            "Index Lifecycle Management"
        } else {
            "Unmanaged"
        }
    };
    let indices: Vec<Value> = ds
        .indices
        .iter()
        .filter_map(|name| store.indices.get(name).map(|idx| (name, idx)))
        .map(|(name, idx)| {
            let policy = settings::get(&idx.settings, "index.lifecycle.name").map(str::to_string);
            let mut entry = json!({
                "index_name": name,
                "index_uuid": idx.uuid,
                "prefer_ilm": true,
                "managed_by": manager(&policy),
            });
            if let Some(policy) = policy {
                entry["ilm_policy"] = json!(policy);
            }
            entry
        })
        .collect();
    let policy = ds.ilm_policy(store);
    let mut out = json!({
        "name": ds.name,
        "timestamp_field": { "name": "@timestamp" },
        "indices": indices,
        "generation": ds.generation,
        "status": status(store, ds),
        "next_generation_managed_by": manager(&policy),
        "prefer_ilm": true,
        "hidden": ds.hidden,
        "system": false,
        "allow_custom_routing": false,
        "replicated": false,
        "rollover_on_write": false,
    });
    if let Some(template) = ds.template(store) {
        out["template"] = json!(template);
    }
    if failure_store::available(&store.version) {
        let indices: Vec<Value> = ds
            .failure_indices
            .iter()
            .filter_map(|name| store.indices.get(name).map(|idx| (name, idx)))
            .map(|(name, idx)| json!({ "index_name": name, "index_uuid": idx.uuid }))
            .collect();
        out["failure_store"] = json!({
            "enabled": ds.failure_store,
            "rollover_on_write": ds.failure_indices.is_empty(),
            "indices": indices,
        });
    }
    if let Some(policy) = policy {
        out["ilm_policy"] = json!(policy);
    }
    out
}

/// `GET /_data_stream[/{names}]`, names comma-separated, `*` allowed.
pub fn get(store: &Store, names: Option<&str>) -> Result<Value, EsError> {
    let mut listed = Vec::new();
    let parts: Vec<&str> = names.map_or_else(|| vec!["*"], |n| n.split(',').collect());
    for part in parts {
        if !is_wildcard(part) && part != "_all" && !store.data_streams.contains_key(part) {
            return Err(not_found(part));
        }
        for (name, ds) in &store.data_streams {
            let hit = part == "_all" || simple_match(part, name);
            if hit && !listed.iter().any(|(n, _)| n == name) {
                listed.push((name.clone(), describe(store, ds)));
            }
        }
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let streams: Vec<Value> = listed.into_iter().map(|(_, v)| v).collect();
    Ok(json!({ "data_streams": streams }))
}

/// `DELETE /_data_stream/{name}`: the data stream and its backing indices.
pub fn delete(store: &mut Store, names: &str) -> Result<Value, EsError> {
    let mut doomed = Vec::new();
    for part in names.split(',') {
        let matched: Vec<String> = store
            .data_streams
            .keys()
            .filter(|n| simple_match(part, n))
            .cloned()
            .collect();
        if matched.is_empty() && !is_wildcard(part) {
            return Err(not_found(part));
        }
        doomed.extend(matched);
    }
    for name in doomed {
        if let Some(ds) = store.data_streams.remove(&name) {
            for index in ds.indices.into_iter().chain(ds.failure_indices) {
                store.indices.remove(&index);
            }
        }
    }
    Ok(json!({ "acknowledged": true }))
}
