//! The mapping field types this server knows, and the parameters each takes. Explicit mappings (from
//! templates and `PUT /{index}`) are checked against this, as Elasticsearch's type parsers check them:
//! an unknown type is "No handler for type", an unknown parameter "unknown parameter".

use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Object,
    Nested,
    Flattened,
    Keyword,
    ConstantKeyword,
    Wildcard,
    Text,
    MatchOnlyText,
    Long,
    Integer,
    Short,
    Byte,
    UnsignedLong,
    Double,
    Float,
    HalfFloat,
    ScaledFloat,
    Date,
    DateNanos,
    Boolean,
    Ip,
    GeoPoint,
    Alias,
    /// A real type whose values this server does not check (`binary`, `dense_vector`, ranges…).
    Other(&'static str),
}

const NAMED: [(&str, FieldType); 23] = [
    ("object", FieldType::Object),
    ("nested", FieldType::Nested),
    ("flattened", FieldType::Flattened),
    ("keyword", FieldType::Keyword),
    ("constant_keyword", FieldType::ConstantKeyword),
    ("wildcard", FieldType::Wildcard),
    ("text", FieldType::Text),
    ("match_only_text", FieldType::MatchOnlyText),
    ("long", FieldType::Long),
    ("integer", FieldType::Integer),
    ("short", FieldType::Short),
    ("byte", FieldType::Byte),
    ("unsigned_long", FieldType::UnsignedLong),
    ("double", FieldType::Double),
    ("float", FieldType::Float),
    ("half_float", FieldType::HalfFloat),
    ("scaled_float", FieldType::ScaledFloat),
    ("date", FieldType::Date),
    ("date_nanos", FieldType::DateNanos),
    ("boolean", FieldType::Boolean),
    ("ip", FieldType::Ip),
    ("geo_point", FieldType::GeoPoint),
    ("alias", FieldType::Alias),
];

/// Types of the default distribution accepted without checking their values.
const UNCHECKED: [&str; 22] = [
    "binary",
    "version",
    "integer_range",
    "long_range",
    "float_range",
    "double_range",
    "date_range",
    "ip_range",
    "completion",
    "search_as_you_type",
    "token_count",
    "dense_vector",
    "sparse_vector",
    "rank_feature",
    "rank_features",
    "geo_shape",
    "shape",
    "point",
    "histogram",
    "aggregate_metric_double",
    "percolator",
    "semantic_text",
];

/// The parameters of every leaf type that can take its values from a `script`: where it is indexed
/// and stored, its null value, its script and what a failing script does, `copy_to` and `meta`.
/// `scripted![…]` is those and the type's own.
macro_rules! scripted {
    ($($own:literal),* $(,)?) => {
        &[
            $($own,)*
            "doc_values",
            "index",
            "null_value",
            "on_script_error",
            "script",
            "store",
            "copy_to",
            "meta",
        ]
    };
}

