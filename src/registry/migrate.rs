//! Taking over from Filebeat: its recorded offsets become loglynk's, so the switch ships neither a gap
//! nor a duplicate.

use std::fs::File;
use std::path::PathBuf;

use super::{Entry, FilebeatImport, Snapshot};
use crate::tail::{FileIdentity, Fingerprint};

/// What an import did, file by file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: Vec<(PathBuf, u64)>,
    /// Files left to loglynk's own rules, and why.
    pub skipped: Vec<(String, String)>,
}

/// Records each Filebeat state whose file is still the one Filebeat read (same device and inode) in
/// `snapshot`, replacing what loglynk had for that file. A file rotated since Filebeat stopped is
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
        if FileIdentity::of(&meta) != state.identity {
            report.skipped.push((
                name,
                "rotated since Filebeat stopped (device/inode differ); read from its start".into(),
            ));
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
        snapshot.entries.retain(|e| e.identity != state.identity);
        snapshot.entries.push(Entry {
            identity: state.identity,
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
