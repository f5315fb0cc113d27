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

use std::convert::Infallible;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

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

    let mut agent = Command::new(env!("CARGO_BIN_EXE_loglynk"))
        .arg("run")
        .arg("-E")
        .arg(format!(
            "output.elasticsearch.hosts=[\"http://{}\"]",
            endpoint.addr
        ))
        .arg("-E")
        .arg("output.elasticsearch.ssl.certificate_authorities=[]")
        .arg("-E")
        .arg(format!("state_dir={}", state.display()))
        .arg("-E")
        .arg(format!(
            "paths=[\"{}/var/log/containers/*.log\"]",
            dir.path().display()
        ))
        .env_remove("LOGLYNK_CONFIG")
        .env_remove("LOGLYNK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("spawn loglynk");
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

fn report_problems(stderr: &str) {
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

// ---- the log tree and its lines ----

/// kubelet's layout: `pods/<ns>_<pod>_<uid>/app/0.log` and an absolute symlink
/// `containers/<pod>_<ns>_app-<64 hex>.log` to it. Returns the `0.log` paths (not yet created).
fn build_tree(root: &Path, files: usize) -> Vec<PathBuf> {
    let pods = root.join("var/log/pods");
    let containers = root.join("var/log/containers");
    std::fs::create_dir_all(&containers).unwrap();
    (0..files)
        .map(|i| {
            let pod = format!("app-{i:05}-5c8d9f7b6-k8s2p");
            let dir = pods
                .join(format!("bench_{pod}_00000000-0000-4000-8000-{i:012}"))
                .join("app");
            std::fs::create_dir_all(&dir).unwrap();
            let log = dir.join("0.log");
            let id = format!("{i:064x}");
            std::os::unix::fs::symlink(&log, containers.join(format!("{pod}_bench_app-{id}.log")))
                .unwrap();
            log
        })
        .collect()
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "request",
    "completed",
    "upstream",
    "connection",
    "reset",
    "by",
    "peer",
    "retrying",
    "cache",
    "miss",
    "for",
    "key",
    "user",
    "session",
    "token",
    "refreshed",
    "order",
    "created",
    "payment",
    "authorised",
    "inventory",
    "reserved",
    "shipment",
    "queued",
    "worker",
    "pool",
    "exhausted",
    "timeout",
    "after",
    "while",
    "reading",
    "response",
    "headers",
    "from",
    "backend",
    "pod",
    "rescheduled",
    "database",
    "query",
    "slow",
    "rows",
    "scanned",
    "index",
    "lookup",
    "failed",
];
const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/users/me",
    "/healthz",
    "/api/v2/catalog/items",
    "/metrics",
    "/api/v1/payments/authorize",
    "/static/app.js",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const LEVELS: &[&str] = &["info", "info", "info", "info", "debug", "warn", "error"];
const STATUSES: &[u64] = &[200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 503];

/// One CRI line (`<RFC 3339 nano> stdout F <message>\n`) of about 480 bytes on average (roughly 150 to
/// 900): 60 % a JSON object from a structured logger, 40 % plain text (klog, access log). Every message
/// carries `qid=<seq>`, which the endpoint reads back.
fn cri_line(seq: u64, t_ms: u64, rng: &mut Rng) -> String {
    let want = 113 + rng.below(700) as usize;
    let secs = t_ms / 1000;
    let mut line = format!(
        "2026-11-24T{:02}:{:02}:{:02}.{:03}{:06}Z stdout F ",
        (10 + secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        t_ms % 1000,
        rng.below(1_000_000)
    );
    let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
    let kind = rng.below(10);
    if kind < 6 {
        line.push_str(&format!(
            "{{\"level\":\"{}\",\"ts\":{}.{:03},\"logger\":\"http.server\",\"caller\":\"server/handler.go:{}\",\
             \"msg\":\"{} qid={seq:010}\",\"method\":\"{}\",\"path\":\"{}\",\"status\":{status},\
             \"duration_ms\":{},\"bytes\":{},\"trace_id\":\"{:016x}{:016x}\",\"detail\":\"",
            rng.pick(LEVELS),
            1_795_514_400 + secs,
            t_ms % 1000,
            40 + rng.below(400),
            rng.pick(WORDS),
            rng.pick(METHODS),
            rng.pick(PATHS),
            rng.below(2000),
            rng.below(100_000),
            rng.next(),
            rng.next(),
        ));
        while line.len() + 3 < want {
            line.push_str(rng.pick(WORDS));
            line.push(' ');
        }
        line.push_str("\"}\n");
    } else if kind < 8 {
        line.push_str(&format!(
            "I1124 {:02}:{:02}:{:02}.{:06}       1 controller.go:{}] \"Reconciling\" qid={seq:010} \
             object=\"bench/app-{}\" generation={} ",
            (10 + secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            rng.below(1_000_000),
            100 + rng.below(900),
            rng.below(10_000),
            rng.below(50),
        ));
        while line.len() + 1 < want {
            line.push_str(rng.pick(WORDS));
            line.push(' ');
        }
        line.push('\n');
    } else {
        line.push_str(&format!(
            "10.{}.{}.{} - - [24/Nov/2026:{:02}:{:02}:{:02} +0000] \"{} {}?qid={seq:010} HTTP/1.1\" \
             {status} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) ",
            rng.below(256),
            rng.below(256),
            rng.below(256),
            (10 + secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
            rng.pick(METHODS),
            rng.pick(PATHS),
            rng.below(50_000),
        ));
        while line.len() + 2 < want {
            line.push_str(rng.pick(WORDS));
            line.push(' ');
        }
        line.push_str("\"\n");
    }
    line
}

// ---- the bulk endpoint ----

#[derive(Default)]
struct Shared {
    requests: AtomicU64,
    items: AtomicU64,
    body_bytes: AtomicU64,
    raw_bytes: AtomicU64,
    /// While set, bulk requests are accepted and left unanswered.
    stalled: AtomicBool,
    /// Distinct `qid`s seen.
    unique: AtomicU64,
    seen: Mutex<Vec<u64>>,
}

struct Endpoint {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Endpoint {
    /// A server on 127.0.0.1:0, on its own runtime in a background thread (left running until exit).
    fn start() -> Endpoint {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let for_server = shared.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1:0");
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let shared = for_server.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        let addr = rx.recv().expect("the endpoint's address");
        Endpoint { addr, shared }
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("X-Elastic-Product", "Elasticsearch")
        .header("Content-Type", "application/json")
        .body(Full::new(body.into()))
        .unwrap()
}

async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && path == "/" {
        return reply(StatusCode::OK, INFO);
    }
    if req.method() != Method::POST || !path.ends_with("/_bulk") {
        return reply(
            StatusCode::NOT_FOUND,
            "{\"error\":\"not found\",\"status\":404}",
        );
    }
    while shared.stalled.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let gzip = req
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let Ok(body) = req.into_body().collect().await else {
        return reply(StatusCode::BAD_REQUEST, "{}");
    };
    let body = body.to_bytes();
    let raw = if gzip {
        let mut raw = Vec::with_capacity(body.len() * 8);
        if flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut raw)
            .is_err()
        {
            return reply(StatusCode::BAD_REQUEST, "{}");
        }
        raw
    } else {
        body.to_vec()
    };
    let items = count_items(&raw, shared);
    shared.requests.fetch_add(1, Ordering::Relaxed);
    shared.items.fetch_add(items, Ordering::Relaxed);
    shared
        .body_bytes
        .fetch_add(body.len() as u64, Ordering::Relaxed);
    shared
        .raw_bytes
        .fetch_add(raw.len() as u64, Ordering::Relaxed);
    let mut out = String::with_capacity(48 + items as usize * 48);
    out.push_str("{\"took\":1,\"errors\":false,\"items\":[");
    for i in 0..items {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"index\":{\"_index\":\"bench\",\"status\":201}}");
    }
    out.push_str("]}");
    reply(StatusCode::OK, out)
}

/// Counts the action/document pairs of an NDJSON bulk body and records each document's `qid`.
fn count_items(raw: &[u8], shared: &Shared) -> u64 {
    let finder = memchr::memmem::Finder::new(b"qid=");
    let mut qids = Vec::new();
    let mut lines = 0u64;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', raw) {
        if lines % 2 == 1 {
            let doc = &raw[start..end];
            if let Some(at) = finder.find(doc) {
                let digits = &doc[at + 4..];
                let n = digits
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
                qids.push(n);
            }
        }
        lines += 1;
        start = end + 1;
    }
    if start < raw.len() {
        lines += 1;
    }
    let mut seen = shared.seen.lock().unwrap();
    let mut new = 0;
    for q in qids {
        let (word, bit) = ((q / 64) as usize, q % 64);
        if seen.len() <= word {
            seen.resize(word + 1 + word / 2, 0);
        }
        if seen[word] & (1 << bit) == 0 {
            seen[word] |= 1 << bit;
            new += 1;
        }
    }
    shared.unique.fetch_add(new, Ordering::Relaxed);
    lines / 2
}

const INFO: &str = r#"{"name":"bench-node","cluster_name":"bench","cluster_uuid":"bWVtb3J5LWJlbmNoLWNsdXN0ZXI","version":{"number":"8.15.0","build_flavor":"default","build_type":"docker","build_hash":"1a77947f34deddb41af25e6f0ddb8e830159c179","build_date":"2024-08-05T10:05:34.233336849Z","build_snapshot":false,"lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}"#;

// ---- /proc ----

#[derive(Debug, Default, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    hwm_kib: u64,
}

impl Sample {
    fn update(&mut self, other: &Sample) {
        self.rss_kib = self.rss_kib.max(other.rss_kib);
        self.hwm_kib = self.hwm_kib.max(other.hwm_kib);
    }
}

/// Memory of the agent, which must still be running.
fn sample(agent: &mut Child, stderr: &dyn Fn() -> String) -> Sample {
    if let Some(status) = agent.try_wait().expect("wait for loglynk") {
        panic!("loglynk exited early ({status}); its stderr:\n{}", stderr());
    }
    let pid = agent.id();
    Sample {
        rss_kib: status_kib(pid, "VmRSS:").unwrap_or(0),
        hwm_kib: status_kib(pid, "VmHWM:").unwrap_or(0),
    }
}

fn status_kib(pid: u32, key: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// utime + stime of `/proc/<pid>/stat`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t: &u64| t > 0)
        .unwrap_or(100)
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

fn wait_with_timeout(agent: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
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

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {value:?}")),
        Err(_) => default,
    }
}
