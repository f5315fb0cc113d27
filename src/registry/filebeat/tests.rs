//! Imports of the fixture registry in fixtures/registry/filebeat, and of registries built here to show
//! one rule each.

use std::fs::OpenOptions;
use std::io::Write;

use super::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/registry/filebeat/data/registry"
);
const API: &str = "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-55a8077da02a3d8ffb9ac430ec0067ea92ec7cc42c07b73c2f04925fc680deda.log";
const WEB: &str = "/var/log/containers/web-7d9f8b6c5-x2x4q_shop_nginx-cc61b52e867a19f36f76bd81500cb14d883a2b1d50ec81ef5c6875545d06ab04.log";
const WORKER: &str = "/var/log/containers/worker-0_payments_worker-9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d.log";
const AGENT: &str = "/var/log/containers/loglynk-7xk2p_kube-system_loglynk-66995170739eca8aaacc7ef47295198ddbc9daae320a9b509fa764663299aa1d.log";
const AGENT_FINGERPRINT: &str = "3f6a2c9d41b07e58a1c4f2d6b8e90357c1a2b3d4e5f60718293a4b5c6d7e8f90";

fn state(source: &str, offset: u64, ino: u64) -> FilebeatState {
    FilebeatState {
        source: PathBuf::from(source),
        offset,
        identity: FilebeatIdentity::Native(FileIdentity { dev: 66305, ino }),
    }
}

fn fixture_states() -> Vec<FilebeatState> {
    vec![
        state(API, 9731, 1835034),
        FilebeatState {
            source: PathBuf::from(AGENT),
            offset: 731,
            identity: FilebeatIdentity::Fingerprint(AGENT_FINGERPRINT.to_owned()),
        },
        state(WEB, 18342, 1835021),
        state(WORKER, 40960, 1835060),
    ]
}

/// A copy of the fixture's `data/registry`, to damage.
fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("filebeat");
    fs::create_dir(&home).unwrap();
    for entry in fs::read_dir(format!("{FIXTURE}/filebeat")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), home.join(entry.file_name())).unwrap();
    }
    dir
}

