//! The registry store's reading of `registry.json` bytes: a snapshot or a reason, never a panic; and a
//! snapshot it reads is written back to bytes that read as the same snapshot.
//!
//! The checksum keeps almost every mutation from reaching the entries, so the input is also tried as
//! the `files` array of a document whose checksum matches.

#![no_main]

use libfuzzer_sys::fuzz_target;
use loglynk::registry::{Entry, Snapshot};

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(files) = std::str::from_utf8(data) {
        let files = files.trim_matches([' ', '\t', '\n', '\r']);
        let crc = crc32fast::hash(files.as_bytes());
        let agent = if data.len().is_multiple_of(2) {
            r#""agent_id":"a","#
        } else {
            ""
        };
        check(format!(r#"{{"version":1,{agent}"files":{files},"crc":{crc}}}"#).as_bytes());
    }
});

fn check(bytes: &[u8]) {
    let Ok(snapshot) = Snapshot::decode(bytes) else {
        return;
    };
    let encoded = snapshot.encode().expect("a decoded snapshot encodes");
    let again = Snapshot::decode(&encoded).unwrap_or_else(|e| {
        panic!(
            "what encode wrote does not decode ({e}): {}",
            String::from_utf8_lossy(&encoded)
        )
    });
    assert_eq!(again.agent_id, snapshot.agent_id);
    // Written in (path, device, inode) order, otherwise the same entries.
    let mut entries = snapshot.entries;
    entries.sort_by(|a: &Entry, b: &Entry| {
        (&a.path, a.identity.dev, a.identity.ino).cmp(&(&b.path, b.identity.dev, b.identity.ino))
    });
    assert_eq!(again.entries, entries);
    assert_eq!(
        again.encode().expect("encodes"),
        encoded,
        "encoding is stable"
    );
}
