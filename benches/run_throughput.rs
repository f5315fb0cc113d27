//! What shipping a backlog costs: ~1 GiB of CRI lines over 200 container logs, written before `loglynk run`
//! starts, shipped to a minimal bulk endpoint in this process, once with the defaults (gzip level 1) and
//! once with `compression_level: 0`. Reports, for each, lines per CPU-second of the agent (user +
//! system), input MiB per wall-second, peak RSS, and the bulk requests it took.
//!
//! The backlog is issue 14's (`support::lines::backlog_record`): by records, 60 % JSON objects and 38.5 %
//! plain text of 100-500 bytes, 1 % 2-12 KiB single-line JSON errors with a stack trace, 0.5 % 17-48 KiB
//! JSON payloads split into 16 KiB `P` chunks; ~540 bytes a record, 23:55 to past midnight (two daily
//! indices).
//!
//! `cargo bench --bench run_throughput`; `cargo bench --features isal --bench run_throughput` measures the
//! image's build, which gzips with ISA-L (the first line printed names the binary's gzip). Environment: `LOGLYNK_BENCH_BYTES` (backlog size, default 1 GiB),
//! `LOGLYNK_BENCH_FILES` (default 200), `LOGLYNK_BENCH_TIMEOUT_SECS` (give up after, default 1800),
//! `LOGLYNK_BENCH_RUNS` (`defaults,uncompressed` by default; either alone runs only that one),
//! `LOGLYNK_BENCH_SETTINGS` (`-E` settings added to every run, separated by `;`, to find what a
//! setting costs: `output.elasticsearch.deduplicate=false;multiline.type=none`),
//! `LOGLYNK_BENCH_KUBE=1` (enrich from the test API server, which then holds one pod for each file on
//! the agent's node, each with the seven labels more than its fixture that a deployed app carries, as
//! the DaemonSet runs; without it, path metadata only).
//!
//! Each run is bracketed by a reference: this thread's CPU time to parse the backlog's first 16 MiB of
//! JSON messages with serde_json and gzip those lines with zlib-rs at level 1, printed as MiB per
//! CPU-second before and after. On the shared 2-core VM one binary's lines per CPU-second moved by a
//! third within minutes and by more from one host to the next; the reference moves with them, so
//! runs are compared by it, not by the clock alone.
//!
//! The endpoint does little: it decompresses each body, counts its items, notes each line's `qid=` (so a
//! duplicate is not mistaken for progress) and answers every item 201. It shares the machine with the
//! agent, so the wall-clock figures include its cost; the CPU figures are the agent's alone.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;

use serde_json::json;
use support::endpoint::Endpoint;
use support::lines::{backlog_record, build_tree, Rng};
use support::{
    clock_ticks_per_second, cpu_ticks, env_u64, report_problems, sample, spawn_run_with,
    status_kib, terminate, wait_with_timeout, Sample,
};
use testkit_kubernetes as kubernetes;

/// Issue 14's targets on the 2-core machine.
const TARGET_LINES_PER_CPU_SECOND_GZIP: f64 = 250_000.0;
const TARGET_LINES_PER_CPU_SECOND_PLAIN: f64 = 400_000.0;
const TARGET_WALL_MIB_PER_SECOND_GZIP: f64 = 80.0;
const TARGET_PEAK_RSS_MIB: f64 = 48.0;

