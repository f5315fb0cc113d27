//! Filebeat's conditions (`when:` of `output.elasticsearch.indices`): `equals`, `contains`, `regexp`,
//! `has_fields`, `and`, `or`, `not`, over an event's fields by dotted path. Compiled once when the
//! configuration is loaded (regular expressions included); matched with plain values, through a lookup
//! the caller gives (config imports no stage).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A compiled condition, with the text it was read from (what it prints and compares as).
#[derive(Clone)]
pub struct Condition {
    source: Value,
    node: Arc<Node>,
}

#[derive(Debug)]
enum Node {
    /// Every field has exactly this text.
    Equals(Vec<(String, String)>),
    /// Every field contains this text.
    Contains(Vec<(String, String)>),
    /// Every field matches its expression (anywhere in the value, as Filebeat's `regexp`).
    Regexp(Vec<(String, regex::Regex)>),
    HasFields(Vec<String>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Condition {
    /// Whether the event whose fields `get` looks up (a dotted path -> its text, `None` when absent
    /// or not text) satisfies the condition.
    pub fn matches<'a>(&self, get: &mut impl FnMut(&str) -> Option<&'a str>) -> bool {
        self.node.matches(get)
    }

    /// Every field path the condition reads, so a caller can tell which values it needs.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.node.fields(&mut out);
        out
    }

    fn parse(value: Value) -> Result<Condition, String> {
        let node = Node::parse(&value)?;
        Ok(Condition {
            source: value,
            node: Arc::new(node),
        })
    }
}

impl Node {
    fn matches<'a>(&self, get: &mut impl FnMut(&str) -> Option<&'a str>) -> bool {
        match self {
            Node::Equals(pairs) => pairs.iter().all(|(f, v)| get(f) == Some(v.as_str())),
            Node::Contains(pairs) => pairs
                .iter()
                .all(|(f, v)| get(f).is_some_and(|text| text.contains(v.as_str()))),
            Node::Regexp(pairs) => pairs
                .iter()
                .all(|(f, re)| get(f).is_some_and(|text| re.is_match(text))),
            Node::HasFields(fields) => fields.iter().all(|f| get(f).is_some()),
            Node::And(all) => all.iter().all(|n| n.matches(get)),
            Node::Or(any) => any.iter().any(|n| n.matches(get)),
            Node::Not(node) => !node.matches(get),
        }
    }

    fn fields<'s>(&'s self, out: &mut Vec<&'s str>) {
        match self {
            Node::Equals(pairs) | Node::Contains(pairs) => {
                out.extend(pairs.iter().map(|(f, _)| f.as_str()))
            }
            Node::Regexp(pairs) => out.extend(pairs.iter().map(|(f, _)| f.as_str())),
            Node::HasFields(fields) => out.extend(fields.iter().map(String::as_str)),
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().for_each(|n| n.fields(out)),
            Node::Not(node) => node.fields(out),
        }
    }

    fn parse(value: &Value) -> Result<Node, String> {
        let Some(map) = value.as_object().filter(|m| m.len() == 1) else {
            return Err(
                "a condition is one of equals, contains, regexp, has_fields, and, or, not".into(),
            );
        };
        let (kind, body) = map.iter().next().expect("one entry");
        match kind.as_str() {
            "equals" => Ok(Node::Equals(pairs(kind, body)?)),
            "contains" => Ok(Node::Contains(pairs(kind, body)?)),
            "regexp" => pairs(kind, body)?
                .into_iter()
                .map(|(field, pattern)| match regex::Regex::new(&pattern) {
                    Ok(re) => Ok((field, re)),
                    Err(e) => Err(format!("regexp.{field}: {pattern:?} is not a regular expression: {e}")),
                })
                .collect::<Result<_, _>>()
                .map(Node::Regexp),
            "has_fields" => match body.as_array() {
                Some(list) if !list.is_empty() => list
                    .iter()
                    .map(|f| f.as_str().map(str::to_owned).ok_or("has_fields lists field names"))
                    .collect::<Result<_, _>>()
                    .map(Node::HasFields)
                    .map_err(str::to_owned),
                _ => Err("has_fields must list at least one field".into()),
            },
            "and" | "or" => {
                let list = body
                    .as_array()
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| format!("{kind} must list at least one condition"))?;
                let nodes = list.iter().map(Node::parse).collect::<Result<_, _>>()?;
                Ok(if kind == "and" { Node::And(nodes) } else { Node::Or(nodes) })
            }
            "not" => Ok(Node::Not(Box::new(Node::parse(body)?))),
            other => Err(format!(
                "{other:?} is not a condition loglynk has (equals, contains, regexp, has_fields, and, or, not)"
            )),
        }
    }
}

