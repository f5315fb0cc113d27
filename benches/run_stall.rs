//! What an Elasticsearch that stops answering costs: the bulk endpoint accepts requests but answers none
//! for 60 s while a writer appends 200 MiB of CRI lines to 20 container logs; then it answers again.
//! Reports the agent's RSS during the stall (it should stay flat: reading pauses once `max_queued_bytes`
//! are waiting, the files on disk are the buffer) and overall, and checks that every line written was
//! delivered (duplicates are allowed, at least once; they are counted).
//!
//! `cargo bench --bench run_stall`. Environment: `LOGLYNK_BENCH_STALL_SECS` (default 60),
//! `LOGLYNK_BENCH_STALL_BYTES` (default 200 MiB), `LOGLYNK_BENCH_FILES` (default 20),
//! `LOGLYNK_BENCH_TIMEOUT_SECS` (give up draining after, default 900).
//!
//! The writer spreads its bytes over the first three quarters of the stall, in slices every 100 ms.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use support::endpoint::Endpoint;
use support::lines::{build_tree, cri_line, Rng};
use support::{
    clock_ticks_per_second, cpu_ticks, env_u64, report_problems, sample, spawn_run, status_kib,
    terminate, wait_with_timeout, Sample,
};

const BASE_RSS_MIB: f64 = 64.0;
const MAX_QUEUED_MIB: f64 = 32.0;

