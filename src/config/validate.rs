//! Checks on the typed configuration that types alone cannot express. Every problem is returned, so a
//! broken config is fixed in one round rather than one error per restart.

use super::model::{Config, IndexMode};
use super::ranges;
use crate::event::field::TYPED_TOP_LEVEL;
use crate::event::{Event, Origin, Text, Timestamp};
use crate::output::elasticsearch::index::IndexPattern;

/// A problem: the dotted key path it is about, and what is wrong with it.
pub(crate) type Finding = (String, String);

pub(crate) fn validate(config: &Config) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut problem = |key: String, message: String| found.push((key, message));

    if config.paths.is_empty() {
        problem("paths".into(), "must list at least one glob".into());
    }
    for (i, path) in config.paths.iter().enumerate() {
        if path.trim().is_empty() {
            problem(format!("paths.{i}"), "must not be empty".into());
        } else if let Err(e) = glob::Pattern::new(path) {
            problem(format!("paths.{i}"), format!("invalid glob {path:?}: {e}"));
        }
    }
    if config.state_dir.as_os_str().is_empty() {
        problem("state_dir".into(), "must not be empty".into());
    }
    ranges::check(config, &mut problem);

    let kube = &config.kubernetes;
    for (i, pattern) in kube.include_annotations.iter().enumerate() {
        if pattern.is_empty() || pattern == "*" {
            problem(
                format!("kubernetes.include_annotations.{i}"),
                "must be a key or a prefix ending in `*`, not empty or `*` alone (annotations are \
                 often large)"
                    .into(),
            );
        }
    }
    let es = &config.output.elasticsearch;
    if config.max_queued_bytes < 2 * es.bulk_max_bytes {
        problem(
            "max_queued_bytes".into(),
            format!(
                "must hold at least two bulk requests ({} bytes)",
                2 * es.bulk_max_bytes
            ),
        );
    }

    let decode = &config.decode_json_fields;
    // A disabled processor's settings are not used, so they cannot be wrong yet.
    if decode.enabled {
        if decode.fields.is_empty() {
            problem(
                "decode_json_fields.fields".into(),
                "must list at least one field while decode_json_fields is enabled".into(),
            );
        }
        if decode.max_depth < 1 {
            problem(
                "decode_json_fields.max_depth".into(),
                "must be at least 1".into(),
            );
        }
        let first = decode.target.split('.').next().unwrap_or_default();
        if !decode.target.is_empty() && TYPED_TOP_LEVEL.contains(&first) {
            problem(
                "decode_json_fields.target".into(),
                format!(
                    "{:?} would write into the event's own `{first}` field; choose another target, \
                     or \"\" for the document root",
                    decode.target
                ),
            );
        }
    }

    let es = &config.output.elasticsearch;
    if es.hosts.is_empty() {
        problem(
            "output.elasticsearch.hosts".into(),
            "must list at least one host".into(),
        );
    }
    for (i, host) in es.hosts.iter().enumerate() {
        if !matches!(host.scheme(), "http" | "https") {
            problem(
                format!("output.elasticsearch.hosts.{i}"),
                format!("{host}: the scheme must be http or https"),
            );
        }
    }
    match (&es.ssl.certificate, &es.ssl.key) {
        (Some(_), None) => problem(
            "output.elasticsearch.ssl.certificate".into(),
            "is set without ssl.key; a client certificate needs both".into(),
        ),
        (None, Some(_)) => problem(
            "output.elasticsearch.ssl.key".into(),
            "is set without ssl.certificate; a client certificate needs both".into(),
        ),
        _ => {}
    }
    if es.password.is_some() && es.api_key.is_some() {
        problem(
            "output.elasticsearch.api_key".into(),
            "cannot be used together with password; set one of them".into(),
        );
    }
    if let Err(e) = IndexPattern::parse(&es.index) {
        problem("output.elasticsearch.index".into(), e.to_string());
    }
    if config.setup.enabled {
        validate_setup(config, &mut problem);
    }
    if config.logging.level.trim().is_empty() {
        problem("logging.level".into(), "must not be empty".into());
    }
    found
}

