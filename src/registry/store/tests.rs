//! The store against the fixtures in fixtures/registry: good files load, damaged ones are set aside
//! untouched, and saving is atomic.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/registry/");

fn fixture(name: &str) -> Vec<u8> {
    fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn entry(path: &str, target: &str, ino: u64, offset: u64) -> Entry {
    Entry {
        identity: FileIdentity { dev: 66305, ino },
        fingerprint: Fingerprint {
            len: 1024,
            crc: 0x9e3779b9 ^ (ino as u32),
        },
        path: PathBuf::from(path),
        target: PathBuf::from(target),
        offset,
        updated: 1_795_504_500,
    }
}

/// What fixtures/registry/valid-v1.json holds, in the writer's order.
fn sample() -> Snapshot {
    Snapshot {
        agent_id: Some("5b0e7a52-3c1f-4b8e-9d27-61f0a4c2e8d3".to_owned()),
        entries: vec![
            entry(
                "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-55a8077da02a3d8ffb9ac430ec0067ea92ec7cc42c07b73c2f04925fc680deda.log",
                "/var/log/pods/shop_api-5c8d9f7b6-k8s2p_5f0e2a7d-1b3c-4d5e-8f90-a1b2c3d4e5f6/api/0.log",
                1835034,
                9731,
            ),
            entry(
                "/var/log/containers/web-7d9f8b6c5-x2x4q_shop_nginx-cc61b52e867a19f36f76bd81500cb14d883a2b1d50ec81ef5c6875545d06ab04.log",
                "/var/log/pods/shop_web-7d9f8b6c5-x2x4q_0b6f3c1e-8d2a-4c39-9a51-3f1d2e7c8b90/nginx/0.log",
                1835021,
                18342,
            ),
            entry(
                "/var/log/containers/worker-0_payments_worker-9919c56d6727d2a38eb911f7b02fbde93fdf51e8789caba29cd3be787f96991d.log",
                "/var/log/pods/payments_worker-0_9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d/worker/3.log",
                1835060,
                40960,
            ),
        ],
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("state")).unwrap();
    (dir, store)
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_missing_registry_is_empty() {
    let (_dir, store) = store();
    assert_eq!(store.load().unwrap(), Loaded::default());
}

#[test]
fn save_then_load_gives_the_snapshot_back_sorted() {
    let (_dir, store) = store();
    let mut shuffled = sample();
    shuffled.entries.reverse();
    store.save(&shuffled).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.snapshot, sample());
    assert_eq!(loaded.recovered_from, None);
    assert_eq!(loaded.reason, None);
}

#[test]
fn the_writer_is_deterministic_and_matches_the_fixture() {
    let written = format::encode(&sample()).unwrap();
    assert_eq!(
        String::from_utf8(written).unwrap(),
        String::from_utf8(fixture("valid-v1.json")).unwrap()
    );
}

#[test]
fn the_valid_fixture_loads() {
    let (_dir, store) = store();
    fs::write(store.path(), fixture("valid-v1.json")).unwrap();
    assert_eq!(store.load().unwrap().snapshot, sample());
}

#[test]
fn a_registry_without_agent_id_or_entries_round_trips() {
    let (_dir, store) = store();
    store.save(&Snapshot::default()).unwrap();
    assert_eq!(store.load().unwrap().snapshot, Snapshot::default());
}

#[test]
fn paths_that_are_not_utf8_round_trip() {
    let (_dir, store) = store();
    let mut snapshot = sample();
    snapshot.entries[0].path = PathBuf::from(OsString::from_vec(b"/var/log/x\xff.log".to_vec()));
    store.save(&snapshot).unwrap();
    assert_eq!(store.load().unwrap().snapshot.entries, {
        let mut expected = snapshot.entries.clone();
        expected.sort_by(|a, b| a.path.cmp(&b.path));
        expected
    });
}

#[test]
fn fields_added_by_a_compatible_writer_are_ignored() {
    let (_dir, store) = store();
    let text = String::from_utf8(fixture("valid-v1.json")).unwrap();
    let extended = text.replacen(
        "{\"version\":1,",
        "{\"version\":1,\"written_by\":\"9.9\",",
        1,
    );
    fs::write(store.path(), extended).unwrap();
    assert_eq!(store.load().unwrap().snapshot, sample());
}

/// Loads `bytes` as the registry: it must come back empty with the file set aside, byte for byte.
fn assert_set_aside(bytes: &[u8], reason_has: &str) {
    let (_dir, store) = store();
    fs::write(store.path(), bytes).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.snapshot, Snapshot::default());
    let reason = loaded.reason.unwrap();
    assert!(
        reason.contains(reason_has),
        "{reason:?} lacks {reason_has:?}"
    );
    let aside = loaded.recovered_from.unwrap();
    assert_eq!(aside.parent(), store.path().parent());
    let name = aside.file_name().unwrap().to_str().unwrap();
    let stamp = name.strip_prefix(CORRUPT_PREFIX).unwrap();
    assert_eq!(stamp.len(), "20261124T071500Z".len(), "{name}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{name}"
    );
    assert_eq!(fs::read(&aside).unwrap(), bytes);
    assert!(!store.path().exists());

    store.save(&sample()).unwrap();
    let reloaded = store.load().unwrap();
    assert_eq!(reloaded.snapshot, sample());
    assert_eq!(reloaded.recovered_from, None);
}

