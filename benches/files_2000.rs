//! What following a busy node costs: 2,000 container logs, each growing by one CRI line a second, tailed
//! by `loglynk tail --state-dir`. Reports the agent's CPU (% of one core), peak RSS and most open
//! descriptors while the files grow, then its CPU while they are idle.
//!
//! `cargo bench --bench files_2000`. Environment: `LOGLYNK_BENCH_SECS` (active period, default 30),
//! `LOGLYNK_BENCH_IDLE_SECS` (default 10), `LOGLYNK_BENCH_FILES` (default 2000),
//! `LOGLYNK_BENCH_WARMUP_SECS` (time to open and read the files first, default 5).
//!
//! The agent's stdout goes to /dev/null, so what is measured is reading, parsing, encoding and the
//! registry, not a consumer. The writes are cheap for this process: every file stays open in append mode.

use std::ffi::{c_int, c_long, c_ulong};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use support::lines::build_tree;
use support::{cpu_ticks, env_u64, sample_with_fds, wait_with_timeout, Sample};

fn main() {
    let files = env_u64("LOGLYNK_BENCH_FILES", 2000) as usize;
    let active_secs = env_u64("LOGLYNK_BENCH_SECS", 30);
    let idle_secs = env_u64("LOGLYNK_BENCH_IDLE_SECS", 10);
    let warmup_secs = env_u64("LOGLYNK_BENCH_WARMUP_SECS", 5);
    let clock_ticks = clock_ticks_per_second();

    // One descriptor per file here, plus the agent's own (it inherits the limit).
    raise_open_files_limit(files as u64 + 512);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let logs = build_tree(dir.path(), files);
    // Each log starts with one line.
    for (i, log) in logs.iter().enumerate() {
        std::fs::write(log, cri_line(0, i)).unwrap();
    }
    let mut writers: Vec<File> = logs
        .iter()
        .map(|path| {
            OpenOptions::new()
                .append(true)
                .open(path)
                .expect("open a log for appending")
        })
        .collect();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // The agent's own log, read at the end (and when it exits early).
    let log_path = dir.path().join("loglynk.stderr");
    let log_file = File::create(&log_path).unwrap();

    let mut agent = Command::new(env!("CARGO_BIN_EXE_loglynk"))
        .arg("tail")
        .arg("--state-dir")
        .arg(&state)
        .arg(format!("{}/var/log/containers/*.log", dir.path().display()))
        .env_remove("LOGLYNK_CONFIG")
        .env_remove("LOGLYNK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("spawn loglynk");
    let pid = agent.id();
    let stderr = || std::fs::read_to_string(&log_path).unwrap_or_default();

    println!(
        "files_2000: {files} files, 1 line/s each for {active_secs} s, then {idle_secs} s idle \
         (warm-up {warmup_secs} s)"
    );
    let mut peak = Sample::default();
    let warmup_end = Instant::now() + Duration::from_secs(warmup_secs);
    while Instant::now() < warmup_end {
        std::thread::sleep(Duration::from_millis(500));
        peak.update(&sample_with_fds(&mut agent, &stderr));
    }

    // Active: each second, every file gets one line; the writes are spread over ten slices.
    const SLICES: usize = 10;
    let own_before = cpu_ticks("self").expect("read /proc/self/stat");
    let before = cpu_ticks(pid).expect("read /proc/<pid>/stat");
    let start = Instant::now();
    let mut lines = 0u64;
    for second in 0..active_secs {
        for slice in 0..SLICES {
            let due = start + Duration::from_millis(second * 1000 + (slice as u64) * 100);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let (from, to) = (files * slice / SLICES, files * (slice + 1) / SLICES);
            for (i, writer) in writers.iter_mut().enumerate().take(to).skip(from) {
                writer
                    .write_all(cri_line(second, i).as_bytes())
                    .expect("append a line");
                lines += 1;
            }
        }
        peak.update(&sample_with_fds(&mut agent, &stderr));
    }
    let active_end = start + Duration::from_secs(active_secs);
    if let Some(wait) = active_end.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    let active_elapsed = start.elapsed();
    let after = cpu_ticks(pid).expect("read /proc/<pid>/stat");
    let own_after = cpu_ticks("self").expect("read /proc/self/stat");
    peak.update(&sample_with_fds(&mut agent, &stderr));

    // Idle: nothing is written.
    let idle_start = Instant::now();
    for _ in 0..idle_secs {
        std::thread::sleep(Duration::from_secs(1));
        peak.update(&sample_with_fds(&mut agent, &stderr));
    }
    let idle_elapsed = idle_start.elapsed();
    let idle_after = cpu_ticks(pid).expect("read /proc/<pid>/stat");

    let percent =
        |ticks: u64, over: Duration| ticks as f64 / clock_ticks as f64 / over.as_secs_f64() * 100.0;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "  active: CPU {:.1} % of one core over {:.1} s ({lines} lines, {:.0} lines/s)",
        percent(after - before, active_elapsed),
        active_elapsed.as_secs_f64(),
        lines as f64 / active_elapsed.as_secs_f64(),
    );
    println!(
        "          peak RSS {:.1} MiB (VmHWM {:.1} MiB), max open fds {} ({} on log files; \
         max_open_files is 1024)",
        mib(peak.rss_kib),
        mib(peak.hwm_kib),
        peak.fds,
        peak.log_fds
    );
    println!(
        "  idle:   CPU {:.2} % of one core over {:.1} s",
        percent(idle_after - after, idle_elapsed),
        idle_elapsed.as_secs_f64()
    );
    println!(
        "  (this process, writing: CPU {:.1} % of one core)",
        percent(own_after - own_before, active_elapsed)
    );

    // SIGTERM: flushes, writes the registry, exits 0.
    let stopping = Instant::now();
    terminate(pid);
    let status = wait_with_timeout(&mut agent, Duration::from_secs(30));
    let stderr = stderr();
    match status {
        Some(status) => println!(
            "  shutdown on SIGTERM: {:.2} s, {status}",
            stopping.elapsed().as_secs_f64()
        ),
        None => println!("  shutdown on SIGTERM: did not exit within 30 s; killed"),
    }
    support::report_problems(&stderr);
    drop(writers);
}

