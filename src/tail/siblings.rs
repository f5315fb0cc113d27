//! Finding a file again after it was rotated away from the name it was tailed under.
//!
//! kubelet rotates `0.log` by renaming it to `0.log.<timestamp>` in the same directory (and may compress
//! it to `0.log.<timestamp>.gz` later). When that happened while the file was not open (the agent was down,
//! or the file was closed as inactive), the registry's identity of the file is looked for among its
//! siblings: by device and inode for a renamed file, by the fingerprint of the decompressed content for a
//! compressed one.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::{FileIdentity, Fingerprint};

/// Where a rotated file is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Renamed: the same file under another name.
    Renamed(PathBuf),
    /// Compressed: a new file whose decompressed content starts as the old one did.
    Compressed(PathBuf),
    /// The same device and inode with other first bytes: truncated and rewritten, or the inode reused by
    /// a new file. Either way its content is new, to be read from the start (a duplicate at worst).
    Rewritten(PathBuf),
}

/// Looks in `dir` for the file with `identity` (and `fingerprint`), skipping `exclude` (names already
/// tailed, which cannot be the rotated file).
pub fn find_rotated(
    dir: &Path,
    identity: FileIdentity,
    fingerprint: Fingerprint,
    exclude: &dyn Fn(&Path) -> bool,
) -> Option<Found> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut compressed = Vec::new();
    let mut rewritten = None;
    for entry in entries.flatten() {
        let path = entry.path();
        if exclude(&path) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if FileIdentity::of(&meta) == identity {
            let same = File::open(&path)
                .and_then(|f| fingerprint.matches_file(&f))
                .unwrap_or(false);
            if same {
                return Some(Found::Renamed(path));
            }
            rewritten = Some(path);
        } else if path.extension().is_some_and(|e| e == "gz") {
            compressed.push(path);
        }
    }
    // Decompressing is the expensive check, so it runs only when no rename matched.
    compressed.sort();
    compressed
        .into_iter()
        .find(|path| fingerprint.matches_gzip(path).unwrap_or(false))
        .map(Found::Compressed)
        .or(rewritten.map(Found::Rewritten))
}

/// Whether `next` took the place of `previous` in a rotation, so that a line the rotation split between
/// them continues in `next`: in the same directory, `previous` being `next`'s name (renamed away, not
/// found since) or that name plus a suffix (kubelet's `0.log.20261124-071500`, `.gz` included). A
/// symlink re-pointed at another file (`1.log`, another container's) is not a continuation.
pub fn is_next_file(previous: &Path, next: &Path) -> bool {
    let (Some(dir), Some(name)) = (next.parent(), next.file_name()) else {
        return false;
    };
    let Some(old) = previous.file_name() else {
        return false;
    };
    let (old, name) = (old.as_encoded_bytes(), name.as_encoded_bytes());
    previous.parent() == Some(dir)
        && (old == name
            || old
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(b".")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn finds_a_renamed_file_and_a_compressed_one() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let log = d.join("0.log");
        std::fs::write(&log, "2026-11-24T10:00:00Z stdout F first\n").unwrap();
        let meta = std::fs::metadata(&log).unwrap();
        let identity = FileIdentity::of(&meta);
        let fingerprint = Fingerprint::of_file(&File::open(&log).unwrap()).unwrap();
        let none = |_: &Path| false;

        let rotated = d.join("0.log.20261124-100000");
        std::fs::rename(&log, &rotated).unwrap();
        std::fs::write(&log, "2026-11-24T10:00:01Z stdout F new file\n").unwrap();
        assert_eq!(
            find_rotated(d, identity, fingerprint, &none),
            Some(Found::Renamed(rotated.clone()))
        );

        let content = std::fs::read(&rotated).unwrap();
        let gz_path = d.join("0.log.20261124-100000.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&gz_path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(&content).unwrap();
        gz.finish().unwrap();
        std::fs::remove_file(&rotated).unwrap();
        assert_eq!(
            find_rotated(d, identity, fingerprint, &none),
            Some(Found::Compressed(gz_path.clone()))
        );
        let skip_gz = |p: &Path| p == gz_path;
        assert_eq!(find_rotated(d, identity, fingerprint, &skip_gz), None);
    }

    #[test]
    fn the_next_file_is_the_one_in_the_rotated_files_place() {
        let dir = Path::new("/var/log/pods/ns_pod_uid/app");
        let log = dir.join("0.log");
        assert!(is_next_file(&log, &log));
        assert!(is_next_file(&dir.join("0.log.20261124-071500"), &log));
        assert!(is_next_file(&dir.join("0.log.20261124-071500.gz"), &log));
        assert!(!is_next_file(&dir.join("1.log"), &log), "a restart's file");
        assert!(!is_next_file(&log, &dir.join("1.log")), "a re-pointed link");
        assert!(!is_next_file(&dir.join("0.logx"), &log));
        assert!(!is_next_file(
            Path::new("/var/log/pods/ns_pod_uid/sidecar/0.log.1"),
            &log
        ));
    }

    #[test]
    fn a_reused_inode_with_other_content_is_read_as_new() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("0.log");
        std::fs::write(&log, "new content\n").unwrap();
        let identity = FileIdentity::of(&std::fs::metadata(&log).unwrap());
        let old = Fingerprint::of_bytes(b"old content\n");
        assert_eq!(
            find_rotated(dir.path(), identity, old, &|_| false),
            Some(Found::Rewritten(log))
        );
    }
}
