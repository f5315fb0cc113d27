//! How failures read: the exit code says whose fault it is, and each cause is said once.

use std::time::Duration;

use crate::support::{loglynk, run_to_end, write_file};

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
