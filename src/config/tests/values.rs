//! What loads, and into which values.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

#[test]
fn defaults_equal_the_constants() {
    let c = load(None, &[], &env(&[])).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c, ok(""));
    assert_eq!(c, ok("# nothing but a comment\n"));
    assert_eq!(c.paths, [DEFAULT_PATHS]);
    assert_eq!(c.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
    assert_eq!(c.start_at, StartAt::Beginning);
    assert_eq!(c.max_line_bytes, DEFAULT_MAX_LINE_BYTES);
    assert_eq!(c.scan_frequency, DEFAULT_SCAN_FREQUENCY);
    assert_eq!(c.poll_interval, DEFAULT_POLL_INTERVAL);
    assert_eq!(c.partial_timeout, DEFAULT_PARTIAL_TIMEOUT);
    let d = &c.decode_json_fields;
    assert!(d.enabled);
    assert_eq!(d.fields, [DEFAULT_DECODE_FIELDS]);
    assert_eq!(d.target, DEFAULT_DECODE_TARGET);
    assert_eq!(d.max_depth, DEFAULT_DECODE_MAX_DEPTH);
    assert_eq!(c.drop_own_logs.containers, DEFAULT_OWN_CONTAINERS);
    let es = &c.output.elasticsearch;
    assert_eq!(es.hosts[0].as_str(), format!("{DEFAULT_ES_HOST}/"));
    assert_eq!(es.username.as_deref(), Some(DEFAULT_ES_USERNAME));
    assert_eq!(es.password, None);
    assert_eq!(
        es.ssl.certificate_authorities,
        [PathBuf::from(DEFAULT_ES_CA)]
    );
    assert_eq!(es.ssl.verification_mode, VerificationMode::Full);
    assert_eq!(es.index, DEFAULT_ES_INDEX);
    assert_eq!(c.logging.level, DEFAULT_LOG_LEVEL);
}

#[test]
fn the_issue_example_loads() {
    let yaml = r#"
paths: ["/var/log/containers/*.log"]
state_dir: /var/lib/loglynk
max_line_bytes: 1048576
decode_json_fields: {fields: [message], target: json, overwrite_keys: true, add_error_key: true}
drop_own_logs: {containers: [loglynk, filebeat, metricbeat]}
add_host_metadata: true
output.elasticsearch:
  hosts: ["https://funlynk-logs-es-http:9200"]
  username: elastic
  password: ${ELASTICSEARCH_PASSWORD}
  ssl: {certificate_authorities: [/mnt/elastic/tls.crt], verification_mode: full}
  index: "funlynk-logs-%{+yyyy.MM.dd}"
"#;
    let c = load_with(yaml, &[], &[("ELASTICSEARCH_PASSWORD", "s3cr3t")]).unwrap();
    assert!(c.decode_json_fields.overwrite_keys && c.decode_json_fields.add_error_key);
    assert!(!c.decode_json_fields.process_array);
    let es = &c.output.elasticsearch;
    assert_eq!(es.password.as_ref().map(Secret::expose), Some("s3cr3t"));
    assert_eq!(es.hosts[0].as_str(), "https://funlynk-logs-es-http:9200/");
    let missing = err(yaml, &[], &[]);
    assert_eq!(
        missing,
        "config error in /etc/loglynk/loglynk.yml line 11: output.elasticsearch.password: \
         environment variable ELASTICSEARCH_PASSWORD is not set"
    );
}

#[test]
fn dotted_and_nested_keys_merge() {
    let dotted =
        ok("output.elasticsearch.username: bob\noutput:\n  elasticsearch:\n    index: logs-%{+yyyy.MM.dd}\nsetup.name: logs\n");
    let nested = ok(
        "output: {elasticsearch: {username: bob, index: \"logs-%{+yyyy.MM.dd}\"}}\nsetup: {name: logs}\n",
    );
    assert_eq!(dotted, nested);
    assert_eq!(dotted.output.elasticsearch.username.as_deref(), Some("bob"));
    assert_eq!(dotted.output.elasticsearch.index, "logs-%{+yyyy.MM.dd}");
}

