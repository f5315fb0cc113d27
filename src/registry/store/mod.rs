//! The on-disk registry: `registry.json` in the state directory, replaced whole on every save.

mod format;
#[cfg(test)]
mod tests;

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::tail::{FileIdentity, Fingerprint};

const FILE_NAME: &str = "registry.json";
const TMP_NAME: &str = "registry.json.tmp";
const CORRUPT_PREFIX: &str = "registry.corrupt-";

/// What is known of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub identity: FileIdentity,
    pub fingerprint: Fingerprint,
    /// As discovered (the /var/log/containers symlink).
    #[serde(with = "super::path_bytes")]
    pub path: PathBuf,
    /// The file it pointed to (/var/log/pods/.../0.log).
    #[serde(with = "super::path_bytes")]
    pub target: PathBuf,
    /// Acknowledged: every byte before it was delivered.
    pub offset: u64,
    /// Unix seconds of the last change.
    pub updated: i64,
}

/// Everything the registry holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub agent_id: Option<String>,
    pub entries: Vec<Entry>,
}

impl Snapshot {
    /// The snapshot in the bytes of a `registry.json`, or why they cannot be trusted: what
    /// [`Store::load`] reads, for callers that have the bytes rather than the file (the fuzz targets).
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
        format::decode(bytes)
    }

    /// The bytes [`Store::save`] writes for this snapshot.
    pub fn encode(&self) -> serde_json::Result<Vec<u8>> {
        format::encode(self)
    }
}

/// What [`Store::load`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub snapshot: Snapshot,
    /// Where a registry that could not be trusted was set aside; the caller should say so loudly, since
    /// starting empty means re-reading files (or skipping them, with `start_at: end`).
    pub recovered_from: Option<PathBuf>,
    /// Why it could not be trusted.
    pub reason: Option<String>,
}

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("cannot create state directory {}: {cause}", path.display())]
    CreateDir { path: PathBuf, cause: io::Error },
    #[error("cannot read registry {}: {cause}", path.display())]
    Read { path: PathBuf, cause: io::Error },
    #[error("cannot write registry {}: {cause}", path.display())]
    Write { path: PathBuf, cause: io::Error },
    #[error("cannot set aside corrupt registry {} as {}: {cause}", from.display(), to.display())]
    SetAside {
        from: PathBuf,
        to: PathBuf,
        cause: io::Error,
    },
    #[error("cannot encode registry: {0}")]
    Encode(serde_json::Error),
}

/// The registry file of one state directory. Only one agent may use a state directory at a time.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    file: PathBuf,
    tmp: PathBuf,
}

impl Store {
    /// Opens the registry in `state_dir`, creating the directory with mode 0700 when it is missing: it
    /// names every log on the node. An existing directory is left as the operator set it.
    pub fn open(state_dir: &Path) -> Result<Store, RegistryError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(state_dir)
            .map_err(|cause| RegistryError::CreateDir {
                path: state_dir.to_owned(),
                cause,
            })?;
        Ok(Store {
            dir: state_dir.to_owned(),
            file: state_dir.join(FILE_NAME),
            tmp: state_dir.join(TMP_NAME),
        })
    }

    /// `registry.json`.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Reads the registry. A missing file is an empty snapshot. A file that cannot be trusted (not JSON,
    /// cut short, wrong shape, unknown version, checksum mismatch) is renamed to
    /// `registry.corrupt-<UTC time>` for inspection and also gives an empty snapshot, with where it went
    /// and why; only I/O failures are errors, since no content can be fixed by retrying.
    ///
    /// A leftover `registry.json.tmp` is ignored: a crash before its rename means it was never the
    /// registry.
    pub fn load(&self) -> Result<Loaded, RegistryError> {
        let bytes = match fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::default()),
            Err(cause) => {
                return Err(RegistryError::Read {
                    path: self.file.clone(),
                    cause,
                })
            }
        };
        match Snapshot::decode(&bytes) {
            Ok(snapshot) => Ok(Loaded {
                snapshot,
                ..Loaded::default()
            }),
            Err(reason) => Ok(Loaded {
                snapshot: Snapshot::default(),
                recovered_from: Some(self.set_aside()?),
                reason: Some(reason),
            }),
        }
    }

    /// Replaces the registry with `snapshot`, atomically and durably: the new content goes to
    /// `registry.json.tmp` (mode 0600), which is fsynced, renamed over `registry.json`, and the directory
    /// fsynced. A crash at any point leaves either the old or the new file whole; without the first fsync
    /// the rename could reach the disk before the data and leave an empty registry.
    pub fn save(&self, snapshot: &Snapshot) -> Result<(), RegistryError> {
        let bytes = format::encode(snapshot).map_err(RegistryError::Encode)?;
        self.write_tmp(&bytes)
            .map_err(|cause| RegistryError::Write {
                path: self.tmp.clone(),
                cause,
            })?;
        if let Err(cause) = fs::rename(&self.tmp, &self.file) {
            // Best effort: the next save removes a leftover anyway.
            let _ = fs::remove_file(&self.tmp);
            return Err(RegistryError::Write {
                path: self.file.clone(),
                cause,
            });
        }
        sync_dir(&self.dir).map_err(|cause| RegistryError::Write {
            path: self.dir.clone(),
            cause,
        })
    }

    fn write_tmp(&self, bytes: &[u8]) -> io::Result<()> {
        // Removed rather than truncated: a leftover may carry other permissions, and create_new then
        // guarantees the mode below.
        match fs::remove_file(&self.tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.tmp)?;
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if written.is_err() {
            // Best effort: a partial tmp is never read, and the next save removes it.
            let _ = fs::remove_file(&self.tmp);
        }
        written
    }

    /// Moves the registry out of the way, under a name no earlier set-aside file has.
    fn set_aside(&self) -> Result<PathBuf, RegistryError> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut to = self.dir.join(format!("{CORRUPT_PREFIX}{stamp}"));
        let mut n = 1u32;
        while fs::symlink_metadata(&to).is_ok() {
            n = n.saturating_add(1);
            to = self.dir.join(format!("{CORRUPT_PREFIX}{stamp}-{n}"));
        }
        let fail = |cause| RegistryError::SetAside {
            from: self.file.clone(),
            to: to.clone(),
            cause,
        };
        fs::rename(&self.file, &to).map_err(fail)?;
        sync_dir(&self.dir).map_err(fail)?;
        Ok(to)
    }
}

/// Makes renames in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
