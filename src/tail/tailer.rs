//! The set of files being tailed, and the fair, bounded reading of them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::reader::{FileReader, ReadStatus};
use super::Line;
use crate::config::StartAt;
use crate::discover::DirWatcher;

/// Names a tailed file for as long as it is tailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey(u64);

/// Receives what the tailer reads, so tailing knows nothing of what lines become.
pub trait LineSink {
    /// A file was opened; lines for `key` follow.
    fn opened(&mut self, key: FileKey, path: &Path, target: &Path);
    fn line(&mut self, key: FileKey, line: Line);
    /// The file was closed; no more lines for `key`.
    fn closed(&mut self, key: FileKey);
}

#[derive(Debug, Error)]
#[error("cannot open {path}: {source}")]
pub struct OpenError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug, Clone)]
pub struct TailerConfig {
    pub max_line_bytes: usize,
    pub start_at: StartAt,
    /// Bytes asked of the kernel per read call.
    pub read_chunk: usize,
    /// Bytes read from one file before the others get a turn, so one busy file cannot starve the rest.
    pub file_budget: usize,
}

impl TailerConfig {
    /// 64 KiB reads amortise the syscall; a 256 KiB turn per file keeps latency fair across 2,000 files.
    pub fn new(max_line_bytes: usize, start_at: StartAt) -> TailerConfig {
        TailerConfig {
            max_line_bytes,
            start_at,
            read_chunk: 64 * 1024,
            file_budget: 256 * 1024,
        }
    }
}

struct Tailed {
    reader: FileReader,
    /// The discovery no longer lists it: read it to its end, then close.
    removed: bool,
}

/// Tails many files. Reading is driven from outside: `read_ready` reads the files that changed (or all, on
/// a poll), each up to its byte budget, and reports whether any file has more to read right now.
pub struct Tailer {
    config: TailerConfig,
    files: BTreeMap<FileKey, Tailed>,
    by_path: HashMap<PathBuf, FileKey>,
    by_target: HashMap<PathBuf, FileKey>,
    ready: HashSet<FileKey>,
    next_key: u64,
}

impl Tailer {
    pub fn new(config: TailerConfig) -> Tailer {
        Tailer {
            config,
            files: BTreeMap::new(),
            by_path: HashMap::new(),
            by_target: HashMap::new(),
            ready: HashSet::new(),
            next_key: 0,
        }
    }

