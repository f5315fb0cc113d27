//! `loglynk config import-filebeat`: a filebeat.yml (or an ECK `Beat` manifest holding one in
//! `spec.config`) rewritten as the equivalent loglynk configuration. Every Filebeat setting ends up either
//! as a loglynk key or as a `# not mapped:` line saying why, so a reviewer sees all of it.
//!
//! The input is read as plain YAML, not through the loader: it is Filebeat's schema, not ours, and the
//! point is to see each of its keys once.

mod inputs;
mod output;
mod processors;
mod setup;

use serde_yaml_ng::{Mapping, Value};

/// Why a file could not be imported at all (a setting that cannot be mapped is a comment, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0} is not YAML: {1}")]
    Yaml(String, serde_yaml_ng::Error),
    #[error("{0}: a Beat manifest of type {1:?}, not filebeat")]
    NotFilebeat(String, String),
    #[error("{0}: neither a filebeat.yml (a map) nor a Beat manifest with spec.config")]
    NoConfig(String),
}

/// What the import wrote: loglynk YAML (mapped keys) and one comment per setting left out.
#[derive(Default)]
pub(crate) struct Out {
    yaml: String,
    notes: Vec<String>,
}

impl Out {
    fn line(&mut self, text: impl AsRef<str>) {
        self.yaml.push_str(text.as_ref());
        self.yaml.push('\n');
    }

    /// A Filebeat setting that has no loglynk equivalent, with its value on one line.
    fn not_mapped(&mut self, key: &str, value: &Value, why: &str) {
        self.notes
            .push(format!("# not mapped: {key}: {} — {why}", one_line(value)));
    }

    /// Every leaf left in `map` (Filebeat keys nobody consumed), under `prefix`.
    fn rest(&mut self, prefix: &str, map: Mapping, why: &str) {
        for (key, value) in map {
            let key = format!("{prefix}.{}", key_str(&key));
            match value {
                // Emptied by the mapping that took its keys: nothing left to say.
                Value::Mapping(inner) if inner.is_empty() => {}
                Value::Mapping(inner) => self.rest(&key, inner, why),
                value => self.not_mapped(&key, &value, why),
            }
        }
    }
}

/// Converts `text` (named `source` in messages) to loglynk YAML, comments included.
pub fn import(text: &str, source: &str) -> Result<String, ImportError> {
    let root: Value =
        serde_yaml_ng::from_str(text).map_err(|e| ImportError::Yaml(source.to_owned(), e))?;
    let mut out = Out::default();
    let config = filebeat_config(root, source, &mut out)?;
    let mut config = nest(config);
    let inputs = take(&mut config, "filebeat.inputs");
    let global = take(&mut config, "processors");
    let output = take(&mut config, "output");
    let setup = take(&mut config, "setup");
    let level = take(&mut config, "logging.level");
    let http = [
        ("enabled", take(&mut config, "http.enabled")),
        ("host", take(&mut config, "http.host")),
        ("port", take(&mut config, "http.port")),
    ];

    out.line(format!(
        "# Written by `loglynk config import-filebeat` from {source}."
    ));
    let input_processors = inputs::map(inputs, &mut out);
    processors::map(global, input_processors, &mut out);
    output::map(output, &setup::routing(&setup), &mut out);
    setup::map(setup, &mut out);
    own_settings(level, http, &mut out);
    if let Value::Mapping(rest) = config {
        out.rest_top(rest);
    }
    let mut text = out.yaml;
    for note in out.notes {
        text.push_str(&note);
        text.push('\n');
    }
    Ok(text)
}

impl Out {
    fn rest_top(&mut self, rest: Mapping) {
        for (key, value) in rest {
            let key = key_str(&key);
            match value {
                Value::Mapping(inner) => self.rest(&key, inner, "not a setting loglynk has"),
                value => self.not_mapped(&key, &value, "not a setting loglynk has"),
            }
        }
    }
}

