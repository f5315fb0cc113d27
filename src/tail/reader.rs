//! One open file being read.

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{Framer, Line};

/// An open file, its read position and its partly read last line.
#[derive(Debug)]
pub struct FileReader {
    /// As discovered: the /var/log/containers symlink, shown as `log.file.path`.
    pub path: PathBuf,
    /// What the symlink resolved to when opened: where growth is reported by inotify.
    pub target: PathBuf,
    file: File,
    framer: Framer,
}

/// What one bounded read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// Stopped at the byte budget with more to read.
    More,
    /// Read to the current end of the file.
    Eof,
}

impl FileReader {
    /// Opens `path` (following links) and positions it at `offset`, or at the end when `offset` is `None`.
    pub fn open(path: &Path, offset: Option<u64>, max_line_bytes: usize) -> io::Result<FileReader> {
        let target = std::fs::canonicalize(path)?;
        let mut file = File::open(&target)?;
        let start = match offset {
            Some(offset) => file.seek(SeekFrom::Start(offset))?,
            None => file.seek(SeekFrom::End(0))?,
        };
        Ok(FileReader {
            path: path.to_path_buf(),
            target,
            file,
            framer: Framer::new(start, max_line_bytes),
        })
    }

    /// Reads until `budget` bytes were read or the end of the file, handing each complete line to `emit`.
    pub fn read(
        &mut self,
        chunk: usize,
        budget: usize,
        mut emit: impl FnMut(Line),
    ) -> io::Result<ReadStatus> {
        let mut read = 0;
        while read < budget {
            let n = self.framer.read_from(&mut self.file, chunk)?;
            while let Some(line) = self.framer.next_line() {
                emit(line);
            }
            if n == 0 {
                return Ok(ReadStatus::Eof);
            }
            read += n;
        }
        Ok(ReadStatus::More)
    }

    /// The unterminated rest, when the file is known to be finished.
    pub fn finish(&mut self) -> Option<Line> {
        self.framer.finish()
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> u64 {
        self.framer.position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_through_a_symlink_in_bounded_steps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("0.log");
        let link = dir.path().join("link.log");
        std::fs::write(&target, "a\nbb\nccc\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();

        let mut reader = FileReader::open(&link, Some(2), 1024).unwrap();
        assert_eq!(reader.target, std::fs::canonicalize(&target).unwrap());
        let mut lines = Vec::new();
        assert_eq!(
            reader.read(2, 2, |l| lines.push(l)).unwrap(),
            ReadStatus::More
        );
        assert_eq!(
            reader.read(2, 100, |l| lines.push(l)).unwrap(),
            ReadStatus::Eof
        );
        let texts: Vec<_> = lines.iter().map(|l| l.bytes.clone()).collect();
        assert_eq!(texts, ["bb", "ccc"]);
        assert_eq!(lines[0].offset, 2);

        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&target)
            .unwrap();
        f.write_all(b"dd").unwrap();
        assert_eq!(
            reader.read(64, 100, |l| lines.push(l)).unwrap(),
            ReadStatus::Eof
        );
        assert_eq!(lines.len(), 2, "no newline yet");
        assert_eq!(reader.finish().unwrap().bytes, "dd");
    }

    #[test]
    fn opening_at_the_end_skips_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, "old\n").unwrap();
        let reader = FileReader::open(&path, None, 1024).unwrap();
        assert_eq!(reader.position(), 4);
    }
}
