//! One open file being read: a plain log file, or a rotated one compressed with gzip.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Weak};

use flate2::read::MultiGzDecoder;

use super::Fingerprint;
use super::{Framer, Line};

enum Input {
    /// Shared so that /metrics can measure the file through the same descriptor (see `Progress`).
    Plain(Arc<File>),
    /// Read once to its end: a compressed file no longer grows.
    Gzip(Box<MultiGzDecoder<File>>),
}

/// An open file, its read position (in uncompressed bytes) and its partly read last line.
pub struct FileReader {
    input: Input,
    framer: Framer,
    max_line_bytes: usize,
    /// Modification time at the last truncation check.
    checked_mtime: (i64, i64),
    /// The file's length at the last truncation check: how much a read can expect.
    known_len: u64,
}

/// The smallest read: enough for a few log lines, small enough that an idle file pins little.
const SMALL_READ: usize = 4096;

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("gzip", &matches!(self.input, Input::Gzip(_)))
            .field("position", &self.position())
            .finish()
    }
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
    /// Reads `file` from `offset`.
    pub fn plain(mut file: File, offset: u64, max_line_bytes: usize) -> io::Result<FileReader> {
        let start = file.seek(SeekFrom::Start(offset))?;
        Ok(FileReader {
            input: Input::Plain(Arc::new(file)),
            framer: Framer::new(start, max_line_bytes),
            max_line_bytes,
            checked_mtime: (0, 0),
            known_len: 0,
        })
    }

    /// Reads the decompressed content of a gzip file from `offset`, the offset the file had before it was
    /// compressed. The bytes before it are decompressed and discarded: gzip cannot seek.
    pub fn gzip(path: &Path, offset: u64, max_line_bytes: usize) -> io::Result<FileReader> {
        let mut decoder = MultiGzDecoder::new(File::open(path)?);
        let skipped = io::copy(&mut (&mut decoder).take(offset), &mut io::sink())?;
        Ok(FileReader {
            input: Input::Gzip(Box::new(decoder)),
            framer: Framer::new(skipped, max_line_bytes),
            max_line_bytes,
            checked_mtime: (0, 0),
            known_len: 0,
        })
    }

    /// Reads until `budget` bytes were read or the end of the file, handing each complete line to `emit`.
    ///
    /// Reads are sized to what the file is known to hold (from the last truncation check), growing to
    /// `chunk` while reads come back full: a line handed out keeps its read buffer alive until it is
    /// delivered, so reading 64 KiB for a file that grew by one line would pin 64 KiB per file in
    /// every batch.
    pub fn read(
        &mut self,
        chunk: usize,
        budget: usize,
        emit: impl FnMut(Line),
    ) -> io::Result<ReadStatus> {
        self.read_lines(chunk, budget, usize::MAX, emit)
    }

    /// [`read`](Self::read), handing out at most `max_lines` lines (a rate limit in lines). Lines read
    /// past that stay buffered, and the next turn hands them out before it reads more, so what is
    /// buffered never exceeds one turn's read.
    pub fn read_lines(
        &mut self,
        chunk: usize,
        budget: usize,
        max_lines: usize,
        mut emit: impl FnMut(Line),
    ) -> io::Result<ReadStatus> {
        let mut lines = 0;
        let mut next = |framer: &mut Framer, lines: &mut usize| {
            while *lines < max_lines {
                let Some(line) = framer.next_line() else {
                    return true;
                };
                emit(line);
                *lines += 1;
            }
            false
        };
        if !next(&mut self.framer, &mut lines) {
            return Ok(ReadStatus::More);
        }
        let known = self.known_len.saturating_sub(self.position()) as usize;
        let mut ask = known.clamp(SMALL_READ, chunk.max(SMALL_READ));
        let mut read = 0;
        while read < budget {
            let n = match &mut self.input {
                Input::Plain(file) => self.framer.read_file(file, ask)?,
                Input::Gzip(decoder) => self.framer.read_from(decoder, ask)?,
            };
            if !next(&mut self.framer, &mut lines) {
                return Ok(ReadStatus::More);
            }
            if n == 0 {
                self.framer.release_if_empty();
                return Ok(ReadStatus::Eof);
            }
            read += n;
            ask = if n == ask {
                (ask * 2).min(chunk.max(SMALL_READ))
            } else {
                SMALL_READ
            };
        }
        self.framer.compact();
        Ok(ReadStatus::More)
    }

    /// A complete line read and not handed out yet (a turn cut short by its line limit), so a file
    /// closed for good ships every line it read.
    pub fn next_buffered(&mut self) -> Option<Line> {
        self.framer.next_line()
    }

    /// Whether the content read so far is gone: the file is shorter than what was read, or it was
    /// written to but no longer starts as it did (copytruncate, then new writes before this check).
    /// Only a file that changed since the last check pays for reading its head.
    pub fn was_truncated(&mut self, fingerprint: &Fingerprint) -> io::Result<bool> {
        let Input::Plain(file) = &self.input else {
            return Ok(false);
        };
        let meta = file.metadata()?;
        self.known_len = meta.len();
        let position = self.position();
        if meta.len() < position {
            return Ok(true);
        }
        let changed = (meta.mtime(), meta.mtime_nsec()) != self.checked_mtime;
        self.checked_mtime = (meta.mtime(), meta.mtime_nsec());
        Ok(changed && fingerprint.len > 0 && !fingerprint.matches_file(file)?)
    }

    /// Whether the file has been unlinked (its last name removed) while open.
    pub fn is_deleted(&self) -> bool {
        match &self.input {
            Input::Plain(file) => file.metadata().is_ok_and(|m| m.nlink() == 0),
            Input::Gzip(_) => false,
        }
    }

    /// Starts over from the first byte, dropping any partly read line.
    pub fn restart(&mut self) -> io::Result<()> {
        if let Input::Plain(file) = &self.input {
            (&**file).seek(SeekFrom::Start(0))?;
        }
        self.framer = Framer::new(0, self.max_line_bytes);
        Ok(())
    }

    /// The open file, when it is a plain one.
    pub fn file(&self) -> Option<&File> {
        match &self.input {
            Input::Plain(file) => Some(file),
            Input::Gzip(_) => None,
        }
    }

    /// The file's modification time, `None` for a compressed one.
    pub fn modified(&self) -> Option<std::time::SystemTime> {
        self.file()?.metadata().ok()?.modified().ok()
    }

    /// The open file for another thread to measure, as long as this reader keeps it open.
    pub fn shared_file(&self) -> Option<Weak<File>> {
        match &self.input {
            Input::Plain(file) => Some(Arc::downgrade(file)),
            Input::Gzip(_) => None,
        }
    }

    /// The unterminated rest, when the file is known to be finished.
    pub fn finish(&mut self) -> Option<Line> {
        self.framer.finish()
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> u64 {
        self.framer.position()
    }

    /// Offset just past the last complete line: where reading resumes if this reader is closed now.
    pub fn resume_position(&self) -> u64 {
        self.framer.position() - self.framer.buffered() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| String::from_utf8(l.bytes.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn a_line_limit_leaves_the_rest_buffered_and_hands_it_out_before_reading_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "a\nb\nc\nd\ne").unwrap();
        let mut reader = FileReader::plain(File::open(&path).unwrap(), 0, 1024).unwrap();
        let mut lines = Vec::new();
        let mut turn = |reader: &mut FileReader, max| {
            let status = reader.read_lines(64, 1024, max, |l| lines.push(l)).unwrap();
            (status, texts(&lines))
        };
        assert_eq!(
            turn(&mut reader, 2),
            (ReadStatus::More, vec!["a".into(), "b".into()])
        );
        assert_eq!(
            reader.resume_position(),
            4,
            "c and d are buffered, not read"
        );
        assert_eq!(turn(&mut reader, 0).0, ReadStatus::More);
        assert_eq!(turn(&mut reader, 1).1.len(), 3);
        assert_eq!(reader.next_buffered().unwrap().bytes, "d");
        assert!(reader.next_buffered().is_none());
        assert_eq!(reader.finish().unwrap().bytes, "e");
        let (status, all) = turn(&mut reader, 5);
        assert_eq!((status, all.len()), (ReadStatus::Eof, 3));
    }

    #[test]
    fn reads_from_an_offset_in_bounded_steps_and_follows_growth() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "a\nbb\nccc\n").unwrap();
        let mut reader = FileReader::plain(File::open(&path).unwrap(), 2, 1024).unwrap();
        let mut lines = Vec::new();
        assert_eq!(
            reader.read(2, 2, |l| lines.push(l)).unwrap(),
            ReadStatus::More
        );
        assert_eq!(
            reader.read(2, 100, |l| lines.push(l)).unwrap(),
            ReadStatus::Eof
        );
        assert_eq!(texts(&lines), ["bb", "ccc"]);
        assert_eq!(lines[0].offset, 2);

        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"dd").unwrap();
        assert_eq!(
            reader.read(64, 100, |l| lines.push(l)).unwrap(),
            ReadStatus::Eof
        );
        assert_eq!(lines.len(), 2, "no newline yet");
        assert_eq!(
            reader.resume_position(),
            9,
            "the partial line is re-read after a close"
        );
        assert_eq!(reader.finish().unwrap().bytes, "dd");
    }

    #[test]
    fn notices_truncation_and_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "one\ntwo\n").unwrap();
        let mut reader = FileReader::plain(File::open(&path).unwrap(), 0, 1024).unwrap();
        reader.read(64, 1024, |_| {}).unwrap();
        let print = Fingerprint::of_bytes(b"one\ntwo\n");
        assert!(!reader.was_truncated(&print).unwrap());
        std::fs::write(&path, "x\n").unwrap();
        assert!(reader.was_truncated(&print).unwrap());
        // Truncated and written past the old length before anyone looked: the head tells.
        std::fs::write(&path, "three\nfour\n").unwrap();
        assert!(reader.was_truncated(&print).unwrap());
        std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
        assert!(!reader.was_truncated(&print).unwrap(), "plain growth");
        std::fs::write(&path, "x\n").unwrap();
        reader.restart().unwrap();
        let mut lines = Vec::new();
        reader.read(64, 1024, |l| lines.push(l)).unwrap();
        assert_eq!(texts(&lines), ["x"]);
        assert!(!reader.is_deleted());
        std::fs::remove_file(&path).unwrap();
        assert!(reader.is_deleted());
    }

    #[test]
    fn reads_the_rest_of_a_compressed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log.20261124-071500.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"first\nsecond\nthird\n").unwrap();
        gz.finish().unwrap();
        let mut reader = FileReader::gzip(&path, 6, 1024).unwrap();
        let mut lines = Vec::new();
        assert_eq!(
            reader.read(4, 1024, |l| lines.push(l)).unwrap(),
            ReadStatus::Eof
        );
        assert_eq!(texts(&lines), ["second", "third"]);
        assert_eq!((lines[0].offset, lines[1].end), (6, 19));
        assert!(reader.file().is_none());
        assert!(!reader.was_truncated(&Fingerprint::of_bytes(b"x")).unwrap());
    }
}