    /// Starts tailing a discovered file, from `start_at`.
    pub fn add(
        &mut self,
        path: &Path,
        watcher: &mut DirWatcher,
        sink: &mut impl LineSink,
    ) -> Result<(), OpenError> {
        if self.by_path.contains_key(path) {
            return Ok(());
        }
        let offset = match self.config.start_at {
            StartAt::Beginning => Some(0),
            StartAt::End => None,
        };
        let reader =
            FileReader::open(path, offset, self.config.max_line_bytes).map_err(|source| {
                OpenError {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        let key = FileKey(self.next_key);
        self.next_key += 1;
        if let Some(dir) = reader.target.parent() {
            watcher.watch(dir);
        }
        sink.opened(key, &reader.path, &reader.target);
        self.by_path.insert(reader.path.clone(), key);
        self.by_target.insert(reader.target.clone(), key);
        self.files.insert(
            key,
            Tailed {
                reader,
                removed: false,
            },
        );
        self.ready.insert(key);
        Ok(())
    }

    /// The discovery no longer lists `path`: it is closed once read to its end.
    pub fn remove(&mut self, path: &Path) {
        if let Some(key) = self.by_path.get(path) {
            if let Some(tailed) = self.files.get_mut(key) {
                tailed.removed = true;
                self.ready.insert(*key);
            }
        }
    }

    /// inotify reported a change at `path` (a file's target or its discovered path).
    pub fn changed(&mut self, path: &Path) {
        if let Some(key) = self.by_target.get(path).or_else(|| self.by_path.get(path)) {
            self.ready.insert(*key);
        }
    }

    /// Marks every file for reading: the poll that catches what inotify did not report.
    pub fn poll_all(&mut self) {
        self.ready.extend(self.files.keys().copied());
    }

    /// Reads every ready file once, up to its budget. Returns `true` when some file has more to read.
    pub fn read_ready(&mut self, sink: &mut impl LineSink) -> bool {
        let mut keys: Vec<FileKey> = self.ready.drain().collect();
        keys.sort_unstable();
        let mut more = false;
        for key in keys {
            let Some(tailed) = self.files.get_mut(&key) else {
                continue;
            };
            let result =
                tailed
                    .reader
                    .read(self.config.read_chunk, self.config.file_budget, |line| {
                        sink.line(key, line)
                    });
            match result {
                Ok(ReadStatus::More) => {
                    more = true;
                    self.ready.insert(key);
                }
                Ok(ReadStatus::Eof) if tailed.removed => self.close(key, sink),
                Ok(ReadStatus::Eof) => {}
                Err(error) => {
                    tracing::warn!(path = %tailed.reader.path.display(), %error, "read failed; closing the file");
                    self.close(key, sink);
                }
            }
        }
        more
    }

    /// Hands out every file's unterminated last line and closes all files: the end of a `--no-follow` run.
    pub fn finish_all(&mut self, sink: &mut impl LineSink) {
        let keys: Vec<FileKey> = self.files.keys().copied().collect();
        for key in keys {
            if let Some(tailed) = self.files.get_mut(&key) {
                if let Some(line) = tailed.reader.finish() {
                    sink.line(key, line);
                }
            }
            self.close(key, sink);
        }
    }

    fn close(&mut self, key: FileKey, sink: &mut impl LineSink) {
        if let Some(tailed) = self.files.remove(&key) {
            self.by_path.remove(&tailed.reader.path);
            self.by_target.remove(&tailed.reader.target);
            self.ready.remove(&key);
            sink.closed(key);
        }
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        lines: Vec<(FileKey, String)>,
        open: HashSet<FileKey>,
        closed: Vec<FileKey>,
    }

    impl LineSink for Collect {
        fn opened(&mut self, key: FileKey, _: &Path, _: &Path) {
            self.open.insert(key);
        }
        fn line(&mut self, key: FileKey, line: Line) {
            assert!(self.open.contains(&key));
            self.lines
                .push((key, String::from_utf8(line.bytes.to_vec()).unwrap()));
        }
        fn closed(&mut self, key: FileKey) {
            self.open.remove(&key);
            self.closed.push(key);
        }
    }

    #[test]
    fn a_busy_file_does_not_starve_another() {
        let dir = tempfile::tempdir().unwrap();
        let busy = dir.path().join("busy.log");
        let quiet = dir.path().join("quiet.log");
        std::fs::write(&busy, "x\n".repeat(10_000)).unwrap();
        std::fs::write(&quiet, "q\n").unwrap();
        let mut config = TailerConfig::new(1024, StartAt::Beginning);
        config.read_chunk = 1024;
        config.file_budget = 4096;
        let mut tailer = Tailer::new(config);
        let mut sink = Collect::default();
        let mut watcher = DirWatcher::polling_only();
        tailer.add(&busy, &mut watcher, &mut sink).unwrap();
        tailer.add(&quiet, &mut watcher, &mut sink).unwrap();
        assert!(tailer.read_ready(&mut sink), "the busy file has more");
        assert!(
            sink.lines.iter().any(|(_, l)| l == "q"),
            "the quiet file got its turn"
        );
        while tailer.read_ready(&mut sink) {}
        assert_eq!(sink.lines.len(), 10_001);
    }

    #[test]
    fn a_removed_file_is_read_to_its_end_then_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "1\n2\n").unwrap();
        let mut tailer = Tailer::new(TailerConfig::new(1024, StartAt::Beginning));
        let mut sink = Collect::default();
        let mut watcher = DirWatcher::polling_only();
        tailer.add(&path, &mut watcher, &mut sink).unwrap();
        tailer.remove(&path);
        tailer.read_ready(&mut sink);
        assert_eq!(sink.lines.len(), 2);
        assert_eq!(sink.closed.len(), 1);
        assert!(tailer.is_empty());
    }

    #[test]
    fn an_unreadable_path_is_an_error_naming_it() {
        let mut tailer = Tailer::new(TailerConfig::new(1024, StartAt::Beginning));
        let error = tailer
            .add(
                Path::new("/nonexistent/x.log"),
                &mut DirWatcher::polling_only(),
                &mut Collect::default(),
            )
            .unwrap_err();
        assert!(error.to_string().contains("/nonexistent/x.log"), "{error}");
    }
}
