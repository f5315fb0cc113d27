//! `fieldSelector` and `labelSelector`, with the real server's answers to what it cannot use.

use serde_json::Value;

use super::store::Kind;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Equals(String),
    NotEquals(String),
    Exists,
    NotExists,
}

#[derive(Clone, Debug, Default)]
pub struct Selector {
    fields: Vec<(String, Op)>,
    labels: Vec<(String, Op)>,
}

/// The fields each kind can be selected on, as the API server registers them (pods:
/// `pkg/registry/core/pod/strategy.go`); anything else is "field label not supported".
fn supported(kind: Kind, field: &str) -> bool {
    let common = matches!(field, "metadata.name" | "metadata.namespace");
    common
        || match kind {
            Kind::Pod => matches!(
                field,
                "spec.nodeName"
                    | "spec.restartPolicy"
                    | "spec.schedulerName"
                    | "spec.serviceAccountName"
                    | "spec.hostNetwork"
                    | "status.phase"
                    | "status.podIP"
                    | "status.nominatedNodeName"
            ),
            Kind::Namespace => field == "status.phase",
            Kind::Node => field == "spec.unschedulable",
        }
}

/// The value a field selector compares against: missing fields are the empty string, booleans
/// their text, as the real field sets hold them.
fn field_value(object: &Value, field: &str) -> String {
    let mut current = object;
    for part in field.split('.') {
        current = &current[part];
    }
    match current {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null if field == "spec.hostNetwork" || field == "spec.unschedulable" => {
            "false".to_string()
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Splits `a=b`, `a==b`, `a!=b`; `None` when the term has no operator.
fn split_term(term: &str) -> Option<(&str, Op)> {
    if let Some((k, v)) = term.split_once("!=") {
        return Some((k.trim(), Op::NotEquals(v.trim().to_string())));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Some((k.trim(), Op::Equals(v.trim().to_string())));
    }
    term.split_once('=')
        .map(|(k, v)| (k.trim(), Op::Equals(v.trim().to_string())))
}

impl Selector {
    /// `Err` carries the message of the 400 BadRequest the real server sends.
    pub fn parse(
        kind: Kind,
        fields: Option<&str>,
        labels: Option<&str>,
    ) -> Result<Selector, String> {
        let mut selector = Selector::default();
        for term in fields
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.trim().is_empty())
        {
            let Some((field, op)) = split_term(term) else {
                return Err(format!(
                    "invalid selector: '{term}'; can't understand '{term}'"
                ));
            };
            if !supported(kind, field) {
                return Err(format!("field label not supported: {field}"));
            }
            selector.fields.push((field.to_string(), op));
        }
        let labels = labels.unwrap_or("");
        if labels.contains('(') {
            // Set-based requirements (`in`, `notin`) are not needed by the shipper.
            return Err(format!(
                "unable to parse requirement: set-based selectors are not supported by the test server: {labels}"
            ));
        }
        for term in labels.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (key, op) = match split_term(term) {
                Some(parsed) => parsed,
                None => match term.strip_prefix('!') {
                    Some(key) => (key.trim(), Op::NotExists),
                    None => (term, Op::Exists),
                },
            };
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(format!(
                    "unable to parse requirement: invalid label key \"{key}\""
                ));
            }
            selector.labels.push((key.to_string(), op));
        }
        Ok(selector)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.labels.is_empty()
    }

    pub fn matches(&self, object: &Value) -> bool {
        let fields_match = self.fields.iter().all(|(field, op)| {
            let value = field_value(object, field);
            match op {
                Op::Equals(want) => value == *want,
                Op::NotEquals(want) => value != *want,
                Op::Exists | Op::NotExists => true,
            }
        });
        let labels = &object["metadata"]["labels"];
        fields_match
            && self.labels.iter().all(|(key, op)| {
                let value = labels[key.as_str()].as_str();
                match op {
                    Op::Equals(want) => value == Some(want.as_str()),
                    // As in Kubernetes: `k!=v` also matches objects without the label.
                    Op::NotEquals(want) => value != Some(want.as_str()),
                    Op::Exists => value.is_some(),
                    Op::NotExists => value.is_none(),
                }
            })
    }
}
