//! How failures read: the exit code says whose fault it is, and each cause is said once.

use std::path::Path;
use std::time::Duration;

use crate::support::{loglynk, metrics_address, run_to_end, write_file};

/// How often `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn an_invalid_glob_is_a_usage_error_said_once() {
    let mut cmd = loglynk();
    cmd.args(["tail", "--no-follow", "["]);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("\"[\""), "{}", run.stderr);
    assert_eq!(
        count(&run.stderr, "invalid range pattern"),
        1,
        "{}",
        run.stderr
    );

    // In the configuration, the key and line are named too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loglynk.yml");
    write_file(&file, b"paths:\n  - /var/log/containers/*.log\n  - '['\n");
    let mut cmd = loglynk();
    cmd.args(["config", "check"]).arg(&file);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("line 3: paths.1: invalid glob \"[\""),
        "{}",
        run.stderr
    );
    assert_eq!(
        count(&run.stderr, "invalid range pattern"),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn a_failure_names_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let glob = format!("{}/*.log", dir.path().display());
    // A registry that is a directory, and a state directory that is a file.
    let state = dir.path().join("state");
    std::fs::create_dir_all(state.join("registry.json")).unwrap();
    let not_a_dir = dir.path().join("state-file");
    write_file(&not_a_dir, b"");

    let tail = |state_dir: &std::path::Path| {
        let mut cmd = loglynk();
        cmd.args(["tail", "--no-follow", "--state-dir"])
            .arg(state_dir)
            .arg(&glob);
        cmd
    };
    let mut run = loglynk();
    run.args([
        "run",
        "-E",
        "http.enabled=false",
        "-E",
        "output.elasticsearch.hosts=[\"http://127.0.0.1:9\"]",
        "-E",
    ])
    .arg(format!("state_dir={}", state.display()))
    .arg("-E")
    .arg(format!("paths=[\"{glob}\"]"));
    let mut check = loglynk();
    check.args(["config", "check"]).arg(dir.path());

    for (what, cmd, cause, code) in [
        ("tail, registry a directory", tail(&state), "os error 21", 1),
        ("tail, state_dir a file", tail(&not_a_dir), "os error 17", 1),
        ("run, registry a directory", run, "os error 21", 1),
        ("config check of a directory", check, "os error 21", 2),
    ] {
        let ended = run_to_end(cmd, Duration::from_secs(30));
        assert_eq!(ended.code, Some(code), "{what}: {}", ended.stderr);
        assert_eq!(
            count(&ended.stderr, cause),
            1,
            "{what}: the cause once:\n{}",
            ended.stderr
        );
    }
}

#[test]
fn tail_no_follow_with_nothing_to_read_exits_1_naming_the_path() {
    let mut cmd = loglynk();
    cmd.args(["tail", "--no-follow", "/no/such/file.log"]);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("nothing to read: no file matches /no/such/file.log"),
        "{}",
        run.stderr
    );
    assert_eq!(count(&run.stderr, "/no/such/file.log"), 1, "{}", run.stderr);

    // One path matching is enough to read; the other is still named.
    let dir = tempfile::tempdir().unwrap();
    write_file(
        &dir.path().join("app.log"),
        b"2026-11-24T10:00:00Z stdout F ready\n",
    );
    let mut cmd = loglynk();
    cmd.args(["tail", "--no-follow", "/no/such/file.log"])
        .arg(format!("{}/*.log", dir.path().display()));
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.lines.len(), 1, "{:?}", run.lines);
    assert!(
        run.stderr.contains("no file matches this path")
            && run.stderr.contains("/no/such/file.log"),
        "{}",
        run.stderr
    );
}

/// The CA file is checked when `run` starts, before the registry and the HTTP port: a missing or
/// unusable one is the configuration's fault (exit 2), said with its key, and whether the value is the
/// built-in default nobody wrote.
#[test]
fn an_unusable_ca_file_exits_2_naming_the_key_before_any_port_opens() {
    let default_ca = "/mnt/elastic/tls.crt";
    assert!(
        !Path::new(default_ca).exists(),
        "this test needs a machine without the seed's CA mount at {default_ca}"
    );
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.crt");
    write_file(&not_pem, b"not a certificate\n");
    let state = dir.path().join("state");
    let run = |extra: &[String]| {
        let mut cmd = loglynk();
        cmd.args([
            "run",
            "-E",
            "http.host=127.0.0.1",
            "-E",
            "http.port=0",
            "-E",
        ])
        .arg(format!("state_dir={}", state.display()))
        .arg("-E")
        .arg(format!("paths=[\"{}/*.log\"]", dir.path().display()))
        .args(extra);
        cmd
    };
    let key = "output.elasticsearch.ssl.certificate_authorities";
    let mut bootstrap = loglynk();
    bootstrap.arg("bootstrap");
    let written = vec!["-E".to_owned(), format!("{key}=[{}]", not_pem.display())];
    for (what, cmd, path, default) in [
        ("run, the built-in default", run(&[]), default_ca, true),
        (
            "run, not PEM",
            run(&written),
            &*not_pem.to_string_lossy(),
            false,
        ),
        (
            "bootstrap, the built-in default",
            bootstrap,
            default_ca,
            true,
        ),
    ] {
        let ended = run_to_end(cmd, Duration::from_secs(30));
        let stderr = &ended.stderr;
        assert_eq!(ended.code, Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("{key}: cannot use {path}: ")),
            "{what}: {stderr}"
        );
        assert_eq!(
            stderr.contains("the built-in default; set"),
            default,
            "{what}: {stderr}"
        );
        assert_eq!(metrics_address(stderr), None, "{what}: {stderr}");
        assert!(!stderr.contains("serving /metrics"), "{what}: {stderr}");
        assert!(!state.exists(), "{what}: nothing is started");
    }
}
