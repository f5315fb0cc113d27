//! `PUT|GET|DELETE /_ilm/policy/{name}` (and `GET /_ilm/policy` for all): policies are versioned
//! (each `PUT` adds one), dated, and `GET` says which indices, data streams and composable templates
//! use each. Simplification: none of the built-in policies of a real cluster (`logs`, `metrics`, …)
//! exist here.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::ilm_policy;
use super::patterns::simple_match;
use super::request_body;
use super::settings::{self, Settings};
use super::store::{now_millis, Store};

#[derive(Clone, Debug)]
pub struct Policy {
    pub version: u64,
    pub modified_millis: i64,
    /// As `GET` prints it (`{"phases": …, "_meta": …}`).
    pub body: Value,
}

pub fn put(store: &mut Store, name: &str, body: &[u8]) -> Result<Value, EsError> {
    let body = request_body::required(body)?;
    let policy = ilm_policy::parse(name, &body)?;
    let version = store.policies.get(name).map_or(1, |p| p.version + 1);
    store.policies.insert(
        name.to_string(),
        Policy {
            version,
            modified_millis: now_millis(),
            body: policy,
        },
    );
    Ok(json!({ "acknowledged": true }))
}

fn not_found(name: &str) -> EsError {
    EsError::new(
        "resource_not_found_exception",
        format!("Lifecycle policy not found: {name}"),
    )
}

/// `name` may be a comma-separated list with `*` wildcards, or absent for every policy.
pub fn get(store: &Store, name: Option<&str>) -> Result<Value, EsError> {
    let mut out = Map::new();
    let requested: Vec<&str> = name.map_or_else(Vec::new, |n| n.split(',').collect());
    for (policy_name, policy) in &store.policies {
        let wanted = requested.is_empty() || requested.iter().any(|r| simple_match(r, policy_name));
        if wanted {
            out.insert(policy_name.clone(), describe(store, policy_name, policy));
        }
    }
    for requested in requested {
        if !requested.contains('*') && !store.policies.contains_key(requested) {
            return Err(not_found(requested));
        }
    }
    Ok(Value::Object(out))
}

fn describe(store: &Store, name: &str, policy: &Policy) -> Value {
    let modified = chrono::DateTime::from_timestamp_millis(policy.modified_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    json!({
        "version": policy.version,
        "modified_date": modified,
        "policy": policy.body,
        "in_use_by": in_use_by(store, name),
    })
}

fn in_use_by(store: &Store, name: &str) -> Value {
    let data_streams = names_where(&store.data_streams, |ds| {
        ds.ilm_policy(store).as_deref() == Some(name)
    });
    json!({
        "indices": indices_using(store, name),
        "data_streams": data_streams,
        "composable_templates": names_where(&store.templates, |t| names_policy(&t.settings, name)),
    })
}

/// The indices whose settings name the policy.
fn indices_using<'a>(store: &'a Store, name: &str) -> Vec<&'a String> {
    names_where(&store.indices, |idx| names_policy(&idx.settings, name))
}

fn names_policy(settings: &Settings, name: &str) -> bool {
    settings::get(settings, "index.lifecycle.name") == Some(name)
}

/// The names of the entries `pick` picks, in name order.
fn names_where<T>(entries: &BTreeMap<String, T>, pick: impl Fn(&T) -> bool) -> Vec<&String> {
    entries
        .iter()
        .filter(|(_, entry)| pick(entry))
        .map(|(name, _)| name)
        .collect()
}

/// Refused while an index still names the policy, as `TransportDeleteLifecycleAction` does.
pub fn delete(store: &mut Store, name: &str) -> Result<Value, EsError> {
    let users = indices_using(store, name);
    if !users.is_empty() {
        let listed: Vec<&str> = users.iter().map(|s| s.as_str()).collect();
        return Err(EsError::new(
            "illegal_argument_exception",
            format!(
                "Cannot delete policy [{name}]. It is in use by one or more indices: [{}]",
                listed.join(", ")
            ),
        ));
    }
    if store.policies.remove(name).is_none() {
        return Err(not_found(name));
    }
    Ok(json!({ "acknowledged": true }))
}
