//! Filebeat's key-value store on disk (libbeat statestore, "memlog" backend), read as Filebeat reads it
//! when it starts: the newest checkpoint, then the operations logged since.
//!
//! - `<N>.json`: a checkpoint, a JSON array of `{"_key": K, …value fields}`; N is the id of the last
//!   operation it includes. Filebeat takes the highest N among regular files and does not consult
//!   `active.dat` (a marker written after the checkpoint, so it can lag after a crash).
//! - `log.json`: operations appended after that checkpoint, two lines each: `{"op":"set","id":N}` then
//!   `{"k":K,"v":{…}}`, or `{"op":"remove","id":N}` then `{"k":K}`. Ids at or below the checkpoint's are
//!   leftovers of a truncation that did not happen; the others must follow one another, and Filebeat
//!   stops replaying at the first that does not.
//!
//! Field names are matched without regard to case, as Go's decoder does (Filebeat's own test data
//! writes `K` and `V`).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::FilebeatError;

/// Every key and its value fields, in key order.
pub(super) type Table = BTreeMap<String, Map<String, Value>>;

const LOG_FILE: &str = "log.json";
const ACTIVE_MARKER: &str = "active.dat";
const KEY_FIELD: &str = "_key";

/// The store in `home` as Filebeat would resume with it. Oddities Filebeat recovers from are `warnings`.
pub(super) fn load(home: &Path, warnings: &mut Vec<String>) -> Result<Table, FilebeatError> {
    let checkpoint = newest_checkpoint(home)?;
    check_active_marker(home, checkpoint.as_ref(), warnings)?;
    let checkpoint = match checkpoint {
        Some((path, id)) => {
            let bytes = fs::read(&path).map_err(read_error(&path))?;
            Some((path, id, bytes))
        }
        None => None,
    };
    let log_path = home.join(LOG_FILE);
    let log = match fs::read(&log_path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(cause) => return Err(read_error(&log_path)(cause)),
    };
    let checkpoint = checkpoint
        .as_ref()
        .map(|(path, id, bytes)| (path.as_path(), *id, &bytes[..]));
    parse(home, checkpoint, log.as_deref(), warnings)
}

/// The store from the contents of its newest checkpoint (path, id, bytes) and of `log.json`, when they
/// exist. `home` and the checkpoint's path only name the files in errors and warnings.
pub(super) fn parse(
    home: &Path,
    checkpoint: Option<(&Path, u64, &[u8])>,
    log: Option<&[u8]>,
    warnings: &mut Vec<String>,
) -> Result<Table, FilebeatError> {
    let mut table = Table::new();
    let mut txid = 0;
    if let Some((path, id, bytes)) = checkpoint {
        read_checkpoint(path, bytes, &mut table, warnings)?;
        txid = id;
    }
    if let Some(bytes) = log {
        replay_log(&home.join(LOG_FILE), bytes, txid, &mut table, warnings)?;
    }
    Ok(table)
}

/// Whether id `a` comes no later than `b`, allowing for the counter wrapping as Filebeat does.
fn is_txid_less_equal(a: u64, b: u64) -> bool {
    a == b || a.wrapping_sub(b) >= 1 << 63
}

fn read_error(path: &Path) -> impl FnOnce(io::Error) -> FilebeatError + '_ {
    move |cause| FilebeatError::Read {
        path: path.to_owned(),
        cause,
    }
}

fn corrupt(path: &Path, line: usize, reason: String) -> FilebeatError {
    FilebeatError::Corrupt {
        path: path.to_owned(),
        line,
        reason,
    }
}

/// serde_json's message without its position, which the error reports as a line of its own.
pub(super) fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    format!("{message} (column {})", e.column())
}

fn newest_checkpoint(home: &Path) -> Result<Option<(PathBuf, u64)>, FilebeatError> {
    let mut newest: Option<(PathBuf, u64)> = None;
    for entry in fs::read_dir(home).map_err(read_error(home))? {
        let entry = entry.map_err(read_error(home))?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".json"))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        // As Filebeat: only regular files, symlinks not followed.
        if !entry.file_type().map_err(read_error(home))?.is_file() {
            continue;
        }
        if newest
            .as_ref()
            .is_none_or(|&(_, best)| !is_txid_less_equal(id, best))
        {
            newest = Some((entry.path(), id));
        }
    }
    Ok(newest)
}

