//! `filebeat.inputs`: loglynk tails one set of globs, so the paths of every container, filestream and
//! log input become `paths`; what an input does beyond reading lines is commented.

use serde_yaml_ng::{Mapping, Value};

use super::{key_str, scalar, Out};

/// The input types whose files loglynk reads the same way (one line = one event, CRI/Docker parsed).
const TAILED_TYPES: [&str; 3] = ["container", "filestream", "log"];

/// Writes `paths:` and returns the inputs' own processors (loglynk applies processors to every file).
pub(super) fn map(inputs: Value, out: &mut Out) -> Vec<(String, Value)> {
    let mut paths: Vec<Value> = Vec::new();
    let mut processors = Vec::new();
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
        match input.remove("paths") {
            Some(Value::Sequence(list)) => {
                for path in list {
                    if !paths.contains(&path) {
                        paths.push(path);
                    }
                }
            }
            Some(other) => out.not_mapped(&format!("{prefix}.paths"), &other, "not a list"),
            None => {}
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
    processors
}

fn why_not(key: &str) -> &'static str {
    match key {
        "multiline" | "parsers" => {
            "loglynk does not join lines yet (multiline is issue 16): each line ships as its own event"
        }
        "id" => "loglynk has one input, so no input ids",
        "stream" => "loglynk ships both stdout and stderr",
        "exclude_lines" | "include_lines" | "exclude_files" => {
            "loglynk has no line or file filters; drop them in an ingest pipeline"
        }
        "fields" | "fields_under_root" | "tags" => "loglynk adds no custom fields",
        "scan_frequency" | "close_inactive" | "close_removed" | "close.on_state_change.inactive" => {
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
        assert!(text.contains("# not mapped: filebeat.inputs[2].multiline.pattern: \"^\\\\[\" — loglynk does not join lines yet"), "{text}");
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
