//! Running the binary and reading what it prints: the command with a clean environment, a running
//! process whose output a test waits on with a deadline, how it stopped, and the waits that bound a test.

use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{KubeTree, Seqs};

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
        .env_remove("LOGLYNK_LOG")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST");
    cmd
}

/// `loglynk run` shipping `tree`'s logs to `url`, with retries fast enough for a test, and its metrics
/// endpoint on a free loopback port (see [`metrics_address`]).
pub fn run_cmd(tree: &KubeTree, url: &str) -> Command {
    let mut cmd = loglynk();
    cmd.args([
        "run",
        "-E",
        &format!("output.elasticsearch.hosts=[\"{url}\"]"),
        "-E",
        "output.elasticsearch.ssl.certificate_authorities=[]",
        "-E",
        "output.elasticsearch.flush_interval=100ms",
        "-E",
        "output.elasticsearch.backoff.init=20ms",
        "-E",
        "output.elasticsearch.backoff.max=200ms",
        "-E",
        "registry_flush=100ms",
        "-E",
        "shutdown_timeout=3s",
        "-E",
        "http.host=127.0.0.1",
        "-E",
        "http.port=0",
        "-E",
    ])
    .arg(format!("state_dir={}", tree.state_dir().display()))
    .arg("-E")
    .arg(format!("paths=[\"{}\"]", tree.glob()));
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

/// What waiting for the next stdout line gave.
#[derive(Debug)]
pub enum Next {
    Line(String),
    /// Nothing within the timeout; the process may still print more.
    Timeout,
    /// stdout was closed: the process exited (or closed it) and every line was received.
    Closed,
}

/// How a process that was stopped ended, with everything it printed after the test stopped reading.
#[derive(Debug)]
pub struct Stopped {
    /// `None` when it was ended by a signal.
    pub code: Option<i32>,
    pub stderr: String,
    /// The stdout lines not yet taken by the test when the process was stopped.
    pub lines: Vec<String>,
    /// How long it took to exit after being stopped.
    pub took: Duration,
}

/// A running `loglynk` whose stdout lines arrive on a channel, so a test can wait with a deadline. Its
/// stderr is read all along (a full pipe would block the process) and kept. Dropping it kills the process,
/// so a failing test leaves nothing behind.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
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
            // A line cut short by SIGKILL arrives as a last line without its newline.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.lock().unwrap().extend_from_slice(&buf[..n]),
                }
            }
        });
        Running {
            child,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next document, or `None` when none came within `timeout`.
    pub fn next_document(&self, timeout: Duration) -> Option<serde_json::Value> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        Some(serde_json::from_str(&line).expect("stdout lines are JSON"))
    }

    /// The next stdout line, raw.
    pub fn next_line(&self, timeout: Duration) -> Next {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Next::Line(line),
            Err(mpsc::RecvTimeoutError::Timeout) => Next::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => Next::Closed,
        }
    }

    /// Reads documents into `seqs` until every number of `want` was seen, at most `timeout`. Returns
    /// whether they all were.
    pub fn collect_until(&self, seqs: &mut Seqs, want: &[Range<u64>], timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut missing = seqs.missing(want).len();
        while missing > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Next::Line(line) => {
                    let n = seqs.add_line(&line);
                    if seqs.count(n) == 1 && want.iter().any(|r| r.contains(&n)) {
                        missing -= 1;
                    }
                }
                Next::Timeout | Next::Closed => return false,
            }
        }
        true
    }

    /// What the process has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
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
        let code = self.wait_exit(timeout);
        (code, self.take_stderr())
    }

    /// Sends the signal (`TERM`, `INT`), waits for exit (at most `timeout`), and collects what is left on
    /// stdout.
    pub fn stop(mut self, signal: &str, timeout: Duration) -> Stopped {
        let sent = Instant::now();
        self.signal(signal);
        let code = self.wait_exit(timeout);
        self.stopped(code, sent)
    }

    /// SIGKILL, then what is left on stdout (its last line may be cut short).
    pub fn kill(mut self) -> Stopped {
        let sent = Instant::now();
        let _ = self.child.kill();
        let status = self.child.wait().expect("wait for the killed process");
        self.stopped(status.code(), sent)
    }

    /// Waits for the process to exit by itself (`--no-follow`), at most `timeout`, and collects every
    /// stdout line not yet taken.
    pub fn finish(mut self, timeout: Duration) -> Stopped {
        let started = Instant::now();
        let code = self.wait_exit(timeout);
        self.stopped(code, started)
    }

    /// What an exited process left: its exit code, the stdout lines not yet taken, its stderr.
    fn stopped(&mut self, code: Option<i32>, since: Instant) -> Stopped {
        let took = since.elapsed();
        let lines = self.drain();
        Stopped {
            code,
            stderr: self.take_stderr(),
            lines,
            took,
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "loglynk did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// After exit: every stdout line still in the pipe or the channel.
    fn drain(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_line(left) {
                Next::Line(line) => lines.push(line),
                Next::Closed => return lines,
                Next::Timeout => panic!("stdout still open 20 s after loglynk exited"),
            }
        }
    }

    fn take_stderr(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        self.stderr_so_far()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a command that exits by itself (`--no-follow`, `registry import-filebeat`), at most `timeout`.
pub fn run_to_end(cmd: Command, timeout: Duration) -> Stopped {
    Running::spawn(cmd).finish(timeout)
}

/// A test's time allowance, shared by all its waits, so the test as a whole stays bounded however
/// many steps it waits for. Generous: a step normally takes well under a second.
pub struct Budget {
    deadline: Instant,
    total: Duration,
}

impl Budget {
    pub fn new(total: Duration) -> Budget {
        Budget {
            deadline: Instant::now() + total,
            total,
        }
    }

    /// What is left of it (zero once spent: a wait then fails at once).
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    pub fn total(&self) -> Duration {
        self.total
    }
}

/// Polls `condition` every 50 ms until it holds, at most `timeout`. Returns whether it held.
pub fn wait_until(timeout: Duration, condition: impl FnMut() -> bool) -> bool {
    wait_until_every(timeout, Duration::from_millis(50), condition)
}

/// [`wait_until`], asking every `every`: for a condition that costs the servers work to answer.
pub fn wait_until_every(
    timeout: Duration,
    every: Duration,
    mut condition: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Targets of the process's descriptors that name a deleted file (`/proc/<pid>/fd/N -> "… (deleted)"`).
pub fn deleted_fds(pid: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .filter(|t| t.ends_with(" (deleted)"))
        .collect()
}