fn main() {
    let bytes = env_u64("LOGLYNK_BENCH_BYTES", 1 << 30);
    let files = env_u64("LOGLYNK_BENCH_FILES", 200) as usize;
    let timeout = Duration::from_secs(env_u64("LOGLYNK_BENCH_TIMEOUT_SECS", 1800));
    let runs =
        std::env::var("LOGLYNK_BENCH_RUNS").unwrap_or_else(|_| "defaults,uncompressed".into());

    let dir = tempfile::tempdir().expect("a temporary directory");
    let generating = Instant::now();
    let logs = build_tree(dir.path(), files);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seq = 0u64;
    let mut written = 0u64;
    let per_file = bytes / files as u64;
    for (f, log) in logs.iter().enumerate() {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(log).expect("create a log"));
        let mut file_bytes = 0u64;
        // Each file's clock starts a little apart and moves 1-500 ms a record.
        let mut t_ms = (f as u64) * 37;
        while file_bytes < per_file {
            let record = backlog_record(seq, t_ms, &mut rng);
            out.write_all(record.as_bytes()).expect("write a record");
            file_bytes += record.len() as u64;
            seq += 1;
            t_ms += 1 + rng.below(500);
        }
        out.flush().expect("flush a log");
        written += file_bytes;
    }
    let lines = seq;
    let version = std::process::Command::new(env!("CARGO_BIN_EXE_loglynk"))
        .arg("--version")
        .output()
        .expect("loglynk --version");
    print!("{}", String::from_utf8_lossy(&version.stdout));
    println!(
        "run_throughput: {lines} records, {:.1} MiB over {files} files (average {:.0} bytes a record), \
         generated in {:.1} s",
        written as f64 / 1048576.0,
        written as f64 / lines as f64,
        generating.elapsed().as_secs_f64()
    );
    let mut reference = Vec::new();
    for log in &logs {
        if reference.len() >= REFERENCE_BYTES {
            break;
        }
        reference.extend(std::fs::read(log).expect("read a log back"));
    }
    reference.truncate(REFERENCE_BYTES);
    // Kept for every run: the agent watches it for the whole of each.
    let kube = (env_u64("LOGLYNK_BENCH_KUBE", 0) != 0).then(|| cluster(dir.path(), files));
    for run in runs.split(',').map(str::trim) {
        let (settings, per_cpu_target, wall_target) = match run {
            "defaults" => (
                Vec::new(),
                TARGET_LINES_PER_CPU_SECOND_GZIP,
                Some(TARGET_WALL_MIB_PER_SECOND_GZIP),
            ),
            "uncompressed" => (
                vec!["output.elasticsearch.compression_level=0".to_owned()],
                TARGET_LINES_PER_CPU_SECOND_PLAIN,
                None,
            ),
            other => panic!("LOGLYNK_BENCH_RUNS: unknown run {other:?}"),
        };
        let mut settings = settings;
        if let Some((_, kube_settings)) = &kube {
            settings.extend(kube_settings.iter().cloned());
        }
        settings.extend(
            std::env::var("LOGLYNK_BENCH_SETTINGS")
                .unwrap_or_default()
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        println!("{run}:");
        ship(
            dir.path(),
            run,
            &reference,
            &settings,
            (lines, written),
            timeout,
            (per_cpu_target, wall_target),
        );
    }
}

/// The test API server with the bench's namespace, node and one pod for each of `files` (named as
/// `build_tree` names them), and the `-E` settings that point the agent at it.
fn cluster(root: &Path, files: usize) -> (kubernetes::KubeServer, Vec<String>) {
    let server = kubernetes::KubeServer::start(kubernetes::KubeOptions::default());
    let mut namespace = kubernetes::fixture("namespace-shop.json");
    namespace["metadata"]["name"] = json!("bench");
    server.add_namespace(namespace).expect("namespace");
    server
        .add_node(kubernetes::fixture("node-node-a1.json"))
        .expect("node");
    for i in 0..files {
        let mut pod = kubernetes::fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
        let meta = &mut pod["metadata"];
        meta["name"] = json!(format!("app-{i:05}-5c8d9f7b6-k8s2p"));
        meta["namespace"] = json!("bench");
        meta["uid"] = json!(format!("00000000-0000-4000-8000-{i:012}"));
        for l in 0..7 {
            meta["labels"][format!("example.com/label-{l}")] = json!(format!("value-{l}"));
        }
        pod["spec"]["containers"][0]["name"] = json!("app");
        let status = &mut pod["status"]["containerStatuses"][0];
        status["name"] = json!("app");
        status["containerID"] = json!(format!("containerd://{i:064x}"));
        server.add_pod(pod).expect("pod");
    }
    let kubeconfig = root.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let settings = vec![
        "kubernetes.enabled=true".to_owned(),
        format!("kubernetes.kubeconfig={}", kubeconfig.display()),
        "kubernetes.node_name=node-a1".to_owned(),
    ];
    (server, settings)
}

