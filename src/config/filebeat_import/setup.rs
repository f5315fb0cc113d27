//! `setup.template.*` and `setup.ilm.*` become loglynk's `setup:` (README, "Index layout"): a
//! `rollover_alias` is the rollover mode, an `index` in the output the daily mode, neither Filebeat 8's
//! data stream. The ILM policy's ages and sizes are read out of Filebeat's policy JSON.

use serde_json::Value as Json;
use serde_yaml_ng::Value;

use super::{scalar, take, Out};

/// What the mode `map` will choose allows of Filebeat's conditional `indices`.
pub(super) enum Routing {
    /// Daily mode: routed indices must be `<name>-…-<date>`, so the template covers them.
    Daily(String),
    /// Another mode: loglynk's routing there is not by index name; why.
    Refused(&'static str),
}

pub(super) fn routing(setup: &Value) -> Routing {
    let mut setup = setup.clone();
    let alias = take(&mut setup, "ilm.rollover_alias");
    match take(&mut setup, "template.name") {
        _ if !alias.is_null() => {
            Routing::Refused("setup.mode rollover writes every event to its write alias")
        }
        Value::String(name) => Routing::Daily(name),
        _ => Routing::Refused(
            "setup.mode data_stream routes by the pods' elastic.co/dataset and elastic.co/namespace annotations",
        ),
    }
}

pub(super) fn map(mut setup: Value, out: &mut Out) {
    let template_enabled = take(&mut setup, "template.enabled");
    let template_name = take(&mut setup, "template.name");
    let pattern = take(&mut setup, "template.pattern");
    let shards = take(&mut setup, "template.settings.index.number_of_shards");
    let replicas = take(&mut setup, "template.settings.index.number_of_replicas");
    let refresh = take(&mut setup, "template.settings.index.refresh_interval");
    let ilm_enabled = take(&mut setup, "ilm.enabled");
    let alias = take(&mut setup, "ilm.rollover_alias");
    let policy = take(&mut setup, "ilm.policy");
    let first_index = take(&mut setup, "ilm.pattern");

    out.line("setup:");
    let enabled = template_enabled != Value::Bool(false);
    out.line(format!("  enabled: {enabled}"));
    let mode = if !alias.is_null() {
        "rollover"
    } else if template_name.is_null() {
        "data_stream"
    } else {
        "daily"
    };
    out.line(format!("  mode: {mode}"));
    let name = if alias.is_null() {
        &template_name
    } else {
        &alias
    };
    if !name.is_null() {
        out.line(format!("  name: {}", scalar(name)));
    }
    if !alias.is_null() && !template_name.is_null() && template_name != alias {
        out.not_mapped(
            "setup.template.name",
            &template_name,
            "loglynk names the template after the write alias (setup.name)",
        );
    }
    for (key, value) in [
        ("shards", shards),
        ("replicas", replicas),
        ("refresh_interval", refresh),
    ] {
        if !value.is_null() {
            out.line(format!("  {key}: {}", scalar(&value)));
        }
    }
    if !pattern.is_null() {
        out.not_mapped(
            "setup.template.pattern",
            &pattern,
            "loglynk derives the pattern from setup.name and the mode (name-* for daily and rollover)",
        );
    }
    if ilm_enabled == Value::Bool(false) {
        out.not_mapped(
            "setup.ilm.enabled",
            &ilm_enabled,
            "loglynk installs its ILM policy with the template; setup.enabled: false turns off both",
        );
    }
    if !first_index.is_null() {
        out.not_mapped(
            "setup.ilm.pattern",
            &first_index,
            "loglynk's rollover mode always starts with <name-{now/d}-000001>",
        );
    }
    if !policy.is_null() {
        ilm(&policy, out);
    }
    if let Value::Mapping(rest) = setup {
        out.rest("setup", rest, "not a setup setting loglynk has");
    }
}

/// The seed's policy shape: hot rollover, warm allocate, delete; anything else is commented.
fn ilm(policy: &Value, out: &mut Out) {
    let parsed: Option<Json> = match policy {
        Value::String(text) => serde_json::from_str(text).ok(),
        other => serde_json::to_value(other).ok(),
    };
    let Some(phases) = parsed.as_ref().and_then(|p| p.pointer("/policy/phases")) else {
        out.not_mapped(
            "setup.ilm.policy",
            policy,
            "not an ILM policy loglynk can read; set setup.ilm.* by hand",
        );
        return;
    };
    let fields = [
        ("warm_after", "/warm/min_age"),
        ("warm_replicas", "/warm/actions/allocate/number_of_replicas"),
        ("delete_after", "/delete/min_age"),
        ("rollover_max_size", "/hot/actions/rollover/max_size"),
        ("rollover_max_age", "/hot/actions/rollover/max_age"),
    ];
    out.line("  ilm:");
    for (key, pointer) in fields {
        if let Some(value) = phases.pointer(pointer) {
            out.line(format!("    {key}: {value}"));
        }
    }
    out.not_mapped(
        "setup.ilm.policy",
        &Value::String("(JSON policy)".into()),
        "its rollover, warm and delete ages and sizes are setup.ilm above; loglynk writes its own policy from them, any other phase or action is dropped",
    );
}

#[cfg(test)]
mod tests {
    use super::super::import;

    const SEED_SETUP: &str = "setup.template.name: funlynk-logs\nsetup.template.pattern: funlynk-logs-*\nsetup.ilm.enabled: true\nsetup.ilm.rollover_alias: funlynk-logs\nsetup.ilm.pattern: \"{now/d}-000001\"\nsetup.ilm.policy: '{\"policy\":{\"phases\":{\"hot\":{\"actions\":{\"rollover\":{\"max_size\":\"5GB\",\"max_age\":\"1d\"}}},\"warm\":{\"min_age\":\"7d\",\"actions\":{\"allocate\":{\"number_of_replicas\":0}}},\"delete\":{\"min_age\":\"30d\"}}}}'\n";

    #[test]
    fn the_seeds_rollover_alias_is_the_rollover_mode_with_its_policy() {
        let text = import(SEED_SETUP, "f.yml").unwrap();
        assert!(text.contains("setup:\n  enabled: true\n  mode: rollover\n  name: \"funlynk-logs\"\n  ilm:\n    warm_after: \"7d\"\n    warm_replicas: 0\n    delete_after: \"30d\"\n    rollover_max_size: \"5GB\"\n    rollover_max_age: \"1d\"\n"), "{text}");
        assert!(
            text.contains("# not mapped: setup.template.pattern: \"funlynk-logs-*\""),
            "{text}"
        );
        assert!(
            text.contains("# not mapped: setup.ilm.pattern: \"{now/d}-000001\""),
            "{text}"
        );
    }

    #[test]
    fn without_an_alias_a_template_name_is_the_daily_mode_and_template_off_is_setup_off() {
        let text = import("setup.template.enabled: false\nsetup.template.name: x\nsetup.template.settings.index.number_of_shards: 3\n", "f.yml").unwrap();
        assert!(
            text.contains("setup:\n  enabled: false\n  mode: daily\n  name: \"x\"\n  shards: 3\n"),
            "{text}"
        );
    }
}
