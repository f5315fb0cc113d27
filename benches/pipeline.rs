//! The hot path, end to end on one core: frame -> parse -> decode_json -> serialize.
//!
//! Input is a realistic mix of CRI lines: 70% JSON messages of about 200 bytes, 25% plain text, 5% partial
//! lines (split in two parts). Target: at least 250 MiB/s.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use loglynk::config::Config;
use loglynk::event::{Encoder, Origin, StaticFields};
use loglynk::parse::LineParser;
use loglynk::process::Processors;
use loglynk::tail::Framer;

/// A small deterministic generator, so every run measures the same bytes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const PATHS: [&str; 4] = [
    "/api/v1/users/42",
    "/api/v1/events",
    "/healthz",
    "/api/v1/checkout",
];

/// About `size` bytes of CRI lines, and how many lines that is.
fn workload(size: usize) -> (Vec<u8>, usize) {
    let mut rng = Lcg(42);
    let mut out = Vec::with_capacity(size + 1024);
    let mut lines = 0;
    while out.len() < size {
        let ns = rng.next() % 1_000_000_000;
        let ts = format!(
            "2026-11-24T06:{:02}:{:02}.{ns:09}Z",
            rng.next() % 60,
            rng.next() % 60
        );
        let roll = rng.next() % 100;
        if roll < 70 {
            let msg = format!(
                r#"{{"level":"info","ts":"2026-11-24T06:54:58.123Z","logger":"http.server","msg":"request completed","method":"GET","path":"{}","status":{},"duration_ms":{}.{},"request_id":"{:016x}"}}"#,
                PATHS[(rng.next() % 4) as usize],
                [200, 201, 404, 500][(rng.next() % 4) as usize],
                rng.next() % 500,
                rng.next() % 10,
                rng.next()
            );
            out.extend_from_slice(format!("{ts} stdout F {msg}\n").as_bytes());
        } else if roll < 95 {
            let msg = format!(
                "10.42.{}.{} - - [24/Nov/2026:06:54:58 +0000] \"GET {} HTTP/1.1\" 200 {} \"-\" \"kube-probe/1.30\"",
                rng.next() % 255,
                rng.next() % 255,
                PATHS[(rng.next() % 4) as usize],
                rng.next() % 100_000
            );
            out.extend_from_slice(format!("{ts} stderr F {msg}\n").as_bytes());
        } else {
            out.extend_from_slice(
                format!(
                    "{ts} stdout P {{\"level\":\"error\",\"msg\":\"upstream timed out\",\"upst\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(
                format!("{ts} stdout F ream\":\"payments\",\"attempt\":3}}\n").as_bytes(),
            );
            lines += 1;
        }
        lines += 1;
    }
    (out, lines)
}

struct Pipeline {
    processors: Processors,
    encoder: Encoder,
    config: Config,
}

impl Pipeline {
    fn new() -> Pipeline {
        let config = Config::default();
        Pipeline {
            processors: Processors::new(&config.decode_json_fields, &config.drop_own_logs),
            encoder: Encoder::new(&StaticFields {
                host: Some(serde_json::json!({"name": "node-1", "hostname": "node-1",
                    "architecture": "x86_64", "os": {"type": "linux", "platform": "ubuntu"}})),
                agent: serde_json::json!({"type": "loglynk", "version": "0.1.0", "name": "node-1",
                    "id": "8d2c6c8e-3f6f-4d0b-9b1e-2a1f0c9d7e61"}),
            }),
            config,
        }
    }

    /// Runs the hot path over `input` as a reader would see it (64 KiB reads); returns bytes written.
    fn run(
        &self,
        input: &[u8],
        events: &mut Vec<loglynk::event::Event>,
        out: &mut Vec<u8>,
    ) -> usize {
        let origin = Origin::new(
            "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log".into(),
            Default::default(),
        );
        let mut framer = Framer::new(0, self.config.max_line_bytes as usize);
        let mut parser = LineParser::new(
            origin,
            self.config.max_line_bytes as usize,
            self.config.partial_timeout,
        );
        let now = Instant::now();
        let mut written = 0;
        for chunk in input.chunks(64 * 1024) {
            framer.extend(chunk);
            while let Some(line) = framer.next_line() {
                parser.push(line, now, events);
            }
            self.processors.run_batch(events);
            for event in events.drain(..) {
                self.encoder.encode(&event, out);
                out.push(b'\n');
            }
            written += out.len();
            out.clear();
        }
        written
    }
}

fn bench(c: &mut Criterion) {
    let (input, lines) = workload(16 * 1024 * 1024);
    let pipeline = Pipeline::new();
    let mut events = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(1024 * 1024);

    let mut group = c.benchmark_group("pipeline");
    group
        .measurement_time(Duration::from_secs(10))
        .sample_size(20);
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("frame_parse_decode_serialize/bytes", |b| {
        b.iter(|| black_box(pipeline.run(black_box(&input), &mut events, &mut out)))
    });
    group.throughput(Throughput::Elements(lines as u64));
    group.bench_function("frame_parse_decode_serialize/lines", |b| {
        b.iter(|| black_box(pipeline.run(black_box(&input), &mut events, &mut out)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
