//! Reading `PUT /_ilm/policy/{name}` bodies as Elasticsearch does: the body parsers
//! (`put_lifecycle_request` → `lifecycle_policy` → `phases` → `phase` → `actions` → each action's
//! parser), whose errors nest one `x_content_parse_exception` per level with the innermost cause
//! last; then the checks of `ilm_rules.rs`, in Elasticsearch's order. The policy is kept as `GET`
//! prints it: `min_age` defaulted to `0ms`, units normalized, action defaults filled in.

use serde_json::{json, Map, Value};

use super::errors::EsError;
use super::ilm_actions::{normalize_action, spec, Slot};
pub use super::ilm_rules::{min_age_millis, ordered};
use super::ilm_rules::{prerequisites, timing, validate, validate_name};
use super::request_body::{fields, key_offset, unknown_field, wrong_type, Body};
use super::source::{Node, Spanned};
use super::units;

/// The parsers a failure sits inside, outermost first, each as `(parser, field)`.
struct Nesting<'a> {
    body: &'a Body,
    levels: Vec<(&'static str, String)>,
}

impl Nesting<'_> {
    /// Wraps `inner` in one "failed to parse field" per level, all at `at`.
    fn fail(&self, at: &Spanned, inner: EsError) -> EsError {
        self.fail_at(at.offset, inner)
    }

    fn fail_at(&self, offset: usize, inner: EsError) -> EsError {
        let location = self.body.at(offset);
        self.levels
            .iter()
            .rev()
            .fold(inner, |error, (parser, field)| {
                EsError::new(
                    "x_content_parse_exception",
                    format!("{location} [{parser}] failed to parse field [{field}]"),
                )
                .caused_by(error)
            })
    }

    fn enter(&mut self, parser: &'static str, field: &str) {
        self.levels.push((parser, field.to_string()));
    }

    fn leave(&mut self) {
        self.levels.pop();
    }
}

fn iae(reason: impl Into<String>) -> EsError {
    EsError::new("illegal_argument_exception", reason)
}

/// Parses and validates a policy body; `Ok` is the policy as `GET` shows it.
pub fn parse(name: &str, body: &Body) -> Result<Value, EsError> {
    let mut n = Nesting {
        body,
        levels: Vec::new(),
    };
    let top = fields(&body.root)
        .ok_or_else(|| wrong_type(body, &body.root, "put_lifecycle_request", "policy"))?;
    let mut policy = None;
    for (key, value) in top {
        match key.as_str() {
            "policy" => policy = Some(value),
            other => return Err(unknown_field(body, value, "put_lifecycle_request", other)),
        }
    }
    let policy = policy.ok_or_else(|| iae("Required [policy]"))?;
    n.enter("put_lifecycle_request", "policy");
    let policy_fields = fields(policy).ok_or_else(|| {
        n.fail(
            policy,
            wrong_type(body, policy, "lifecycle_policy", "policy"),
        )
    })?;
    let mut phases = None;
    let mut out = Map::new();
    for (key, value) in policy_fields {
        match key.as_str() {
            "phases" => phases = Some(value),
            "_meta" if matches!(value.node, Node::Object(_)) => {
                out.insert("_meta".into(), body_value(value));
            }
            "deprecated" if matches!(value.node, Node::Bool(_)) => {
                out.insert("deprecated".into(), body_value(value));
            }
            "_meta" | "deprecated" => {
                return Err(n.fail(value, wrong_type(body, value, "lifecycle_policy", key)))
            }
            other => {
                return Err(n.fail(value, unknown_field(body, value, "lifecycle_policy", other)))
            }
        }
    }
    let phases = phases.ok_or_else(|| n.fail(policy, iae("Required [phases]")))?;
    n.enter("lifecycle_policy", "phases");
    let phase_fields = fields(phases).ok_or_else(|| {
        n.fail(
            phases,
            wrong_type(body, phases, "lifecycle_policy", "phases"),
        )
    })?;
    let mut parsed = Map::new();
    for (phase_name, phase) in phase_fields {
        n.enter("phases", phase_name);
        parsed.insert(phase_name.clone(), parse_phase(&mut n, phase)?);
        n.leave();
    }
    out.insert("phases".into(), Value::Object(parsed));
    let out = Value::Object(out);
    validate(&out)?;
    if let Some(problem) = timing(&out) {
        return Err(EsError::new(
            "action_request_validation_exception",
            format!("Validation Failed: 1: {problem};"),
        ));
    }
    validate_name(name)?;
    prerequisites(&out)?;
    Ok(out)
}