#[test]
fn overrides_apply_after_the_file() {
    let c = load_with(
        "max_line_bytes: 4096\nlogging.level: info\n",
        &[
            r#"output.elasticsearch.hosts=["http://127.0.0.1:9200"]"#,
            "max_line_bytes=2048",
            "logging.level=debug",
            "start_at=end",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.output.elasticsearch.hosts.len(), 1);
    assert_eq!(
        c.output.elasticsearch.hosts[0].as_str(),
        "http://127.0.0.1:9200/"
    );
    assert_eq!(c.max_line_bytes, 2048);
    assert_eq!(c.logging.level, "debug");
    assert_eq!(c.start_at, StartAt::End);
}

#[test]
fn variables_expand_in_strings_and_typed_fields() {
    let yaml = "\
state_dir: ${STATE:/tmp/state}-${SUFFIX}
logging.level: ${LEVEL:}
max_line_bytes: ${MAX:1048576}
add_host_metadata: ${HOSTMETA:true}
scan_frequency: ${SCAN:30s}
paths: ${PATHS}
output.elasticsearch.index: literal-$${not_a_var}
setup.enabled: false
";
    let c = load_with(
        yaml,
        &[],
        &[
            ("SUFFIX", "x"),
            ("HOSTMETA", "false"),
            ("PATHS", "/a/*.log, /b/*.log"),
        ],
    );
    let err = c.unwrap_err().to_string();
    // An empty level is reported by validation, after expansion succeeded everywhere else.
    assert_eq!(
        err,
        "config error in /etc/loglynk/loglynk.yml line 2: logging.level: must not be empty"
    );
    let c = load_with(
        yaml,
        &[],
        &[
            ("SUFFIX", "x"),
            ("HOSTMETA", "false"),
            ("PATHS", "/a/*.log, /b/*.log"),
            ("LEVEL", "warn"),
        ],
    )
    .unwrap();
    assert_eq!(c.state_dir, PathBuf::from("/tmp/state-x"));
    assert_eq!(c.max_line_bytes, 1_048_576);
    assert!(!c.add_host_metadata);
    assert_eq!(c.scan_frequency, Duration::from_secs(30));
    assert_eq!(c.paths, ["/a/*.log", "/b/*.log"]);
    assert_eq!(c.output.elasticsearch.index, "literal-${not_a_var}");

    let flow = load_with("paths: ${P}\n", &[], &[("P", "['/x/*.log', '/y.log']")]).unwrap();
    assert_eq!(flow.paths, ["/x/*.log", "/y.log"]);
}

#[test]
fn sizes_and_durations_take_units() {
    let c = ok(
        "max_line_bytes: 512KiB\nscan_frequency: 1m\npoll_interval: 500ms\npartial_timeout: 2\n",
    );
    assert_eq!(c.max_line_bytes, 512 * 1024);
    assert_eq!(c.scan_frequency, Duration::from_secs(60));
    assert_eq!(c.poll_interval, Duration::from_millis(500));
    assert_eq!(c.partial_timeout, Duration::from_secs(2));
    assert_eq!(ok("max_line_bytes: 5MB\n").max_line_bytes, 5_000_000);
}

#[test]
fn secrets_never_show() {
    let c = load_with(
        "output.elasticsearch.api_key: ${KEY}\n",
        &[],
        &[
            ("KEY", "api-key-value"),
            ("ELASTICSEARCH_PASSWORD", "pw-value"),
        ],
    )
    .unwrap();
    // An API key in the config keeps the environment's password out of it.
    assert_eq!(c.output.elasticsearch.password, None);
    assert_eq!(
        c.output.elasticsearch.api_key.as_ref().map(Secret::expose),
        Some("api-key-value")
    );
    let c2 = load_with("", &[], &[("ELASTICSEARCH_PASSWORD", "pw-value")]).unwrap();
    for text in [
        c.to_masked_yaml(),
        format!("{c:?}"),
        c2.to_masked_yaml(),
        format!("{c2:?}"),
    ] {
        assert!(
            !text.contains("api-key-value") && !text.contains("pw-value"),
            "{text}"
        );
        assert!(text.contains("********"), "{text}");
    }
}

#[test]
fn password_defaults_from_the_environment_only_when_not_written() {
    let from_env = load_with("", &[], &[("ELASTICSEARCH_PASSWORD", "pw")]).unwrap();
    assert_eq!(
        from_env
            .output
            .elasticsearch
            .password
            .as_ref()
            .map(Secret::expose),
        Some("pw")
    );
    let explicit_none = load_with(
        "output.elasticsearch.password: ''\n",
        &[],
        &[("ELASTICSEARCH_PASSWORD", "pw")],
    )
    .unwrap();
    assert_eq!(explicit_none.output.elasticsearch.password, None);
    let fallback = ok("output.elasticsearch.password: ${ELASTICSEARCH_PASSWORD:}\n");
    assert_eq!(fallback.output.elasticsearch.password, None);
}

#[test]
fn own_container_name_is_appended_once() {
    let name = [("LOGLYNK_CONTAINER_NAME", "shipper")];
    let c = load_with("", &[], &name).unwrap();
    assert_eq!(
        c.drop_own_logs.containers,
        ["loglynk", "filebeat", "metricbeat", "shipper"]
    );
    let c = load_with("drop_own_logs.containers: [a]\n", &[], &name).unwrap();
    assert_eq!(c.drop_own_logs.containers, ["a", "shipper"]);
    let c = load_with("drop_own_logs.containers: [shipper]\n", &[], &name).unwrap();
    assert_eq!(c.drop_own_logs.containers, ["shipper"]);
    let c = load_with("", &[], &[("LOGLYNK_CONTAINER_NAME", " ")]).unwrap();
    assert_eq!(c.drop_own_logs.containers, DEFAULT_OWN_CONTAINERS);
}

#[test]
fn hosts_without_a_scheme_follow_the_ca() {
    let c = ok("output.elasticsearch.hosts: funlynk-logs-es-http:9200\n");
    assert_eq!(
        c.output.elasticsearch.hosts[0].as_str(),
        "https://funlynk-logs-es-http:9200/"
    );
    let c = ok("output.elasticsearch:\n  hosts: [es]\n  ssl.certificate_authorities: []\n");
    assert_eq!(c.output.elasticsearch.hosts[0].as_str(), "http://es:9200/");
}

#[test]
fn masked_yaml_loads_back_to_the_same_config() {
    let c = load_with(
        "paths: [/a/*.log]\nscan_frequency: 1500ms\noutput.elasticsearch.hosts: [http://es]\n",
        &[],
        &[],
    )
    .unwrap();
    let yaml = c.to_masked_yaml();
    assert_eq!(load_with(&yaml, &[], &[]).unwrap(), c, "{yaml}");
}

/// README's configuration block writes durations and sizes as `7d`, `90s` and `32MiB`; `config check`
/// prints them the same way (humantime wrote `7days` and `1m 30s`), and the text loads back.
#[test]
fn defaults_print_as_readme_writes_them_and_load_back() {
    let c = ok("");
    let yaml = c.to_masked_yaml();
    for line in [
        "max_line_bytes: 1MiB",
        "close_inactive: 5m",
        "poll_interval: 1s",
        "max_queued_bytes: 20MiB",
        "bulk_max_bytes: 5MiB",
        "timeout: 90s",
        "max_bytes: 100MiB",
        "warm_after: 7d",
        "delete_after: 30d",
        "rollover_max_age: 1d",
    ] {
        assert!(yaml.lines().any(|l| l.trim() == line), "{line}:\n{yaml}");
    }
    assert_eq!(load_with(&yaml, &[], &[]).unwrap(), c, "{yaml}");
}

/// Found by fuzz/fuzz_targets/config_load.rs (fuzz/regressions/config_load/): a literal `${`, from an
/// escape or a variable, was printed as is and expanded again when the text was loaded back.
#[test]
fn masked_yaml_keeps_a_literal_reference_literal() {
    let vars = [("LOGLYNK_CONTAINER_NAME", "poretut:age ${PORT:0}")];
    let c = load_with("paths: [\"/logs/$${x}/*.log\"]\n", &[], &vars).unwrap();
    assert_eq!(c.paths, ["/logs/${x}/*.log"]);
    let yaml = c.to_masked_yaml();
    assert_eq!(load_with(&yaml, &[], &vars).unwrap(), c, "{yaml}");
}

#[test]
fn kubernetes_settings_load_and_round_trip() {
    let c = ok("");
    assert_eq!(c.kubernetes.enabled, KubernetesMode::Auto);
    assert_eq!(c.kubernetes.metadata_wait, DEFAULT_KUBE_METADATA_WAIT);
    assert_eq!(c.kubernetes.cleanup_timeout, DEFAULT_KUBE_CLEANUP_TIMEOUT);
    assert!(c.kubernetes.dedot && c.kubernetes.namespace_labels && !c.kubernetes.node_metadata);
    for (text, mode) in [
        ("auto", KubernetesMode::Auto),
        ("true", KubernetesMode::On),
        ("false", KubernetesMode::Off),
        ("\"true\"", KubernetesMode::On),
    ] {
        let c = ok(&format!("kubernetes.enabled: {text}\n"));
        assert_eq!(c.kubernetes.enabled, mode, "{text}");
        // What `config check` prints loads back into the same value.
        assert_eq!(ok(&c.to_masked_yaml()).kubernetes.enabled, mode, "{text}");
    }
    let c = load_with(
        "kubernetes:\n  enabled: ${KUBE:auto}\n  node_name: ${NODE}\n  metadata_wait: 500ms\n  \
         include_annotations: [team, \"example.com/*\"]\n",
        &[],
        &[("KUBE", "false"), ("NODE", "node-a1")],
    )
    .unwrap();
    assert_eq!(c.kubernetes.enabled, KubernetesMode::Off);
    assert_eq!(c.kubernetes.node_name.as_deref(), Some("node-a1"));
    assert_eq!(c.kubernetes.metadata_wait, Duration::from_millis(500));
    assert_eq!(c.kubernetes.include_annotations, ["team", "example.com/*"]);
}

#[test]
fn kubernetes_settings_are_checked() {
    let problems = |yaml: &str| -> Vec<String> {
        load_with(yaml, &[], &[])
            .unwrap_err()
            .problems()
            .iter()
            .map(|p| p.to_string())
            .collect()
    };
    let found = problems("kubernetes.enabled: maybe\n");
    assert!(
        found[0].contains("kubernetes.enabled") && found[0].contains("auto, true or false"),
        "{found:?}"
    );
    let found = problems(
        "kubernetes: {metadata_wait: 5m, include_annotations: [\"*\"], node_name: \"\"}\n",
    );
    let joined = found.join("\n");
    for key in [
        "kubernetes.metadata_wait",
        "kubernetes.include_annotations.0",
    ] {
        assert!(joined.contains(key), "{key} not in {joined}");
    }
    // A selector that says nothing, and labels nothing can know, are named with their line.
    let found = err(
        "kubernetes:\n  enabled: false\n  include:\n    - {}\n  exclude:\n    - labels: tier=debug\n",
        &[],
        &[],
    );
    assert_eq!(
        found,
        "config error in /etc/loglynk/loglynk.yml line 4: kubernetes.include.0: must name \
         namespaces, labels or containers (an empty selector would be every pod)\n\
         config error in /etc/loglynk/loglynk.yml line 6: kubernetes.exclude.0.labels: pod labels \
         come from the Kubernetes API, and kubernetes.enabled is false"
    );
    let c = ok(
        "kubernetes.exclude:\n  - namespaces: [kube-*]\n    labels: 'app.kubernetes.io/name=x'\n",
    );
    assert_eq!(c.kubernetes.exclude[0].namespaces, ["kube-*"]);
    assert_eq!(
        c.kubernetes.exclude[0].labels.to_string(),
        "app.kubernetes.io/name=x"
    );
    assert!(err("kubernetes.exclude: [{labels: 'a in b'}]\n", &[], &[]).contains("line 1"));
    assert_eq!(ok(&c.to_masked_yaml()), c, "loads back as printed");
    // An empty node name (`${NODE_NAME:}`) is no node name: $NODE_NAME, else a start-up error.
    assert_eq!(
        ok("kubernetes.node_name: \"\"\n").kubernetes.node_name,
        None
    );
}