fn main() {
    let stall_secs = env_u64("LOGLYNK_BENCH_STALL_SECS", 60);
    let stall_bytes = env_u64("LOGLYNK_BENCH_STALL_BYTES", 200 << 20);
    let files = env_u64("LOGLYNK_BENCH_FILES", 20) as usize;
    let timeout = Duration::from_secs(env_u64("LOGLYNK_BENCH_TIMEOUT_SECS", 900));
    let clock_ticks = clock_ticks_per_second() as f64;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let logs = build_tree(dir.path(), files);
    // One line in each file first, so the agent is running and connected before the stall.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seq = 0u64;
    for (f, log) in logs.iter().enumerate() {
        std::fs::write(log, cri_line(seq, f as u64, &mut rng)).expect("create a log");
        seq += 1;
    }
    let seeded = seq;

    let endpoint = Endpoint::start();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let log_path = dir.path().join("loglynk.stderr");
    let log_file = File::create(&log_path).unwrap();
    let stderr = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let mut agent = spawn_run(endpoint.addr, dir.path(), &state, log_file);
    let pid = agent.id();
    let shared = endpoint.shared.clone();
    let mib = |kib: u64| kib as f64 / 1024.0;

    println!(
        "run_stall: {files} files, endpoint stalled {stall_secs} s while {:.1} MiB are appended",
        stall_bytes as f64 / 1048576.0
    );
    let mut peak = Sample::default();
    let warmup = Instant::now();
    while shared.unique.load(Ordering::Relaxed) < seeded {
        peak.update(&sample(&mut agent, &stderr));
        if warmup.elapsed() > Duration::from_secs(60) {
            let _ = agent.kill();
            panic!(
                "the first {seeded} lines never arrived; loglynk's stderr:\n{}",
                stderr()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = sample(&mut agent, &stderr);
    println!(
        "  before the stall: {seeded} lines delivered in {:.1} s, RSS {:.1} MiB (VmHWM {:.1} MiB)",
        warmup.elapsed().as_secs_f64(),
        mib(before.rss_kib),
        mib(before.hwm_kib)
    );

    // The stall, and the writer.
    shared.stalled.store(true, Ordering::SeqCst);
    let cpu_stall_start = cpu_ticks(pid).unwrap_or(0);
    let stall_start = Instant::now();
    let stall = Duration::from_secs(stall_secs);
    let writer = {
        let logs = logs.clone();
        let spread = stall * 3 / 4;
        std::thread::spawn(move || write_lines(&logs, stall_bytes, spread, seq, rng))
    };
    let mut during = Sample::default();
    let mut rss_min = u64::MAX;
    let mut marks = Vec::new();
    let mut next_mark = stall_start + stall / 4;
    while stall_start.elapsed() < stall {
        let s = sample(&mut agent, &stderr);
        during.update(&s);
        rss_min = rss_min.min(s.rss_kib);
        if Instant::now() >= next_mark {
            next_mark += stall / 4;
            marks.push((stall_start.elapsed(), s.rss_kib));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (lines, written, write_time) = writer.join().expect("the writer");
    let at_stall_end = sample(&mut agent, &stderr);
    marks.push((stall_start.elapsed(), at_stall_end.rss_kib));
    during.update(&at_stall_end);
    let counted_in_stall = shared.unique.load(Ordering::Relaxed);
    let cpu_stall_end = cpu_ticks(pid).unwrap_or(0);
    shared.stalled.store(false, Ordering::SeqCst);
    let drain_start = Instant::now();
    println!(
        "  writer: {} lines, {:.1} MiB in {:.1} s (average {:.0} bytes a line)",
        lines - seq,
        written as f64 / 1048576.0,
        write_time.as_secs_f64(),
        written as f64 / (lines - seq).max(1) as f64
    );

    // Drain.
    let mut next_report = Instant::now() + Duration::from_secs(10);
    loop {
        peak.update(&sample(&mut agent, &stderr));
        let counted = shared.unique.load(Ordering::Relaxed);
        if counted >= lines {
            break;
        }
        if drain_start.elapsed() > timeout {
            let _ = agent.kill();
            panic!(
                "only {counted} of {lines} lines counted {timeout:?} after the stall; loglynk's \
                 stderr:\n{}",
                stderr()
            );
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            println!(
                "  … {:.0} s after the stall: {counted} of {lines} lines counted",
                drain_start.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let drain = drain_start.elapsed();
    let cpu_drain_end = cpu_ticks(pid).unwrap_or(0);
    peak.update(&during);
    let overall_hwm = status_kib(pid, "VmHWM:").unwrap_or(0).max(peak.hwm_kib);

    let stopping = Instant::now();
    terminate(pid);
    let status = wait_with_timeout(&mut agent, Duration::from_secs(30));
    let items = shared.items.load(Ordering::Relaxed);
    let unique = shared.unique.load(Ordering::Relaxed);
    let requests = shared.requests.load(Ordering::Relaxed);
    let limit = BASE_RSS_MIB + MAX_QUEUED_MIB;

    println!(
        "  during the stall: RSS {:.1} .. {:.1} MiB (sampled every 100 ms; at {}), VmHWM {:.1} MiB; \
         {} lines delivered by then",
        mib(rss_min),
        mib(during.rss_kib),
        marks
            .iter()
            .map(|(t, kib)| format!("{:.0} s {:.1} MiB", t.as_secs_f64(), mib(*kib)))
            .collect::<Vec<_>>()
            .join(", "),
        mib(during.hwm_kib),
        counted_in_stall
    );
    println!(
        "  peak RSS during stall: {:.1} MiB   (target < {limit:.0} MiB: {})",
        mib(during.rss_kib),
        if mib(during.rss_kib) < limit {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  peak RSS overall (VmHWM): {:.1} MiB   (target < {limit:.0} MiB: {})",
        mib(overall_hwm),
        if mib(overall_hwm) < limit {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  loglynk CPU during the stall: {:.2} s over {:.0} s",
        cpu_stall_end.saturating_sub(cpu_stall_start) as f64 / clock_ticks,
        stall.as_secs_f64()
    );
    println!(
        "  after the stall: all {lines} lines counted in {:.1} s ({:.0} lines/s, loglynk CPU {:.2} s)",
        drain.as_secs_f64(),
        (lines - counted_in_stall) as f64 / drain.as_secs_f64(),
        cpu_drain_end.saturating_sub(cpu_stall_end) as f64 / clock_ticks
    );
    println!(
        "  written {lines}, counted {unique} distinct ({} lost), {items} items in {requests} bulk \
         requests ({} extra: duplicates)",
        lines.saturating_sub(unique),
        items.saturating_sub(unique)
    );
    match status {
        Some(status) => println!(
            "  shutdown on SIGTERM: {:.2} s, {status}",
            stopping.elapsed().as_secs_f64()
        ),
        None => println!("  shutdown on SIGTERM: did not exit within 30 s; killed"),
    }
    report_problems(&stderr());
}

/// Appends `bytes` of lines round-robin to `logs`, spread evenly over `spread` in 100 ms slices.
/// Returns the next sequence number (= lines in all), the bytes written and how long it took.
fn write_lines(
    logs: &[PathBuf],
    bytes: u64,
    spread: Duration,
    mut seq: u64,
    mut rng: Rng,
) -> (u64, u64, Duration) {
    let mut outs: Vec<BufWriter<File>> = logs
        .iter()
        .map(|p| {
            BufWriter::with_capacity(
                256 << 10,
                OpenOptions::new().append(true).open(p).expect("open a log"),
            )
        })
        .collect();
    let start = Instant::now();
    let slices = (spread.as_millis() / 100).max(1) as u64;
    let mut written = 0u64;
    let mut t_ms = 1000u64;
    for slice in 1..=slices {
        let due = start + spread * slice as u32 / slices as u32;
        let until = bytes * slice / slices;
        while written < until {
            let f = (seq as usize) % outs.len();
            let line = cri_line(seq, t_ms + f as u64, &mut rng);
            outs[f].write_all(line.as_bytes()).expect("append a line");
            written += line.len() as u64;
            seq += 1;
            t_ms += rng.below(3);
        }
        for out in &mut outs {
            out.flush().expect("flush a log");
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    (seq, written, start.elapsed())
}
