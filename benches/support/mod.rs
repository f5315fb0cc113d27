//! What the benches that run the `loglynk` binary share: the kubelet log tree and its lines, a minimal
//! bulk endpoint, spawning the agent, and sampling it through /proc.
//!
//! Included by each bench with `#[path = "support/mod.rs"] mod support;`. Not a bench target itself:
//! Cargo only discovers `benches/*.rs` and `benches/*/main.rs`.

// Each bench uses a different part of this module.
#![allow(dead_code)]

pub mod endpoint;
pub mod lines;

use std::fs::File;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---- the agent ----

/// `loglynk run` shipping `<root>/var/log/containers/*.log` to the bulk endpoint at `addr`, with its
/// registry in `state` and its stderr to `stderr`.
pub fn spawn_run(addr: SocketAddr, root: &Path, state: &Path, stderr: File) -> Child {
    spawn_run_with(addr, root, state, stderr, &[])
}

/// [`spawn_run`] with more `-E KEY=VALUE` settings.
pub fn spawn_run_with(
    addr: SocketAddr,
    root: &Path,
    state: &Path,
    stderr: File,
    settings: &[String],
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loglynk"));
    command
        .arg("run")
        .arg("-E")
        .arg("http.port=0")
        // The endpoint answers bulk requests only: nothing to set up.
        .arg("-E")
        .arg("setup.enabled=false")
        .arg("-E")
        .arg("kubernetes.enabled=false")
        .arg("-E")
        .arg(format!("output.elasticsearch.hosts=[\"http://{addr}\"]"))
        .arg("-E")
        .arg("output.elasticsearch.ssl.certificate_authorities=[]")
        .arg("-E")
        .arg(format!("state_dir={}", state.display()))
        .arg("-E")
        .arg(format!(
            "paths=[\"{}/var/log/containers/*.log\"]",
            root.display()
        ));
    for setting in settings {
        command.arg("-E").arg(setting);
    }
    command
        .env_remove("LOGLYNK_CONFIG")
        .env_remove("LOGLYNK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn loglynk")
}

/// Prints how many WARN and ERROR lines the agent's stderr holds, and the first five.
pub fn report_problems(stderr: &str) {
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    if !problems.is_empty() {
        println!(
            "  {} warnings/errors on loglynk's stderr, first ones:",
            problems.len()
        );
        for line in problems.iter().take(5) {
            println!("    {line:.300}");
        }
    }
}

pub fn wait_with_timeout(agent: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = agent.try_wait().expect("wait for loglynk") {
            return Some(status);
        }
        if Instant::now() > deadline {
            let _ = agent.kill();
            let _ = agent.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM to `pid` (with kill(1)).
pub fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

pub fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}

// ---- /proc ----

/// The highest figures seen, or one sample. `fds` is only measured by [`sample_with_fds`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Sample {
    pub rss_kib: u64,
    pub hwm_kib: u64,
    pub fds: usize,
    /// Of `fds`, those open on `.log` files (the tailed ones, as opposed to sockets, pipes, inotify).
    pub log_fds: usize,
}

impl Sample {
    pub fn update(&mut self, other: &Sample) {
        self.rss_kib = self.rss_kib.max(other.rss_kib);
        self.hwm_kib = self.hwm_kib.max(other.hwm_kib);
        self.fds = self.fds.max(other.fds);
        self.log_fds = self.log_fds.max(other.log_fds);
    }
}

/// Panics, with the agent's stderr, if it has exited.
fn check_running(agent: &mut Child, stderr: &dyn Fn() -> String) {
    if let Some(status) = agent.try_wait().expect("wait for loglynk") {
        panic!("loglynk exited early ({status}); its stderr:\n{}", stderr());
    }
}

/// Memory of the agent, which must still be running (0 for a figure /proc does not give).
pub fn sample(agent: &mut Child, stderr: &dyn Fn() -> String) -> Sample {
    check_running(agent, stderr);
    let pid = agent.id();
    Sample {
        rss_kib: status_kib(pid, "VmRSS:").unwrap_or(0),
        hwm_kib: status_kib(pid, "VmHWM:").unwrap_or(0),
        fds: 0,
        log_fds: 0,
    }
}

/// Memory and descriptors of the agent, which must still be running; panics if its
/// `/proc/<pid>/status` cannot be read.
pub fn sample_with_fds(agent: &mut Child, stderr: &dyn Fn() -> String) -> Sample {
    check_running(agent, stderr);
    let pid = agent.id();
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    Sample {
        rss_kib: status_field_kib(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: status_field_kib(&status, "VmHWM:").unwrap_or(0),
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0),
        log_fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .filter(|target| target.to_string_lossy().contains(".log"))
                    .count()
            })
            .unwrap_or(0),
    }
}

/// A `VmRSS:`-like figure of `/proc/<pid>/status`, in KiB.
pub fn status_kib(pid: u32, key: &str) -> Option<u64> {
    status_field_kib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        key,
    )
}

fn status_field_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks; `pid` may also be `"self"`.
pub fn cpu_ticks(pid: impl std::fmt::Display) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// `getconf CLK_TCK`, or 100.
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t: &u64| t > 0)
        .unwrap_or(100)
}
