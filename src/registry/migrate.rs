//! Taking over from Filebeat: its recorded offsets become loglynk's, so the switch ships neither a gap
//! nor a duplicate.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::filebeat::FilebeatIdentity;
use super::{Entry, FilebeatImport, Snapshot};
use crate::tail::{FileIdentity, Fingerprint};

/// What an import did, file by file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: Vec<(PathBuf, u64)>,
    /// Files left to loglynk's own rules, and why.
    pub skipped: Vec<(String, String)>,
}

/// Filestream's `prospector.scanner.fingerprint.length` default: a fingerprint state hashes this many
/// bytes from the file's start (the default `offset` 0).
pub const FILEBEAT_FINGERPRINT_LENGTH: u64 = 1024;

/// Records each Filebeat state whose file is still the one Filebeat read (same device and inode, or the
/// same fingerprint) in `snapshot`, replacing what loglynk had for that file. A file rotated since Filebeat stopped is
/// skipped: its name now holds other content, which is read from its start.
pub fn import_filebeat(import: &FilebeatImport, snapshot: &mut Snapshot) -> ImportReport {
    let mut report = ImportReport::default();
    for (key, reason) in &import.skipped {
        report.skipped.push((key.clone(), reason.clone()));
    }
    let now = chrono::Utc::now().timestamp();
    for state in &import.states {
        let name = state.source.display().to_string();
        let opened = std::fs::canonicalize(&state.source)
            .and_then(|target| File::open(&target).map(|f| (target, f)));
        let (target, file) = match opened {
            Ok(found) => found,
            Err(error) => {
                report.skipped.push((name, format!("cannot open: {error}")));
                continue;
            }
        };
        let Ok(meta) = file.metadata() else {
            report.skipped.push((name, "cannot stat".into()));
            continue;
        };
        let identity = FileIdentity::of(&meta);
        let same = match &state.identity {
            FilebeatIdentity::Native(recorded) => {
                (*recorded == identity).then_some(()).ok_or_else(|| {
                    "rotated since Filebeat stopped (device/inode differ); read from its start"
                        .into()
                })
            }
            FilebeatIdentity::Fingerprint(recorded) => same_fingerprint(&file, recorded),
        };
        if let Err(reason) = same {
            report.skipped.push((name, reason));
            continue;
        }
        if state.offset > meta.len() {
            report.skipped.push((
                name,
                format!(
                    "Filebeat's offset {} is past the end ({} bytes): truncated; read from its start",
                    state.offset,
                    meta.len()
                ),
            ));
            continue;
        }
        let fingerprint = match Fingerprint::of_file(&file) {
            Ok(fingerprint) => fingerprint,
            Err(error) => {
                report.skipped.push((name, format!("cannot read: {error}")));
                continue;
            }
        };
        snapshot.entries.retain(|e| e.identity != identity);
        snapshot.entries.push(Entry {
            identity,
            fingerprint,
            path: state.source.clone(),
            target,
            offset: state.offset,
            updated: now,
        });
        report.imported.push((state.source.clone(), state.offset));
    }
    report
}

/// Whether `file` starts with the bytes whose SHA-256 filestream recorded.
fn same_fingerprint(file: &File, recorded: &str) -> Result<(), String> {
    let mut head = Vec::with_capacity(FILEBEAT_FINGERPRINT_LENGTH as usize);
    file.take(FILEBEAT_FINGERPRINT_LENGTH)
        .read_to_end(&mut head)
        .map_err(|error| format!("cannot read: {error}"))?;
    if (head.len() as u64) < FILEBEAT_FINGERPRINT_LENGTH {
        return Err(format!(
            "shorter ({} bytes) than the {FILEBEAT_FINGERPRINT_LENGTH} bytes Filebeat's fingerprint \
             covers: not the file Filebeat read; read from its start",
            head.len()
        ));
    }
    let digest = Sha256::digest(&head);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex == recorded {
        Ok(())
    } else {
        Err(format!(
            "its first {FILEBEAT_FINGERPRINT_LENGTH} bytes are not the ones Filebeat fingerprinted \
             (rotated since, or a fingerprint offset/length other than filestream's defaults); read \
             from its start"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::FilebeatState;

    /// SHA-256 of 1,024 bytes of `a`, computed apart (Python's hashlib), as filestream would record it.
    const A_1024: &str = "2edc986847e209b4016e141a6dc8716d3207350f416969382d431539bf292e4a";

    fn fingerprinted(source: PathBuf, hash: &str) -> FilebeatImport {
        FilebeatImport {
            states: vec![FilebeatState {
                source,
                offset: 1_024,
                identity: FilebeatIdentity::Fingerprint(hash.to_owned()),
            }],
            ..FilebeatImport::default()
        }
    }

    #[test]
    fn a_file_with_the_fingerprinted_head_is_imported_under_its_inode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, [&[b'a'; 1024][..], b"more\n"].concat()).unwrap();
        let mut snapshot = Snapshot::default();
        let report = import_filebeat(&fingerprinted(path.clone(), A_1024), &mut snapshot);
        assert_eq!(report.imported, [(path.clone(), 1_024)], "{report:?}");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(snapshot.entries.len(), 1);
        assert_eq!(snapshot.entries[0].identity, FileIdentity::of(&meta));
        assert_eq!(snapshot.entries[0].offset, 1_024);
    }

    #[test]
    fn another_head_or_a_short_file_is_skipped_with_why() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.log");
        std::fs::write(&other, [b'b'; 2048]).unwrap();
        let short = dir.path().join("short.log");
        std::fs::write(&short, [b'a'; 1000]).unwrap();
        let mut snapshot = Snapshot::default();
        let mut import = fingerprinted(other, A_1024);
        import.states.extend(fingerprinted(short, A_1024).states);
        let report = import_filebeat(&import, &mut snapshot);
        assert!(report.imported.is_empty());
        assert!(snapshot.entries.is_empty());
        assert!(
            report.skipped[0]
                .1
                .contains("not the ones Filebeat fingerprinted"),
            "{report:?}"
        );
        assert!(
            report.skipped[1].1.contains("shorter (1000 bytes)"),
            "{report:?}"
        );
    }
}
