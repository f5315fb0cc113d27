//! The configuration as a loosely typed tree, between the YAML text and the typed [`Config`].
//!
//! Our own tree rather than `serde_yaml_ng::Value`, because that one rejects a key written twice in one
//! mapping without saying where; here duplicates survive parsing and are reported by the merge with the
//! lines of both settings.
//!
//! [`Config`]: super::Config

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

use super::bounds::{check_nesting, TooDeep};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys may repeat until [`super::merge::normalize`] has run.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Parses one YAML document; an empty one is `Null`. Text nested too deep for the YAML scanner to
    /// get through in reasonable time is refused before it starts (see `bounds`).
    pub(crate) fn parse(text: &str) -> Result<Node, ParseError> {
        check_nesting(text).map_err(ParseError::TooDeep)?;
        Node::deserialize(serde_yaml_ng::Deserializer::from_str(text)).map_err(ParseError::Yaml)
    }

    /// The node at a key path, through mappings only.
    pub(crate) fn get(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| match node {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        })
    }

    pub(crate) fn get_mut(&mut self, path: &[&str]) -> Option<&mut Node> {
        path.iter().try_fold(self, |node, key| match node {
            Node::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        })
    }
}

/// Why text is not a [`Node`].
#[derive(Debug)]
pub(crate) enum ParseError {
    TooDeep(TooDeep),
    Yaml(serde_yaml_ng::Error),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            let key = match key {
                Node::Str(s) => s,
                Node::Bool(b) => b.to_string(),
                Node::Int(n) => n.to_string(),
                Node::UInt(n) => n.to_string(),
                Node::Float(n) => n.to_string(),
                Node::Null | Node::Seq(_) | Node::Map(_) => {
                    return Err(de::Error::custom("a mapping key must be a string"))
                }
            };
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    // serde_yaml_ng presents a value with a custom tag (`!foo 1`) as an enum.
    fn visit_enum<A: EnumAccess<'de>>(self, _data: A) -> Result<Node, A::Error> {
        Err(de::Error::custom("YAML tags (`!name`) are not supported"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Node {
        Node::Str(v.to_owned())
    }

    #[test]
    fn parses_scalars_lists_and_maps_keeping_duplicates() {
        let node = Node::parse("a: 1\nb: [x, -2, 1.5, true, ~]\na: {c: d}\n3: e\n").unwrap();
        assert_eq!(
            node,
            Node::Map(vec![
                ("a".into(), Node::UInt(1)),
                (
                    "b".into(),
                    Node::Seq(vec![
                        s("x"),
                        Node::Int(-2),
                        Node::Float(1.5),
                        Node::Bool(true),
                        Node::Null
                    ])
                ),
                ("a".into(), Node::Map(vec![("c".into(), s("d"))])),
                ("3".into(), s("e")),
            ])
        );
        assert_eq!(node.get(&["a"]), Some(&Node::UInt(1)));
        assert_eq!(node.get(&["b", "x"]), None);
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(Node::parse("").unwrap(), Node::Null);
        assert_eq!(Node::parse("# only a comment\n").unwrap(), Node::Null);
        assert_eq!(Node::parse("---\n").unwrap(), Node::Null);
    }

    #[test]
    fn rejects_tags_and_complex_keys() {
        assert!(Node::parse("x: !foo 1\n").is_err());
        assert!(Node::parse("? [a]\n: 1\n").is_err());
    }

    #[test]
    fn refuses_deep_nesting_before_parsing() {
        let deep = format!("a: {}", "[".repeat(100_000));
        assert!(matches!(
            Node::parse(&deep),
            Err(ParseError::TooDeep(TooDeep { line: 1 }))
        ));
    }
}
