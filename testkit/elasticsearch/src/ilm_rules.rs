//! The checks a parsed policy goes through after its body is read: `TimeseriesLifecycleType.validate`
//! (which phases, which actions in which phase), the phase-timing check, the policy name, and the
//! prerequisites (this cluster has no snapshot repositories or SLM policies, so `searchable_snapshot`
//! and `wait_for_snapshot` always fail, as they would on a bare cluster).

use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::units;

pub const PHASES: [&str; 5] = ["hot", "warm", "cold", "frozen", "delete"];

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

/// `TimeseriesLifecycleType`'s allowed actions per phase, in execution order.
fn allowed(phase: &str) -> &'static [&'static str] {
    match phase {
        "hot" => &[
            "set_priority",
            "unfollow",
            "rollover",
            "readonly",
            "downsample",
            "shrink",
            "forcemerge",
            "searchable_snapshot",
        ],
        "warm" => &[
            "set_priority",
            "unfollow",
            "readonly",
            "downsample",
            "allocate",
            "migrate",
            "shrink",
            "forcemerge",
        ],
        "cold" => &[
            "set_priority",
            "unfollow",
            "readonly",
            "downsample",
            "searchable_snapshot",
            "allocate",
            "migrate",
            "freeze",
        ],
        "frozen" => &["unfollow", "searchable_snapshot"],
        "delete" => &["wait_for_snapshot", "delete"],
        _ => &[],
    }
}

/// The phases present, in execution order, as `(name, phase)`.
pub fn ordered(policy: &Value) -> Vec<(&'static str, &Value)> {
    PHASES
        .iter()
        .filter_map(|name| policy["phases"].get(*name).map(|p| (*name, p)))
        .collect()
}

pub fn min_age_millis(phase: &Value) -> i64 {
    phase["min_age"]
        .as_str()
        .and_then(|t| units::parse_time(t, "min_age").ok())
        .map_or(0, |t| t.millis())
}

/// `TimeseriesLifecycleType.validate`.
pub fn validate(policy: &Value) -> Result<(), EsError> {
    let phases = policy["phases"].as_object().cloned().unwrap_or_default();
    for (name, phase) in &phases {
        if !PHASES.contains(&name.as_str()) {
            return Err(iae(format!(
                "Timeseries lifecycle does not support phase [{name}]"
            )));
        }
        for action in phase["actions"].as_object().into_iter().flat_map(Map::keys) {
            if !allowed(name).contains(&action.as_str()) {
                return Err(iae(format!(
                    "invalid action [{action}] defined in phase [{name}]"
                )));
            }
        }
    }
    if let Some(hot) = phases.get("hot").and_then(|h| h["actions"].as_object()) {
        if !hot.contains_key("rollover") {
            let needing: Vec<&str> = [
                "readonly",
                "shrink",
                "forcemerge",
                "downsample",
                "searchable_snapshot",
            ]
            .into_iter()
            .filter(|a| hot.contains_key(*a))
            .collect();
            if !needing.is_empty() {
                return Err(iae(format!(
                    "the [{}] action(s) may not be used in the [hot] phase without an accompanying [rollover] action",
                    needing.join(", ")
                )));
            }
        }
    }
    let conflicting: Vec<&str> = ordered(policy)
        .into_iter()
        .filter(|(_, p)| {
            let actions = &p["actions"];
            let migrate = actions
                .get("migrate")
                .is_some_and(|m| m["enabled"] != json!(false));
            let rules = ["include", "exclude", "require"].iter().any(|k| {
                actions["allocate"]
                    .get(*k)
                    .and_then(Value::as_object)
                    .is_some_and(|m| !m.is_empty())
            });
            migrate && rules
        })
        .map(|(name, _)| name)
        .collect();
    if !conflicting.is_empty() {
        return Err(iae(format!(
            "phases [{}] specify an enabled migrate action and an allocate action with allocation rules. \
             specify only a single data migration in each phase",
            conflicting.join(",")
        )));
    }
    if let Some(frozen) = phases.get("frozen") {
        if frozen["actions"].get("searchable_snapshot").is_none() {
            return Err(iae(
                "policy specifies the [frozen] phase without a corresponding [searchable_snapshot] action, \
                 but a searchable snapshot action is required in the frozen phase",
            ));
        }
    }
    Ok(())
}

/// `validateMonotonicallyIncreasingPhaseTimings`: a later phase may not start before an earlier one.
pub fn timing(policy: &Value) -> Option<String> {
    let phases = ordered(policy);
    let mut errors = Vec::new();
    let mut flagged: Vec<&str> = Vec::new();
    for (i, (name, phase)) in phases.iter().enumerate() {
        let age = min_age_millis(phase);
        if age == 0 || flagged.contains(name) {
            continue;
        }
        let bad: Vec<&(&str, &Value)> = phases[i + 1..]
            .iter()
            .filter(|(_, p)| {
                let later = min_age_millis(p);
                later != 0 && later < age
            })
            .collect();
        if bad.is_empty() {
            continue;
        }
        flagged.extend(bad.iter().map(|(n, _)| *n));
        let cited: Vec<String> = bad
            .iter()
            .map(|(n, p)| {
                format!(
                    "the {n} phase (min_age: {})",
                    units::human_readable(min_age_millis(p), 1)
                )
            })
            .collect();
        let listed = match cited.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => cited.join(""),
        };
        errors.push(format!(
            "Your policy is configured to run {listed} before the {name} phase (min_age: {}). You should \
             change the phase timing so that the phases will execute in the order of hot, warm, then cold.",
            units::human_readable(age, 1)
        ));
    }
    (!errors.is_empty()).then(|| errors.join(","))
}

pub fn validate_name(name: &str) -> Result<(), EsError> {
    let problem = if name.contains(',') {
        "must not contain ','".to_string()
    } else if name.contains(' ') {
        "must not contain spaces".to_string()
    } else if name.starts_with('_') {
        "must not start with '_'".to_string()
    } else if name.len() > 255 {
        format!("name is too long, ({} > 255)", name.len())
    } else {
        return Ok(());
    };
    Err(iae(format!("invalid policy name [{name}]: {problem}")))
}

/// This cluster has no snapshot repositories and no SLM policies.
pub fn prerequisites(policy: &Value) -> Result<(), EsError> {
    for (phase, body) in ordered(policy) {
        if let Some(action) = body["actions"].get("searchable_snapshot") {
            let repository = action["snapshot_repository"].as_str().unwrap_or_default();
            return Err(iae(format!(
                "no such repository [{repository}], the snapshot repository referenced by the \
                 [searchable_snapshot] action in the [{phase}] phase must exist before it can be \
                 referenced by an ILM policy"
            )));
        }
        if let Some(action) = body["actions"].get("wait_for_snapshot") {
            let slm = action["policy"].as_str().unwrap_or_default();
            return Err(iae(format!(
                "no such snapshot lifecycle policy [{slm}], the snapshot lifecycle policy referenced by \
                 the [wait_for_snapshot] action in the [{phase}] phase must exist before it can be \
                 referenced by an ILM policy"
            )));
        }
    }
    Ok(())
}