impl FieldType {
    pub fn from_name(name: &str) -> Option<FieldType> {
        NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .or_else(|| {
                UNCHECKED
                    .iter()
                    .find(|n| **n == name)
                    .map(|n| FieldType::Other(n))
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Other(name) => name,
            known => NAMED
                .iter()
                .find(|(_, t)| *t == known)
                .map_or("object", |(n, _)| n),
        }
    }

    /// Object-like: documents nest fields under it.
    pub fn is_object(self) -> bool {
        matches!(self, FieldType::Object | FieldType::Nested)
    }

    /// A number type: its values parse as numbers (or numeric strings).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Long
                | FieldType::Integer
                | FieldType::Short
                | FieldType::Byte
                | FieldType::UnsignedLong
                | FieldType::Double
                | FieldType::Float
                | FieldType::HalfFloat
                | FieldType::ScaledFloat
        )
    }

    /// The parameters a mapping of this type may carry besides `type`; `None` means any.
    pub fn params(self) -> Option<&'static [&'static str]> {
        Some(match self {
            FieldType::Object => &["properties", "dynamic", "enabled", "subobjects"],
            FieldType::Nested => &[
                "properties",
                "dynamic",
                "enabled",
                "include_in_parent",
                "include_in_root",
            ],
            FieldType::Keyword => scripted![
                "eager_global_ordinals",
                "fields",
                "ignore_above",
                "index_options",
                "norms",
                "similarity",
                "normalizer",
                "split_queries_on_whitespace",
                "time_series_dimension",
            ],
            FieldType::ConstantKeyword => &["value", "meta"],
            FieldType::Wildcard => &["ignore_above", "null_value", "copy_to", "fields", "meta"],
            FieldType::Text => &[
                "analyzer",
                "search_analyzer",
                "search_quote_analyzer",
                "eager_global_ordinals",
                "fielddata",
                "fielddata_frequency_filter",
                "fields",
                "index",
                "index_options",
                "index_prefixes",
                "index_phrases",
                "norms",
                "position_increment_gap",
                "store",
                "similarity",
                "term_vector",
                "copy_to",
                "meta",
            ],
            FieldType::MatchOnlyText => &["fields", "copy_to", "meta"],
            FieldType::Long
            | FieldType::Integer
            | FieldType::Short
            | FieldType::Byte
            | FieldType::UnsignedLong
            | FieldType::Double
            | FieldType::Float
            | FieldType::HalfFloat => scripted![
                "coerce",
                "ignore_malformed",
                "time_series_dimension",
                "time_series_metric",
            ],
            FieldType::ScaledFloat => scripted![
                "scaling_factor",
                "coerce",
                "ignore_malformed",
                "time_series_metric",
            ],
            FieldType::Date | FieldType::DateNanos => {
                scripted!["format", "locale", "ignore_malformed"]
            }
            FieldType::Boolean | FieldType::Ip => {
                scripted!["ignore_malformed", "time_series_dimension"]
            }
            FieldType::Flattened => &[
                "depth_limit",
                "doc_values",
                "eager_global_ordinals",
                "ignore_above",
                "index",
                "index_options",
                "null_value",
                "similarity",
                "split_queries_on_whitespace",
                "time_series_dimensions",
                "meta",
            ],
            FieldType::GeoPoint => scripted!["ignore_malformed", "ignore_z_value"],
            FieldType::Alias => &["path"],
            FieldType::Other(_) => return None,
        })
    }
}

/// One mapped field: its type, and its other parameters as they were given (or as a dynamic template
/// gave them), which is what a `GET` answers with.
#[derive(Clone, Debug)]
pub struct Field {
    pub kind: FieldType,
    pub params: Map<String, Value>,
}

impl Field {
    pub fn of(kind: FieldType) -> Field {
        Field {
            kind,
            params: Map::new(),
        }
    }

    /// `enabled: false` objects and flattened fields take any content without looking inside.
    pub fn opaque(&self) -> bool {
        self.kind == FieldType::Flattened
            || (self.kind.is_object() && self.params.get("enabled") == Some(&Value::Bool(false)))
    }

    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    pub fn param_bool(&self, name: &str) -> Option<bool> {
        match self.params.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s == "true" => Some(true),
            Some(Value::String(s)) if s == "false" => Some(false),
            _ => None,
        }
    }
}

/// An object's `dynamic` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamic {
    True,
    False,
    Strict,
    Runtime,
}

impl Dynamic {
    pub fn parse(value: &Value) -> Option<Dynamic> {
        match value {
            Value::Bool(true) => Some(Dynamic::True),
            Value::Bool(false) => Some(Dynamic::False),
            Value::String(s) => match s.as_str() {
                "true" => Some(Dynamic::True),
                "false" => Some(Dynamic::False),
                "strict" => Some(Dynamic::Strict),
                "runtime" => Some(Dynamic::Runtime),
                _ => None,
            },
            _ => None,
        }
    }
}
