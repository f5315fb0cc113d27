//! A kubelet-like log tree in a temporary directory: containers, their symlinks, and writers that
//! rotate (and gzip) as kubelet does.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{append_seqs, gzip, loglynk, open_append, run_to_end, write_seqs, Stopped};

pub fn write_file(path: &Path, contents: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, contents).unwrap();
}

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