fn body_value(node: &Spanned) -> Value {
    super::source::to_value(node)
}

fn parse_phase(n: &mut Nesting, phase: &Spanned) -> Result<Value, EsError> {
    let body = n.body;
    let phase_fields =
        fields(phase).ok_or_else(|| n.fail(phase, wrong_type(body, phase, "phases", "phase")))?;
    let mut min_age = "0ms".to_string();
    let mut actions = None;
    for (key, value) in phase_fields {
        match key.as_str() {
            "min_age" => {
                let text = match &value.node {
                    Node::String(s) => s.clone(),
                    Node::Number(num, _) => num.to_string(),
                    _ => return Err(n.fail(value, wrong_type(body, value, "phase", "min_age"))),
                };
                // Negative ages from old versions are read as 0.
                if !text.starts_with('-') {
                    n.enter("phase", "min_age");
                    let parsed =
                        units::parse_time(&text, "min_age").map_err(|e| n.fail(value, e))?;
                    n.leave();
                    min_age = parsed.string_rep();
                }
            }
            "actions" => actions = Some(value),
            other => return Err(n.fail(value, unknown_field(body, value, "phase", other))),
        }
    }
    let actions = actions.ok_or_else(|| n.fail(phase, iae("Required [actions]")))?;
    n.enter("phase", "actions");
    let action_fields = fields(actions)
        .ok_or_else(|| n.fail(actions, wrong_type(body, actions, "phase", "actions")))?;
    let mut parsed = Map::new();
    for (name, action) in action_fields {
        n.enter("actions", name);
        let Some((parser, slots)) = spec(name) else {
            // The registry fails before reading the value: every level reports the field's name.
            let key = key_offset(&body.text, action.offset);
            let unknown = EsError::new(
                "named_object_not_found_exception",
                format!("{} unknown field [{name}]", body.at(key)),
            );
            return Err(n.fail_at(key, unknown));
        };
        let values = parse_slots(n, action, parser, slots)?;
        let normalized = normalize_action(name, values).map_err(|e| n.fail(action, e))?;
        parsed.insert(name.clone(), normalized);
        n.leave();
    }
    n.leave();
    Ok(json!({ "min_age": min_age, "actions": parsed }))
}

/// An action's fields, checked against its parser's declarations and normalized.
fn parse_slots(
    n: &mut Nesting,
    action: &Spanned,
    parser: &'static str,
    slots: &[(&str, Slot)],
) -> Result<Map<String, Value>, EsError> {
    let body = n.body;
    let Some(action_fields) = fields(action) else {
        return Err(n.fail(action, wrong_type(body, action, parser, "action")));
    };
    let mut values = Map::new();
    for (key, value) in action_fields {
        let Some((_, slot)) = slots.iter().find(|(k, _)| k == key) else {
            return Err(n.fail(value, unknown_field(body, value, parser, key)));
        };
        let wrong = || n.fail(value, wrong_type(body, value, parser, key));
        let parsed = match (slot, &value.node) {
            (_, Node::Null) => Value::Null,
            (Slot::Int | Slot::Long, Node::Number(num, false)) => Value::Number(num.clone()),
            (Slot::Int | Slot::Long, Node::String(s)) => match s.parse::<i64>() {
                Ok(i) => json!(i),
                Err(_) => return Err(wrong()),
            },
            (Slot::Text, Node::String(s)) => json!(s),
            (Slot::Bool, Node::Bool(b)) => json!(b),
            (Slot::Bool, Node::String(s)) if s == "true" || s == "false" => json!(s == "true"),
            (Slot::Map, Node::Object(_)) => body_value(value),
            (Slot::Time, Node::String(s)) => {
                n.enter(parser, key);
                let time = units::parse_time(s, key).map_err(|e| n.fail(value, e))?;
                n.leave();
                json!(time.string_rep())
            }
            (Slot::Bytes, Node::String(s)) => {
                n.enter(parser, key);
                let size = units::parse_bytes(s, key).map_err(|e| n.fail(value, e))?;
                n.leave();
                json!(size)
            }
            _ => return Err(wrong()),
        };
        values.insert(key.clone(), parsed);
    }
    Ok(values)
}
