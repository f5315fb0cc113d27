//! The dead-letter file: documents Elasticsearch refused for good, kept where an operator can read
//! them and send them again once the cause (usually a mapping conflict) is fixed.
//!
//! One JSON object per line in `<state_dir>/dead-letter.ndjson`, with the document embedded as it was
//! sent. Logs can hold secrets, so the file is readable by its owner only. Its size is capped so a
//! stream of rejected documents cannot fill the node's disk: past the cap it is rotated to `.1`, `.1`
//! to `.2`, and so on, and the oldest beyond `keep` is deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;

use crate::event::Timestamp;

pub const FILE_NAME: &str = "dead-letter.ndjson";
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_KEEP: usize = 3;
const MODE: u32 = 0o600;

#[derive(Debug)]
pub struct DeadLetters {
    dir: PathBuf,
    path: PathBuf,
    file: BufWriter<File>,
    /// Bytes in the current file, buffered ones included.
    size: u64,
    max_bytes: u64,
    keep: usize,
    written: u64,
    line: Vec<u8>,
}

impl DeadLetters {
    /// Opens (or creates) the file in `dir` to append to. `keep` rotated files are kept; with 0, the
    /// file is emptied when it reaches `max_bytes`.
    pub fn open(dir: &Path, max_bytes: u64, keep: usize) -> io::Result<DeadLetters> {
        fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(DeadLetters {
            dir: dir.to_owned(),
            path,
            file: BufWriter::new(file),
            size,
            max_bytes,
            keep,
            written: 0,
            line: Vec::new(),
        })
    }

