//! What fails, and how the error reads.

use super::*;

#[test]
fn a_key_set_twice_is_an_error_with_both_lines() {
    let yaml =
        "paths: [/a]\noutput.elasticsearch.index: a\noutput:\n  elasticsearch:\n    index: b\n";
    assert_eq!(
        err(yaml, &[], &[]),
        "config error in /etc/loglynk/loglynk.yml line 5: output.elasticsearch.index: \
         set more than once (lines 2, 5)"
    );
    let e = load_with("a: 1\na: 2\n", &[], &[]).unwrap_err();
    assert_eq!(e.problems()[0].key, "a");
}

#[test]
fn malformed_overrides_are_errors() {
    assert_eq!(
        err("", &["max_line_bytes"], &[]),
        "config error in /etc/loglynk/loglynk.yml (from -E): malformed -E \"max_line_bytes\": \
         expected KEY=VALUE"
    );
    let no_file = load(None, &["=x".to_owned()], &env(&[]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        no_file,
        "config error in (no config file) (from -E): malformed -E \"=x\": the key before `=` is empty"
    );
}

#[test]
fn every_missing_variable_is_reported_with_its_key() {
    let yaml = "state_dir: ${STATE}\noutput:\n  elasticsearch:\n    username: ${USER_NAME}\n";
    assert_eq!(
        err(yaml, &["logging.level=${LVL}"], &[]),
        "config error in /etc/loglynk/loglynk.yml line 1: state_dir: environment variable STATE is not set\n\
         config error in /etc/loglynk/loglynk.yml line 4: output.elasticsearch.username: \
         environment variable USER_NAME is not set\n\
         config error in /etc/loglynk/loglynk.yml (from -E): logging.level: \
         environment variable LVL is not set"
    );
}

#[test]
fn unknown_keys_name_the_full_path_and_line() {
    let nested = "\
paths:
  - /var/log/containers/*.log
output:
  elasticsearch:
    hosts: [\"https://es:9200\"]
    username: elastic
    hostz: oops
";
    assert_eq!(
        err(nested, &[], &[]),
        "config error in /etc/loglynk/loglynk.yml line 7: unknown key output.elasticsearch.hostz \
         (expected one of: hosts, username, password, api_key, ssl, index, indices, bulk_max_bytes, flush_interval, \
         workers, compression_level, timeout, backoff, dead_letter, deduplicate)"
    );

    let dotted = "\
# loglynk
state_dir: /var/lib/loglynk

output.elasticsearch.ssl:
  verification_mode: full
  certificate_authoritys: [/ca.crt]
";
    let e = load_with(dotted, &[], &[]).unwrap_err();
    assert_eq!(
        e.problems()[0].key,
        "output.elasticsearch.ssl.certificate_authoritys"
    );
    assert_eq!(e.problems()[0].location, Location::Line(6));
    assert!(e.to_string().contains(
        "unknown key output.elasticsearch.ssl.certificate_authoritys (expected one of: \
         certificate_authorities, certificate, key, verification_mode)"
    ));

    assert_eq!(
        err("paths: [/a]\noutput.logstash.hosts: [x]\n", &[], &[]),
        "config error in /etc/loglynk/loglynk.yml line 2: unknown key output.logstash \
         (expected one of: elasticsearch, file)"
    );
    assert!(err("max_line_byte: 5\n", &[], &[]).starts_with(
        "config error in /etc/loglynk/loglynk.yml line 1: unknown key max_line_byte (expected one of: paths,"
    ));
    assert_eq!(
        err("paths: [/a]\n", &["decode_json_fields.field=x"], &[]),
        "config error in /etc/loglynk/loglynk.yml (from -E): unknown key decode_json_fields.field \
         (expected one of: enabled, fields, target, overwrite_keys, max_depth, add_error_key, process_array)"
    );
}

#[test]
fn type_errors_name_the_key_and_line() {
    assert_eq!(
        err("paths: [/a]\nscan_frequency: often\n", &[], &[]),
        "config error in /etc/loglynk/loglynk.yml line 2: scan_frequency: invalid value: string \"often\", \
         expected a duration, like \"10s\", \"500ms\", \"5m\", or a number of seconds"
    );
    assert!(err("start_at: middle\n", &[], &[])
        .ends_with("line 1: start_at: invalid value \"middle\" (expected one of: beginning, end)"));
    assert!(err("output.elasticsearch.hosts:\n  - https://ok:9200\n  - 'http://bad host'\n", &[], &[])
        .starts_with("config error in /etc/loglynk/loglynk.yml line 3: output.elasticsearch.hosts.1: invalid URL"));
}

#[test]
fn sections_must_be_mappings() {
    assert_eq!(
        err("output: 5\n", &[], &[]),
        "config error in /etc/loglynk/loglynk.yml line 1: output: invalid type: integer `5`, \
         expected a mapping of keys"
    );
    assert_eq!(
        err("- a\n", &[], &[]),
        "config error in /etc/loglynk/loglynk.yml: invalid type: sequence, expected a mapping of keys"
    );
}

#[test]
fn yaml_syntax_errors_give_the_line() {
    let e = err("paths: [/a]\noutput:\n  index: [x\n  other: y\n", &[], &[]);
    assert!(
        e.starts_with("config error in /etc/loglynk/loglynk.yml line 4: invalid YAML at column"),
        "{e}"
    );
    let e = err("a: 1\n\tb: 2\n", &[], &[]);
    assert!(
        e.starts_with("config error in /etc/loglynk/loglynk.yml line 2: invalid YAML"),
        "{e}"
    );
}

#[test]
fn load_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("loglynk.yml");
    std::fs::write(&path, "paths: [/x/*.log]\nbogus: 1\n").unwrap();
    let e = load(Some(&path), &[], &env(&[])).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "config error in {} line 2: unknown key bogus (expected one of: paths, log_roots, state_dir, start_at, \
             max_line_bytes, scan_frequency, poll_interval, partial_timeout, close_removed_after, \
             close_inactive, max_open_files, registry_flush, shutdown_timeout, max_queued_bytes, \
             decode_json_fields, \
             drop_own_logs, add_host_metadata, kubernetes, output, setup, data_stream, http, logging, multiline, \
             rate_limit)",
            path.display()
        )
    );
    std::fs::write(&path, "paths: [/x/*.log]\n").unwrap();
    assert_eq!(
        load(Some(&path), &[], &ProcessEnv).unwrap().paths,
        ["/x/*.log"]
    );
    let missing = dir.path().join("absent.yml");
    let e = load(Some(&missing), &[], &env(&[])).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.problems().is_empty());
}

#[test]
fn two_outputs_are_an_error_naming_both_keys() {
    let e = err(
        "output.elasticsearch.hosts: ['http://es:9200']\noutput.file.path: /tmp/out\n",
        &[],
        &[],
    );
    assert!(
        e.contains("line 2: output.file:") && e.contains("output.elasticsearch"),
        "{e}"
    );
    let alone = load_with(
        "output.file: {path: /tmp/out, permissions: 0640}\n",
        &[],
        &[],
    );
    let file = alone.unwrap().output.file.unwrap();
    assert_eq!(
        (file.permissions, file.filename.as_str()),
        (0o640, "loglynk")
    );
    let off = "output.elasticsearch.hosts: ['http://es:9200']\noutput.file: {enabled: false}\n";
    assert!(load_with(off, &[], &[]).is_ok());
    assert!(err("output.file.permissions: 0800\n", &[], &[]).contains("output.file.permissions"));
}

#[test]
fn a_rate_limit_is_read_and_a_malformed_one_named_with_its_line() {
    let config = ok("rate_limit:\n  - per: node\n    limit: 20MiB/s\n  - limit: 600/m\n    policy: drop\n    pods: [{namespaces: [shop]}, {labels: \"tier=batch\"}]\n");
    let [node, pod] = &config.rate_limit[..] else {
        panic!("{:?}", config.rate_limit);
    };
    assert_eq!(
        (node.per, node.limit.to_string(), node.policy),
        (LimitScope::Node, "20MiB/s".into(), LimitPolicy::Delay)
    );
    assert_eq!(
        (pod.per, pod.limit.per_second(), pod.policy),
        (LimitScope::Pod, 10.0, LimitPolicy::Drop)
    );
    let batch = [("tier".to_owned(), "batch".to_owned())].into();
    assert!(pod.applies_to(Some("shop"), None, Some("app")));
    assert!(pod.applies_to(Some("web"), Some(&batch), Some("app")));
    assert!(!pod.applies_to(Some("web"), None, Some("app")));
    assert!(node.applies_to(None, None, None) && pod.uses_labels() && !node.uses_labels());
    let e = err("rate_limit:\n  - per: pod\n    limit: lots\n", &[], &[]);
    assert!(
        e.contains("line 3: rate_limit.0.limit: \"lots\" is not a rate"),
        "{e}"
    );
    let e = err("rate_limit:\n  - per: cluster\n    limit: 1/s\n", &[], &[]);
    assert!(e.contains("line 2: rate_limit.0.per"), "{e}");
    let e = err("rate_limit:\n  - limit: 1/s\n    pods: [{}]\n", &[], &[]);
    assert!(
        e.contains("rate_limit.0.pods.0: must name namespaces"),
        "{e}"
    );
}
