//! Running the binary and reading what it prints; kubelet-like log trees and sequence-numbered lines.

// Not every test module uses every helper.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// A pod for `container` on node-a1, made from the web fixture.
pub fn pod_for(
    container: &Container,
    namespace: &str,
    name: &str,
    container_name: &str,
) -> serde_json::Value {
    let dir = container.pod_dir.file_name().unwrap().to_str().unwrap();
    let uid = dir.rsplit('_').next().unwrap();
    let mut pod = crate::kubernetes::fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    pod["metadata"]["name"] = serde_json::json!(name);
    pod["metadata"]["namespace"] = serde_json::json!(namespace);
    pod["metadata"]["uid"] = serde_json::json!(uid);
    pod["spec"]["containers"][0]["name"] = serde_json::json!(container_name);
    pod["status"]["containerStatuses"][0]["name"] = serde_json::json!(container_name);
    pod["status"]["containerStatuses"][0]["containerID"] =
        serde_json::json!(format!("containerd://{}", container.id));
    pod
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

/// `GET path` over plain HTTP/1.1: the status code and the body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a header");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// The value of a sample in a Prometheus text exposition.
pub fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Where the agent's metrics endpoint listens, from its JSON log on stderr.
pub fn metrics_address(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|line| {
        let entry: serde_json::Value = serde_json::from_str(line).ok()?;
        if entry["message"] != "serving /metrics, /healthz and /readyz" {
            return None;
        }
        entry["address"].as_str().map(str::to_owned)
    })
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
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn write_file(path: &Path, contents: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, contents).unwrap();
}

// ---------------------------------------------------------------------------------------------------
// Sequence-numbered CRI lines.

/// One CRI line whose message is `seq=<n>`.
pub fn cri_line(n: u64) -> String {
    format!("2026-11-24T10:00:00.000000000Z stdout F seq={n}\n")
}

/// The lines for every number of `seqs`, as one string (one `write` call).
pub fn cri_lines(seqs: Range<u64>) -> String {
    seqs.map(cri_line).collect()
}

/// Appends the lines for `seqs` with one `write`, creating the file when it does not exist.
pub fn append_seqs(path: &Path, seqs: Range<u64>) {
    let mut file = open_append(path);
    write_seqs(&mut file, seqs);
}

/// Opens (creating) a file for appending, as a container runtime does.
pub fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {} for appending: {e}", path.display()))
}

pub fn write_seqs(file: &mut File, seqs: Range<u64>) {
    file.write_all(cri_lines(seqs).as_bytes()).unwrap();
}

/// Bytes taken by the lines `seqs`: the offset after them, when a file holds them from its start.
pub fn bytes_of(seqs: Range<u64>) -> u64 {
    seqs.map(|n| cri_line(n).len() as u64).sum()
}

/// The `n` of a document whose message is `seq=<n>`.
pub fn seq_of(doc: &serde_json::Value) -> Option<u64> {
    doc["message"].as_str()?.strip_prefix("seq=")?.parse().ok()
}

/// How many times each sequence number was printed, over one or more runs.
#[derive(Debug, Default)]
pub struct Seqs {
    counts: BTreeMap<u64, u32>,
}

impl Seqs {
    /// Adds one stdout line; fails the test on a line that is not a document with `seq=<n>`.
    pub fn add_line(&mut self, line: &str) -> u64 {
        let doc: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:.300}"));
        let n = seq_of(&doc).unwrap_or_else(|| panic!("not a seq=<n> document: {line:.300}"));
        *self.counts.entry(n).or_default() += 1;
        n
    }

    pub fn add_lines<'a>(&mut self, lines: impl IntoIterator<Item = &'a String>) {
        for line in lines {
            self.add_line(line);
        }
    }

    /// Lines of a run ended by SIGKILL: the last one may have been cut in the middle, which is not a
    /// document and was not acknowledged, so it is left out.
    pub fn add_killed_run(&mut self, lines: &[String]) {
        let Some((last, whole)) = lines.split_last() else {
            return;
        };
        self.add_lines(whole);
        if serde_json::from_str::<serde_json::Value>(last).is_ok() {
            self.add_line(last);
        }
    }

    pub fn count(&self, n: u64) -> u32 {
        self.counts.get(&n).copied().unwrap_or(0)
    }

    /// Numbers of `want` never seen.
    pub fn missing(&self, want: &[Range<u64>]) -> Vec<u64> {
        want.iter()
            .flat_map(|r| r.clone())
            .filter(|n| self.count(*n) == 0)
            .collect()
    }

    /// Numbers seen more than once.
    pub fn duplicated(&self) -> Vec<u64> {
        self.counts
            .iter()
            .filter(|(_, c)| **c > 1)
            .map(|(n, _)| *n)
            .collect()
    }

    /// Extra copies printed, over all numbers.
    pub fn duplicates(&self) -> u64 {
        self.counts.values().map(|c| u64::from(c - 1)).sum()
    }

    /// Numbers seen that are not in `want`.
    pub fn unexpected(&self, want: &[Range<u64>]) -> Vec<u64> {
        self.counts
            .keys()
            .filter(|n| !want.iter().any(|r| r.contains(n)))
            .copied()
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.counts.values().map(|c| u64::from(*c)).sum()
    }

    /// Every number of `want` exactly once, and nothing else.
    pub fn assert_exactly(&self, want: &[Range<u64>], context: &str) {
        let missing = self.missing(want);
        let duplicated = self.duplicated();
        let unexpected = self.unexpected(want);
        assert!(
            missing.is_empty() && duplicated.is_empty() && unexpected.is_empty(),
            "{context}: expected exactly {want:?} once each;\n  missing: {}\n  duplicated: {}\n  \
             unexpected: {}",
            describe(&missing),
            describe(&duplicated),
            describe(&unexpected),
        );
    }
}