    /// Appends one refused document. It reaches the disk at the next `flush`.
    pub fn write(
        &mut self,
        index: &str,
        status: u16,
        error_type: &str,
        reason: &str,
        document: &[u8],
    ) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let built = build_line(&mut line, index, status, error_type, reason, document);
        let result = built.and_then(|()| self.append(&line));
        self.line = line;
        result
    }

    fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        // A line alone over the cap still goes in, to a file of its own: losing it would be worse
        // than overshooting the cap once.
        if self.size > 0 && self.size.saturating_add(len) > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += len;
        self.written += 1;
        Ok(())
    }

    /// Writes what is buffered and fsyncs it.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }

    /// Documents written since `open`.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.flush()?;
        let rotated = |n: usize| self.dir.join(format!("{FILE_NAME}.{n}"));
        if self.keep == 0 {
            fs::remove_file(&self.path)?;
        } else {
            match fs::remove_file(rotated(self.keep)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            for n in (1..self.keep).rev() {
                match fs::rename(rotated(n), rotated(n + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            fs::rename(&self.path, rotated(1))?;
        }
        self.file = BufWriter::new(open_append(&self.path)?);
        self.size = 0;
        // The renames are what a crash must not undo, or two files would hold the same documents.
        File::open(&self.dir)?.sync_all()
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(MODE)
        .open(path)?;
    // `mode` applies only when the file is created; one left by an older version may be wider.
    file.set_permissions(fs::Permissions::from_mode(MODE))?;
    Ok(file)
}

fn build_line(
    out: &mut Vec<u8>,
    index: &str,
    status: u16,
    error_type: &str,
    reason: &str,
    document: &[u8],
) -> io::Result<()> {
    out.extend_from_slice(b"{\"@timestamp\":\"");
    Timestamp::now().write_rfc3339(out);
    out.extend_from_slice(b"\",\"index\":");
    serde_json::to_writer(&mut *out, index)?;
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(itoa::Buffer::new().format(status).as_bytes());
    out.extend_from_slice(b",\"error\":{\"type\":");
    serde_json::to_writer(&mut *out, error_type)?;
    out.extend_from_slice(b",\"reason\":");
    serde_json::to_writer(&mut *out, reason)?;
    out.extend_from_slice(b"},\"document\":");
    if serde_json::from_slice::<IgnoredAny>(document).is_ok() {
        let start = out.len();
        out.extend_from_slice(document);
        // Valid JSON has raw newlines only between tokens, where a space means the same, and a
        // newline would end the NDJSON line early.
        for b in &mut out[start..] {
            if *b == b'\n' {
                *b = b' ';
            }
        }
    } else {
        // Not JSON (never the case for documents the builder made): kept as text rather than lost or
        // allowed to break the file's format.
        serde_json::to_writer(&mut *out, &*String::from_utf8_lossy(document))?;
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    const DOC: &[u8] = br#"{"@timestamp":"2026-11-24T06:54:58.000000001Z","message":"x","json":{"status":{"code":200}}}"#;

    fn lines(path: &Path) -> Vec<Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn writes_owner_only_json_lines_with_the_document_embedded() {
        let dir = tempfile::tempdir().unwrap();
        let mut dl = DeadLetters::open(dir.path(), DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        dl.write(
            "funlynk-logs-2026.11.24",
            400,
            "document_parsing_exception",
            "failed to parse field [json.status] \"quoted\"\n",
            DOC,
        )
        .unwrap();
        dl.write("i", 400, "t", "r", b"{\"a\":\n1}").unwrap();
        dl.write("i", 400, "t", "r", b"not json \xff").unwrap();
        dl.flush().unwrap();
        assert_eq!(dl.written(), 3);
        let path = dir.path().join(FILE_NAME);
        assert_eq!(dl.path(), path);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        let got = lines(&path);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0]["index"], "funlynk-logs-2026.11.24");
        assert_eq!(got[0]["status"], 400);
        assert_eq!(got[0]["error"]["type"], "document_parsing_exception");
        assert_eq!(
            got[0]["error"]["reason"],
            "failed to parse field [json.status] \"quoted\"\n"
        );
        assert_eq!(got[0]["document"]["json"]["status"]["code"], 200);
        assert!(Timestamp::parse_rfc3339(got[0]["@timestamp"].as_str().unwrap()).is_some());
        let text = fs::read_to_string(&path).unwrap();
        let raw = std::str::from_utf8(DOC).unwrap();
        assert!(text.lines().next().unwrap().contains(raw), "embedded raw");
        assert_eq!(got[1]["document"], json!({"a": 1}));
        assert_eq!(got[2]["document"], "not json \u{fffd}");
    }

    #[test]
    fn existing_files_are_appended_to_and_narrowed_to_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "{\"old\":1}\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let mut dl = DeadLetters::open(dir.path(), DEFAULT_MAX_BYTES, DEFAULT_KEEP).unwrap();
        dl.write("i", 400, "t", "r", DOC).unwrap();
        dl.flush().unwrap();
        assert_eq!(lines(&path).len(), 2);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn rotates_at_the_cap_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut probe = Vec::new();
        build_line(&mut probe, "i", 400, "t", "r", DOC).unwrap();
        let line = probe.len() as u64;
        // Room for two lines per file.
        let mut dl = DeadLetters::open(dir.path(), line * 2 + line / 2, 2).unwrap();
        // One-digit reasons keep every line the probe's size.
        for n in 0..9 {
            dl.write("i", 400, "t", &format!("{n}"), DOC).unwrap();
        }
        dl.flush().unwrap();
        assert_eq!(dl.written(), 9);
        let reasons = |name: String| -> Vec<String> {
            lines(&dir.path().join(name))
                .iter()
                .map(|v| v["error"]["reason"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(reasons(FILE_NAME.to_owned()), ["8"]);
        assert_eq!(reasons(format!("{FILE_NAME}.1")), ["6", "7"]);
        assert_eq!(reasons(format!("{FILE_NAME}.2")), ["4", "5"]);
        assert!(!dir.path().join(format!("{FILE_NAME}.3")).exists());
        for entry in fs::read_dir(dir.path()).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn keep_zero_empties_the_file_and_an_oversized_line_still_lands() {
        let dir = tempfile::tempdir().unwrap();
        let mut dl = DeadLetters::open(dir.path(), 10, 0).unwrap();
        dl.write("i", 400, "t", "first", DOC).unwrap();
        dl.write("i", 400, "t", "second", DOC).unwrap();
        dl.flush().unwrap();
        let got = lines(&dir.path().join(FILE_NAME));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["error"]["reason"], "second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
