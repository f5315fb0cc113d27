//! `output.elasticsearch`: the connection, index and batching settings loglynk shares with Filebeat.
//! A literal secret is never copied: the result may be committed, so it names a variable instead.

use serde_yaml_ng::{Mapping, Value};

use super::setup::Routing;
use super::{is_reference, key_str, scalar, Out};
use crate::config::Condition;

/// Settings with the same name and meaning in both.
const SAME: [&str; 4] = ["hosts", "username", "compression_level", "timeout"];
const SSL_SAME: [&str; 4] = [
    "certificate_authorities",
    "certificate",
    "key",
    "verification_mode",
];
/// Where loglynk reads the password from by default; a literal password becomes this reference.
const PASSWORD_VARIABLE: &str = "${ELASTICSEARCH_PASSWORD}";
const API_KEY_VARIABLE: &str = "${ES_API_KEY}";

pub(super) fn map(output: Value, routing: &Routing, out: &mut Out) {
    let mut outputs = match output {
        Value::Mapping(map) => map,
        Value::Null => Mapping::new(),
        other => {
            out.not_mapped("output", &other, "not a map of outputs");
            Mapping::new()
        }
    };
    let es = match outputs.remove("elasticsearch") {
        Some(Value::Mapping(es)) => es,
        Some(other) => {
            out.not_mapped("output.elasticsearch", &other, "not a map");
            Mapping::new()
        }
        None => Mapping::new(),
    };
    out.rest(
        "output",
        outputs,
        "loglynk writes to Elasticsearch (or output.file); this output is not imported",
    );
    elasticsearch(es, routing, out);
}

fn elasticsearch(mut es: Mapping, routing: &Routing, out: &mut Out) {
    out.line("output.elasticsearch:");
    for key in SAME {
        if let Some(value) = es.remove(key) {
            out.line(format!("  {key}: {}", scalar(&value)));
        }
    }
    for (key, variable) in [
        ("password", PASSWORD_VARIABLE),
        ("api_key", API_KEY_VARIABLE),
    ] {
        if let Some(value) = es.remove(key) {
            secret(key, value, variable, out);
        }
    }
    if let Some(value) = es.remove("worker").or_else(|| es.remove("workers")) {
        out.line(format!("  workers: {}", scalar(&value)));
    }
    if let Some(Value::Mapping(mut ssl)) = es.remove("ssl") {
        if ssl.get("enabled") == Some(&Value::Bool(true)) {
            ssl.remove("enabled");
        }
        let mut lines = Vec::new();
        for key in SSL_SAME {
            if let Some(value) = ssl.remove(key) {
                lines.push(format!("    {key}: {}", scalar(&value)));
            }
        }
        if !lines.is_empty() {
            out.line("  ssl:");
            for line in lines {
                out.line(line);
            }
        }
        out.rest(
            "output.elasticsearch.ssl",
            ssl,
            "not an ssl setting loglynk has",
        );
    }
    let index = es.remove("index");
    let default_rule = indices(es.remove("indices"), routing, out);
    match (default_rule, index) {
        (Some(rule), fallback) => {
            out.line(format!("  index: {}", scalar(&rule)));
            if let Some(fallback) = fallback {
                out.not_mapped(
                    "output.elasticsearch.index",
                    &fallback,
                    "never used: an indices rule without when takes every event first",
                );
            }
        }
        (None, Some(index)) => out.line(format!("  index: {}", scalar(&index))),
        (None, None) => {}
    }
    if let Some(Value::Mapping(mut backoff)) = es.remove("backoff") {
        let init = backoff.remove("init");
        let max = backoff.remove("max");
        if init.is_some() || max.is_some() {
            out.line("  backoff:");
            if let Some(init) = init {
                out.line(format!("    init: {}", scalar(&init)));
            }
            if let Some(max) = max {
                out.line(format!("    max: {}", scalar(&max)));
            }
        }
        out.rest(
            "output.elasticsearch.backoff",
            backoff,
            "not a backoff setting loglynk has",
        );
    }
    for (key, value) in es {
        let key = key_str(&key);
        let why = match key.as_str() {
            "bulk_max_size" => "a count of events; loglynk sends a bulk request at bulk_max_bytes (default 5MiB) or flush_interval",
            "protocol" | "path" => "write the scheme and path into each of hosts",
            "pipeline" | "pipelines" => "loglynk sets no ingest pipeline; make it the index's default_pipeline",
            _ => "not a setting loglynk has",
        };
        let path = format!("output.elasticsearch.{key}");
        match value {
            Value::Mapping(inner) if !inner.is_empty() => out.rest(&path, inner, why),
            value => out.not_mapped(&path, &value, why),
        }
    }
}