/// A short description of a set of numbers: `5 numbers: 3..=6, 10`.
pub fn describe(numbers: &[u64]) -> String {
    if numbers.is_empty() {
        return "none".into();
    }
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for n in sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(20)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    let more = if runs.len() > 20 { ", …" } else { "" };
    format!("{} numbers: {}{more}", numbers.len(), shown.join(", "))
}

// ---------------------------------------------------------------------------------------------------
// A kubelet-like log tree.

/// `<root>/var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log`, linked from
/// `<root>/var/log/containers/<pod>_<namespace>_<container>-<64 hex>.log` by an absolute symlink as
/// kubelet makes them, plus a state directory for the registry.
pub struct KubeTree {
    dir: tempfile::TempDir,
}

impl Default for KubeTree {
    fn default() -> Self {
        Self::new()
    }
}

impl KubeTree {
    pub fn new() -> KubeTree {
        let dir = tempfile::tempdir().unwrap();
        let tree = KubeTree { dir };
        std::fs::create_dir_all(tree.pods_dir()).unwrap();
        std::fs::create_dir_all(tree.containers_dir()).unwrap();
        std::fs::create_dir_all(tree.state_dir()).unwrap();
        tree
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn pods_dir(&self) -> PathBuf {
        self.root().join("var/log/pods")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.root().join("var/log/containers")
    }

    /// Where the registry lives (`--state-dir`).
    pub fn state_dir(&self) -> PathBuf {
        self.root().join("state")
    }

    pub fn registry(&self) -> PathBuf {
        self.state_dir().join("registry.json")
    }

    /// `<root>/var/log/containers/*.log`
    pub fn glob(&self) -> String {
        format!("{}/*.log", self.containers_dir().display())
    }

    /// A container with an empty `0.log` and its symlink. Names must not be the agent's own
    /// (`drop_own_logs`).
    pub fn container(&self, namespace: &str, pod: &str, name: &str) -> Container {
        let seed = format!("{namespace}/{pod}/{name}");
        let uid = uuid_like(&seed);
        let id: String = (0..4).map(|i| format!("{:016x}", fnv(&seed, i))).collect();
        let pod_dir = self.pods_dir().join(format!("{namespace}_{pod}_{uid}"));
        let dir = pod_dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let container = Container {
            link: self
                .containers_dir()
                .join(format!("{pod}_{namespace}_{name}-{id}.log")),
            pod_dir,
            dir,
            id,
        };
        drop(open_append(&container.log()));
        std::os::unix::fs::symlink(container.log(), &container.link).unwrap();
        container
    }

    /// A `--no-follow --state-dir` run over the tree that must exit 0 within `timeout`.
    pub fn read_once(&self, context: &str, timeout: Duration) -> Stopped {
        let run = run_to_end(self.tail(&["--no-follow"]), timeout);
        assert_eq!(
            run.code,
            Some(0),
            "{context}: exit code; stderr:\n{}",
            run.stderr
        );
        run
    }

    /// `loglynk tail --state-dir <state> <extra>... <glob>`
    pub fn tail(&self, extra: &[&str]) -> Command {
        let mut cmd = loglynk();
        cmd.arg("tail")
            .arg("--state-dir")
            .arg(self.state_dir())
            .args(extra)
            .arg(self.glob());
        cmd
    }
}

/// One container's log directory and its `/var/log/containers` symlink.
#[derive(Debug, Clone)]
pub struct Container {
    /// `…/pods/<namespace>_<pod>_<uid>`
    pub pod_dir: PathBuf,
    /// `…/pods/<namespace>_<pod>_<uid>/<container>`
    pub dir: PathBuf,
    /// `…/containers/<pod>_<namespace>_<container>-<id>.log`
    pub link: PathBuf,
    pub id: String,
}

impl Container {
    /// The file the runtime writes: `<dir>/0.log`.
    pub fn log(&self) -> PathBuf {
        self.dir.join("0.log")
    }

