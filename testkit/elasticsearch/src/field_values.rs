//! Whether a concrete JSON value fits a mapped field, and if not the cause Elasticsearch gives, with
//! its coercions: keyword and text take any scalar, numbers take numeric strings (and truncate
//! fractions for integer types), booleans take `"true"`/`"false"`, dates take their format's strings
//! or epoch millis, `ip` takes IPv4/IPv6 literals. `ignore_malformed` (the field's, else the index's)
//! turns a misfit into a silently unindexed value, as it does in Elasticsearch.

use super::dates;
use super::errors::EsError;
use super::field_types::{Field, FieldType};
use super::source::{token_name, Node};

/// `Ok` when the value at `path` is accepted (or ignored as malformed); `Err` is the cause.
pub fn accepts(
    path: &str,
    field: &Field,
    node: &Node,
    col: usize,
    ignore_malformed: bool,
) -> Result<(), EsError> {
    let result = check(path, field, node, col);
    if result.is_err() && malformed_ignored(field, ignore_malformed) {
        return Ok(());
    }
    result
}

fn malformed_ignored(field: &Field, index_default: bool) -> bool {
    let supports = field.kind.is_numeric()
        || matches!(
            field.kind,
            FieldType::Date
                | FieldType::DateNanos
                | FieldType::Ip
                | FieldType::GeoPoint
                | FieldType::Boolean
        );
    supports
        && field
            .param_bool("ignore_malformed")
            .unwrap_or(index_default)
}

fn check(path: &str, field: &Field, node: &Node, col: usize) -> Result<(), EsError> {
    match field.kind {
        FieldType::Keyword | FieldType::Wildcard | FieldType::Text | FieldType::MatchOnlyText => Ok(()),
        FieldType::ConstantKeyword => match field.param_str("value") {
            Some(value) if value != text(node) => Err(EsError::new(
                "illegal_argument_exception",
                format!(
                    "[constant_keyword] field [{path}] only accepts values that are equal to the value \
                     defined in the mappings [{value}], but got [{}]",
                    text(node)
                ),
            )),
            _ => Ok(()),
        },
        FieldType::Long
        | FieldType::Integer
        | FieldType::Short
        | FieldType::Byte
        | FieldType::UnsignedLong => integer(field.kind, node, col),
        FieldType::Double | FieldType::Float | FieldType::HalfFloat | FieldType::ScaledFloat => {
            number(node, col).map(|_| ())
        }
        FieldType::Boolean => match node {
            Node::Bool(_) => Ok(()),
            Node::String(s) if s == "true" || s == "false" || s.is_empty() => Ok(()),
            other => Err(EsError::new(
                "illegal_argument_exception",
                format!(
                    "Failed to parse value [{}] as only [true] or [false] are allowed.",
                    text(other)
                ),
            )),
        },
        FieldType::Date | FieldType::DateNanos => date(field, node),
        FieldType::Ip => {
            let value = text(node);
            if value.parse::<std::net::IpAddr>().is_ok() {
                Ok(())
            } else {
                Err(EsError::new(
                    "illegal_argument_exception",
                    format!("'{value}' is not an IP string literal."),
                ))
            }
        }
        FieldType::Alias => Err(EsError::new(
            "illegal_argument_exception",
            format!("Cannot write to a field alias [{path}]."),
        )),
        FieldType::Object
        | FieldType::Nested
        | FieldType::Flattened
        | FieldType::GeoPoint
        | FieldType::Other(_) => Ok(()),
    }
}

/// The scalar as Elasticsearch's parser `text()` gives it.
pub fn text(node: &Node) -> String {
    match node {
        Node::String(s) => s.clone(),
        Node::Number(n, _) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Null => "null".to_string(),
        _ => String::new(),
    }
}

fn number(node: &Node, col: usize) -> Result<f64, EsError> {
    match node {
        Node::Number(n, _) => Ok(n.as_f64().unwrap_or_default()),
        Node::String(s) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(EsError::new(
                "illegal_argument_exception",
                format!("For input string: \"{s}\""),
            )),
        },
        other => Err(EsError::new(
            "x_content_parse_exception",
            format!(
                "[1:{col}] Current token ({}) not numeric, can not use numeric value accessors",
                token_name(other)
            ),
        )),
    }
}

fn integer(kind: FieldType, node: &Node, col: usize) -> Result<(), EsError> {
    // Exact integers keep their precision (a long holds more than an f64 does).
    let exact = match node {
        Node::Number(n, false) => n.as_i64().map(i128::from).or(n.as_u64().map(i128::from)),
        Node::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    let value = match exact {
        Some(v) => v,
        None => number(node, col)?.trunc() as i128,
    };
    let (min, max, name) = match kind {
        FieldType::Byte => (i128::from(i8::MIN), i128::from(i8::MAX), "a byte"),
        FieldType::Short => (i128::from(i16::MIN), i128::from(i16::MAX), "a short"),
        FieldType::Integer => (i128::from(i32::MIN), i128::from(i32::MAX), "an integer"),
        FieldType::UnsignedLong => (0, i128::from(u64::MAX), "an unsigned long"),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX), "a long"),
    };
    if value < min || value > max {
        return Err(EsError::new(
            "illegal_argument_exception",
            format!("Value [{}] is out of range for {name}", text(node)),
        ));
    }
    Ok(())
}

fn date(field: &Field, node: &Node) -> Result<(), EsError> {
    let nanos = field.kind == FieldType::DateNanos;
    let default = if nanos {
        dates::DATE_NANOS_DEFAULT
    } else {
        dates::DATE_DEFAULT
    };
    let format = field.param_str("format").unwrap_or(default);
    let value = match node {
        Node::String(s) => s.clone(),
        Node::Number(n, _) => n.to_string(),
        other => text(other),
    };
    let fail = |cause: EsError| {
        Err(EsError::new(
            "illegal_argument_exception",
            format!("failed to parse date field [{value}] with format [{format}]"),
        )
        .caused_by(cause))
    };
    match dates::parse(format, &value) {
        // A custom java pattern: not checked.
        None => Ok(()),
        Some(Err(())) => fail(EsError::new(
            "date_time_parse_exception",
            if format.contains("||") {
                "Failed to parse with all enclosed parsers".to_string()
            } else {
                format!("Text '{value}' could not be parsed at index 0")
            },
        )),
        Some(Ok(instant)) if nanos && instant.seconds < 0 => Err(EsError::new(
            "illegal_argument_exception",
            format!(
                "date[{}] is before the epoch in 1970 and cannot be stored in nanosecond resolution",
                dates::print(instant)
            ),
        )),
        Some(Ok(_)) => Ok(()),
    }
}
