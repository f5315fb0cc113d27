use super::{import, ImportError};

#[test]
fn a_beat_manifest_is_read_through_spec_config() {
    let yaml = "apiVersion: beat.k8s.elastic.co/v1beta1\nkind: Beat\nspec:\n  type: filebeat\n  elasticsearchRef: {name: es}\n  config:\n    filebeat.inputs:\n    - type: container\n      paths: [/a/*.log]\n  daemonSet: {}\n";
    let text = import(yaml, "beat.yaml").unwrap();
    assert!(text.contains("paths:\n  - \"/a/*.log\"\n"), "{text}");
    assert!(
        text.contains("# not mapped: spec.elasticsearchRef: {\"name\":\"es\"}"),
        "{text}"
    );
    assert!(!text.contains("daemonSet"), "{text}");
}

#[test]
fn a_metricbeat_manifest_and_a_list_are_refused() {
    let beat = "kind: Beat\nspec:\n  type: metricbeat\n  config: {}\n";
    assert!(
        matches!(import(beat, "b"), Err(ImportError::NotFilebeat(_, kind)) if kind == "metricbeat")
    );
    assert!(matches!(
        import("- a\n", "b"),
        Err(ImportError::NoConfig(_))
    ));
    assert!(matches!(import("a: [\n", "b"), Err(ImportError::Yaml(..))));
}

#[test]
fn unknown_top_level_settings_are_commented_with_their_dotted_key() {
    let text = import(
        "monitoring.enabled: false\nqueue.mem.events: 4096\n",
        "f.yml",
    )
    .unwrap();
    assert!(
        text.contains("# not mapped: monitoring.enabled: false — not a setting loglynk has"),
        "{text}"
    );
    assert!(
        text.contains("# not mapped: queue.mem.events: 4096"),
        "{text}"
    );
}

#[test]
fn the_log_level_and_monitoring_endpoint_keep_their_names_and_warning_is_warn() {
    let text = import(
        "logging.level: warning\nhttp:\n  enabled: true\n  port: 5067\n",
        "f.yml",
    )
    .unwrap();
    assert!(
        text.contains("logging:\n  level: \"warn\"\nhttp:\n  enabled: true\n  port: 5067\n"),
        "{text}"
    );
}
