//! Which file is which: the inode that holds it, a print of its first bytes, and the key it is tailed as.
//!
//! Identity lives with the tailer, which takes it (as Vector keeps its fingerprinter beside its file
//! server); the registry records offsets against it and imports it from here, never the reverse.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

/// Names a tailed file for as long as it is tailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey(u64);

impl FileKey {
    pub fn new(n: u64) -> FileKey {
        FileKey(n)
    }
}

/// Device and inode: stable while a file is renamed by rotation, unlike its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
}

impl FileIdentity {
    pub fn of(meta: &Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// How many leading bytes a fingerprint covers at most.
pub const FINGERPRINT_BYTES: usize = 1024;

/// CRC32 of a file's first `len` bytes, `len` ≤ [`FINGERPRINT_BYTES`]. Tells a reused inode from the file
/// that had it, and finds a rotated file (even compressed) by content.
///
/// `len` is recorded because a young file is shorter than the window: its print still has to match once
/// the file has grown past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fingerprint {
    pub len: u32,
    pub crc: u32,
}

impl Fingerprint {
    /// The print of `head[..min(head.len(), FINGERPRINT_BYTES)]`.
    pub fn of_bytes(head: &[u8]) -> Fingerprint {
        let head = &head[..head.len().min(FINGERPRINT_BYTES)];
        Fingerprint {
            // Cannot truncate: head is at most FINGERPRINT_BYTES long.
            len: head.len() as u32,
            crc: crc32fast::hash(head),
        }
    }

    /// The print of the file's first bytes, read at offset 0 without moving the file position, so it can
    /// be taken on a file that is being tailed.
    pub fn of_file(file: &File) -> io::Result<Fingerprint> {
        let head = read_head(file, FINGERPRINT_BYTES)?;
        Ok(Fingerprint::of_bytes(&head))
    }

    /// Whether `file`'s first `self.len` bytes have this CRC (false if it is shorter).
    pub fn matches_file(&self, file: &File) -> io::Result<bool> {
        let Some(len) = self.window() else {
            return Ok(false);
        };
        let head = read_head(file, len)?;
        Ok(self.matches(&head))
    }

    /// Whether the decompressed content of the gzip file at `path` starts with bytes of this print,
    /// decompressing no more than `self.len` bytes.
    ///
    /// A file that is not gzip, or whose stream breaks off (logrotate may still be compressing it), is
    /// compared on what did decode: those bytes are genuine content, and anything short of the window
    /// simply does not match.
    pub fn matches_gzip(&self, path: &Path) -> io::Result<bool> {
        let Some(len) = self.window() else {
            return Ok(false);
        };
        let mut decoder = MultiGzDecoder::new(File::open(path)?);
        let mut head = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match decoder.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_bad_stream(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(self.matches(&head[..filled]))
    }

    /// The number of bytes to compare, or None for a print no writer of ours produces (longer than the
    /// window): reading that much on the word of a damaged registry would be a needless allocation.
    fn window(&self) -> Option<usize> {
        usize::try_from(self.len)
            .ok()
            .filter(|&len| len <= FINGERPRINT_BYTES)
    }

    fn matches(&self, head: &[u8]) -> bool {
        head.len() == self.len as usize && crc32fast::hash(head) == self.crc
    }
}

fn is_bad_stream(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
    )
}

/// Up to `len` bytes from offset 0. `read_at` may return short counts before end of file, hence the loop.
fn read_head(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut head[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(filled);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn file_with(dir: &Path, name: &str, content: &[u8]) -> File {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        File::open(path).unwrap()
    }

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("2026-11-24T07:15:00Z stdout F line {i}\n").into_bytes())
            .collect()
    }

    #[test]
    fn same_bytes_give_the_same_print() {
        assert_eq!(Fingerprint::of_bytes(b"abc"), Fingerprint::of_bytes(b"abc"));
        assert_ne!(Fingerprint::of_bytes(b"abc"), Fingerprint::of_bytes(b"abd"));
        assert_eq!(Fingerprint::of_bytes(b"abc").len, 3);
    }

    #[test]
    fn the_print_covers_only_the_window() {
        let long = lines(200);
        let print = Fingerprint::of_bytes(&long);
        assert_eq!(print.len as usize, FINGERPRINT_BYTES);
        assert_eq!(print, Fingerprint::of_bytes(&long[..FINGERPRINT_BYTES]));
    }

    #[test]
    fn a_grown_file_matches_the_print_of_its_younger_self() {
        let dir = tempfile::tempdir().unwrap();
        let content = lines(100);
        let young = Fingerprint::of_bytes(&content[..50]);
        let grown = file_with(dir.path(), "0.log", &content);
        assert!(young.matches_file(&grown).unwrap());
        assert_eq!(
            Fingerprint::of_file(&grown).unwrap(),
            Fingerprint::of_bytes(&content)
        );
    }

    #[test]
    fn a_different_or_shorter_head_does_not_match() {
        let dir = tempfile::tempdir().unwrap();
        let print = Fingerprint::of_bytes(&lines(100));
        let other = file_with(dir.path(), "other.log", b"a reused inode, other content\n");
        assert!(!print.matches_file(&other).unwrap());
        let shorter = file_with(dir.path(), "short.log", &lines(100)[..10]);
        assert!(!print.matches_file(&shorter).unwrap());
    }

    #[test]
    fn an_oversized_print_from_a_damaged_registry_matches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = file_with(dir.path(), "0.log", &lines(100));
        let bogus = Fingerprint {
            len: u32::MAX,
            crc: 0,
        };
        assert!(!bogus.matches_file(&file).unwrap());
        assert!(!bogus.matches_gzip(&dir.path().join("0.log")).unwrap());
    }

    #[test]
    fn the_gzip_of_the_same_content_matches() {
        let dir = tempfile::tempdir().unwrap();
        let content = lines(100);
        let print = Fingerprint::of_bytes(&content);
        let gz = dir.path().join("0.log.20261124-071500.gz");
        let mut encoder = GzEncoder::new(File::create(&gz).unwrap(), Compression::default());
        encoder.write_all(&content).unwrap();
        encoder.finish().unwrap();
        assert!(print.matches_gzip(&gz).unwrap());

        let other = Fingerprint::of_bytes(b"something else entirely");
        assert!(!other.matches_gzip(&gz).unwrap());
    }

    #[test]
    fn a_file_that_is_not_gzip_does_not_match_and_is_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let content = lines(100);
        file_with(dir.path(), "plain.log", &content);
        let print = Fingerprint::of_bytes(&content);
        assert!(!print.matches_gzip(&dir.path().join("plain.log")).unwrap());
        assert!(print.matches_gzip(&dir.path().join("missing.gz")).is_err());
    }

    #[test]
    fn reading_the_print_does_not_move_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = file_with(dir.path(), "0.log", &lines(100));
        file.seek(SeekFrom::Start(123)).unwrap();
        let print = Fingerprint::of_file(&file).unwrap();
        assert!(print.matches_file(&file).unwrap());
        assert_eq!(file.stream_position().unwrap(), 123);
    }

    #[test]
    fn identity_is_device_and_inode() {
        let dir = tempfile::tempdir().unwrap();
        let file = file_with(dir.path(), "0.log", b"x");
        let meta = file.metadata().unwrap();
        let id = FileIdentity::of(&meta);
        assert_eq!((id.dev, id.ino), (meta.dev(), meta.ino()));
    }
}
