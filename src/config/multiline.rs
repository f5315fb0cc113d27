//! `multiline`: joining the lines of one event (a stack trace) into one document, with Filebeat's
//! `parsers: - multiline` settings, per glob of paths (`rules`), and an automatic mode that needs none.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::duration;
use super::ranges::{MAX_LINE_BYTES, MAX_WAIT, MIN_LINE_BYTES};
use super::size;

/// Filebeat's default: a trace deeper than this is cut (loglynk ships the rest as further events).
pub const DEFAULT_MULTILINE_MAX_LINES: usize = 500;
/// Filebeat's default: a group with no new line for this long is shipped as it is.
pub const DEFAULT_MULTILINE_TIMEOUT: Duration = Duration::from_secs(5);
/// More lines than this in one document is a typo, and each line is kept until the group ships.
const MAX_MAX_LINES: usize = 100_000;

/// How lines are grouped into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultilineType {
    /// The continuation lines of Java, Python, Go, Node.js, .NET and Ruby stack traces join the line
    /// before them; no other line is ever joined.
    #[default]
    Auto,
    /// Every line is its own event.
    None,
    /// Filebeat's `pattern`: `pattern`, `negate`, `match`, `flush_pattern`.
    Pattern,
    /// Filebeat's `count`: every `count_lines` lines are one event.
    Count,
    /// Filebeat's `while_pattern`: consecutive lines matching `pattern` (with `negate`, not matching)
    /// are one event.
    WhilePattern,
}

/// Filebeat's `multiline.match`: whether a continuation line joins the line before it or the one after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultilineMatch {
    #[default]
    After,
    Before,
}

/// A regular expression, compiled once when the configuration is loaded; a pattern that does not
/// compile is an error naming its key and line.
#[derive(Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(pattern).map(Pattern)
    }

    pub fn regex(&self) -> &regex::Regex {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
        let text = String::deserialize(d)?;
        Pattern::new(&text).map_err(|e| {
            serde::de::Error::custom(format!("{text:?} is not a regular expression: {e}"))
        })
    }
}

/// `multiline`, and each entry of `multiline.rules`: the same settings, an entry's for the files its
/// `paths` match (the first matching entry wins), the section's own for every other file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Multiline {
    #[serde(rename = "type")]
    pub kind: MultilineType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
    pub negate: bool,
    #[serde(rename = "match")]
    pub match_: MultilineMatch,
    /// `pattern` only: a line matching it ends the event it joins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_pattern: Option<Pattern>,
    /// `count` only: lines per event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count_lines: Option<usize>,
    /// An event reaching this many lines is shipped, flagged `multiline_truncated`.
    pub max_lines: usize,
    /// An event with no new line for this long is shipped as it is.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// An event reaching this size is shipped, flagged `multiline_truncated`; default `max_line_bytes`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_size",
        deserialize_with = "deserialize_size"
    )]
    pub max_bytes: Option<u64>,
    /// In an entry of `rules` only: the globs of the files the entry is for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Settings for some files: the first entry whose `paths` match a file is used for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Multiline>,
}

impl Default for Multiline {
    /// `auto`: a new user gets whole stack traces with no setting.
    fn default() -> Multiline {
        Multiline {
            kind: MultilineType::Auto,
            pattern: None,
            negate: false,
            match_: MultilineMatch::After,
            flush_pattern: None,
            count_lines: None,
            max_lines: DEFAULT_MULTILINE_MAX_LINES,
            timeout: DEFAULT_MULTILINE_TIMEOUT,
            max_bytes: None,
            paths: Vec::new(),
            rules: Vec::new(),
        }
    }
}

fn serialize_size<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => size::serialize(v, s),
        None => s.serialize_none(),
    }
}

fn deserialize_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    size::deserialize(d).map(Some)
}

/// The keys whose values are text as written (a pattern such as `[0-9]` would read as a YAML list).
const TEXT_KEYS: [&str; 4] = ["type", "pattern", "flush_pattern", "match"];

impl Multiline {
    /// The settings under `multiline.` as flat key/value text, as pod annotations give them
    /// (`co.elastic.logs/multiline.pattern: '^\['`): a pattern, `type` and `match` are taken as
    /// written, other values are read as YAML (`negate: "true"`). Every problem comes back as the key
    /// (without `multiline.`) and what is wrong.
    pub fn from_settings<'a>(
        settings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Multiline, Vec<(String, String)>> {
        let mut map = serde_yaml_ng::Mapping::new();
        for (key, value) in settings {
            let value = if TEXT_KEYS.contains(&key) {
                serde_yaml_ng::Value::String(value.to_owned())
            } else {
                serde_yaml_ng::from_str(value)
                    .unwrap_or_else(|_| serde_yaml_ng::Value::String(value.to_owned()))
            };
            map.insert(serde_yaml_ng::Value::String(key.to_owned()), value);
        }
        let multiline: Multiline = serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(map))
            .map_err(|e| vec![(String::new(), e.to_string())])?;
        let mut found = Vec::new();
        check(&multiline, "", &mut |k, m| found.push((k, m)));
        if !multiline.rules.is_empty() || !multiline.paths.is_empty() {
            found.push((
                "rules".into(),
                "per-path rules are for the configuration file".into(),
            ));
        }
        match found.is_empty() {
            true => Ok(multiline),
            false => Err(found),
        }
    }

    /// The settings for a file, before `rules` are chosen from: `self` with no rules.
    pub fn settings(&self) -> Multiline {
        Multiline {
            rules: Vec::new(),
            paths: Vec::new(),
            ..self.clone()
        }
    }
}