#[test]
fn a_truncated_registry_is_set_aside() {
    assert_set_aside(&fixture("truncated.json"), "not a valid registry document");
}

#[test]
fn a_hand_edited_offset_fails_the_checksum() {
    assert_set_aside(&fixture("bad-crc.json"), "checksum mismatch");
}

#[test]
fn binary_garbage_is_set_aside() {
    assert_set_aside(&fixture("not-json.json"), "not a valid registry document");
}

#[test]
fn a_registry_from_a_newer_version_is_set_aside() {
    assert_set_aside(
        &fixture("future-version.json"),
        "unknown registry version 99 (written by a newer loglynk?)",
    );
}

#[test]
fn an_empty_registry_is_set_aside() {
    assert_set_aside(&fixture("empty.json"), "empty");
}

#[test]
fn a_registry_missing_an_entry_fails_the_checksum_though_it_is_valid_json() {
    let text = String::from_utf8(fixture("valid-v1.json")).unwrap();
    let first_entry_end = text.find("},{\"identity\"").unwrap() + 2;
    let files_start = text.find("\"files\":[").unwrap() + "\"files\":[".len();
    let dropped = format!("{}{}", &text[..files_start], &text[first_entry_end..]);
    serde_json::from_str::<Value>(&dropped).unwrap();
    assert_set_aside(dropped.as_bytes(), "checksum mismatch");
}

#[test]
fn wrong_shapes_are_set_aside() {
    assert_set_aside(b"[1,2,3]", "not a valid registry document");
    assert_set_aside(b"{\"files\":[]}", "no registry version");
    assert_set_aside(b"{\"version\":\"1\"}", "is not a version number");
    assert_set_aside(b"{\"version\":1,\"files\":[]}", "missing field `crc`");
    let files = "[{\"offset\":1}]";
    let crc = crc32fast::hash(files.as_bytes());
    assert_set_aside(
        format!("{{\"version\":1,\"files\":{files},\"crc\":{crc}}}").as_bytes(),
        "files: missing field",
    );
}

#[test]
fn two_corrupt_registries_in_one_second_keep_both() {
    let (_dir, store) = store();
    fs::write(store.path(), b"first").unwrap();
    let first = store.load().unwrap().recovered_from.unwrap();
    fs::write(store.path(), b"second").unwrap();
    let second = store.load().unwrap().recovered_from.unwrap();
    assert_ne!(first, second);
    assert_eq!(fs::read(first).unwrap(), b"first");
    assert_eq!(fs::read(second).unwrap(), b"second");
}

#[test]
fn a_created_state_dir_is_0700_and_the_registry_0600() {
    let (_dir, store) = store();
    assert_eq!(mode(store.path().parent().unwrap()), 0o700);
    store.save(&sample()).unwrap();
    assert_eq!(mode(store.path()), 0o600);
}

#[test]
fn an_existing_state_dir_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o750)).unwrap();
    Store::open(dir.path()).unwrap();
    assert_eq!(mode(dir.path()), 0o750);
}

#[test]
fn a_state_dir_that_is_a_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state");
    fs::write(&file, b"").unwrap();
    let e = Store::open(&file).unwrap_err();
    assert!(matches!(e, RegistryError::CreateDir { .. }), "{e}");
    assert!(e.to_string().contains("state"), "{e}");
}

#[test]
fn a_leftover_tmp_from_a_crash_is_ignored_then_replaced() {
    let (_dir, store) = store();
    store.save(&sample()).unwrap();
    let tmp = store.path().with_file_name(TMP_NAME);
    fs::write(&tmp, b"{\"version\":1,\"files\":[").unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).unwrap();

    assert_eq!(store.load().unwrap().snapshot, sample());
    let mut next = sample();
    next.entries[0].offset += 100;
    store.save(&next).unwrap();
    assert!(!tmp.exists());
    assert_eq!(mode(store.path()), 0o600);
    assert_eq!(store.load().unwrap().snapshot, next);
}

#[test]
fn a_failed_save_leaves_the_old_registry_whole() {
    let (_dir, store) = store();
    store.save(&sample()).unwrap();
    let before = fs::read(store.path()).unwrap();
    let tmp = store.path().with_file_name(TMP_NAME);
    fs::create_dir(&tmp).unwrap();
    fs::write(tmp.join("blocker"), b"").unwrap();

    let e = store.save(&Snapshot::default()).unwrap_err();
    assert!(matches!(e, RegistryError::Write { .. }), "{e}");
    assert!(e.to_string().contains(TMP_NAME), "{e}");
    assert_eq!(fs::read(store.path()).unwrap(), before);
    assert_eq!(store.load().unwrap().snapshot, sample());
}

#[test]
fn an_unreadable_registry_is_an_error_not_a_recovery() {
    let (_dir, store) = store();
    fs::create_dir(store.path()).unwrap();
    let e = store.load().unwrap_err();
    assert!(matches!(e, RegistryError::Read { .. }), "{e}");
    assert!(store.path().is_dir());
}
