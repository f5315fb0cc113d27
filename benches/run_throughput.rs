//! What shipping a backlog costs: ~1 GiB of CRI lines over 200 container logs, written before `loglynk run`
//! starts, shipped to a minimal bulk endpoint in this process. Reports lines per CPU-second of the agent
//! (user + system), lines per wall-second, peak RSS, and the bulk requests it took.
//!
//! `cargo bench --bench run_throughput`. Environment: `LOGLYNK_BENCH_BYTES` (backlog size, default 1 GiB),
//! `LOGLYNK_BENCH_FILES` (default 200), `LOGLYNK_BENCH_TIMEOUT_SECS` (give up after, default 1800).
//!
//! The endpoint does little: it decompresses each body, counts its items, notes each line's `qid=` (so a
//! duplicate is not mistaken for progress) and answers every item 201. It shares the machine with the
//! agent, so the wall-clock figures include its cost; the CPU figures are the agent's alone.

use std::convert::Infallible;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

const TARGET_LINES_PER_CPU_SECOND: f64 = 200_000.0;
const TARGET_PEAK_RSS_MIB: f64 = 64.0;

fn main() {
    let bytes = env_u64("LOGLYNK_BENCH_BYTES", 1 << 30);
    let files = env_u64("LOGLYNK_BENCH_FILES", 200) as usize;
    let timeout = Duration::from_secs(env_u64("LOGLYNK_BENCH_TIMEOUT_SECS", 1800));
    let clock_ticks = clock_ticks_per_second();

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
        // Each file's clock starts a little apart and moves 1-100 ms a line.
        let mut t_ms = (f as u64) * 37;
        while file_bytes < per_file {
            let line = cri_line(seq, t_ms, &mut rng);
            out.write_all(line.as_bytes()).expect("write a line");
            file_bytes += line.len() as u64;
            seq += 1;
            t_ms += 1 + rng.below(100);
        }
        out.flush().expect("flush a log");
        written += file_bytes;
    }
    let lines = seq;
    println!(
        "run_throughput: {lines} lines, {:.1} MiB over {files} files (average {:.0} bytes a line), \
         generated in {:.1} s",
        written as f64 / 1048576.0,
        written as f64 / lines as f64,
        generating.elapsed().as_secs_f64()
    );

    let endpoint = Endpoint::start();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let log_path = dir.path().join("loglynk.stderr");
    let log_file = File::create(&log_path).unwrap();
    let stderr = || std::fs::read_to_string(&log_path).unwrap_or_default();

    let start = Instant::now();
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
        std::thread::sleep(Duration::from_millis(100));
    }
    let wall = start.elapsed();
    let cpu_secs = cpu as f64 / clock_ticks as f64;
    let peak_hwm = status_kib(pid, "VmHWM:")
        .unwrap_or(peak.hwm_kib)
        .max(peak.hwm_kib);

    let stopping = Instant::now();
    terminate(pid);
    let status = wait_with_timeout(&mut agent, Duration::from_secs(30));
    let shared = &endpoint.shared;
    let requests = shared.requests.load(Ordering::Relaxed);
    let items = shared.items.load(Ordering::Relaxed);
    let body = shared.body_bytes.load(Ordering::Relaxed);
    let raw = shared.raw_bytes.load(Ordering::Relaxed);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let per_cpu = lines as f64 / cpu_secs;

    println!("  lines:               {lines}");
    println!("  wall:                {:.2} s", wall.as_secs_f64());
    println!("  loglynk CPU:         {cpu_secs:.2} s (user+sys)");
    println!(
        "  lines per CPU-second: {per_cpu:.0}   (target ≥ {TARGET_LINES_PER_CPU_SECOND:.0}: {})",
        if per_cpu >= TARGET_LINES_PER_CPU_SECOND {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  lines/s wall:        {:.0}",
        lines as f64 / wall.as_secs_f64()
    );
    println!(
        "  peak RSS (VmHWM):    {:.1} MiB   (target < {TARGET_PEAK_RSS_MIB:.0} MiB: {}; highest VmRSS \
         sampled {:.1} MiB)",
        mib(peak_hwm),
        if mib(peak_hwm) < TARGET_PEAK_RSS_MIB {
            "met"
        } else {
            "NOT met"
        },
        mib(peak.rss_kib)
    );
    println!(
        "  bulk requests:       {requests}, average {:.1} KiB gzipped / {:.1} KiB uncompressed, \
         {:.0} items each",
        body as f64 / requests.max(1) as f64 / 1024.0,
        raw as f64 / requests.max(1) as f64 / 1024.0,
        items as f64 / requests.max(1) as f64
    );
    println!(
        "  items counted:       {items} ({} duplicates)",
        items.saturating_sub(lines)
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
