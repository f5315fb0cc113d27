//! Fair reading at full size (issue 19's scenario): a cluster that indexes 5 MiB/s of bulk bodies,
//! `bulk_max_bytes: 1MiB`, 20 quiet containers writing a line every 100 ms, and one container that
//! writes a 64 MiB backlog at once. Reports how long the quiet containers' lines waited (from their
//! `@timestamp` to the cluster's answer) while the backlog drained, p50 and p99, the loud container's
//! throughput, and how busy the output stayed. Target: quiet p99 within 2 s, the output busy.
//!
//! `cargo bench --bench fire_hose`. Environment: `LOGLYNK_BENCH_RATE_MIB` (5),
//! `LOGLYNK_BENCH_BACKLOG_MIB` (64), `LOGLYNK_BENCH_QUIET` (20), `LOGLYNK_BENCH_TIMEOUT_SECS` (300).
//! The agent runs with its defaults (gzip level 1, 2 workers, `flush_interval: 1s`) but for
//! `bulk_max_bytes`.

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[path = "support/mod.rs"]
mod support;

use support::endpoint::Endpoint;
use support::lines::{build_tree, cri_line, Rng};
use support::{env_u64, report_problems, spawn_run_with, terminate, wait_with_timeout};

const QUIET_EVERY: Duration = Duration::from_millis(100);
/// Quiet lines' `qid`s start here, above every loud one.
const QUIET_QIDS: u64 = 1 << 24;

/// What the endpoint saw, as answers went out.
#[derive(Default)]
struct Seen {
    /// Per quiet line: when it was written (its `@timestamp`) and how long it waited.
    quiet: Mutex<Vec<(SystemTime, f64)>>,
    loud: AtomicU64,
    loud_done: Mutex<Option<Instant>>,
    /// Decompressed body bytes answered while the backlog drained.
    bytes: AtomicU64,
}

