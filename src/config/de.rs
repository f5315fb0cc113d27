//! Typed deserialization from the tree, as lenient as Filebeat's go-ucfg: after `${VAR}` expansion every
//! value may be a string, so a typed field also accepts its value written as a string
//! (`max_line_bytes: "2048"`, `add_host_metadata: "true"`, `paths: "/a/*.log, /b/*.log"`).
//!
//! Over 400 lines with its tests, which sit below the deserializer's 330 lines: each lenient conversion
//! is tested next to the code that makes it.

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use super::tree::{Node, ParseError};

/// Why typed deserialization failed, at the path `serde_path_to_error` tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeError {
    UnknownKey {
        key: String,
        expected: &'static [&'static str],
    },
    Invalid(String),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::UnknownKey { key, .. } => write!(f, "unknown key {key}"),
            DeError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError::Invalid(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DeError {
        DeError::UnknownKey {
            key: field.to_owned(),
            expected,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> DeError {
        DeError::Invalid(format!(
            "invalid value {variant:?} (expected one of: {})",
            expected.join(", ")
        ))
    }
}

/// Deserializes `T` from a tree, with the path to the first error.
pub(crate) fn from_tree<T: DeserializeOwned>(
    tree: Node,
) -> Result<T, serde_path_to_error::Error<DeError>> {
    serde_path_to_error::deserialize(Lenient(tree))
}

/// A list written as one string: a YAML flow sequence when it starts with `[`, else comma-separated.
pub(crate) fn split_list(s: &str) -> Result<Vec<Node>, String> {
    let trimmed = s.trim();
    if trimmed.starts_with('[') {
        return match Node::parse(trimmed) {
            Ok(Node::Seq(items)) => Ok(items),
            // Not echoed: it is at least 64 brackets long.
            Err(ParseError::TooDeep(deep)) => Err(format!("invalid list: {deep}")),
            _ => Err(format!("invalid list {s:?}")),
        };
    }
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(trimmed
        .split(',')
        .map(|item| Node::Str(item.trim().to_owned()))
        .collect())
}

/// `true`/`false`, and the YAML 1.1 spellings Filebeat users write.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

pub(crate) struct Lenient(pub(crate) Node);

impl Lenient {
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.0 {
            Node::Null => Unexpected::Other("null"),
            Node::Bool(b) => Unexpected::Bool(*b),
            Node::Int(n) => Unexpected::Signed(*n),
            Node::UInt(n) => Unexpected::Unsigned(*n),
            Node::Float(n) => Unexpected::Float(*n),
            Node::Str(s) => Unexpected::Str(s),
            Node::Seq(_) => Unexpected::Seq,
            Node::Map(_) => Unexpected::Map,
        }
    }

    fn invalid_type<'de, V: Visitor<'de>>(self, visitor: &V) -> DeError {
        de::Error::invalid_type(self.unexpected(), visitor)
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0 {
            Node::Str(s) => {
                let t = s.trim();
                if let Ok(n) = t.parse::<u64>() {
                    visitor.visit_u64(n)
                } else if let Ok(n) = t.parse::<i64>() {
                    visitor.visit_i64(n)
                } else {
                    Err(de::Error::invalid_value(Unexpected::Str(s), &visitor))
                }
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn float<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0 {
            Node::Str(s) => match s.trim().parse::<f64>() {
                Ok(n) => visitor.visit_f64(n),
                Err(_) => Err(de::Error::invalid_value(Unexpected::Str(s), &visitor)),
            },
            _ => self.deserialize_any(visitor),
        }
    }
}

impl<'de> IntoDeserializer<'de, DeError> for Lenient {
    type Deserializer = Lenient;

    fn into_deserializer(self) -> Lenient {
        self
    }
}

fn seq<'de, V: Visitor<'de>>(items: Vec<Node>, visitor: V) -> Result<V::Value, DeError> {
    let mut access = SeqDeserializer::new(items.into_iter().map(Lenient));
    let value = visitor.visit_seq(&mut access)?;
    access.end()?;
    Ok(value)
}

macro_rules! integers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            self.integer(v)
        })*
    };
}

