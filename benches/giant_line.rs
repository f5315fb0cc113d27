//! A single 100 MiB line with no newline: memory stays bounded by `max_line_bytes`, not by the line.
//! `loglynk tail --no-follow` reads it (release build) while its peak RSS is sampled; the line ships
//! once, cut at `max_line_bytes` and flagged `truncated`.
//!
//! `cargo bench --bench giant_line`. Environment: `LOGLYNK_BENCH_LINE_MIB` (default 100).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use support::{env_u64, status_kib};

/// What the agent may use whatever it reads: its own base plus one line buffer of max_line_bytes
/// (1 MiB) and the JSON document made of it.
const LIMIT_MIB: f64 = 64.0;

fn main() {
    let mib = env_u64("LOGLYNK_BENCH_LINE_MIB", 100);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("giant.log");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        file.write_all(b"2026-11-24T10:00:00.000000000Z stdout F ")
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..mib {
            file.write_all(&chunk).unwrap();
        }
    }
    let started = Instant::now();
    let mut agent = Command::new(env!("CARGO_BIN_EXE_loglynk"))
        .args(["tail", "--no-follow"])
        .arg(&path)
        .env_remove("LOGLYNK_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting loglynk");
    let pid = agent.id();
    let stdout = agent.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut docs = Vec::new();
        for line in BufReader::new(stdout).lines() {
            docs.push(line.unwrap());
        }
        docs
    });
    let mut peak_kib = 0;
    while agent.try_wait().unwrap().is_none() {
        if let Some(hwm) = status_kib(pid, "VmHWM:") {
            peak_kib = peak_kib.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = started.elapsed();
    let docs = reader.join().unwrap();
    let peak_mib = peak_kib as f64 / 1024.0;
    let mut problems = Vec::new();
    if docs.len() != 1 {
        problems.push(format!(
            "{} documents, expected the one cut line",
            docs.len()
        ));
    }
    let doc: serde_json::Value =
        serde_json::from_str(docs.first().map_or("{}", String::as_str)).unwrap_or_default();
    let message_len = doc["message"].as_str().map_or(0, str::len);
    if doc["log"]["flags"] != serde_json::json!(["truncated"]) || message_len > 1 << 20 {
        problems.push(format!(
            "not cut at max_line_bytes: {message_len} bytes, {}",
            doc["log"]
        ));
    }
    if peak_kib == 0 {
        problems.push("exited before its memory could be sampled".to_owned());
    }
    if peak_mib > LIMIT_MIB {
        problems.push(format!("peak RSS {peak_mib:.1} MiB, over {LIMIT_MIB} MiB"));
    }
    println!(
        "giant_line: one {mib} MiB line without a newline, read in {took:.1?}: peak RSS \
         {peak_mib:.1} MiB (limit {LIMIT_MIB} MiB); shipped once, cut to {message_len} bytes, \
         flagged {}",
        doc["log"]["flags"]
    );
    for problem in &problems {
        eprintln!("giant_line: FAILED: {problem}");
    }
    if !problems.is_empty() {
        std::process::exit(1);
    }
}