/// Ships the backlog at `root` (`lines` records, `written` bytes) once, from an empty registry, and
/// prints what it cost.
fn ship(
    root: &Path,
    run: &str,
    reference: &[u8],
    settings: &[String],
    (lines, written): (u64, u64),
    timeout: Duration,
    (per_cpu_target, wall_target): (f64, Option<f64>),
) {
    let clock_ticks = clock_ticks_per_second();
    let endpoint = Endpoint::start();
    let state = root.join(format!("state-{run}"));
    std::fs::create_dir_all(&state).unwrap();
    let log_path = root.join(format!("loglynk-{run}.stderr"));
    let log_file = File::create(&log_path).unwrap();
    let stderr = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let reference_before = reference_speed(reference);
    let start = Instant::now();
    let mut agent = spawn_run_with(endpoint.addr, root, &state, log_file, settings);
    let pid = agent.id();

    let mut peak = Sample::default();
    let mut next_report = Instant::now() + Duration::from_secs(10);
    let mut cpu = 0u64;
    loop {
        let s = sample(&mut agent, &stderr);
        peak.update(&s);
        cpu = cpu_ticks(pid).unwrap_or(cpu);
        let counted = endpoint.shared.unique.load(Ordering::Relaxed);
        if counted >= lines {
            break;
        }
        if start.elapsed() > timeout {
            let _ = agent.kill();
            panic!(
                "only {counted} of {lines} lines counted after {timeout:?}; loglynk's stderr:\n{}",
                stderr()
            );
        }
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(10);
            println!(
                "  … {:.0} s: {counted} lines counted, RSS {:.1} MiB",
                start.elapsed().as_secs_f64(),
                s.rss_kib as f64 / 1024.0
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let wall = start.elapsed();
    let cpu_secs = cpu as f64 / clock_ticks as f64;
    let peak_hwm = status_kib(pid, "VmHWM:")
        .unwrap_or(peak.hwm_kib)
        .max(peak.hwm_kib);

    let stopping = Instant::now();
    terminate(pid);
    let status = wait_with_timeout(&mut agent, Duration::from_secs(30));
    let reference_after = reference_speed(reference);
    let shared = &endpoint.shared;
    let requests = shared.requests.load(Ordering::Relaxed);
    let items = shared.items.load(Ordering::Relaxed);
    let body = shared.body_bytes.load(Ordering::Relaxed);
    let raw = shared.raw_bytes.load(Ordering::Relaxed);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let per_cpu = lines as f64 / cpu_secs;
    let wall_mib = written as f64 / 1048576.0 / wall.as_secs_f64();
    let met = |ok: bool| if ok { "met" } else { "NOT met" };

    println!("  lines:               {lines}");
    println!("  wall:                {:.2} s", wall.as_secs_f64());
    println!("  loglynk CPU:         {cpu_secs:.2} s (user+sys)");
    println!(
        "  lines per CPU-second: {per_cpu:.0}   (target ≥ {per_cpu_target:.0}: {})",
        met(per_cpu >= per_cpu_target)
    );
    match wall_target {
        Some(target) => println!(
            "  input MiB/s wall:    {wall_mib:.1}   (target ≥ {target:.0}: {})",
            met(wall_mib >= target)
        ),
        None => println!("  input MiB/s wall:    {wall_mib:.1}"),
    }
    println!(
        "  host reference:      {reference_before:.1} MiB/s before, {reference_after:.1} after \
         (serde_json + gzip 1 of the backlog's first 16 MiB, one thread's CPU)"
    );
    println!(
        "  lines/s wall:        {:.0}",
        lines as f64 / wall.as_secs_f64()
    );
    println!(
        "  peak RSS (VmHWM):    {:.1} MiB   (target ≤ {TARGET_PEAK_RSS_MIB:.0} MiB: {}; highest VmRSS \
         sampled {:.1} MiB)",
        mib(peak_hwm),
        met(mib(peak_hwm) <= TARGET_PEAK_RSS_MIB),
        mib(peak.rss_kib)
    );
    println!(
        "  bulk requests:       {requests}, average {:.1} KiB sent / {:.1} KiB uncompressed, \
         {:.0} items each",
        body as f64 / requests.max(1) as f64 / 1024.0,
        raw as f64 / requests.max(1) as f64 / 1024.0,
        items as f64 / requests.max(1) as f64
    );
    println!(
        "  items counted:       {items} ({} duplicates)",
        items.saturating_sub(lines)
    );
    let labelled = shared.labelled.load(Ordering::Relaxed);
    let missing = shared.metadata_missing.load(Ordering::Relaxed);
    if labelled + missing > 0 {
        println!(
            "  Kubernetes metadata: {labelled} documents with the pod's labels, {missing} flagged \
             kube_metadata_missing"
        );
    }
    match status {
        Some(status) => println!(
            "  shutdown on SIGTERM: {:.2} s, {status}",
            stopping.elapsed().as_secs_f64()
        ),
        None => println!("  shutdown on SIGTERM: did not exit within 30 s; killed"),
    }
    report_problems(&stderr());
}

/// How much of the backlog the reference works through.
const REFERENCE_BYTES: usize = 16 << 20;

/// The reference's speed now, in MiB of `backlog` per CPU-second of this thread: the best of three
/// passes, each parsing every line's JSON message with serde_json and gzipping the lines with
/// zlib-rs at level 1, the two kinds of work the agent's CPU goes to.
fn reference_speed(backlog: &[u8]) -> f64 {
    let pass = || {
        let start = thread_cpu_ns();
        let mut gzip = flate2::write::GzEncoder::new(
            Vec::with_capacity(backlog.len() / 4),
            flate2::Compression::fast(),
        );
        let mut parsed = 0usize;
        for line in backlog.split(|&b| b == b'\n') {
            if let Some(at) = memchr::memchr(b'{', line) {
                parsed += serde_json::from_slice::<serde_json::Value>(&line[at..]).is_ok() as usize;
            }
            gzip.write_all(line).expect("gzip into memory");
        }
        std::hint::black_box((parsed, gzip.finish().expect("gzip into memory")));
        (thread_cpu_ns() - start) as f64 / 1e9
    };
    let best = (0..3).map(|_| pass()).fold(f64::INFINITY, f64::min);
    backlog.len() as f64 / 1048576.0 / best
}

/// This thread's time on a CPU, in nanoseconds (the first field of its schedstat).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat")
}