impl<'de> Deserializer<'de> for Lenient {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(b),
            Node::Int(n) => visitor.visit_i64(n),
            Node::UInt(n) => visitor.visit_u64(n),
            Node::Float(n) => visitor.visit_f64(n),
            Node::Str(s) => visitor.visit_string(s),
            Node::Seq(items) => seq(items, visitor),
            Node::Map(entries) => {
                let mut access = MapDeserializer::new(
                    entries
                        .into_iter()
                        .map(|(k, v)| (Lenient(Node::Str(k)), Lenient(v))),
                );
                let value = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0 {
            Node::Str(s) => match parse_bool(s) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::invalid_value(Unexpected::Str(s), &visitor)),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    integers! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.float(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.float(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    /// Scalars of any type read as their text: `username: 1234` is the string "1234".
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Str(s) => visitor.visit_string(s),
            Node::Bool(b) => visitor.visit_string(b.to_string()),
            Node::Int(n) => visitor.visit_string(n.to_string()),
            Node::UInt(n) => visitor.visit_string(n.to_string()),
            Node::Float(n) => visitor.visit_string(n.to_string()),
            Node::Null | Node::Seq(_) | Node::Map(_) => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    /// An empty string is "not set", so `password: ${PASSWORD:}` means no password.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0 {
            Node::Null => visitor.visit_none(),
            Node::Str(s) if s.is_empty() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// `key:` with nothing after it is an empty list.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Seq(items) => seq(items, visitor),
            Node::Null => seq(Vec::new(), visitor),
            Node::Str(s) => seq(split_list(&s).map_err(DeError::Invalid)?, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    /// `section:` with nothing after it is the section with all its defaults.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Map(_) => self.deserialize_any(visitor),
            Node::Null => Lenient(Node::Map(Vec::new())).deserialize_any(visitor),
            // Said plainly, rather than serde's "expected struct Output".
            _ => Err(de::Error::invalid_type(
                self.unexpected(),
                &"a mapping of keys",
            )),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    /// Unit variants only, matched case-insensitively (`verification_mode: Full`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Str(s) => {
                let variant: StringDeserializer<DeError> =
                    s.trim().to_lowercase().into_deserializer();
                visitor.visit_enum(variant)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! { i128 u128 bytes byte_buf }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        flag: bool,
        count: u32,
        ratio: f64,
        list: Vec<String>,
        name: String,
        maybe: Option<String>,
        mode: Mode,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Full,
        None,
    }

    fn sample(yaml: &str) -> Result<Sample, String> {
        let tree = Node::parse(yaml).unwrap();
        from_tree::<Sample>(tree).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn typed_values_also_come_as_strings() {
        let typed = sample(
            "{flag: true, count: 7, ratio: 0.5, list: [a, b], name: n, maybe: m, mode: full}",
        );
        let strings = sample(
            "{flag: 'yes', count: ' 7', ratio: '0.5', list: 'a, b', name: n, maybe: m, mode: ' Full'}",
        );
        assert_eq!(typed, strings);
        let flow = sample(
            "{flag: 'off', count: 1, ratio: 1, list: '[a, b]', name: 5, maybe: '', mode: none}",
        )
        .unwrap();
        assert_eq!(flow.list, ["a", "b"]);
        assert_eq!(flow.name, "5");
        assert_eq!(flow.maybe, None);
        assert!(!flow.flag);
    }

    #[test]
    fn errors_name_the_path_and_the_problem() {
        let base = "flag: true\nratio: 1\nlist: []\nname: n\nmaybe: ~\nmode: full\n";
        let err = sample(&format!("{base}count: lots\n")).unwrap_err();
        assert_eq!(err, "count: invalid value: string \"lots\", expected u32");
        let err = sample(&format!("{base}count: -1\n")).unwrap_err();
        assert!(
            err.starts_with("count: invalid value: integer `-1`"),
            "{err}"
        );
        let err = sample("flag: maybe\n").unwrap_err();
        assert!(
            err.starts_with("flag: invalid value: string \"maybe\""),
            "{err}"
        );
        let err = sample(&format!("{base}count: 1\nextra: 1\n")).unwrap_err();
        assert_eq!(err, "extra: unknown key extra");
        let err = sample("mode: partial\n").unwrap_err();
        assert_eq!(
            err,
            "mode: invalid value \"partial\" (expected one of: full, none)"
        );
        let err = sample("list: '[a, b'\n").unwrap_err();
        assert_eq!(err, "list: invalid list \"[a, b\"");
    }

    #[test]
    fn unknown_keys_carry_the_expected_ones() {
        let err = from_tree::<Sample>(Node::parse("bogus: 1").unwrap()).unwrap_err();
        assert_eq!(err.path().to_string(), "bogus");
        assert!(matches!(
            err.inner(),
            DeError::UnknownKey { key, expected } if key == "bogus" && expected.contains(&"flag")
        ));
    }
}
