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
