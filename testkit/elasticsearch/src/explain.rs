//! `GET /{index-or-pattern}/_ilm/explain`: where ILM stands for each index, as it stands once ILM has
//! run (this server does not wait for `indices.lifecycle.poll_interval`). Modelled from
//! `IndexLifecycleRunner` and its steps:
//! - the lifecycle date is `index.lifecycle.origination_date`, else the date in the name with
//!   `parse_origination_date`, else the creation date; `age` is measured from it;
//! - with `rollover` in the hot phase the index waits in `hot/rollover/check-rollover-ready`, or is
//!   in `ERROR` for `WaitForRolloverReadyStep`'s failures: no `index.lifecycle.rollover_alias` on an
//!   index outside a data stream (elastic/beats#11866), an alias that does not point to the index,
//!   an alias whose write index it is not;
//! - otherwise the phase is the last one whose `min_age` the age has reached (`new` before the first
//!   one), its actions done (`complete`), or in the delete phase, deleting;
//! - a policy that does not exist leaves only a `step_info` saying so.
//!
//! Simplification: rollover never happens (its conditions are never evaluated).

use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::ilm_policy::{min_age_millis, ordered};
use super::indices;
use super::settings;
use super::store::{now_millis, Index, Store};
use super::units::human_readable;

const NAME_PATTERN: &str = "^.*-(\\d{4}.\\d{2}.\\d{2})(-[\\d]+)?$";

/// `IndexLifecycleOriginationDateParser.parseIndexNameAndExtractDate`; `Err` is the reason.
pub fn origination_date_from_name(name: &str) -> Result<i64, String> {
    let chars: Vec<char> = name.chars().collect();
    // `.*` is greedy: the last `-` that leaves a date (and an optional `-digits`) wins.
    let found = (0..chars.len())
        .rev()
        .filter(|&i| chars[i] == '-')
        .find_map(|dash| {
            let date = chars.get(dash + 1..dash + 11)?;
            let shape = date.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c != '\n' && *c != '\r',
                _ => c.is_ascii_digit(),
            });
            let rest = &chars[dash + 11..];
            let suffix = rest.is_empty()
                || (rest[0] == '-' && rest.len() > 1 && rest[1..].iter().all(char::is_ascii_digit));
            (shape && suffix).then(|| date.iter().collect::<String>())
        });
    let Some(date) = found else {
        return Err(format!(
            "index name [{name}] does not match pattern '{NAME_PATTERN}'"
        ));
    };
    let parsed = if date.as_bytes()[4] == b'.' && date.as_bytes()[7] == b'.' {
        chrono::NaiveDate::parse_from_str(&date, "%Y.%m.%d").ok()
    } else {
        None
    };
    parsed
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
        .ok_or_else(|| {
            format!(
                "index name [{name}] contains date [{date}] which couldn't be parsed using the 'yyyy.MM.dd' format"
            )
        })
}

/// `only_managed` / `only_errors` filter the answer as their parameters do.
pub fn explain(
    store: &Store,
    expression: &str,
    only_managed: bool,
    only_errors: bool,
) -> Result<Value, EsError> {
    let now = now_millis();
    let mut out = Map::new();
    for name in indices::resolve(store, expression)? {
        let Some(idx) = store.indices.get(&name) else {
            continue;
        };
        let state =
            match settings::get(&idx.settings, "index.lifecycle.name").filter(|p| !p.is_empty()) {
                None => json!({ "index": name, "managed": false }),
                Some(policy) => managed(store, &name, idx, policy, now),
            };
        let managed = state["managed"] == json!(true);
        let failed = state["step"] == json!("ERROR");
        if (only_managed && !managed) || (only_errors && !failed) {
            continue;
        }
        out.insert(name, state);
    }
    Ok(json!({ "indices": out }))
}

/// What blocks (or skips) `check-rollover-ready` for an index.
enum Rollover {
    Waiting,
    Skipped,
}