/// A CRI line of ~150 bytes with a JSON message, like a structured logger's.
fn cri_line(second: u64, file: usize) -> String {
    format!(
        "2026-11-24T10:{:02}:{:02}.123456789Z stdout F {{\"level\":\"info\",\"msg\":\"request \
         completed\",\"file\":{file},\"second\":{second},\"status\":200,\"duration_ms\":12}}\n",
        (second / 60) % 60,
        second % 60
    )
}

// The few libc calls std does not wrap; libc itself is always linked on Linux.
#[repr(C)]
struct RLimit {
    cur: c_ulong,
    max: c_ulong,
}

extern "C" {
    fn getrlimit(resource: c_int, rlim: *mut RLimit) -> c_int;
    fn setrlimit(resource: c_int, rlim: *const RLimit) -> c_int;
    fn sysconf(name: c_int) -> c_long;
    fn kill(pid: c_int, sig: c_int) -> c_int;
}

const RLIMIT_NOFILE: c_int = 7;
const SC_CLK_TCK: c_int = 2;
const SIGTERM: c_int = 15;

/// Raises the soft RLIMIT_NOFILE to at least `want` (up to the hard limit).
fn raise_open_files_limit(want: u64) {
    let want = c_ulong::try_from(want).unwrap_or(c_ulong::MAX);
    let mut limit = RLimit { cur: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable rlimit struct for the duration of the call.
    if unsafe { getrlimit(RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.cur >= want {
        return;
    }
    let raised = RLimit {
        cur: limit.max.min(want),
        max: limit.max,
    };
    // SAFETY: `raised` is a valid rlimit struct; setrlimit only reads it.
    if unsafe { setrlimit(RLIMIT_NOFILE, &raised) } != 0 || raised.cur < want {
        panic!(
            "need {want} open files, the limit is {} (hard {}): raise it with `ulimit -n`",
            limit.cur, limit.max
        );
    }
}

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf takes no pointers.
    let ticks = unsafe { sysconf(SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

fn terminate(pid: u32) {
    // SAFETY: kill takes no pointers; the pid is our own child, not yet reaped.
    unsafe {
        kill(pid as c_int, SIGTERM);
    }
}