/// `{field: value, …}`, nested maps read back as dotted paths (the configuration splits dotted keys,
/// and `kubernetes.namespace: shop` is one field); values are text, numbers and booleans as written.
fn pairs(kind: &str, body: &Value) -> Result<Vec<(String, String)>, String> {
    fn flatten(prefix: &str, map: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
        for (key, value) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                Value::Object(inner) if !inner.is_empty() => flatten(&path, inner, out),
                _ => out.push((path, value.clone())),
            }
        }
    }
    let Some(map) = body.as_object().filter(|m| !m.is_empty()) else {
        return Err(format!("{kind} takes a map of fields to values"));
    };
    let mut flat = Vec::new();
    flatten("", map, &mut flat);
    flat.into_iter()
        .map(|(field, value)| match value {
            Value::String(s) => Ok((field, s)),
            Value::Number(n) => Ok((field, n.to_string())),
            Value::Bool(b) => Ok((field, b.to_string())),
            _ => Err(format!(
                "{kind}.{field}: the value must be text, a number or a boolean"
            )),
        })
        .collect()
}

impl PartialEq for Condition {
    fn eq(&self, other: &Condition) -> bool {
        self.source == other.source
    }
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.source)
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.source.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Condition::parse(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One entry of `output.elasticsearch.indices`: events matching `when` (every event, without it) go
/// to `index`, a pattern like `output.elasticsearch.index`. The first entry that matches wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexRule {
    pub index: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(yaml: &str) -> Result<Condition, String> {
        serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())
    }

    fn check(c: &Condition, fields: &[(&str, &str)]) -> bool {
        c.matches(&mut |path| fields.iter().find(|(k, _)| *k == path).map(|(_, v)| *v))
    }

    #[test]
    fn filebeats_conditions() {
        let c = condition(
            "or:\n  - equals: {kubernetes: {namespace: shop}}\n  - and:\n    - contains: {message: ERROR}\n    \
             - not: {regexp: {kubernetes.container.name: '^istio'}}\n  - has_fields: [json.trace_id]\n",
        )
        .unwrap();
        assert!(check(&c, &[("kubernetes.namespace", "shop")]));
        assert!(check(
            &c,
            &[
                ("message", "an ERROR here"),
                ("kubernetes.container.name", "app")
            ]
        ));
        assert!(!check(
            &c,
            &[
                ("message", "an ERROR here"),
                ("kubernetes.container.name", "istio-proxy")
            ]
        ));
        assert!(check(&c, &[("json.trace_id", "abc")]));
        assert!(!check(
            &c,
            &[("kubernetes.namespace", "pay"), ("message", "fine")]
        ));
        let mut fields = c.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "json.trace_id",
                "kubernetes.container.name",
                "kubernetes.namespace",
                "message"
            ]
        );
        // Numbers and booleans compare as their text.
        assert!(check(
            &condition("equals: {json.status: 500}").unwrap(),
            &[("json.status", "500")]
        ));
    }

    #[test]
    fn a_condition_that_cannot_work_is_refused_at_load() {
        for (yaml, says) in [
            ("regexp: {message: '(x'}", "not a regular expression"),
            ("range: {x.gte: 1}", "not a condition loglynk has"),
            ("equals: {}", "takes a map"),
            ("equals: {a: [1]}", "text, a number or a boolean"),
            ("and: []", "at least one condition"),
            ("{equals: {a: b}, contains: {a: b}}", "one of"),
            ("has_fields: []", "at least one field"),
        ] {
            let e = condition(yaml).err().unwrap_or_default();
            assert!(e.contains(says), "{yaml}: {e}");
        }
    }
}