/// A `${VAR}` is written as it is; a literal becomes `variable`, and a comment says to set it.
fn secret(key: &str, value: Value, variable: &str, out: &mut Out) {
    match value.as_str() {
        Some(text) if is_reference(text) => out.line(format!("  {key}: {}", scalar(&value))),
        _ => {
            out.line(format!("  {key}: \"{variable}\""));
            out.notes.push(format!(
                "# not mapped: output.elasticsearch.{key}: (a literal, not copied) — set {} in loglynk's environment to its value",
                &variable[2..variable.len() - 1]
            ));
        }
    }
}

/// Filebeat's rules, in order, first match winning, as loglynk reads them: the conditional ones whose
/// condition loglynk has are written as `indices`; the first rule without `when` takes every event
/// that reaches it, so it is `index` and the rules after it are never used.
fn indices(indices: Option<Value>, routing: &Routing, out: &mut Out) -> Option<Value> {
    let Value::Sequence(rules) = indices? else {
        return None;
    };
    let mut kept = Vec::new();
    let mut default = None;
    for (i, rule) in rules.into_iter().enumerate() {
        let path = format!("output.elasticsearch.indices[{i}]");
        let mut map = match rule {
            _ if default.is_some() => {
                out.not_mapped(
                    &path,
                    &rule,
                    "never used: an earlier rule without when takes every event",
                );
                continue;
            }
            Value::Mapping(map) => map,
            rule => {
                out.not_mapped(&path, &rule, "not a rule (index and when)");
                continue;
            }
        };
        let (index, when) = (map.remove("index"), map.remove("when"));
        out.rest(&path, map, "not an indices option loglynk has");
        match (index, when) {
            (Some(index), None) => default = Some(index),
            (Some(index), Some(when)) => {
                let refusal = match serde_yaml_ng::from_value::<Condition>(when.clone()) {
                    Err(e) => Some(format!("its condition is not one loglynk has: {e}")),
                    Ok(_) => unroutable(&index, routing),
                };
                match refusal {
                    None => kept.push((index, when)),
                    Some(why) => out.not_mapped(
                        &path,
                        &Value::Mapping(Mapping::from_iter([
                            ("index".into(), index),
                            ("when".into(), when),
                        ])),
                        &why,
                    ),
                }
            }
            (None, when) => out.not_mapped(
                &format!("{path}.when"),
                &when.unwrap_or(Value::Null),
                "a rule without index",
            ),
        }
    }
    if !kept.is_empty() {
        out.line("  indices:");
        for (index, when) in kept {
            out.line(format!("    - index: {}", scalar(&index)));
            out.line(format!("      when: {}", scalar(&when)));
        }
    }
    default
}

