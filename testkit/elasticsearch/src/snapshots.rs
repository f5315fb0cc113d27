//! Snapshot repositories and snapshot lifecycle (SLM) policies, as far as setting them up goes:
//! `PUT|GET|DELETE /_snapshot/{repo}`, `GET /_snapshot`, `PUT|GET|DELETE /_slm/policy/{id}`,
//! `GET /_slm/policy`. A policy is checked as `SnapshotLifecyclePolicy.validate` and
//! `TransportPutSnapshotLifecycleAction` check it (its repository must be registered) and answered
//! as it was given, under `policy`, with its version bumped on every `PUT`.
//!
//! Left out: taking, listing and restoring snapshots (no policy ever runs here), repository
//! verification (an `fs` location need not be under `path.repo`), and the minimum interval.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::errors::{validation_failed, EsError};
use super::request_body::{self, fields, unknown_field, wrong_type};
use super::source::Node;
use super::store::{now_millis, Store};
use super::units;

const REPOSITORY_TYPES: [&str; 6] = ["fs", "url", "s3", "gcs", "azure", "source"];

#[derive(Clone, Debug)]
pub struct SlmPolicy {
    pub policy: Value,
    pub version: u64,
    pub modified: i64,
}

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

fn repository_missing(name: &str) -> EsError {
    EsError::new("repository_missing_exception", format!("[{name}] missing"))
}

/// `PUT /_snapshot/{name}`: `{"type": …, "settings": {…}}`.
pub fn put_repository(store: &mut Store, name: &str, body: &[u8]) -> Result<Value, EsError> {
    let body = request_body::required(body)?;
    let value = body.value();
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind.is_empty() {
        return Err(EsError::new(
            "repository_exception",
            format!("[{name}] repository type is missing"),
        ));
    }
    if !REPOSITORY_TYPES.contains(&kind) {
        return Err(EsError::new(
            "repository_exception",
            format!("[{name}] repository type [{kind}] does not exist"),
        ));
    }
    let settings = value.get("settings").cloned().unwrap_or_else(|| json!({}));
    if kind == "fs" && settings.get("location").is_none() {
        return Err(EsError::new(
            "repository_exception",
            format!("[{name}] missing location"),
        ));
    }
    store.repositories.insert(
        name.to_owned(),
        json!({ "type": kind, "settings": settings }),
    );
    Ok(json!({ "acknowledged": true }))
}

pub fn get_repository(store: &Store, name: Option<&str>) -> Result<Value, EsError> {
    match name.filter(|n| *n != "_all" && *n != "*") {
        None => Ok(Value::Object(
            store
                .repositories
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )),
        Some(name) => store
            .repositories
            .get(name)
            .map(|repo| json!({ name: repo }))
            .ok_or_else(|| repository_missing(name)),
    }
}

pub fn delete_repository(store: &mut Store, name: &str) -> Result<Value, EsError> {
    store
        .repositories
        .remove(name)
        .map(|_| json!({ "acknowledged": true }))
        .ok_or_else(|| repository_missing(name))
}