/// The agent's own log level and monitoring endpoint, which keep Filebeat's names.
fn own_settings(level: Value, http: [(&str, Value); 3], out: &mut Out) {
    if let Some(level) = level.as_str() {
        // tracing calls it warn; the other Filebeat levels (debug, info, error) are the same words.
        let level = if level == "warning" { "warn" } else { level };
        out.line(format!(
            "logging:\n  level: {}",
            scalar(&Value::from(level))
        ));
    } else if !level.is_null() {
        out.not_mapped("logging.level", &level, "not a level name");
    }
    if http.iter().any(|(_, value)| !value.is_null()) {
        out.line("http:");
        for (key, value) in http.iter().filter(|(_, value)| !value.is_null()) {
            out.line(format!("  {key}: {}", scalar(value)));
        }
    }
}

/// A plain filebeat.yml is the config itself; an ECK Beat carries it in `spec.config`.
fn filebeat_config(root: Value, source: &str, out: &mut Out) -> Result<Value, ImportError> {
    let Value::Mapping(mut map) = root else {
        return Err(ImportError::NoConfig(source.to_owned()));
    };
    if map.get("kind").and_then(Value::as_str) != Some("Beat") {
        return Ok(Value::Mapping(map));
    }
    let Some(Value::Mapping(mut spec)) = map.remove("spec") else {
        return Err(ImportError::NoConfig(source.to_owned()));
    };
    if let Some(kind) = spec.get("type").and_then(Value::as_str) {
        if kind != "filebeat" {
            return Err(ImportError::NotFilebeat(source.to_owned(), kind.to_owned()));
        }
    }
    if let Some(reference) = spec.remove("elasticsearchRef") {
        out.not_mapped(
            "spec.elasticsearchRef",
            &reference,
            "ECK fills in hosts and credentials only for Beats: set output.elasticsearch.hosts and the password variable in loglynk's DaemonSet",
        );
    }
    match spec.remove("config") {
        Some(config @ Value::Mapping(_)) => Ok(config),
        _ => Err(ImportError::NoConfig(source.to_owned())),
    }
}

/// Filebeat reads `a.b: x` as `a: {b: x}`; nesting every dotted key lets each section be looked up once.
fn nest(value: Value) -> Value {
    match value {
        Value::Mapping(map) => {
            let mut nested = Mapping::new();
            for (key, value) in map {
                let key = key_str(&key);
                let mut parts = key.split('.').rev();
                let last = parts.next().unwrap_or_default();
                let mut value = nest(value);
                let mut leaf = last.to_owned();
                for part in parts {
                    let mut wrapper = Mapping::new();
                    wrapper.insert(Value::String(leaf), value);
                    value = Value::Mapping(wrapper);
                    leaf = part.to_owned();
                }
                merge_into(&mut nested, leaf, value);
            }
            Value::Mapping(nested)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(nest).collect()),
        other => other,
    }
}

fn merge_into(map: &mut Mapping, key: String, value: Value) {
    let key = Value::String(key);
    match (map.get_mut(&key), value) {
        (Some(Value::Mapping(existing)), Value::Mapping(more)) => {
            for (k, v) in more {
                merge_into(existing, key_str(&k), v);
            }
        }
        (_, value) => {
            map.insert(key, value);
        }
    }
}

/// Removes the value at dotted `path` from a nested map (Null when absent).
fn take(value: &mut Value, path: &str) -> Value {
    let mut current = value;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Mapping(map) = current else {
            return Value::Null;
        };
        if parts.peek().is_none() {
            return map.remove(part).unwrap_or(Value::Null);
        }
        match map.get_mut(part) {
            Some(next) => current = next,
            None => return Value::Null,
        }
    }
    Value::Null
}

fn key_str(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => one_line(other),
    }
}

/// A value on one line: JSON, which YAML also reads, with strings quoted and escapes kept.
fn one_line(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

/// A YAML scalar loglynk reads back as written: strings double-quoted (`${VAR}` kept as is).
fn scalar(value: &Value) -> String {
    one_line(value)
}

/// `${NAME}` or `${NAME:default}` as the whole value: a reference, safe to write out.
fn is_reference(text: &str) -> bool {
    text.starts_with("${") && text.ends_with('}')
}

#[cfg(test)]
mod tests;