/// Why loglynk cannot route to `index` in the mode the import chooses: in daily mode the template
/// (`<name>-*`) must cover it and ILM read its date from its end (`output::target` checks the same at
/// load); the other modes do not route by index name.
fn unroutable(index: &Value, routing: &Routing) -> Option<String> {
    let name = match routing {
        Routing::Refused(why) => return Some((*why).to_owned()),
        Routing::Daily(name) => name,
    };
    let index = index.as_str().unwrap_or_default();
    let dated = index.contains("-%{+yyyy") && index.ends_with("dd}");
    (!(index.starts_with(&format!("{name}-")) && dated)).then(|| {
        format!(
            "in setup.mode daily a routed index is {name}-…-%{{+yyyy.MM.dd}}, which the {name} \
             template covers and ILM ages; rename it so (e.g. {name}-<route>-%{{+yyyy.MM.dd}})"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::import;

    #[test]
    fn connection_batching_and_indices_map_and_secrets_are_never_copied() {
        let yaml = "output.elasticsearch:\n  hosts: [\"https://es:9200\"]\n  username: elastic\n  password: hunter2\n  api_key: ${KEY}\n  ssl.certificate_authorities: [/ca.crt]\n  ssl.verification_mode: certificate\n  ssl.supported_protocols: [TLSv1.3]\n  worker: 4\n  bulk_max_size: 1600\n  compression_level: 3\n  backoff.init: 2s\n  backoff.max: 120s\n  index: fallback-%{+yyyy.MM.dd}\n  indices:\n  - index: \"errors-%{+yyyy.MM.dd}\"\n    when.contains: {message: ERR}\n  - index: \"logs-%{+yyyy.MM.dd}\"\n";
        let text = import(yaml, "f.yml").unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("  password: \"${ELASTICSEARCH_PASSWORD}\"\n"),
            "{text}"
        );
        assert!(
            text.contains("set ELASTICSEARCH_PASSWORD in loglynk's environment"),
            "{text}"
        );
        assert!(text.contains("  api_key: \"${KEY}\"\n"), "{text}");
        assert!(text.contains("  workers: 4\n"), "{text}");
        assert!(text.contains("  compression_level: 3\n"), "{text}");
        assert!(text.contains("  ssl:\n    certificate_authorities: [\"/ca.crt\"]\n    verification_mode: \"certificate\"\n"), "{text}");
        assert!(
            text.contains("  index: \"logs-%{+yyyy.MM.dd}\"\n"),
            "{text}"
        );
        assert!(
            text.contains("  backoff:\n    init: \"2s\"\n    max: \"120s\"\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "# not mapped: output.elasticsearch.bulk_max_size: 1600 — a count of events"
            ),
            "{text}"
        );
        // Without setup.template.name Filebeat 8 writes a data stream, which loglynk routes by annotation.
        assert!(
            text.contains("# not mapped: output.elasticsearch.indices[0]: ")
                && text.contains("setup.mode data_stream routes by the pods'"),
            "{text}"
        );
        assert!(
            text.contains(
                "# not mapped: output.elasticsearch.ssl.supported_protocols: [\"TLSv1.3\"]"
            ),
            "{text}"
        );
    }

    #[test]
    fn conditional_indices_are_kept_in_order_and_what_loglynk_cannot_route_is_said() {
        let yaml = "setup.template.name: app\noutput.elasticsearch:\n  index: app-%{+yyyy.MM.dd}\n  indices:\n  - index: app-shop-%{+yyyy.MM.dd}\n    when.and:\n    - equals: {kubernetes.namespace: shop}\n    - not.has_fields: [json.debug]\n  - index: ranged\n    when.range: {http.status: {gte: 500}}\n  - index: app-errors-%{+yyyy.MM.dd}\n    mappings: {a: b}\n    when.regexp: {message: '^ERR'}\n  - index: other-%{+yyyy.MM.dd}\n    when.has_fields: [a]\n";
        let text = import(yaml, "f.yml").unwrap();
        let loaded = crate::config::load_str_checked(
            &text,
            "imported.yml",
            &["setup.enabled=false".to_owned()],
            &std::collections::HashMap::new(),
            |_| Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let es = &loaded.output.elasticsearch;
        assert_eq!(es.index, "app-%{+yyyy.MM.dd}");
        let routed: Vec<&str> = es.indices.iter().map(|r| r.index.as_str()).collect();
        assert_eq!(
            routed,
            ["app-shop-%{+yyyy.MM.dd}", "app-errors-%{+yyyy.MM.dd}"],
            "{text}"
        );
        // Outside the template's pattern: said, with the name that would fit.
        assert!(
            text.contains("indices[3]: {\"index\":\"other-%{+yyyy.MM.dd}\"")
                && text.contains("e.g. app-<route>-%{+yyyy.MM.dd}"),
            "{text}"
        );
        assert!(es.indices.iter().all(|r| r.when.is_some()));
        assert!(
            text.contains("# not mapped: output.elasticsearch.indices[1]: {\"index\":\"ranged\""),
            "{text}"
        );
        assert!(
            text.contains("its condition is not one loglynk has"),
            "{text}"
        );
        assert!(
            text.contains("# not mapped: output.elasticsearch.indices[2].mappings.a: \"b\""),
            "{text}"
        );
        // After a rule without `when`, nothing is reached.
        let yaml = "setup.template.name: all\noutput.elasticsearch.indices:\n  - index: all\n  - index: never\n    when.equals: {a: b}\n";
        let text = import(yaml, "f.yml").unwrap();
        assert!(
            text.contains("  index: \"all\"\n") && !text.contains("  indices:"),
            "{text}"
        );
        assert!(
            text.contains("indices[1]: {\"index\":\"never\"") && text.contains("never used"),
            "{text}"
        );
    }
}
