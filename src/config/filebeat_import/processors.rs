//! Filebeat's processors (global and per input; loglynk applies its steps to every file) mapped onto
//! loglynk's fixed steps: decode_json_fields, drop_own_logs, add_host_metadata, kubernetes. Each step
//! is written out, on or off, so the result does what the Filebeat file did and not loglynk's defaults.

use serde_yaml_ng::{Mapping, Value};

use super::{key_str, scalar, Out};

/// The decode_json_fields options loglynk has, under Filebeat's names.
const JSON_OPTIONS: [&str; 6] = [
    "fields",
    "target",
    "overwrite_keys",
    "max_depth",
    "add_error_key",
    "process_array",
];

const CONTAINER_NAME: &str = "kubernetes.container.name";

#[derive(Default)]
struct Steps {
    json: Option<Mapping>,
    drop_containers: Vec<Value>,
    /// A `contains` condition matched part of a name, which loglynk's exact match does not.
    drop_by_substring: bool,
    host_metadata: bool,
    kubernetes: Option<Option<Value>>,
}

pub(super) fn map(global: Value, per_input: Vec<(String, Value)>, out: &mut Out) {
    let mut steps = Steps::default();
    let global = match global {
        Value::Sequence(list) => list,
        Value::Null => Vec::new(),
        other => {
            out.not_mapped("processors", &other, "not a list");
            Vec::new()
        }
    };
    for (prefix, processor) in per_input {
        one(processor, &prefix, &mut steps, out);
    }
    for (i, processor) in global.into_iter().enumerate() {
        one(processor, &format!("processors[{i}]"), &mut steps, out);
    }
    write(steps, out);
}

fn one(processor: Value, prefix: &str, steps: &mut Steps, out: &mut Out) {
    let Value::Mapping(map) = processor else {
        out.not_mapped(prefix, &processor, "not a processor (a map)");
        return;
    };
    for (name, options) in map {
        let name = key_str(&name);
        let path = format!("{prefix}.{name}");
        let mut options = match options {
            Value::Mapping(options) => options,
            Value::Null => Mapping::new(),
            other => {
                out.not_mapped(&path, &other, "options are not a map");
                continue;
            }
        };
        match name.as_str() {
            "decode_json_fields" => {
                let mut mapped = Mapping::new();
                for option in JSON_OPTIONS {
                    if let Some(value) = options.remove(option) {
                        mapped.insert(Value::from(option), value);
                    }
                }
                steps.json = Some(mapped);
                out.rest(&path, options, "an option loglynk's decode_json_fields does not have");
            }
            "drop_event" => match container_names(options.get("when")) {
                Some(names) => {
                    steps.drop_by_substring |= format!("{:?}", options.get("when")).contains("contains");
                    options.remove("when");
                    steps.drop_containers.extend(names);
                    out.rest(&path, options, "not a drop_event option");
                }
                None => out.rest(
                    &path,
                    options,
                    "loglynk drops only its own and other agents' logs by container name (drop_own_logs)",
                ),
            },
            "add_host_metadata" => {
                steps.host_metadata = true;
                out.rest(&path, options, "loglynk's add_host_metadata has no options");
            }
            "add_kubernetes_metadata" => {
                let host = options.remove("host");
                if let Some(Value::Sequence(matchers)) = options.get("matchers") {
                    if matchers.iter().all(is_logs_path_matcher) {
                        options.remove("matchers");
                    }
                }
                steps.kubernetes = Some(host);
                out.rest(
                    &path,
                    options,
                    "loglynk finds a file's pod from its path under /var/log/containers, always",
                );
            }
            "add_docker_metadata" => out.not_mapped(
                &path,
                &Value::Mapping(options),
                "the container's ID comes from the log file's path and its metadata from the Kubernetes API",
            ),
            _ => out.not_mapped(
                &path,
                &Value::Mapping(options),
                "a processor loglynk does not have",
            ),
        }
    }
}

/// The `logs_path` matcher on /var/log/containers/ is what loglynk does anyway.
fn is_logs_path_matcher(matcher: &Value) -> bool {
    let path = matcher
        .get("logs_path")
        .and_then(|m| m.get("logs_path"))
        .and_then(Value::as_str);
    matches!(path, Some("/var/log/containers/" | "/var/log/containers"))
}