/// `multiline`'s problems, keys under `multiline.`.
pub(crate) fn validate(multiline: &Multiline, problem: &mut impl FnMut(String, String)) {
    if !multiline.paths.is_empty() {
        problem(
            "multiline.paths".into(),
            "is for an entry of multiline.rules; the section's own settings are for every file"
                .into(),
        );
    }
    check(multiline, "multiline.", problem);
    for (i, rule) in multiline.rules.iter().enumerate() {
        let prefix = format!("multiline.rules.{i}.");
        if rule.paths.is_empty() {
            problem(
                format!("{prefix}paths"),
                "must list the globs of the files this entry is for".into(),
            );
        }
        for (j, path) in rule.paths.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(path) {
                problem(
                    format!("{prefix}paths.{j}"),
                    format!("invalid glob {path:?}: {e}"),
                );
            }
        }
        if !rule.rules.is_empty() {
            problem(
                format!("{prefix}rules"),
                "an entry of multiline.rules has no rules of its own".into(),
            );
        }
        check(rule, &prefix, problem);
    }
}

/// One set of settings: what its `type` needs, and every count and duration within its range.
fn check(m: &Multiline, prefix: &str, problem: &mut impl FnMut(String, String)) {
    let key = |name: &str| format!("{prefix}{name}");
    match m.kind {
        MultilineType::Pattern | MultilineType::WhilePattern if m.pattern.is_none() => problem(
            key("pattern"),
            format!(
                "is required when type is {}",
                if m.kind == MultilineType::Pattern {
                    "pattern"
                } else {
                    "while_pattern"
                }
            ),
        ),
        MultilineType::Count => match m.count_lines {
            None => problem(key("count_lines"), "is required when type is count".into()),
            Some(n) if n == 0 || n > MAX_MAX_LINES => problem(
                key("count_lines"),
                format!("must be 1 to {MAX_MAX_LINES}, not {n}"),
            ),
            Some(_) => {}
        },
        _ => {}
    }
    if m.max_lines == 0 || m.max_lines > MAX_MAX_LINES {
        problem(
            key("max_lines"),
            format!("must be 1 to {MAX_MAX_LINES}, not {}", m.max_lines),
        );
    }
    // 0 is Filebeat's "no timeout"; here a group always ships, so it is refused rather than read as
    // "hold for ever".
    if m.timeout.is_zero() || m.timeout > MAX_WAIT {
        problem(
            key("timeout"),
            format!(
                "must be more than 0s and at most {} (a week; longer is taken for a typo), not {}",
                duration::Shown(MAX_WAIT),
                duration::Shown(m.timeout)
            ),
        );
    }
    if let Some(bytes) = m.max_bytes {
        if !(MIN_LINE_BYTES..=MAX_LINE_BYTES).contains(&bytes) {
            problem(
                key("max_bytes"),
                format!(
                    "must be {} to {} (an open event is held in memory), not {bytes} bytes",
                    size::Shown(MIN_LINE_BYTES),
                    size::Shown(MAX_LINE_BYTES)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_annotations_read_patterns_as_written_and_the_rest_as_yaml() {
        let m = Multiline::from_settings([
            ("type", "pattern"),
            ("pattern", "[0-9]"),
            ("negate", "true"),
            ("match", "after"),
            ("max_lines", "20"),
            ("timeout", "2s"),
        ])
        .unwrap();
        assert_eq!(m.kind, MultilineType::Pattern);
        assert_eq!(m.pattern.as_ref().map(Pattern::as_str), Some("[0-9]"));
        assert!(m.negate);
        assert_eq!((m.max_lines, m.timeout), (20, Duration::from_secs(2)));

        let bad = Multiline::from_settings([("type", "pattern"), ("pattern", "(")]).unwrap_err();
        assert!(bad[0].1.contains("not a regular expression"), "{bad:?}");
        let missing = Multiline::from_settings([("type", "count")]).unwrap_err();
        assert_eq!(missing[0].0, "count_lines");
    }

    fn load(yaml: &str) -> Result<crate::config::Config, String> {
        crate::config::load_str(yaml, "loglynk.yml", &[], &std::collections::HashMap::new())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_an_error_naming_its_key_and_line() {
        let e = load("paths: [/x/*.log]\nmultiline:\n  type: pattern\n  pattern: '^(at'\n")
            .unwrap_err();
        assert!(
            e.contains("line 4") && e.contains("multiline.pattern"),
            "{e}"
        );
        assert!(e.contains("not a regular expression"), "{e}");
        let e =
            load("multiline:\n  rules:\n    - paths: ['/x/*.log']\n      type: while_pattern\n")
                .unwrap_err();
        assert!(e.contains("multiline.rules.0.pattern"), "{e}");
        assert!(e.contains("is required when type is while_pattern"), "{e}");
    }

    #[test]
    fn auto_is_the_default_and_a_rule_per_glob_loads() {
        let config = load("").unwrap();
        assert_eq!(config.multiline.kind, MultilineType::Auto);
        assert_eq!(config.multiline.max_lines, 500);
        assert_eq!(config.multiline.timeout, Duration::from_secs(5));
        let config = load(
            "multiline.type: none\nmultiline.rules:\n  - paths: ['/var/log/containers/legacy-*.log']\n    type: pattern\n    pattern: '^\\['\n    negate: true\n",
        )
        .unwrap();
        assert_eq!(config.multiline.kind, MultilineType::None);
        let rule = &config.multiline.rules[0];
        assert_eq!(rule.pattern.as_ref().unwrap().as_str(), "^\\[");
        assert!(rule.negate);
        assert_eq!(rule.match_, MultilineMatch::After);
    }
}
