//! The Filebeat registry import over the contents of its files: states or an error, never a panic; the
//! states are one per file, sorted, and the skipped keys sorted.
//!
//! Input: `<options byte><checkpoint id, decimal>\0<checkpoint>\0<log.json>\0<meta.json>`. Options:
//! bit 0 no checkpoint, bit 1 no log.json, bit 2 meta.json from the input (else a valid one).

#![no_main]

use std::collections::HashSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use loglynk::registry::parse_filebeat_registry;

fuzz_target!(|data: &[u8]| {
    let [options, rest @ ..] = data else {
        return;
    };
    let mut parts = rest.splitn(4, |&b| b == 0);
    let id = std::str::from_utf8(parts.next().unwrap_or_default())
        .ok()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    let checkpoint = parts.next().unwrap_or_default();
    let log = parts.next().unwrap_or_default();
    let meta = parts.next().unwrap_or_default();
    let checkpoint = (options & 1 == 0).then_some((id, checkpoint));
    let log = (options & 2 == 0).then_some(log);
    let meta = if options & 4 == 0 {
        &br#"{"version":"1"}"#[..]
    } else {
        meta
    };
    let home = Path::new("/usr/share/filebeat/data/registry/filebeat");
    let Ok(import) = parse_filebeat_registry(home, meta, checkpoint, log) else {
        return;
    };
    let mut identities = HashSet::new();
    for state in &import.states {
        assert!(identities.insert(state.identity.clone()), "one state per file");
        assert!(!state.source.as_os_str().is_empty());
    }
    assert!(import.states.windows(2).all(|w| {
        (&w[0].source, &w[0].identity) <= (&w[1].source, &w[1].identity)
    }));
    assert!(import.skipped.windows(2).all(|w| w[0].0 < w[1].0));
});
