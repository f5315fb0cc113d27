//! The bytes of `registry.json`: a versioned JSON document whose entries carry a checksum.
//!
//! `{"version":1,"agent_id":"…","files":[…],"crc":N}`, where `crc` is the CRC32 of the `files` array
//! exactly as written. JSON alone cannot tell a file cut short at an element boundary, or with a flipped
//! digit in an offset, from a good one; resuming from either would skip or repeat logs without a trace.
//!
//! The version is read first and dispatched on, so an incompatible change adds a variant and old files
//! stay readable; a file from a newer build is refused rather than half understood. Additions that older
//! builds may ignore need no new version: unknown fields are skipped, and the checksum covers the bytes
//! as written, not this build's idea of them.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::{Entry, Snapshot};

/// The version this build writes.
const CURRENT: u64 = 1;

/// The formats this build reads.
enum Version {
    V1,
}

impl Version {
    fn of(number: u64) -> Option<Version> {
        match number {
            1 => Some(Version::V1),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    version: Value,
}

#[derive(Serialize)]
struct WriteV1<'a> {
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<&'a str>,
    files: &'a RawValue,
    crc: u32,
}

#[derive(Deserialize)]
struct ReadV1<'a> {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(borrow)]
    files: &'a RawValue,
    crc: u32,
}

/// The document for `snapshot`, entries sorted by path then identity so that equal snapshots give equal
/// bytes (diffable, and no spurious rewrites).
pub(super) fn encode(snapshot: &Snapshot) -> serde_json::Result<Vec<u8>> {
    let mut files: Vec<&Entry> = snapshot.entries.iter().collect();
    files.sort_by(|a, b| {
        (&a.path, a.identity.dev, a.identity.ino).cmp(&(&b.path, b.identity.dev, b.identity.ino))
    });
    let files = serde_json::value::to_raw_value(&files)?;
    let mut bytes = serde_json::to_vec(&WriteV1 {
        version: CURRENT,
        agent_id: snapshot.agent_id.as_deref(),
        crc: crc32fast::hash(files.get().as_bytes()),
        files: &files,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The snapshot in `bytes`, or why they are not a registry this build can trust.
pub(super) fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|e| format!("not a valid registry document: {e}"))?;
    let number = match probe.version {
        Value::Null => return Err("the document has no registry version".to_owned()),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("registry version {n} is not a version number"))?,
        other => return Err(format!("registry version {other} is not a version number")),
    };
    match Version::of(number) {
        Some(Version::V1) => decode_v1(bytes),
        None => Err(format!(
            "unknown registry version {number} (written by a newer loglynk?)"
        )),
    }
}

fn decode_v1(bytes: &[u8]) -> Result<Snapshot, String> {
    let doc: ReadV1 = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a valid version 1 registry: {e}"))?;
    let actual = crc32fast::hash(doc.files.get().as_bytes());
    if actual != doc.crc {
        return Err(format!(
            "checksum mismatch: the file says {:08x}, its entries hash to {actual:08x}",
            doc.crc
        ));
    }
    let entries: Vec<Entry> = serde_json::from_str(doc.files.get())
        .map_err(|e| format!("not a valid version 1 registry: files: {e}"))?;
    Ok(Snapshot {
        agent_id: doc.agent_id,
        entries,
    })
}
