//! `filebeat.inputs`: loglynk tails one set of globs, so the paths of every container, filestream and
//! log input become `paths`; an input's multiline settings (`multiline.*`, or filestream's `parsers: -
//! multiline`) become an entry of `multiline.rules` for its paths; what else an input does beyond reading
//! lines is commented.

use serde_yaml_ng::{Mapping, Value};

use super::{key_str, scalar, Out};

/// The input types whose files loglynk reads the same way (one line = one event, CRI/Docker parsed).
const TAILED_TYPES: [&str; 3] = ["container", "filestream", "log"];

/// Writes `paths:` and returns the inputs' own processors (loglynk applies processors to every file).
pub(super) fn map(inputs: Value, out: &mut Out) -> Vec<(String, Value)> {
    let mut paths: Vec<Value> = Vec::new();
    let mut processors = Vec::new();
    let mut rules: Vec<(Vec<Value>, Mapping)> = Vec::new();
    let Value::Sequence(inputs) = inputs else {
        if !inputs.is_null() {
            out.not_mapped("filebeat.inputs", &inputs, "not a list of inputs");
        }
        return processors;
    };
    for (i, input) in inputs.into_iter().enumerate() {
        let prefix = format!("filebeat.inputs[{i}]");
        let Value::Mapping(mut input) = input else {
            out.not_mapped(&prefix, &input, "not an input (a map)");
            continue;
        };
        let kind = input.remove("type").unwrap_or(Value::Null);
        let kind_str = kind.as_str().unwrap_or("log").to_owned();
        if !TAILED_TYPES.contains(&kind_str.as_str()) {
            out.rest(
                &prefix,
                Mapping::from_iter([(Value::from("type"), kind)].into_iter().chain(input)),
                "loglynk tails files only (container, filestream and log inputs)",
            );
            continue;
        }
        if input.get("enabled") == Some(&Value::Bool(false)) {
            let input = [(Value::from("type"), kind)].into_iter().chain(input);
            out.rest(
                &prefix,
                Mapping::from_iter(input),
                "this input is disabled in Filebeat",
            );
            continue;
        }
        input.remove("enabled");
        let mut own_paths = Vec::new();
        match input.remove("paths") {
            Some(Value::Sequence(list)) => {
                for path in list {
                    if !paths.contains(&path) {
                        paths.push(path.clone());
                    }
                    own_paths.push(path);
                }
            }
            Some(other) => out.not_mapped(&format!("{prefix}.paths"), &other, "not a list"),
            None => {}
        }
        let mut multiline = Vec::new();
        if let Some(settings) = input.remove("multiline") {
            multiline.push((format!("{prefix}.multiline"), settings));
        }
        match input.remove("parsers") {
            Some(Value::Sequence(list)) => {
                for (j, parser) in list.into_iter().enumerate() {
                    let key = format!("{prefix}.parsers[{j}]");
                    match parser {
                        Value::Mapping(mut p) if p.len() == 1 && p.contains_key("multiline") => {
                            let settings = p.remove("multiline").unwrap_or(Value::Null);
                            multiline.push((format!("{key}.multiline"), settings));
                        }
                        other => out.not_mapped(
                            &key,
                            &other,
                            "loglynk parses CRI and docker lines itself",
                        ),
                    }
                }
            }
            Some(other) => out.not_mapped(&format!("{prefix}.parsers"), &other, "not a list"),
            None => {}
        }
        for (key, settings) in multiline {
            if let Some(rule) = multiline_rule(&key, settings, out) {
                rules.push((own_paths.clone(), rule));
            }
        }
        match input.remove("processors") {
            Some(Value::Sequence(list)) => processors.extend(
                list.into_iter()
                    .enumerate()
                    .map(|(j, p)| (format!("{prefix}.processors[{j}]"), p)),
            ),
            Some(other) => out.not_mapped(&format!("{prefix}.processors"), &other, "not a list"),
            None => {}
        }
        for (key, value) in input {
            let key_name = key_str(&key);
            let why = why_not(&key_name);
            let path = format!("{prefix}.{key_name}");
            match value {
                Value::Mapping(inner) if !inner.is_empty() => out.rest(&path, inner, why),
                value => out.not_mapped(&path, &value, why),
            }
        }
    }
    if paths.is_empty() {
        out.line("paths: []");
    } else {
        out.line("paths:");
        for path in &paths {
            out.line(format!("  - {}", scalar(path)));
        }
    }
    out.line("multiline:");
    out.line(
        "  type: auto                           # new: stack traces of every other file joined; none: as Filebeat",
    );
    if !rules.is_empty() {
        out.line("  rules:");
        for (paths, rule) in rules {
            let paths: Vec<String> = paths.iter().map(scalar).collect();
            out.line(format!("    - paths: [{}]", paths.join(",")));
            for (key, value) in rule {
                out.line(format!("      {}: {}", key_str(&key), scalar(&value)));
            }
        }
    }
    processors
}