fn rollover_check(store: &Store, name: &str, idx: &Index) -> Result<Rollover, EsError> {
    if let Some(ds) = idx
        .data_stream
        .as_ref()
        .and_then(|d| store.data_streams.get(d))
    {
        return Ok(if ds.write_index() == name {
            Rollover::Waiting
        } else {
            Rollover::Skipped
        });
    }
    let iae = |reason: String| EsError::new("illegal_argument_exception", reason);
    let Some(alias) =
        settings::get(&idx.settings, "index.lifecycle.rollover_alias").filter(|a| !a.is_empty())
    else {
        return Err(iae(format!(
            "setting [index.lifecycle.rollover_alias] for index [{name}] is empty or not defined"
        )));
    };
    let meta = idx.aliases.get(alias);
    if settings::get_bool(&idx.settings, "index.lifecycle.indexing_complete", false) {
        if meta.is_some_and(|m| m.is_write_index == Some(true)) {
            return Err(EsError::new(
                "illegal_state_exception",
                format!(
                    "index [{name}] has [index.lifecycle.indexing_complete] set to [true], but is still \
                     the write index for alias [{alias}]"
                ),
            ));
        }
        return Ok(Rollover::Skipped);
    }
    match meta {
        None => Err(iae(format!(
            "index.lifecycle.rollover_alias [{alias}] does not point to index [{name}]"
        ))),
        Some(m) if m.is_write_index == Some(false) => Err(iae(format!(
            "index [{name}] is not the write index for alias [{alias}]"
        ))),
        Some(_) => Ok(Rollover::Waiting),
    }
}

fn managed(store: &Store, name: &str, idx: &Index, policy_name: &str, now: i64) -> Value {
    let created = idx.creation_millis();
    let mut out = json!({
        "index": name,
        "managed": true,
        "policy": policy_name,
        "index_creation_date_millis": created,
        "time_since_index_creation": human_readable((now - created).max(0), 2),
    });
    let Some(policy) = store.policies.get(policy_name) else {
        out["step_info"] = json!({
            "type": "illegal_argument_exception",
            "reason": format!("policy [{policy_name}] does not exist"),
        });
        return out;
    };
    let origination = settings::get(&idx.settings, "index.lifecycle.origination_date")
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| *d >= 0);
    let parsed = if origination.is_none()
        && settings::get_bool(
            &idx.settings,
            "index.lifecycle.parse_origination_date",
            false,
        ) {
        Some(origination_date_from_name(name))
    } else {
        None
    };
    if let Some(Err(reason)) = &parsed {
        set(&mut out, "new", "init", "ERROR", created);
        out["failed_step"] = json!("init");
        out["step_info"] = json!({ "type": "illegal_argument_exception", "reason": reason });
        return out;
    }
    let lifecycle_date = origination
        .or(parsed.and_then(Result::ok))
        .unwrap_or(created);
    let age = (now - lifecycle_date).max(0);
    out["lifecycle_date_millis"] = json!(lifecycle_date);
    out["age"] = json!(human_readable(age, 2));
    let phases = ordered(&policy.body);
    let phase_execution = |definition: &Value| {
        json!({
            "policy": policy_name,
            "phase_definition": definition,
            "version": policy.version,
            "modified_date_in_millis": policy.modified_millis,
        })
    };
    let hot = phases.iter().find(|(n, _)| *n == "hot").map(|(_, p)| *p);
    if let Some(hot) = hot.filter(|h| h["actions"].get("rollover").is_some()) {
        let since = created.max(lifecycle_date);
        match rollover_check(store, name, idx) {
            Ok(Rollover::Waiting) => {
                set(&mut out, "hot", "rollover", "check-rollover-ready", since);
                out["phase_execution"] = phase_execution(hot);
                return out;
            }
            Err(error) => {
                set(&mut out, "hot", "rollover", "ERROR", since);
                out["failed_step"] = json!("check-rollover-ready");
                out["is_auto_retryable_error"] = json!(true);
                out["failed_step_retry_count"] = json!(0);
                out["step_info"] = error.to_json();
                out["phase_execution"] = phase_execution(hot);
                return out;
            }
            // Rollover is skipped: the index carries on through the phases as without it.
            Ok(Rollover::Skipped) => {}
        }
    }
    let mut current: Option<(&str, &Value)> = None;
    for (phase, definition) in &phases {
        if min_age_millis(definition) > age {
            break;
        }
        current = Some((phase, definition));
    }
    match current {
        None => set(&mut out, "new", "complete", "complete", created),
        Some((phase, definition)) => {
            let since = created.max(lifecycle_date + min_age_millis(definition));
            if phase == "delete" {
                set(&mut out, phase, "delete", "delete", since);
            } else {
                set(&mut out, phase, "complete", "complete", since);
            }
            out["phase_execution"] = phase_execution(definition);
        }
    }
    out
}

fn set(out: &mut Value, phase: &str, action: &str, step: &str, since: i64) {
    out["phase"] = json!(phase);
    out["phase_time_millis"] = json!(since);
    out["action"] = json!(action);
    out["action_time_millis"] = json!(since);
    out["step"] = json!(step);
    out["step_time_millis"] = json!(since);
}
