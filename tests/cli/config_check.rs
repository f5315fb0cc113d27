//! `loglynk config check`: the effective configuration, or an error naming the key and line.

use std::time::Duration;

use crate::support::{loglynk, run_to_end, write_file};

#[test]
fn prints_the_effective_config_with_secrets_masked() {
    let output = loglynk()
        .env("ELASTICSEARCH_PASSWORD", "s3cr3t-Passw0rd")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("/var/log/containers/*.log"), "{stdout}");
    assert!(stdout.contains("funlynk-logs-%{+yyyy.MM.dd}"), "{stdout}");
    assert!(stdout.contains("********"), "{stdout}");
    assert!(!stdout.contains("s3cr3t-Passw0rd"), "{stdout}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("s3cr3t-Passw0rd"));
}

#[test]
fn an_unknown_key_is_named_with_its_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loglynk.yml");
    write_file(
        &file,
        b"paths: [\"/var/log/containers/*.log\"]\noutput.elasticsearch:\n  hosts: [\"http://es:9200\"]\n  hostz: [\"typo\"]\n",
    );
    let output = loglynk()
        .args(["config", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("output.elasticsearch.hostz"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}

#[test]
fn overrides_apply_on_every_subcommand() {
    let output = loglynk()
        .args([
            "-E",
            "output.elasticsearch.hosts=[\"http://127.0.0.1:9200\"]",
            "config",
            "check",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8(output.stdout)
        .unwrap()
        .contains("http://127.0.0.1:9200"));

    let output = loglynk()
        .args([
            "tail",
            "--no-follow",
            "-E",
            "max_line_bytes=nonsense",
            "x.log",
        ])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a bad override stops tail too"
    );
}

#[test]
fn help_teaches_with_examples() {
    let output = loglynk().args(["tail", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("--no-follow") && help.contains("Examples"),
        "{help}"
    );
}

#[test]
fn version_names_the_gzip_backend_built_in() {
    let output = loglynk().arg("--version").output().unwrap();
    let version = String::from_utf8(output.stdout).unwrap();
    let backend = if cfg!(feature = "isal") {
        "isa-l"
    } else {
        "zlib-rs"
    };
    assert_eq!(
        version.trim(),
        format!("loglynk {} (gzip: {backend})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_duration_too_long_to_wait_is_refused_before_it_can_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        &dir.path().join("x.log"),
        b"2026-11-24T06:54:58.000000000Z stdout F hello\n",
    );
    let glob = format!("{}/*.log", dir.path().display());
    for key in ["poll_interval", "scan_frequency"] {
        let set = format!("{key}=18446744073709551615");
        for command in [&["tail", "--no-follow", &glob][..], &["config", "check"]] {
            let mut cmd = loglynk();
            cmd.args(["-E", &set]).args(command);
            let run = run_to_end(cmd, Duration::from_secs(30));
            assert_eq!(run.code, Some(2), "{command:?} {set}: {}", run.stderr);
            assert!(
                run.stderr.contains(&format!("(from -E): {key}: "))
                    && run.stderr.contains("at most"),
                "{command:?} {set}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        }
    }
}

#[test]
fn pathological_config_text_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    // 100,000 nested flow sequences: the YAML scanner's work grows with the square of the depth.
    let deep = dir.path().join("deep.yml");
    write_file(
        &deep,
        format!("paths: {}\n", "[".repeat(100_000)).as_bytes(),
    );
    // Valid YAML, but no configuration is a megabyte: comments past 1 MiB.
    let big = dir.path().join("big.yml");
    let comment = format!("# {}\n", "x".repeat(1000));
    write_file(
        &big,
        format!("paths: [/x/*.log]\n{}", comment.repeat(1100)).as_bytes(),
    );
    for (file, says) in [
        (&deep, "line 1: nested deeper than 64"),
        (&big, "larger than 1MiB"),
    ] {
        let mut cmd = loglynk();
        cmd.args(["config", "check"]).arg(file);
        let run = run_to_end(cmd, Duration::from_secs(60));
        assert_eq!(run.code, Some(2), "{}: {}", file.display(), run.stderr);
        assert!(
            run.stderr
                .contains(&format!("config error in {}", file.display()))
                && run.stderr.contains(says),
            "{}",
            run.stderr
        );
    }

    // The same through -E, whose value is YAML too (and at most 64 KiB).
    let mut cmd = loglynk();
    cmd.args(["config", "check", "-E"])
        .arg(format!("paths={}", "[".repeat(60_000)));
    let run = run_to_end(cmd, Duration::from_secs(60));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("(from -E): malformed -E")
            && run.stderr.contains("nested deeper than 64"),
        "{:.300}",
        run.stderr
    );
}

#[test]
fn durations_and_sizes_print_as_readme_writes_them() {
    let output = loglynk().args(["config", "check"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for line in [
        "close_inactive: 5m",
        "max_queued_bytes: 20MiB",
        "timeout: 90s",
        "bulk_max_bytes: 5MiB",
        "warm_after: 7d",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim() == line),
            "{line}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("days") && !stdout.contains("1m 30s"),
        "{stdout}"
    );
}
