//! The values of hints: each parser reads one annotation's value, or names the reason it cannot
//! (the metric's label), as Filebeat reads them.

use std::sync::Arc;

use regex::RegexSetBuilder;

use crate::event::data_stream_name_error;

/// A compiled list larger than this is refused: one pod must not make the agent build a huge automaton.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// `500/s`, `1MiB/s drop`: see `config::RateLimit`.
pub(super) fn rate_limit(value: &str) -> Result<crate::config::RateLimit, &'static str> {
    value.parse().map_err(|_| "invalid_rate_limit")
}

/// Go's strconv.ParseBool, which Filebeat reads hints with.
pub(super) fn boolean(value: &str) -> Result<bool, &'static str> {
    match value.trim() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err("invalid_bool"),
    }
}

/// A JSON list of patterns (`["^DBG", "^TRACE"]`), or Filebeat's comma-separated list.
pub(super) fn regexes(value: &str) -> Result<regex::RegexSet, &'static str> {
    let value = value.trim();
    let patterns: Vec<String> = if value.starts_with('[') {
        serde_json::from_str(value).map_err(|_| "invalid_regex")?
    } else {
        value
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    };
    if patterns.is_empty() {
        return Err("invalid_regex");
    }
    RegexSetBuilder::new(patterns)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|_| "invalid_regex")
}

pub(super) fn data_stream_part(value: &str) -> Result<Arc<str>, &'static str> {
    let value = value.trim();
    match data_stream_name_error(value) {
        None => Ok(value.into()),
        Some(_) => Err("invalid_name"),
    }
}

/// A dotted field path, or `""` for the root.
pub(super) fn json_target(value: &str) -> Result<Arc<str>, &'static str> {
    let value = value.trim();
    let valid = value.is_empty() || value.split('.').all(|part| !part.is_empty());
    if valid && !value.starts_with('@') {
        Ok(value.into())
    } else {
        Err("invalid_target")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_json_or_comma_separated() {
        let set = regexes(r#"["a{1,2}b", "^x"]"#).unwrap();
        assert!(set.is_match("aab") && set.is_match("xy") && !set.is_match("b"));
        assert_eq!(regexes("^a, ^b").unwrap().len(), 2);
        assert_eq!(regexes(" , ").err(), Some("invalid_regex"));
        assert_eq!(regexes("[1]").err(), Some("invalid_regex"));
    }
}
