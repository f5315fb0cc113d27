//! Model-based test: random sequences of write, rotate, truncate, delete, restart and read against a real
//! temporary directory, checked against the simplest model there is: every line written is read exactly
//! once, in the order written.
//!
//! Offsets go through the real registry tracker, by way of the registry adapter, acknowledged as soon as
//! a line is read, so a restart resumes exactly where delivery stopped; duplicates would mean an offset
//! was lost, gaps that one was skipped.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::config::{Config, StartAt};
use crate::discover::DirWatcher;
use crate::tail::{Admit, FileIdentity, FileKey, Line, LineSink, ReadGate, Tailer, TailerConfig};

#[derive(Debug, Clone)]
enum Op {
    Write(u8),
    /// kubelet: rename to `0.log.<n>`, new `0.log` on the next write.
    Rotate,
    /// After everything was read: cut the file to nothing (the copy is not tailed).
    Truncate,
    /// After everything was read: delete the file.
    Delete,
    /// Drop the tailer; a new one resumes from the tracker's records.
    Restart,
    Read,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u8..5).prop_map(Op::Write),
        2 => Just(Op::Rotate),
        1 => Just(Op::Truncate),
        1 => Just(Op::Delete),
        2 => Just(Op::Restart),
        3 => Just(Op::Read),
    ]
}

/// Hands lines to a list and acknowledges each at once through a real `Tracker`.
struct Acking {
    tracker: Tracker,
    lines: Vec<String>,
}

impl LineSink for Acking {
    fn line(&mut self, key: FileKey, line: Line) {
        self.lines
            .push(String::from_utf8(line.bytes.to_vec()).unwrap());
        let id = self.tracker.register(vec![(key, line.end)], 1);
        self.tracker.ack(id);
    }
    fn file(&mut self, event: FileEvent<'_>) {
        record(&mut self.tracker, event);
    }
}

impl ReadGate for Acking {
    fn admit(&mut self, _: FileKey, _: std::time::Instant) -> Admit {
        Admit::Now
    }
}

struct World {
    dir: tempfile::TempDir,
    link: PathBuf,
    next_line: u32,
    rotations: u32,
    written: Vec<String>,
    tailer: Tailer,
    sink: Acking,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pods/ns_pod_uid/c")).unwrap();
        std::fs::create_dir_all(dir.path().join("containers")).unwrap();
        let link = dir.path().join("containers/pod_ns_c-0.log");
        std::os::unix::fs::symlink(dir.path().join("pods/ns_pod_uid/c/0.log"), &link).unwrap();
        World {
            dir,
            link,
            next_line: 0,
            rotations: 0,
            written: Vec::new(),
            tailer: Tailer::new(config(), Vec::new()),
            sink: Acking {
                tracker: Tracker::new(None),
                lines: Vec::new(),
            },
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("pods/ns_pod_uid/c/0.log")
    }

    fn scan_paths(&self) -> Vec<PathBuf> {
        if self.link.exists() {
            vec![self.link.clone()]
        } else {
            Vec::new()
        }
    }

    fn read(&mut self) {
        let mut watcher = DirWatcher::polling_only();
        let paths = self.scan_paths();
        self.tailer.sync(&paths, &mut watcher, &mut self.sink);
        for _ in 0..3 {
            self.tailer.poll_all();
            while self.tailer.read_ready(&mut self.sink) {}
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Write(n) => {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(self.log())
                    .unwrap();
                for _ in 0..*n {
                    let line = format!("seq={}", self.next_line);
                    self.next_line += 1;
                    writeln!(f, "{line}").unwrap();
                    self.written.push(line);
                }
            }
            Op::Rotate => {
                // A file rotated before the agent ever saw its name cannot be known to exist (Filebeat
                // and Vector miss it too): the name is discovered first, as inotify would report it.
                let seen = std::fs::metadata(self.log()).is_ok_and(|m| {
                    let identity = FileIdentity::of(&m);
                    self.sink
                        .tracker
                        .snapshot()
                        .entries
                        .iter()
                        .any(|e| e.identity == identity)
                });
                if !seen {
                    let paths = self.scan_paths();
                    self.tailer
                        .sync(&paths, &mut DirWatcher::polling_only(), &mut self.sink);
                }
                if self.log().exists() {
                    let rotated = self
                        .log()
                        .with_file_name(format!("0.log.{}", self.rotations));
                    self.rotations += 1;
                    std::fs::rename(self.log(), rotated).unwrap();
                }
            }
            Op::Truncate => {
                self.read();
                if let Ok(f) = std::fs::OpenOptions::new().write(true).open(self.log()) {
                    f.set_len(0).unwrap();
                }
            }
            Op::Delete => {
                self.read();
                let _ = std::fs::remove_file(self.log());
            }
            Op::Restart => {
                let known = self.sink.tracker.snapshot().entries;
                self.tailer = Tailer::new(config(), known.iter().cloned().map(resume_of).collect());
                self.sink.tracker = Tracker::resuming(None, known);
            }
            Op::Read => self.read(),
        }
    }
}

fn config() -> TailerConfig {
    let mut config = TailerConfig::from_config(&Config::default());
    config.max_line_bytes = 1024;
    config.start_at = StartAt::Beginning;
    config.close_removed_after = Duration::ZERO;
    config
}

fn lines_in_order(world: &World) -> Result<(), TestCaseError> {
    prop_assert_eq!(&world.sink.lines, &world.written);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_line_is_read_exactly_once_in_order(ops in proptest::collection::vec(op(), 1..40)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
        }
        world.read();
        lines_in_order(&world)?;
    }
}
