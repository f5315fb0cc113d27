//! Reading the registry of the Filebeat 8 this agent replaces (`loglynk registry import-filebeat PATH`),
//! so the switch resumes every file where Filebeat's acknowledged offset left it.
//!
//! The registry is only read, never changed: Filebeat may still be running, or be needed again.

mod memlog;
mod state;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::tail::FileIdentity;

/// Where Filebeat stopped in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilebeatState {
    /// The path Filebeat read it by (for containers, the /var/log/containers symlink).
    pub source: PathBuf,
    /// Acknowledged by Filebeat's output.
    pub offset: u64,
    pub identity: FilebeatIdentity,
}

/// How Filebeat knew the file: by inode and device, or by a hash of its first bytes (filestream's
/// `file_identity.fingerprint`), which the import checks against the file at `source`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilebeatIdentity {
    Native(FileIdentity),
    /// The lowercase hex SHA-256 of the file's first `FINGERPRINT_LENGTH` bytes (filestream's
    /// `prospector.scanner.fingerprint` with its default offset 0 and length 1024).
    Fingerprint(String),
}

impl std::fmt::Display for FilebeatIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilebeatIdentity::Native(id) => write!(f, "{}-{}", id.ino, id.dev),
            FilebeatIdentity::Fingerprint(hash) => write!(f, "fingerprint {hash}"),
        }
    }
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilebeatImport {
    /// One per file, sorted by source.
    pub states: Vec<FilebeatState>,
    /// Registry keys that were not imported, with why, sorted by key.
    pub skipped: Vec<(String, String)>,
    /// Damage or oddities that were worked around, as Filebeat would on its own start.
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum FilebeatError {
    #[error("Filebeat registry {} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error(
        "{} is not a Filebeat registry: neither it nor {}/filebeat holds meta.json",
        path.display(),
        path.display()
    )]
    NotARegistry { path: PathBuf },
    #[error("cannot read {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("{}: registry version {version:?} is not supported (expected \"1\", as Filebeat 8 writes)", path.display())]
    UnsupportedVersion { path: PathBuf, version: String },
    #[error("{} line {line}: {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

const META_FILE: &str = "meta.json";
const SUPPORTED_VERSION: &str = "1";

#[derive(Deserialize)]
struct Meta {
    version: String,
}

/// Reads the Filebeat registry at `path`: `data/registry`, or the store inside it,
/// `data/registry/filebeat`.
pub fn read_filebeat_registry(path: &Path) -> Result<FilebeatImport, FilebeatError> {
    let home = locate(path)?;
    check_meta(&home.join(META_FILE))?;
    let mut import = FilebeatImport::default();
    let table = memlog::load(&home, &mut import.warnings)?;
    Ok(import_table(table, import))
}

/// [`read_filebeat_registry`] over contents already read, for callers that have the bytes rather than
/// the directory (the fuzz targets): `meta.json`, the newest checkpoint (`<id>.json`) and `log.json` of
/// the store directory `home`, which only names the files in errors and warnings.
pub fn parse_filebeat_registry(
    home: &Path,
    meta: &[u8],
    checkpoint: Option<(u64, &[u8])>,
    log: Option<&[u8]>,
) -> Result<FilebeatImport, FilebeatError> {
    parse_meta(&home.join(META_FILE), meta)?;
    let mut import = FilebeatImport::default();
    let checkpoint_path = checkpoint.map(|(id, _)| home.join(format!("{id}.json")));
    let checkpoint = checkpoint_path
        .as_deref()
        .zip(checkpoint)
        .map(|(path, (id, bytes))| (path, id, bytes));
    let table = memlog::parse(home, checkpoint, log, &mut import.warnings)?;
    Ok(import_table(table, import))
}

/// The file states among the store's keys, one per file.
fn import_table(table: memlog::Table, mut import: FilebeatImport) -> FilebeatImport {
    let mut by_identity: HashMap<FilebeatIdentity, (String, FilebeatState)> = HashMap::new();
    for (key, value) in table {
        let state = match state::convert(&key, &value) {
            Ok(state) => state,
            Err(reason) => {
                import.skipped.push((key, reason));
                continue;
            }
        };
        match by_identity.get(&state.identity).cloned() {
            // Two inputs read the same file: each acknowledged its offset, so the larger one
            // re-ships nothing either input had not delivered.
            Some((kept, previous)) => {
                let (kept, winner) = if state.offset > previous.offset {
                    (key.clone(), state)
                } else {
                    (kept, previous)
                };
                import.warnings.push(format!(
                    "{key} is the same file ({}) as another state; kept the larger offset, \
                     from {kept}",
                    winner.identity
                ));
                by_identity.insert(winner.identity.clone(), (kept, winner));
            }
            None => {
                by_identity.insert(state.identity.clone(), (key, state));
            }
        }
    }
    import.states = by_identity.into_values().map(|(_, state)| state).collect();
    import
        .states
        .sort_by(|a, b| (&a.source, &a.identity).cmp(&(&b.source, &b.identity)));
    import
}

/// The store directory: `path/filebeat` when `path` is `data/registry`, else `path` itself.
fn locate(path: &Path) -> Result<PathBuf, FilebeatError> {
    let has_meta = |dir: &Path| {
        let meta = dir.join(META_FILE);
        meta.try_exists()
            .map_err(|cause| FilebeatError::Read { path: meta, cause })
    };
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(FilebeatError::NotARegistry {
                path: path.to_owned(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(FilebeatError::NotFound {
                path: path.to_owned(),
            })
        }
        Err(cause) => {
            return Err(FilebeatError::Read {
                path: path.to_owned(),
                cause,
            })
        }
    }
    let nested = path.join("filebeat");
    if has_meta(&nested)? {
        Ok(nested)
    } else if has_meta(path)? {
        Ok(path.to_owned())
    } else {
        Err(FilebeatError::NotARegistry {
            path: path.to_owned(),
        })
    }
}

fn check_meta(path: &Path) -> Result<(), FilebeatError> {
    let bytes = fs::read(path).map_err(|cause| FilebeatError::Read {
        path: path.to_owned(),
        cause,
    })?;
    parse_meta(path, &bytes)
}

fn parse_meta(path: &Path, bytes: &[u8]) -> Result<(), FilebeatError> {
    let meta: Meta = serde_json::from_slice(bytes).map_err(|e| FilebeatError::Corrupt {
        path: path.to_owned(),
        line: e.line(),
        reason: memlog::json_reason(&e),
    })?;
    if meta.version != SUPPORTED_VERSION {
        return Err(FilebeatError::UnsupportedVersion {
            path: path.to_owned(),
            version: meta.version,
        });
    }
    Ok(())
}