/// `PUT /_slm/policy/{id}`.
pub fn put_policy(store: &mut Store, id: &str, body: &[u8]) -> Result<Value, EsError> {
    let body = request_body::required(body)?;
    let top = fields(&body.root).ok_or_else(|| {
        wrong_type(
            &body,
            &body.root,
            "snapshot_lifecycle",
            "snapshot_lifecycle",
        )
    })?;
    let mut policy = Map::new();
    for (key, value) in top {
        match (key.as_str(), &value.node) {
            ("name" | "schedule" | "repository", Node::String(_))
            | ("config" | "retention", Node::Object(_)) => {
                policy.insert(key.clone(), request_body::value_of(value));
            }
            ("name" | "schedule" | "repository" | "config" | "retention", _) => {
                return Err(wrong_type(&body, value, "snapshot_lifecycle", key))
            }
            _ => return Err(unknown_field(&body, value, "snapshot_lifecycle", key)),
        }
    }
    let text = |key: &str| policy.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut problems = Vec::new();
    if text("schedule").split_whitespace().count() < 6
        && units::parse_time(text("schedule"), "schedule").is_err()
    {
        problems.push(format!(
            "invalid schedule [{}]: must be a valid cron expression or time unit",
            text("schedule")
        ));
    }
    let name = text("name");
    if name.is_empty() {
        problems.push(format!("invalid snapshot name [{name}]: cannot be empty"));
    } else if name.to_lowercase() != name {
        problems.push(format!("invalid snapshot name [{name}]: must be lowercase"));
    }
    if text("repository").is_empty() {
        problems.push("invalid repository name [\"\"]: cannot be empty".to_owned());
    }
    if let Some(retention) = policy.get("retention") {
        problems.extend(retention_problems(retention));
    }
    if !problems.is_empty() {
        return Err(EsError::new(
            "action_request_validation_exception",
            validation_failed(&problems),
        ));
    }
    let repository = text("repository");
    if !store.repositories.contains_key(repository) {
        return Err(iae(format!("no such repository [{repository}]")));
    }
    let version = store.slm_policies.get(id).map_or(1, |p| p.version + 1);
    store.slm_policies.insert(
        id.to_owned(),
        SlmPolicy {
            policy: Value::Object(policy),
            version,
            modified: now_millis(),
        },
    );
    Ok(json!({ "acknowledged": true }))
}

/// `SnapshotRetentionConfiguration`'s checks.
fn retention_problems(retention: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(expire) = retention.get("expire_after") {
        if units::parse_time(expire.as_str().unwrap_or_default(), "expire_after").is_err() {
            found.push(format!("failed to parse expire_after [{expire}]"));
        }
    }
    let count = |key: &str| retention.get(key).and_then(Value::as_i64);
    if count("min_count").is_some_and(|n| n < 1) {
        found.push("minimum snapshot count must be at least 1".to_owned());
    }
    if count("max_count").is_some_and(|n| n < 1) {
        found.push("maximum snapshot count must be at least 1".to_owned());
    }
    if let (Some(min), Some(max)) = (count("min_count"), count("max_count")) {
        if min > max {
            found.push(format!(
                "minimum snapshot count {min} cannot be larger than maximum snapshot count {max}"
            ));
        }
    }
    found
}

fn describe(policy: &SlmPolicy) -> Value {
    json!({
        "version": policy.version,
        "modified_date_millis": policy.modified,
        "policy": policy.policy,
        "next_execution_millis": policy.modified + 86_400_000,
        "stats": {
            "policy": policy.policy["name"],
            "snapshots_taken": 0,
            "snapshots_failed": 0,
            "snapshots_deleted": 0,
            "snapshot_deletion_failures": 0,
        },
    })
}

/// `GET /_slm/policy[/{ids}]`, ids comma-separated.
pub fn get_policy(store: &Store, ids: Option<&str>) -> Result<Value, EsError> {
    let Some(ids) = ids else {
        return Ok(listed(store.slm_policies.iter()));
    };
    let wanted: Vec<&str> = ids.split(',').collect();
    let found: BTreeMap<&String, &SlmPolicy> = store
        .slm_policies
        .iter()
        .filter(|(id, _)| wanted.contains(&id.as_str()))
        .collect();
    if found.is_empty() {
        let reason = if store.slm_policies.is_empty() {
            format!("snapshot lifecycle policy or policies {wanted:?} not found, no policies are configured")
        } else {
            format!("snapshot lifecycle policy or policies {wanted:?} not found")
        };
        return Err(EsError::new(
            "resource_not_found_exception",
            reason.replace('"', ""),
        ));
    }
    Ok(listed(found.into_iter()))
}

fn listed<'a>(policies: impl Iterator<Item = (&'a String, &'a SlmPolicy)>) -> Value {
    Value::Object(
        policies
            .map(|(id, policy)| (id.clone(), describe(policy)))
            .collect(),
    )
}

pub fn delete_policy(store: &mut Store, id: &str) -> Result<Value, EsError> {
    store
        .slm_policies
        .remove(id)
        .map(|_| json!({ "acknowledged": true }))
        .ok_or_else(|| {
            EsError::new(
                "resource_not_found_exception",
                format!("snapshot lifecycle policy not found: {id}"),
            )
        })
}
