//! Checks on the typed configuration that types alone cannot express. Every problem is returned, so a
//! broken config is fixed in one round rather than one error per restart.

use super::duration::Shown;
use super::model::Config;
use super::ranges;

/// The top-level fields the typed part of an event owns, which decode_json_fields must not target: the
/// same list as `event::field::TYPED_TOP_LEVEL` (config imports no stage; a test in `process` keeps
/// the two equal).
pub const TYPED_TOP_LEVEL_FIELDS: [&str; 11] = [
    "@timestamp",
    "message",
    "stream",
    "log",
    "input",
    "kubernetes",
    "container",
    "host",
    "agent",
    "ecs",
    "error",
];

/// A problem: the dotted key path it is about, and what is wrong with it.
pub(crate) type Finding = (String, String);

/// Config's own checks, with `check` (the stages' checks) run where the output's settings are checked, so
/// problems are reported in the order of the sections they are about.
pub(crate) fn validate(config: &Config, check: super::Check) -> Vec<Finding> {
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
    let labels_known = kube.enabled != super::KubernetesMode::Off;
    super::selector::validate(
        "kubernetes.include",
        &kube.include,
        labels_known,
        &mut problem,
    );
    super::selector::validate(
        "kubernetes.exclude",
        &kube.exclude,
        labels_known,
        &mut problem,
    );
    for (i, rule) in config.rate_limit.iter().enumerate() {
        let key = format!("rate_limit.{i}.pods");
        super::selector::validate(&key, &rule.pods, labels_known, &mut problem);
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
        if !decode.target.is_empty() && TYPED_TOP_LEVEL_FIELDS.contains(&first) {
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
    for (key, message) in check(config) {
        problem(key, message);
    }
    if config.setup.enabled {
        validate_setup(config, &mut problem);
    }
    super::multiline::validate(&config.multiline, &mut problem);
    for (key, message) in config.data_stream.problems() {
        problem(key, message);
    }
    if config.logging.level.trim().is_empty() {
        problem("logging.level".into(), "must not be empty".into());
    }
    found
}

/// ILM's settings must be ones Elasticsearch takes. (Whether `setup.name` and the index fit what `run`
/// writes is the Elasticsearch output's check, which knows index patterns.)
fn validate_setup(config: &Config, problem: &mut impl FnMut(String, String)) {
    let setup = &config.setup;
    for (key, message) in super::storage::problems(setup) {
        problem(key, message);
    }
    let ilm = &setup.ilm;
    if ilm.delete_after <= ilm.warm_after {
        problem(
            "setup.ilm.delete_after".into(),
            format!(
                "{} must be longer than warm_after ({})",
                Shown(ilm.delete_after),
                Shown(ilm.warm_after)
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
    use super::*;
    use crate::config::ranges::{MAX_LINE_BYTES, MIN_LINE_BYTES};
    use crate::config::Config;

    fn keys(config: &Config) -> Vec<String> {
        validate(config, crate::config::no_check)
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default(), crate::config::no_check), []);
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