fn append(path: &Path, text: &str) {
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// A store directory with meta.json and `files`.
fn registry(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("meta.json"), r#"{"version":"1"}"#).unwrap();
    for (name, content) in files {
        fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn log_value(source: &str, offset: u64, ino: u64) -> String {
    format!(
        r#"{{"id":"native::{ino}-66305","prev_id":"","source":"{source}","offset":{offset},"timestamp":[2062586214157,1795504500],"ttl":-1,"type":"container","FileStateOS":{{"inode":{ino},"device":66305}},"identifier_name":"native"}}"#
    )
}

fn set(id: u64, key: &str, value: &str) -> String {
    format!("{{\"op\":\"set\",\"id\":{id}}}\n{{\"k\":\"{key}\",\"v\":{value}}}\n")
}

#[test]
fn the_fixture_imports_checkpoint_and_log_applied() {
    let import = read_filebeat_registry(Path::new(FIXTURE)).unwrap();
    assert_eq!(import.states, fixture_states());
    assert_eq!(import.skipped, Vec::<(String, String)>::new());
    assert_eq!(import.warnings, Vec::<String>::new());
}

#[test]
fn the_store_directory_itself_is_accepted_too() {
    let import = read_filebeat_registry(&Path::new(FIXTURE).join("filebeat")).unwrap();
    assert_eq!(import.states, fixture_states());
}

#[test]
fn a_torn_last_line_is_ignored_with_a_warning() {
    let dir = fixture_copy();
    let log = dir.path().join("filebeat/log.json");
    append(
        &log,
        "{\"op\":\"set\",\"id\":1789}\n{\"k\":\"filebeat::logs::native::1835021-66305\",\"v\":{\"id\":\"nat",
    );
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, fixture_states());
    assert_eq!(import.warnings.len(), 1);
    assert!(import.warnings[0].contains("log.json line 8"), "{import:?}");
    assert!(import.warnings[0].contains("torn"), "{import:?}");
}

#[test]
fn an_operation_cut_after_its_header_is_ignored_with_a_warning() {
    let dir = fixture_copy();
    append(
        &dir.path().join("filebeat/log.json"),
        "{\"op\":\"remove\",\"id\":1789}\n",
    );
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, fixture_states());
    assert!(import.warnings[0].contains("operation 1789 has no content"));
}

#[test]
fn damage_before_intact_lines_is_an_error_naming_file_and_line() {
    let dir = fixture_copy();
    let log = dir.path().join("filebeat/log.json");
    let text = fs::read_to_string(&log)
        .unwrap()
        .replacen("{\"op\":\"remove\"", "{\"op\":\x00", 1);
    fs::write(&log, text).unwrap();
    let e = read_filebeat_registry(dir.path()).unwrap_err();
    assert!(matches!(e, FilebeatError::Corrupt { line: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("filebeat/log.json line 3: "), "{e}");
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("data/registry");
    let e = read_filebeat_registry(&missing).unwrap_err();
    assert!(matches!(e, FilebeatError::NotFound { .. }));
    assert_eq!(
        e.to_string(),
        format!("Filebeat registry {} does not exist", missing.display())
    );
}

#[test]
fn a_directory_without_meta_json_is_not_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_filebeat_registry(dir.path()).unwrap_err();
    assert!(matches!(e, FilebeatError::NotARegistry { .. }), "{e}");
    assert!(e.to_string().contains("meta.json"), "{e}");
}

#[test]
fn another_store_version_is_refused() {
    let dir = registry(&[("meta.json", r#"{"version":"2"}"#)]);
    let e = read_filebeat_registry(dir.path()).unwrap_err();
    assert!(matches!(e, FilebeatError::UnsupportedVersion { .. }), "{e}");
}

#[test]
fn a_log_without_checkpoint_is_read_from_operation_1() {
    let log = set(1, "filebeat::logs::native::7-66305", &log_value(WEB, 10, 7))
        + &set(2, "filebeat::logs::native::7-66305", &log_value(WEB, 25, 7));
    let dir = registry(&[("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![state(WEB, 25, 7)]);
    assert!(import.warnings.is_empty(), "{import:?}");
}

#[test]
fn operations_the_checkpoint_includes_are_skipped() {
    let checkpoint = format!(
        "[\n{{\"_key\":\"filebeat::logs::native::7-66305\",{}\n]",
        &log_value(WEB, 50, 7)[1..]
    );
    let log = set(4, "filebeat::logs::native::7-66305", &log_value(WEB, 40, 7))
        + &set(5, "filebeat::logs::native::7-66305", &log_value(WEB, 60, 7));
    let dir = registry(&[("4.json", &checkpoint), ("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![state(WEB, 60, 7)]);
}

#[test]
fn replay_stops_at_a_gap_in_operation_ids_as_filebeat_does() {
    let log = set(1, "filebeat::logs::native::7-66305", &log_value(WEB, 10, 7))
        + &set(3, "filebeat::logs::native::7-66305", &log_value(WEB, 30, 7));
    let dir = registry(&[("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![state(WEB, 10, 7)]);
    assert!(import.warnings[0].contains("operation 3 does not follow operation 1"));
}

#[test]
fn the_newest_checkpoint_wins_over_a_stale_active_marker() {
    let old = format!(
        "[\n{{\"_key\":\"filebeat::logs::native::7-66305\",{}\n]",
        &log_value(WEB, 5, 7)[1..]
    );
    let new = old.replace("\"offset\":5,", "\"offset\":99,");
    let dir = registry(&[
        ("1700.json", &old),
        ("1785.json", &new),
        (
            "active.dat",
            "/usr/share/filebeat/data/registry/filebeat/1700.json",
        ),
    ]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![state(WEB, 99, 7)]);
    assert!(import.warnings[0].contains("names 1700.json, but the newest checkpoint is 1785.json"));
}

#[test]
fn a_corrupt_checkpoint_is_an_error_naming_file_and_line() {
    let dir = registry(&[("12.json", "[\n{\"_key\":\"a\",\"offset\":1},\n{\"_key\":")]);
    let e = read_filebeat_registry(dir.path()).unwrap_err();
    assert!(matches!(e, FilebeatError::Corrupt { line: 3, .. }), "{e:?}");
    assert!(e.to_string().contains("12.json line 3: "), "{e}");
}

#[test]
fn capitalised_field_names_are_read_as_go_reads_them() {
    let log = format!(
        "{{\"op\":\"set\", \"id\": 1}}\n{{\"K\":\"filebeat::logs::native::7-66305\",\"V\":{}}}\n",
        log_value(WEB, 10, 7)
    );
    let dir = registry(&[("log.json", &log)]);
    assert_eq!(
        read_filebeat_registry(dir.path()).unwrap().states,
        vec![state(WEB, 10, 7)]
    );
}

#[test]
fn states_that_say_nothing_of_an_inode_are_skipped_with_reasons() {
    let path_state = r#"{"source":"/var/log/a.log","offset":3,"ttl":-1,"identifier_name":"path","FileStateOS":{"inode":1,"device":2}}"#;
    let removed = log_value(WEB, 10, 8).replace("\"ttl\":-1", "\"ttl\":0");
    let unread = format!(
        r#"{{"ttl":1800000000000,"cursor":null,"meta":{{"source":"{API}","identifier_name":"native"}}}}"#
    );
    let mismatch = log_value(WEB, 10, 9);
    let log = set(1, "filebeat::logs::path::/var/log/a.log", path_state)
        + &set(2, "filebeat::logs::native::8-66305", &removed)
        + &set(3, "filestream::logs::native::10-66305", &unread)
        + &set(4, "filebeat::logs::native::11-66305", &mismatch)
        + &set(5, "journald::system::cursor", r#"{"cursor":"s=abc"}"#);
    let dir = registry(&[("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![]);
    let reasons: Vec<(&str, &str)> = import
        .skipped
        .iter()
        .map(|(k, r)| (k.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "filebeat::logs::native::11-66305",
                "FileStateOS says 9-66305, the key says 11-66305"
            ),
            (
                "filebeat::logs::native::8-66305",
                "marked for removal by Filebeat (ttl 0)"
            ),
            (
                "filebeat::logs::path::/var/log/a.log",
                "file identity \"path\" is neither native (inode and device) nor fingerprint, which loglynk can check a file against"
            ),
            (
                "filestream::logs::native::10-66305",
                "nothing acknowledged yet (the cursor is empty)"
            ),
            (
                "journald::system::cursor",
                "not a state of the log, container or filestream input"
            ),
        ]
    );
}

#[test]
fn a_log_state_with_meta_has_a_hash_before_its_identity() {
    let log = set(
        1,
        "filebeat::logs::9c2f1e0a7b3d5c4e-native::7-66305",
        &log_value(WEB, 10, 7),
    );
    let dir = registry(&[("log.json", &log)]);
    assert_eq!(
        read_filebeat_registry(dir.path()).unwrap().states,
        vec![state(WEB, 10, 7)]
    );
}

#[test]
fn two_states_of_one_file_keep_the_larger_offset() {
    let filestream = format!(
        r#"{{"ttl":1800000000000,"cursor":{{"offset":70}},"meta":{{"source":"{WEB}","identifier_name":"native"}}}}"#
    );
    let log = set(1, "filebeat::logs::native::7-66305", &log_value(WEB, 90, 7))
        + &set(
            2,
            "filestream::container-logs::native::7-66305",
            &filestream,
        );
    let dir = registry(&[("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(import.states, vec![state(WEB, 90, 7)]);
    assert!(
        import.warnings[0].contains("kept the larger offset, from filebeat::logs::native::7-66305")
    );
}

#[test]
fn filestream_states_by_fingerprint_are_read_and_odd_ones_skipped_with_why() {
    let value = |identifier: &str| {
        format!(
            r#"{{"ttl":1800000000000,"updated":[1,2],"cursor":{{"offset":99}},"meta":{{"source":"{WEB}","identifier_name":"{identifier}"}}}}"#
        )
    };
    let hash = "AB".repeat(32);
    let log = set(
        1,
        &format!("filestream::in::fingerprint::{hash}"),
        &value("fingerprint"),
    ) + &set(2, "filestream::in::fingerprint::abc", &value("fingerprint"))
        + &set(
            3,
            &format!("filestream::in::fingerprint::{}", "cd".repeat(32)),
            &value("native"),
        )
        + &set(4, "filestream::in::path::/var/log/x.log", &value("path"));
    let dir = registry(&[("log.json", &log)]);
    let import = read_filebeat_registry(dir.path()).unwrap();
    assert_eq!(
        import.states,
        [FilebeatState {
            source: PathBuf::from(WEB),
            offset: 99,
            identity: FilebeatIdentity::Fingerprint("ab".repeat(32)),
        }]
    );
    let reasons: Vec<&str> = import.skipped.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].contains("not a SHA-256"), "{reasons:?}");
    assert!(reasons[1].contains("disagrees with the key"), "{reasons:?}");
    assert!(reasons[2].contains("neither native"), "{reasons:?}");
}