fn main() {
    let rate = env_u64("LOGLYNK_BENCH_RATE_MIB", 5) << 20;
    let backlog = env_u64("LOGLYNK_BENCH_BACKLOG_MIB", 64) << 20;
    let quiet = env_u64("LOGLYNK_BENCH_QUIET", 20) as usize;
    let timeout = Duration::from_secs(env_u64("LOGLYNK_BENCH_TIMEOUT_SECS", 300));

    let dir = tempfile::tempdir().expect("a temporary directory");
    let logs = build_tree(dir.path(), quiet + 1);
    let (quiet_logs, loud_log) = (&logs[..quiet], logs[quiet].clone());
    for log in &logs {
        File::create(log).expect("create a log");
    }
    let endpoint = Endpoint::start();
    endpoint
        .shared
        .bytes_per_second
        .store(rate, Ordering::SeqCst);
    let seen = Arc::new(Seen::default());
    let draining = Arc::new(AtomicBool::new(false));
    {
        let (seen, draining) = (Arc::clone(&seen), Arc::clone(&draining));
        let hook = move |raw: &[u8]| observe(raw, &seen, &draining);
        let _ = endpoint.shared.on_answer.set(Box::new(hook));
    }
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let log_path = dir.path().join("loglynk.stderr");
    let mut agent = spawn_run_with(
        endpoint.addr,
        dir.path(),
        &state,
        File::create(&log_path).unwrap(),
        &["output.elasticsearch.bulk_max_bytes=1MiB".into()],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = quiet_logs
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let (log, stop) = (log.clone(), Arc::clone(&stop));
            std::thread::spawn(move || write_quiet(&log, i as u64, &stop))
        })
        .collect();
    // The quiet lines flow first, so the agent is connected and reading before the backlog.
    std::thread::sleep(Duration::from_secs(3));
    println!(
        "fire_hose: {quiet} quiet containers (a line every {} ms), a {} MiB backlog at once, a cluster \
         taking {} MiB/s of bulk bodies, bulk_max_bytes 1MiB",
        QUIET_EVERY.as_millis(),
        backlog >> 20,
        rate >> 20
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = String::with_capacity(backlog as usize + 4096);
    let mut lines = 0u64;
    while (text.len() as u64) < backlog {
        text.push_str(&cri_line(lines, lines / 100, &mut rng));
        lines += 1;
    }
    let start = Instant::now();
    let from = SystemTime::now();
    draining.store(true, Ordering::SeqCst);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&loud_log)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("write the backlog");
    drop(text);
    let mut next_report = Instant::now() + Duration::from_secs(10);
    while seen.loud.load(Ordering::Relaxed) < lines {
        if start.elapsed() > timeout {
            let _ = agent.kill();
            panic!(
                "only {} of {lines} loud lines answered after {timeout:?}; loglynk's stderr:\n{}",
                seen.loud.load(Ordering::Relaxed),
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            println!(
                "  … {:.0} s: {} of {lines} loud lines",
                start.elapsed().as_secs_f64(),
                seen.loud.load(Ordering::Relaxed)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    draining.store(false, Ordering::SeqCst);
    let done = seen.loud_done.lock().unwrap().unwrap_or_else(Instant::now);
    let took = done.duration_since(start).as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.join().unwrap();
    }
    terminate(agent.id());
    wait_with_timeout(&mut agent, Duration::from_secs(30));

    let until = from + Duration::from_secs_f64(took);
    let mut waits: Vec<f64> = seen
        .quiet
        .lock()
        .unwrap()
        .iter()
        .filter(|(written, _)| *written >= from && *written <= until)
        .map(|(_, waited)| *waited)
        .collect();
    waits.sort_by(f64::total_cmp);
    let bytes = seen.bytes.load(Ordering::Relaxed) as f64;
    let (p50, p99) = (percentile(&waits, 0.5), percentile(&waits, 0.99));
    println!(
        "  quiet lines written while the backlog drained: {}; waited p50 {p50:.2} s, p99 {p99:.2} s, \
         max {:.2} s   (target p99 <= 2 s: {})",
        waits.len(),
        waits.last().copied().unwrap_or(0.0),
        if p99 <= 2.0 { "met" } else { "NOT met" }
    );
    println!(
        "  loud: {lines} lines, {} MiB drained in {took:.1} s ({:.2} MiB/s of log lines)",
        backlog >> 20,
        backlog as f64 / took / 1048576.0
    );
    println!(
        "  output: {:.2} MiB/s of bulk bodies answered, {:.0} % of what the cluster takes",
        bytes / took / 1048576.0,
        bytes / took / rate as f64 * 100.0
    );
    report_problems(&std::fs::read_to_string(&log_path).unwrap_or_default());
}

/// Writes a quiet line every [`QUIET_EVERY`] until told to stop, each stamped with the time it is
/// written.
fn write_quiet(log: &std::path::Path, container: u64, stop: &AtomicBool) {
    let mut file = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.9fZ");
        let qid = QUIET_QIDS + container * 1_000_000 + n;
        writeln!(file, "{now} stdout F quiet c={container} qid={qid}").unwrap();
        n += 1;
        std::thread::sleep(QUIET_EVERY);
    }
}

/// Notes, for one body about to be answered, each quiet line's wait and the loud lines.
fn observe(raw: &[u8], seen: &Seen, draining: &AtomicBool) {
    let now = SystemTime::now();
    let quiet = memchr::memmem::Finder::new(b"quiet c=");
    let mut loud = 0;
    let mut waits = Vec::new();
    for (i, doc) in raw.split(|b| *b == b'\n').enumerate() {
        if i % 2 == 0 || doc.is_empty() {
            continue;
        }
        if quiet.find(doc).is_none() {
            loud += 1;
            continue;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(doc) else {
            continue;
        };
        let stamp = value["@timestamp"].as_str().unwrap_or_default();
        if let Ok(written) = chrono::DateTime::parse_from_rfc3339(stamp) {
            let written = SystemTime::from(written);
            let waited = now.duration_since(written).unwrap_or_default();
            waits.push((written, waited.as_secs_f64()));
        }
    }
    seen.quiet.lock().unwrap().extend(waits);
    if loud > 0 {
        seen.loud.fetch_add(loud, Ordering::Relaxed);
        *seen.loud_done.lock().unwrap() = Some(Instant::now());
    }
    if draining.load(Ordering::Relaxed) {
        seen.bytes.fetch_add(raw.len() as u64, Ordering::Relaxed);
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[at - 1]
}