/// What `loglynk bootstrap` installs must fit what `loglynk run` writes, or the template never
/// applies and ILM fails on the indices.
fn validate_setup(config: &Config, problem: &mut impl FnMut(String, String)) {
    let setup = &config.setup;
    match IndexPattern::parse(&setup.name) {
        Ok(name) if name.is_static() => {}
        Ok(_) => problem(
            "setup.name".into(),
            "must be a fixed name, without %{…}".into(),
        ),
        Err(e) => problem("setup.name".into(), e.to_string()),
    }
    let ilm = &setup.ilm;
    if ilm.delete_after <= ilm.warm_after {
        problem(
            "setup.ilm.delete_after".into(),
            format!(
                "{} must be longer than warm_after ({})",
                humantime::format_duration(ilm.delete_after),
                humantime::format_duration(ilm.warm_after)
            ),
        );
    }
    if !is_byte_size(&ilm.rollover_max_size) {
        problem(
            "setup.ilm.rollover_max_size".into(),
            format!(
                "{:?} is not an Elasticsearch byte size like 5gb or 500mb",
                ilm.rollover_max_size
            ),
        );
    }
    if setup.mode == IndexMode::Daily {
        let index = &config.output.elasticsearch.index;
        if let Some(reason) = daily_index_problem(index, &setup.name) {
            problem("output.elasticsearch.index".into(), reason);
        }
    }
}

/// In daily mode the template matches `<name>-*` and ILM reads the index's age from its name
/// (`parse_origination_date`), which must end in `-yyyy.MM.dd`.
fn daily_index_problem(index: &str, name: &str) -> Option<String> {
    let pattern = IndexPattern::parse(index).ok()?;
    let event = Event::new(
        Origin::new(String::new(), Default::default()),
        Timestamp::parse_rfc3339("2026-11-24T00:00:00Z")?,
        Text::from(""),
        0,
    );
    let mut rendered = String::new();
    if pattern.render(&event, &mut rendered).is_err() {
        return Some(format!(
            "{index:?} names a field; in setup.mode daily the index must be {name}-%{{+yyyy.MM.dd}}"
        ));
    }
    let Some(date) = rendered.strip_prefix(&format!("{name}-")) else {
        return Some(format!(
            "{index:?} does not start with \"{name}-\", so the {name} template (pattern {name}-*) \
             would not apply to it"
        ));
    };
    // Rendered for 2026-11-24: year, month and day in that order, any one-character separators.
    let dated = date.len() == 10
        && date.get(0..4) == Some("2026")
        && date.get(5..7) == Some("11")
        && date.get(8..10) == Some("24");
    (!dated).then(|| {
        format!(
            "{index:?} must end in -%{{+yyyy.MM.dd}}: ILM ages daily indices by the date in \
             their name (index.lifecycle.parse_origination_date)"
        )
    })
}

/// An Elasticsearch byte size: a whole number and a unit (`5gb`, `500MB`, `1024b`).
fn is_byte_size(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(unit, "b" | "kb" | "mb" | "gb" | "tb" | "pb")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::ranges::{MAX_LINE_BYTES, MIN_LINE_BYTES};
    use crate::config::{Config, Secret};

    fn keys(config: &Config) -> Vec<String> {
        validate(config).into_iter().map(|(key, _)| key).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default()), []);
    }

    #[test]
    fn collects_every_problem() {
        let mut c = Config {
            paths: vec!["/var/log/[*.log".into(), String::new()],
            max_line_bytes: 10,
            poll_interval: Duration::ZERO,
            ..Config::default()
        };
        c.decode_json_fields.fields.clear();
        c.decode_json_fields.max_depth = 0;
        c.decode_json_fields.target = "kubernetes.extra".into();
        let es = &mut c.output.elasticsearch;
        es.hosts = vec!["ftp://x".parse().unwrap()];
        es.ssl.key = Some("/k".into());
        es.password = Some(Secret::new("p"));
        es.api_key = Some(Secret::new("k"));
        es.index = "Logs".into();
        c.logging.level = " ".into();
        assert_eq!(
            keys(&c),
            [
                "paths.0",
                "paths.1",
                "max_line_bytes",
                "poll_interval",
                "decode_json_fields.fields",
                "decode_json_fields.max_depth",
                "decode_json_fields.target",
                "output.elasticsearch.hosts.0",
                "output.elasticsearch.ssl.key",
                "output.elasticsearch.api_key",
                "output.elasticsearch.index",
                "logging.level",
            ]
        );
    }

    #[test]
    fn edge_values() {
        let mut c = Config {
            paths: Vec::new(),
            max_line_bytes: MAX_LINE_BYTES + 1,
            ..Config::default()
        };
        c.output.elasticsearch.hosts.clear();
        assert_eq!(
            keys(&c),
            ["paths", "max_line_bytes", "output.elasticsearch.hosts"]
        );
        c = Config {
            max_line_bytes: MIN_LINE_BYTES,
            ..Config::default()
        };
        c.decode_json_fields.target = String::new();
        assert_eq!(keys(&c), Vec::<String>::new());
        c.decode_json_fields.enabled = false;
        c.decode_json_fields.target = "message".into();
        assert_eq!(keys(&c), Vec::<String>::new());
    }
}