fn check_active_marker(
    home: &Path,
    checkpoint: Option<&(PathBuf, u64)>,
    warnings: &mut Vec<String>,
) -> Result<(), FilebeatError> {
    let path = home.join(ACTIVE_MARKER);
    let marker = match fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(cause) => return Err(FilebeatError::Read { path, cause }),
    };
    // The marker holds the path as Filebeat saw it, often inside its container: compare names only.
    let named = Path::new(&marker).file_name();
    let newest = checkpoint.and_then(|(p, _)| p.file_name());
    match (named, newest) {
        (Some(named), Some(newest)) if named != newest => warnings.push(format!(
            "{} names {}, but the newest checkpoint is {}; Filebeat resumes from the newest, and so \
             does this import",
            path.display(),
            named.to_string_lossy(),
            newest.to_string_lossy()
        )),
        (Some(named), None) => warnings.push(format!(
            "{} names checkpoint {}, which is missing; only {LOG_FILE} was read",
            path.display(),
            named.to_string_lossy()
        )),
        _ => {}
    }
    Ok(())
}

fn read_checkpoint(
    path: &Path,
    bytes: &[u8],
    table: &mut Table,
    warnings: &mut Vec<String>,
) -> Result<(), FilebeatError> {
    let states: Vec<Map<String, Value>> =
        serde_json::from_slice(bytes).map_err(|e| corrupt(path, e.line(), json_reason(&e)))?;
    for (index, mut state) in states.into_iter().enumerate() {
        match state.remove(KEY_FIELD) {
            Some(Value::String(key)) => {
                table.insert(key, state);
            }
            // Filebeat skips these without a word; say so, since a state goes missing.
            _ => warnings.push(format!(
                "{}: state number {} has no {KEY_FIELD}; skipped, as Filebeat does",
                path.display(),
                index + 1
            )),
        }
    }
    Ok(())
}

enum Op {
    Set(String, Map<String, Value>),
    Remove(String),
}

fn replay_log(
    path: &Path,
    bytes: &[u8],
    mut txid: u64,
    table: &mut Table,
    warnings: &mut Vec<String>,
) -> Result<(), FilebeatError> {
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    // A crash can only tear what Filebeat appended last; damage with intact lines after it is not a
    // crash, and guessing past it could resurrect removed states.
    let fail = |at: usize, reason: String, warnings: &mut Vec<String>| {
        let line = lines[at].0;
        if at + 1 == lines.len() {
            warnings.push(format!(
                "{} line {line}: {reason}; ignored as a write torn by a crash",
                path.display()
            ));
            Ok(())
        } else {
            Err(corrupt(path, line, reason))
        }
    };
    let mut at = 0;
    while at < lines.len() {
        let (line, action) = lines[at];
        let (name, id) = match parse_action(action) {
            Ok(action) => action,
            Err(reason) => return fail(at, reason, warnings),
        };
        let Some(&(_, body)) = lines.get(at + 1) else {
            warnings.push(format!(
                "{} line {line}: operation {id} has no content; ignored as a write torn by a crash",
                path.display()
            ));
            return Ok(());
        };
        let op = match parse_op(&name, body) {
            Ok(op) => op,
            Err(reason) => return fail(at + 1, reason, warnings),
        };
        at += 2;
        if is_txid_less_equal(id, txid) {
            continue;
        }
        if id != txid.wrapping_add(1) {
            warnings.push(format!(
                "{} line {line}: operation {id} does not follow operation {txid}; Filebeat stops \
                 replaying there, and so does this import",
                path.display()
            ));
            return Ok(());
        }
        txid = id;
        match op {
            Op::Set(key, value) => {
                table.insert(key, value);
            }
            Op::Remove(key) => {
                table.remove(&key);
            }
        }
    }
    Ok(())
}

/// `name`'s value, preferring an exact match as Go's decoder does.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn parse_object(line: &[u8]) -> Result<Map<String, Value>, String> {
    serde_json::from_slice(line).map_err(|e| json_reason(&e))
}

fn parse_action(line: &[u8]) -> Result<(String, u64), String> {
    let action = parse_object(line)?;
    let name = field(&action, "op").and_then(Value::as_str);
    let id = field(&action, "id").and_then(Value::as_u64);
    match (name, id) {
        (Some(name), Some(id)) => Ok((name.to_owned(), id)),
        _ => Err("expected an operation header {\"op\":…,\"id\":…}".to_owned()),
    }
}

fn parse_op(name: &str, line: &[u8]) -> Result<Op, String> {
    let body = parse_object(line)?;
    let key = match field(&body, "k") {
        Some(Value::String(key)) => key.clone(),
        _ => return Err(format!("the {name} operation has no key")),
    };
    match name {
        "set" => match field(&body, "v") {
            Some(Value::Object(value)) => Ok(Op::Set(key, value.clone())),
            // Go decodes null into an empty map.
            Some(Value::Null) => Ok(Op::Set(key, Map::new())),
            _ => Err(format!("the set operation on {key} has no object value")),
        },
        "remove" => Ok(Op::Remove(key)),
        other => Err(format!("unknown operation {other:?}")),
    }
}