    pub fn append(&self, seqs: Range<u64>) {
        append_seqs(&self.log(), seqs);
    }

    /// The runtime's handle on the current `0.log` (created when missing).
    pub fn open_append(&self) -> File {
        open_append(&self.log())
    }

    /// Kubelet's rotation, first half: `0.log` is renamed to `0.log.<stamp>` (`20261124-071500`). The
    /// runtime creates the new `0.log` when it reopens the log (`open_append`, `append`).
    pub fn rotate(&self, stamp: &str) -> PathBuf {
        let rotated = self.dir.join(format!("0.log.{stamp}"));
        std::fs::rename(self.log(), &rotated).unwrap();
        rotated
    }

    /// Points the `/var/log/containers` symlink at `target` (absolute), atomically.
    pub fn repoint(&self, target: &Path) {
        let tmp = self.link.with_extension("repoint-tmp");
        std::os::unix::fs::symlink(target, &tmp).unwrap();
        std::fs::rename(&tmp, &self.link).unwrap();
    }
}

/// A container writing `seqs` at a steady pace over `over`, in batches of 25 lines (one `write` each), with
/// kubelet rotating its log every `rotate_every` lines (`0.log` renamed to `0.log.<n>`, the runtime
/// reopening a new `0.log`). The thread ends when everything is written.
pub fn write_steadily(
    container: Container,
    seqs: Range<u64>,
    rotate_every: u64,
    over: Duration,
) -> JoinHandle<()> {
    write_rotating(container, seqs, rotate_every, None, over)
}

/// [`write_steadily`], and every `gzip_every`-th rotation kubelet also compresses the file rotated
/// the time before (`0.log.<n>` becomes `0.log.<n>.gz`), as it does with all but the newest.
pub fn write_rotating(
    container: Container,
    seqs: Range<u64>,
    rotate_every: u64,
    gzip_every: Option<u64>,
    over: Duration,
) -> JoinHandle<()> {
    const BATCH: u64 = 25;
    std::thread::spawn(move || {
        let start = Instant::now();
        let total = seqs.end - seqs.start;
        let mut writer = container.open_append();
        let mut n = seqs.start;
        let mut rotations = 0u64;
        let mut previous: Option<PathBuf> = None;
        while n < seqs.end {
            let due = start + over.mul_f64((n - seqs.start) as f64 / total as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let end = (n + BATCH).min(seqs.end);
            write_seqs(&mut writer, n..end);
            n = end;
            if (n - seqs.start).is_multiple_of(rotate_every) && n < seqs.end {
                let rotated = container.rotate(&format!("20261124-{:06}", n));
                writer = container.open_append();
                rotations += 1;
                if let (Some(every), Some(older)) = (gzip_every, previous.take()) {
                    if rotations.is_multiple_of(every) {
                        let data = std::fs::read(&older).unwrap();
                        let gz = older.with_extension(format!(
                            "{}.gz",
                            older.extension().unwrap().to_string_lossy()
                        ));
                        std::fs::write(&gz, gzip(&data)).unwrap();
                        std::fs::remove_file(&older).unwrap();
                    }
                }
                previous = Some(rotated);
            }
        }
    })
}

fn fnv(text: &str, salt: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn uuid_like(seed: &str) -> String {
    let (a, b) = (fnv(seed, 100), fnv(seed, 101));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

// ---------------------------------------------------------------------------------------------------
// The process's open files.

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

// ---------------------------------------------------------------------------------------------------
// gzip, as a rotated log compressed by kubelet.

/// A gzip member (RFC 1952) of `data`, deflated with the fixed Huffman code (literals only): a real
/// compressed stream, without a compression library.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    let mut bits = BitWriter {
        out: &mut out,
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman
    for &byte in data {
        let (code, len) = if byte < 144 {
            (0x30 + u32::from(byte), 8)
        } else {
            (0x190 + u32::from(byte) - 144, 9)
        };
        bits.put_code(code, len);
    }
    bits.put_code(0, 7); // end of block
    bits.flush();
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter<'_> {
    /// `len` bits of `value`, least significant first.
    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: most significant bit first.
    fn put_code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.put(reversed, len);
    }

    fn flush(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            self.acc = 0;
            self.n = 0;
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