/// The container names of `when: {contains|equals: {kubernetes.container.name: X}}`, alone or under
/// `or`; any other condition is not drop_own_logs' shape.
fn container_names(when: Option<&Value>) -> Option<Vec<Value>> {
    let when = when?.as_mapping()?;
    if when.len() != 1 {
        return None;
    }
    if let Some(Value::Sequence(any)) = when.get("or") {
        let mut names = Vec::new();
        for condition in any {
            names.extend(container_names(Some(condition))?);
        }
        return Some(names);
    }
    let (op, fields) = when.iter().next()?;
    if !matches!(op.as_str(), Some("contains" | "equals")) {
        return None;
    }
    let (field, name) = single_leaf(fields)?;
    (field == CONTAINER_NAME && name.is_string()).then(|| vec![name.clone()])
}

/// `{a: {b: x}}` (a dotted key, nested when the file was read) as `("a.b", x)`; None for several keys.
fn single_leaf(value: &Value) -> Option<(String, &Value)> {
    let map = value.as_mapping()?;
    if map.len() != 1 {
        return None;
    }
    let (key, inner) = map.iter().next()?;
    let key = key_str(key);
    match inner {
        Value::Mapping(_) => {
            let (rest, leaf) = single_leaf(inner)?;
            Some((format!("{key}.{rest}"), leaf))
        }
        leaf => Some((key, leaf)),
    }
}

fn write(steps: Steps, out: &mut Out) {
    match steps.json {
        Some(options) => {
            out.line("decode_json_fields:");
            out.line("  enabled: true");
            for (key, value) in options {
                out.line(format!("  {}: {}", key_str(&key), scalar(&value)));
            }
        }
        None => out.line("decode_json_fields:\n  enabled: false"),
    }
    if steps.drop_containers.is_empty() {
        out.line("drop_own_logs:\n  enabled: false");
    } else {
        if steps.drop_by_substring {
            out.line(
                "# Filebeat's `contains` matched part of the name; loglynk matches the whole name.",
            );
        }
        out.line("drop_own_logs:");
        out.line("  enabled: true");
        let names: Vec<String> = steps.drop_containers.iter().map(scalar).collect();
        out.line(format!("  containers: [{}]", names.join(", ")));
    }
    out.line(format!("add_host_metadata: {}", steps.host_metadata));
    match steps.kubernetes {
        Some(host) => {
            out.line("kubernetes:");
            out.line("  enabled: true");
            if let Some(host) = host {
                out.line(format!("  node_name: {}", scalar(&host)));
            }
        }
        None => out.line("kubernetes:\n  enabled: false"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::import;

    #[test]
    fn the_seeds_processors_map_and_docker_metadata_is_commented() {
        let yaml = "filebeat.inputs:\n- type: container\n  paths: [/x/*.log]\n  processors:\n  - add_kubernetes_metadata:\n      host: ${NODE_NAME}\n      matchers:\n      - logs_path:\n          logs_path: /var/log/containers/\n  - drop_event:\n      when:\n        or:\n        - contains: {kubernetes.container.name: filebeat}\n        - equals: {kubernetes.container.name: metricbeat}\nprocessors:\n- add_host_metadata: {}\n- add_docker_metadata: {}\n- decode_json_fields: {fields: [message], target: json, overwrite_keys: true, document_id: id}\n";
        let text = import(yaml, "f.yml").unwrap();
        assert!(
            text.contains("kubernetes:\n  enabled: true\n  node_name: \"${NODE_NAME}\"\n"),
            "{text}"
        );
        assert!(
            text.contains("  containers: [\"filebeat\", \"metricbeat\"]\n"),
            "{text}"
        );
        assert!(text.contains("add_host_metadata: true\n"), "{text}");
        assert!(text.contains("decode_json_fields:\n  enabled: true\n  fields: [\"message\"]\n  target: \"json\"\n  overwrite_keys: true\n"), "{text}");
        assert!(text.contains("# not mapped: processors[1].add_docker_metadata: {} — the container's ID comes from"), "{text}");
        assert!(
            text.contains("# not mapped: processors[2].decode_json_fields.document_id: \"id\""),
            "{text}"
        );
        assert!(!text.contains("matchers"), "{text}");
    }

    #[test]
    fn another_drop_condition_is_commented_and_absent_steps_are_off() {
        let yaml = "processors:\n- drop_event:\n    when:\n      equals: {log.level: debug}\n";
        let text = import(yaml, "f.yml").unwrap();
        assert!(
            text.contains("drop_own_logs:\n  enabled: false\n"),
            "{text}"
        );
        assert!(
            text.contains("decode_json_fields:\n  enabled: false\n"),
            "{text}"
        );
        assert!(text.contains("kubernetes:\n  enabled: false\n"), "{text}");
        assert!(text.contains("add_host_metadata: false\n"), "{text}");
        assert!(
            text.contains(
                "# not mapped: processors[0].drop_event.when.equals.log.level: \"debug\""
            ),
            "{text}"
        );
    }
}
