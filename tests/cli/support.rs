//! Running the binary and reading what it prints.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test, run from the repository root with a clean environment for the variables it
/// reads, so a developer's shell cannot change a result.
pub fn loglynk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loglynk"));
    cmd.current_dir(repo_root())
        .env_remove("LOGLYNK_CONFIG")
        .env_remove("LOGLYNK_CONTAINER_NAME")
        .env_remove("ELASTICSEARCH_PASSWORD")
        .env_remove("NODE_NAME")
        .env_remove("LOGLYNK_LOG");
    cmd
}

/// Parses NDJSON output, failing with the offending line.
pub fn documents(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(stdout.to_vec())
        .expect("stdout is UTF-8")
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:.200}"))
        })
        .collect()
}

/// A running `loglynk tail` whose stdout lines arrive on a channel, so a test can wait with a deadline.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn loglynk");
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    /// The next document, or `None` when none came within `timeout`.
    pub fn next_document(&self, timeout: Duration) -> Option<serde_json::Value> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        Some(serde_json::from_str(&line).expect("stdout lines are JSON"))
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for exit, at most `timeout`; returns the exit code and stderr.
    pub fn wait(mut self, timeout: Duration) -> (Option<i32>, String) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                use std::io::Read;
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                return (status.code(), stderr);
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("loglynk did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn write_file(path: &Path, contents: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, contents).unwrap();
}
