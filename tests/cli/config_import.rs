//! `loglynk config import-filebeat`: the seed's Filebeat configuration (plain and as an ECK Beat) and a
//! richer one become the loglynk configuration in fixtures/filebeat/*.expected.yml, which
//! `loglynk config check` accepts.

use crate::support::loglynk;

/// (input, the output reviewed line by line) under fixtures/filebeat.
const CASES: [(&str, &str); 3] = [
    ("filebeat.yml", "filebeat.expected.yml"),
    ("beat.yaml", "beat.expected.yml"),
    ("rich.yml", "rich.expected.yml"),
];

#[test]
fn each_fixture_imports_to_its_reviewed_config_and_that_config_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    for (input, expected) in CASES {
        let written = dir.path().join(expected);
        let output = loglynk()
            .args(["config", "import-filebeat"])
            .arg(format!("fixtures/filebeat/{input}"))
            .arg("-o")
            .arg(&written)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{input}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let want = std::fs::read_to_string(format!(
            "{}/fixtures/filebeat/{expected}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(std::fs::read_to_string(&written).unwrap(), want, "{input}");

        let check = loglynk()
            .env("NODE_NAME", "node-1")
            .env("ES_API_KEY", "id:key")
            .env("ELASTICSEARCH_PASSWORD", "s3cr3t")
            .args(["config", "check"])
            .arg(&written)
            .output()
            .unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{input}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn without_o_it_prints_and_a_literal_secret_never_appears() {
    let output = loglynk()
        .args(["config", "import-filebeat", "fixtures/filebeat/rich.yml"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("api_key: \"${ES_API_KEY}\""), "{stdout}");
    assert!(!stdout.contains("not-a-real-key"), "{stdout}");
}

#[test]
fn a_missing_file_or_a_metricbeat_manifest_is_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let beat = dir.path().join("metricbeat.yaml");
    std::fs::write(
        &beat,
        "kind: Beat\nspec:\n  type: metricbeat\n  config: {}\n",
    )
    .unwrap();
    for (file, says) in [
        (dir.path().join("absent.yml"), "cannot read"),
        (beat, "metricbeat"),
    ] {
        let output = loglynk()
            .args(["config", "import-filebeat"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(says), "{stderr}");
    }
}
