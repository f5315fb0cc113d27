//! The backlog's content: kubelet's log tree and CRI lines like real containers write.

use std::path::{Path, PathBuf};

/// kubelet's layout: `pods/<ns>_<pod>_<uid>/app/0.log` and an absolute symlink
/// `containers/<pod>_<ns>_app-<64 hex>.log` to it. Returns the `0.log` paths (not yet created).
pub fn build_tree(root: &Path, files: usize) -> Vec<PathBuf> {
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

/// xorshift64*, seeded by the bench: the same seed gives the same lines.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
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
pub fn cri_line(seq: u64, t_ms: u64, rng: &mut Rng) -> String {
    let want = 113 + rng.below(700) as usize;
    let secs = t_ms / 1000;
    let stamp = format!(
        "2026-11-24T{:02}:{:02}:{:02}.{:03}{:06}Z",
        (10 + secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
        t_ms % 1000,
        rng.below(1_000_000)
    );
    short_line(seq, t_ms, &stamp, want, rng)
}

/// A full CRI line at `stamp` of about `want` bytes (at least the message's fixed part): 60 % JSON, 20 %
/// klog, 20 % access log, with `qid=<seq>` in each.
fn short_line(seq: u64, t_ms: u64, stamp: &str, want: usize, rng: &mut Rng) -> String {
    let secs = t_ms / 1000;
    let mut line = format!("{stamp} stdout F ");
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

/// One record of issue 14's backlog, as a node holds it after an outage: a log line, or a long one the
/// runtime split, written `t_ms` after 23:55:00 on 2026-11-24, so a backlog of some minutes spans midnight
/// and goes to two daily indices. The mix, by records:
///
/// - 98.5 %: the lines of [`cri_line`] at 100 to 500 bytes (60 % JSON objects of at least ~310
///   bytes, 40 % plain text: klog and access logs);
/// - 1 %: a 2 to 12 KiB single-line JSON error whose `stack` holds a Java stack trace (`\n\tat …`);
/// - 0.5 %: a 17 to 48 KiB JSON payload, which the runtime wrote as 16 KiB `P` chunks and a final `F`.
///
/// About 540 bytes a record on average. Every record carries `qid=<seq>` once, which the endpoint reads
/// back from the (joined) document.
pub fn backlog_record(seq: u64, t_ms: u64, rng: &mut Rng) -> String {
    let secs = 23 * 3600 + 55 * 60 + t_ms / 1000;
    let (day, secs) = (24 + secs / 86_400, secs % 86_400);
    let stamp = format!(
        "2026-11-{day:02}T{:02}:{:02}:{:02}.{:03}{:06}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        t_ms % 1000,
        rng.below(1_000_000)
    );
    let kind = rng.below(1000);
    if kind < 985 {
        let want = 100 + rng.below(400) as usize;
        return short_line(seq, t_ms, &stamp, want, rng);
    }
    if kind < 995 {
        let want = 2048 + rng.below(10 * 1024) as usize;
        let mut stack = format!(
            "java.lang.IllegalStateException: order {} is {}\\n",
            rng.below(1_000_000),
            rng.pick(WORDS)
        );
        while stack.len() < want {
            stack.push_str(&format!(
                "\\tat com.funlynk.{}.{}Service.{}(Service.java:{})\\n",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS),
                1 + rng.below(900)
            ));
        }
        return format!(
            "{stamp} stderr F {{\"level\":\"error\",\"ts\":{}.{:03},\"logger\":\"orders\",\
             \"msg\":\"unhandled exception qid={seq:010}\",\"error\":\"order in a bad state\",\
             \"stack\":\"{stack}\"}}\n",
            1_795_535_700 + t_ms / 1000,
            t_ms % 1000,
        );
    }
    let want = 17 * 1024 + rng.below(31 * 1024) as usize;
    let mut message = format!(
        "{{\"level\":\"debug\",\"msg\":\"upstream response qid={seq:010}\",\"payload\":{{\"items\":["
    );
    let mut first = true;
    while message.len() + 3 < want {
        if !first {
            message.push(',');
        }
        first = false;
        message.push_str(&format!(
            "{{\"id\":{},\"name\":\"{} {}\",\"price\":{}.{:02},\"stock\":{}}}",
            rng.below(1_000_000),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(500),
            rng.below(100),
            rng.below(1000)
        ));
    }
    message.push_str("]}}");
    // The payload is ASCII: every byte is a char boundary.
    let chunks: Vec<&str> = message
        .as_bytes()
        .chunks(16 * 1024)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect();
    let mut out = String::with_capacity(message.len() + chunks.len() * 48);
    for (i, chunk) in chunks.iter().enumerate() {
        let tag = if i + 1 == chunks.len() { 'F' } else { 'P' };
        out.push_str(&format!("{stamp} stdout {tag} {chunk}\n"));
    }
    out
}
