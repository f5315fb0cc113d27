//! Filebeat's `-E KEY=VALUE`: KEY a dotted path, VALUE read as YAML, so `-E max_line_bytes=2048` is a
//! number, `-E 'hosts=["http://a:9200"]'` a list and `-E a=b` a string. A value that is not valid YAML on
//! its own (`-E index=%{+yyyy}`) is taken as the string it is.

use super::bounds::{TooDeep, MAX_OVERRIDE_BYTES};
use super::merge::{normalize, split_key};
use super::tree::{Node, ParseError};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Override {
    pub(crate) path: Vec<String>,
    pub(crate) value: Node,
}

impl Override {
    pub(crate) fn parse(arg: &str) -> Result<Override, String> {
        let Some((key, raw)) = arg.split_once('=') else {
            return Err(format!("malformed -E {arg:?}: expected KEY=VALUE"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("malformed -E {arg:?}: the key before `=` is empty"));
        }
        // Named by its key alone: the value is too long to repeat.
        if raw.len() > MAX_OVERRIDE_BYTES {
            return Err(format!(
                "malformed -E {key}=…: the value is {} bytes, longer than {} KiB",
                raw.len(),
                MAX_OVERRIDE_BYTES / 1024
            ));
        }
        let value = parse_value(raw).map_err(|deep| format!("malformed -E {key}=…: {deep}"))?;
        let (value, conflicts) = normalize(value);
        if let Some(conflict) = conflicts.first() {
            return Err(format!(
                "malformed -E {arg:?}: key {} is set more than once",
                conflict.join(".")
            ));
        }
        Ok(Override {
            path: split_key(key),
            value,
        })
    }

    /// The paths this override sets, down to its leaves, so an error about a key under one of them can
    /// say it came from `-E` while keys it merged into still point at the file.
    pub(crate) fn leaves(&self) -> Vec<Vec<String>> {
        let mut leaves = Vec::new();
        collect_leaves(&self.value, &mut self.path.clone(), &mut leaves);
        leaves
    }
}

fn parse_value(raw: &str) -> Result<Node, TooDeep> {
    let trimmed = raw.trim();
    Ok(match Node::parse(trimmed) {
        // A lone comment (`#x`) parses as nothing; the user meant the text.
        Ok(Node::Null) if !matches!(trimmed, "~" | "null" | "Null" | "NULL") => {
            Node::Str(trimmed.to_owned())
        }
        Ok(value) => value,
        Err(ParseError::TooDeep(deep)) => return Err(deep),
        Err(ParseError::Yaml(_)) => Node::Str(trimmed.to_owned()),
    })
}

fn collect_leaves(node: &Node, path: &mut Vec<String>, leaves: &mut Vec<Vec<String>>) {
    match node {
        Node::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                path.push(key.clone());
                collect_leaves(value, path, leaves);
                path.pop();
            }
        }
        _ => leaves.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(arg: &str) -> Node {
        Override::parse(arg).unwrap().value
    }

    fn s(v: &str) -> Node {
        Node::Str(v.to_owned())
    }

    #[test]
    fn values_are_read_as_yaml() {
        assert_eq!(
            value(r#"output.elasticsearch.hosts=["http://127.0.0.1:9200"]"#),
            Node::Seq(vec![s("http://127.0.0.1:9200")])
        );
        assert_eq!(value("max_line_bytes=2048"), Node::UInt(2048));
        assert_eq!(value("a=b"), s("b"));
        assert_eq!(value("a=true"), Node::Bool(true));
        assert_eq!(value("a="), s(""));
        assert_eq!(value("a=~"), Node::Null);
        assert_eq!(value("a=x=y"), s("x=y"));
        assert_eq!(value("index=%{+yyyy}"), s("%{+yyyy}"));
        assert_eq!(value("index=#tag"), s("#tag"));
        assert_eq!(value("paths=*.log"), s("*.log"));
    }

    #[test]
    fn keys_are_dotted_paths() {
        let o = Override::parse("output.elasticsearch.username = bob").unwrap();
        assert_eq!(o.path, ["output", "elasticsearch", "username"]);
        assert_eq!(o.value, s("bob"));
        let o = Override::parse("output.elasticsearch={username: u, ssl.key: k}").unwrap();
        let leaves: Vec<String> = o.leaves().iter().map(|p| p.join(".")).collect();
        assert_eq!(
            leaves,
            [
                "output.elasticsearch.username",
                "output.elasticsearch.ssl.key"
            ]
        );
    }

    #[test]
    fn malformed_overrides_are_explained() {
        assert_eq!(
            Override::parse("max_line_bytes").unwrap_err(),
            "malformed -E \"max_line_bytes\": expected KEY=VALUE"
        );
        assert_eq!(
            Override::parse(" =1").unwrap_err(),
            "malformed -E \" =1\": the key before `=` is empty"
        );
        assert!(Override::parse("a={b: 1, b: 2}")
            .unwrap_err()
            .contains("key b is set more"));
        let deep = format!("paths={}", "[".repeat(60_000));
        assert_eq!(
            Override::parse(&deep).unwrap_err(),
            "malformed -E paths=…: nested deeper than 64 levels"
        );
        let long = format!("index={}", "x".repeat(MAX_OVERRIDE_BYTES + 1));
        assert_eq!(
            Override::parse(&long).unwrap_err(),
            "malformed -E index=…: the value is 65537 bytes, longer than 64 KiB"
        );
    }
}
