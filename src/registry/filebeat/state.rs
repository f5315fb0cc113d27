//! One Filebeat registry state, turned into a file identity and an acknowledged offset.
//!
//! Two key shapes hold file offsets:
//! - log and container inputs: `filebeat::logs::[<meta hash>-]native::<inode>-<device>`, with the value
//!   `{"source", "offset", "FileStateOS": {"inode", "device"}, "identifier_name", "ttl", …}`;
//! - filestream: `filestream::<input id>::<identifier>::<file id>`, with the value
//!   `{"cursor": {"offset"}, "meta": {"source", "identifier_name"}, "ttl", "updated"}`, where the
//!   identifier is `native` (the file id is `<inode>-<device>`) or `fingerprint` (the file id is the
//!   hex SHA-256 of the file's first bytes; the import checks it against the file at `source`).
//!
//! `path` and `inode_marker` states say nothing loglynk can check a file against, and are skipped with
//! that reason.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{FilebeatIdentity, FilebeatState};
use crate::tail::FileIdentity;

const LOG_PREFIX: &str = "filebeat::logs::";
const FILESTREAM_PREFIX: &str = "filestream::";
const NATIVE: &str = "native";
const FINGERPRINT: &str = "fingerprint";

/// The state under `key`, or why it cannot be imported.
pub(super) fn convert(key: &str, value: &Map<String, Value>) -> Result<FilebeatState, String> {
    // A TTL of 0 is Filebeat's mark for a state its cleaner is about to drop.
    if value.get("ttl").and_then(Value::as_i64) == Some(0) {
        return Err("marked for removal by Filebeat (ttl 0)".to_owned());
    }
    if let Some(id) = key.strip_prefix(LOG_PREFIX) {
        log_state(id, value)
    } else if let Some(rest) = key.strip_prefix(FILESTREAM_PREFIX) {
        filestream_state(rest, value)
    } else {
        Err("not a state of the log, container or filestream input".to_owned())
    }
}

fn log_state(id: &str, value: &Map<String, Value>) -> Result<FilebeatState, String> {
    check_identifier(value.get("identifier_name"), NATIVE)?;
    // The id carries a hash of the input's meta, when it has one, before the identity.
    let native = id
        .strip_prefix("native::")
        .or_else(|| {
            let (hash, rest) = id.split_once('-')?;
            let hex = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit());
            rest.strip_prefix("native::").filter(|_| hex)
        })
        .ok_or_else(|| unsupported(id.split("::").next().unwrap_or(id)))?;
    let from_key = parse_identity(native)?;
    let identity = match value.get("FileStateOS") {
        None => from_key,
        Some(os) => {
            let number = |name| os.get(name).and_then(Value::as_u64);
            let (Some(ino), Some(dev)) = (number("inode"), number("device")) else {
                return Err("FileStateOS has no inode and device".to_owned());
            };
            let from_value = FileIdentity { dev, ino };
            if from_value != from_key {
                return Err(format!(
                    "FileStateOS says {ino}-{dev}, the key says {}-{}",
                    from_key.ino, from_key.dev
                ));
            }
            from_value
        }
    };
    Ok(FilebeatState {
        source: source(value.get("source"))?,
        offset: offset(value.get("offset"))?,
        identity: FilebeatIdentity::Native(identity),
    })
}

fn filestream_state(rest: &str, value: &Map<String, Value>) -> Result<FilebeatState, String> {
    let meta = value.get("meta");
    // `<input id>::<identifier>::<file id>`; an input id may itself contain `::`, a file id not.
    let (prefix, file_id) = rest
        .rsplit_once("::")
        .ok_or("the key has no file identity")?;
    let identifier = prefix.rsplit_once("::").map_or(prefix, |(_, name)| name);
    let identity = match identifier {
        NATIVE => {
            check_identifier(meta.and_then(|m| m.get("identifier_name")), NATIVE)?;
            FilebeatIdentity::Native(parse_identity(file_id)?)
        }
        FINGERPRINT => {
            check_identifier(meta.and_then(|m| m.get("identifier_name")), FINGERPRINT)?;
            FilebeatIdentity::Fingerprint(parse_fingerprint(file_id)?)
        }
        other => return Err(unsupported(other)),
    };
    let offset = match value.get("cursor") {
        None | Some(Value::Null) => {
            return Err("nothing acknowledged yet (the cursor is empty)".to_owned())
        }
        Some(cursor) => offset(cursor.get("offset"))?,
    };
    Ok(FilebeatState {
        source: source(meta.and_then(|m| m.get("source")))?,
        offset,
        identity,
    })
}

/// A SHA-256 in hex, as filestream's fingerprint identity writes it (64 lowercase digits).
fn parse_fingerprint(text: &str) -> Result<String, String> {
    let hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    if hex {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!(
            "fingerprint {text:?} is not a SHA-256 in hex (a growing fingerprint of a file shorter \
             than the fingerprint length is not importable; loglynk reads such a file from its start)"
        ))
    }
}

/// `identifier_name`, when the value has one, must agree with the identity the key was made by.
fn check_identifier(name: Option<&Value>, expected: &str) -> Result<(), String> {
    match name {
        None => Ok(()),
        Some(Value::String(name)) if name == expected => Ok(()),
        Some(Value::String(name)) if name == NATIVE || name == FINGERPRINT => Err(format!(
            "identifier_name {name:?} disagrees with the key's {expected:?}"
        )),
        Some(Value::String(name)) => Err(unsupported(name)),
        Some(other) => Err(format!("identifier_name {other} is not a name")),
    }
}

fn unsupported(identifier: &str) -> String {
    format!(
        "file identity {identifier:?} is neither native (inode and device) nor fingerprint, which \
         loglynk can check a file against"
    )
}

/// `<inode>-<device>`.
fn parse_identity(text: &str) -> Result<FileIdentity, String> {
    let parsed = text.split_once('-').and_then(|(ino, dev)| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(ino) && digits(dev) {
            Some(FileIdentity {
                ino: ino.parse().ok()?,
                dev: dev.parse().ok()?,
            })
        } else {
            None
        }
    });
    parsed.ok_or_else(|| format!("{text:?} is not an inode-device pair"))
}

fn source(value: Option<&Value>) -> Result<PathBuf, String> {
    match value {
        Some(Value::String(path)) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err("no source path".to_owned()),
    }
}

fn offset(value: Option<&Value>) -> Result<u64, String> {
    match value {
        None | Some(Value::Null) => Err("no offset".to_owned()),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("offset {n} is not a byte position")),
        Some(other) => Err(format!("offset {other} is not a number")),
    }
}