/// The settings loglynk reads under Filebeat's names.
const MULTILINE_KEYS: [&str; 8] = [
    "type",
    "pattern",
    "negate",
    "match",
    "flush_pattern",
    "count_lines",
    "max_lines",
    "timeout",
];

/// One input's multiline settings as an entry of `multiline.rules` (its paths aside); keys loglynk does
/// not have are commented.
fn multiline_rule(key: &str, settings: Value, out: &mut Out) -> Option<Mapping> {
    let Value::Mapping(settings) = settings else {
        out.not_mapped(key, &settings, "not a map of multiline settings");
        return None;
    };
    let mut rule = Mapping::new();
    // Filebeat's default type.
    rule.insert(Value::from("type"), Value::from("pattern"));
    for (name, value) in settings {
        let name_str = key_str(&name);
        if MULTILINE_KEYS.contains(&name_str.as_str()) {
            rule.insert(name, value);
        } else {
            out.not_mapped(
                &format!("{key}.{name_str}"),
                &value,
                "not a multiline setting loglynk has",
            );
        }
    }
    Some(rule)
}

fn why_not(key: &str) -> &'static str {
    match key {
        "id" => "loglynk has one input, so no input ids",
        "stream" => "loglynk ships both stdout and stderr",
        "exclude_lines" | "include_lines" | "exclude_files" => {
            "loglynk has no line or file filters; drop them in an ingest pipeline"
        }
        "fields" | "fields_under_root" | "tags" => "loglynk adds no custom fields",
        "scan_frequency"
        | "close_inactive"
        | "close_removed"
        | "close.on_state_change.inactive" => {
            "per-input; loglynk has a global setting of this name (see README, Configuration)"
        }
        _ => "not a setting loglynk has",
    }
}

#[cfg(test)]
mod tests {
    use super::super::import;

    #[test]
    fn paths_of_every_tailed_input_are_merged_and_the_rest_commented() {
        let yaml = "filebeat.inputs:\n- type: container\n  paths: [/var/log/containers/*.log]\n- type: filestream\n  id: app\n  paths: [/var/log/app/*.log, /var/log/containers/*.log]\n- type: log\n  paths: [/var/log/syslog]\n  multiline.pattern: '^\\['\n- type: tcp\n  host: 0.0.0.0:9000\n";
        let text = import(yaml, "f.yml").unwrap();
        assert!(text.contains("paths:\n  - \"/var/log/containers/*.log\"\n  - \"/var/log/app/*.log\"\n  - \"/var/log/syslog\"\n"), "{text}");
        assert!(
            text.contains("# not mapped: filebeat.inputs[1].id: \"app\""),
            "{text}"
        );
        assert!(text.contains("multiline:\n  type: auto"), "{text}");
        assert!(
            text.contains("  rules:\n    - paths: [\"/var/log/syslog\"]\n      type: \"pattern\"\n      pattern: \"^\\\\[\"\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# not mapped: filebeat.inputs[3].type: \"tcp\" — loglynk tails files only"
            ),
            "{text}"
        );
        assert!(
            text.contains("# not mapped: filebeat.inputs[3].host: \"0.0.0.0:9000\""),
            "{text}"
        );
    }
}
