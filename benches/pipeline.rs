//! The hot path, end to end on one core: frame -> parse -> decode_json -> serialize.
//!
//! Input is a realistic mix of CRI lines: 70% JSON messages of about 200 bytes, 25% plain text, 5% partial
//! lines (split in two parts). Target: at least 250 MiB/s.
//!
//! The `enrichment` group reads the same lines as 200 files of 200 pods, once with the metadata their
//! paths give and once with Kubernetes API metadata from a pod cache filled by a real watch (against
//! the test API server): the cost of enrichment per line, which must stay within 10%.
//!
//! The `bulk_body` group turns the parsed events into gzipped bulk request bodies (level 1, the
//! default), with and without `output.elasticsearch.deduplicate`: what an `_id` per line costs.
//!
//! The `multiline` group runs the usual mix with `multiline.type: none` and with `auto` (the default),
//! back to back: `auto` must cost at most 10% per line. And a mix where 5% of the lines are in Java and
//! Python stack traces, with `auto`: at least 200 MiB/s.

use testkit_kubernetes as kubernetes;

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};

use loglynk::config::Config;
use loglynk::config::{Multiline, MultilineType};
use loglynk::enrich::kube::cache::{client_from_env, PodCache, PodCacheConfig};
use loglynk::enrich::kube::{Decision, FileMetadata, KubeEnricher};
use loglynk::enrich::path_metadata;
use loglynk::event::{
    DataStreams, Encoder, Event, FromApi, Hints, Kubernetes, Origin, StaticFields,
};
use loglynk::output::elasticsearch::bulk::{BulkAction, BulkBuilder};
use loglynk::output::elasticsearch::doc_id;
use loglynk::output::elasticsearch::index::IndexPattern;
use loglynk::parse::{LineParser, MultilinePlan};
use loglynk::process::Processors;
use loglynk::tail::Framer;
use loglynk::telemetry::Telemetry;

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
    multiline: std::sync::Arc<MultilinePlan>,
}

impl Pipeline {
    fn new() -> Pipeline {
        Pipeline::with_multiline(MultilineType::Auto)
    }

    fn with_multiline(kind: MultilineType) -> Pipeline {
        let config = Config::default();
        let settings = Multiline {
            kind,
            ..config.multiline.clone()
        };
        Pipeline {
            multiline: MultilinePlan::new(&settings, config.max_line_bytes),
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

    /// Runs the hot path over `input` fed in 64 KiB reads (kept at the size the figures in README were
    /// measured with; the reader now reads 16 KiB at a time); returns bytes written.
    fn run(&self, input: &[u8], events: &mut Vec<Event>, out: &mut Vec<u8>) -> usize {
        let origin = Origin::new(
            "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log".into(),
            Default::default(),
        );
        let mut framer = Framer::new(0, self.config.max_line_bytes as usize);
        let mut parser = LineParser::new(
            origin,
            self.config.max_line_bytes as usize,
            self.config.partial_timeout,
        )
        .with_multiline(self.multiline.clone());
        let now = Instant::now();
        input
            .chunks(64 * 1024)
            .map(|chunk| self.read(chunk, &mut framer, &mut parser, now, events, out))
            .sum()
    }

    /// One read's worth of a file through the hot path; returns the bytes it became.
    fn read(
        &self,
        chunk: &[u8],
        framer: &mut Framer,
        parser: &mut LineParser,
        now: Instant,
        events: &mut Vec<Event>,
        out: &mut Vec<u8>,
    ) -> usize {
        framer.extend(chunk);
        while let Some(line) = framer.next_line() {
            parser.push(line, now, events);
        }
        // The end of a read, as the reading thread ends each round.
        parser.flush_expired(now, events);
        self.processors.run_batch(events);
        for event in events.drain(..) {
            self.encoder.encode(&event, out);
            out.push(b'\n');
        }
        let written = out.len();
        out.clear();
        written
    }
}

/// Pods (and so files) in the enrichment benchmark: a busy node.
const PODS: usize = 200;

/// One tailed file: its lines, its framer and parser state, and where its enrichment stands.
struct File {
    lines: Vec<u8>,
    parser: LineParser,
    kube: FileMetadata,
}

/// `input` cut at line ends into one file per pod, each named as kubelet names it.
fn files(input: &[u8], config: &Config) -> Vec<File> {
    let piece = input.len() / PODS + 1;
    let mut rest = input;
    (0..PODS)
        .map(|i| {
            let mut end = piece.min(rest.len());
            while end < rest.len() && rest[end - 1] != b'\n' {
                end += 1;
            }
            let (lines, tail) = rest.split_at(end);
            rest = tail;
            let (uid, id) = pod_ids(i);
            let link = format!("/var/log/containers/web-{i}_shop_nginx-{id}.log");
            let target = format!("/var/log/pods/shop_web-{i}_{uid}/nginx/0.log");
            let meta = path_metadata(link.as_ref(), Some(target.as_ref()));
            File {
                lines: lines.to_vec(),
                parser: LineParser::new(
                    Origin::new(link, meta),
                    config.max_line_bytes as usize,
                    config.partial_timeout,
                )
                .with_multiline(MultilinePlan::new(&config.multiline, config.max_line_bytes)),
                kube: FileMetadata::default(),
            }
        })
        .collect()
}

fn pod_ids(i: usize) -> (String, String) {
    (
        format!("00000000-0000-4000-8000-{i:012x}"),
        format!("{i:064x}"),
    )
}

/// A test API server holding `PODS` pods like the web fixture, each with a dozen labels, and a pod
/// cache on `runtime` that has listed them.
fn pod_cache(
    runtime: &tokio::runtime::Runtime,
) -> (kubernetes::KubeServer, PodCache, tempfile::TempDir) {
    let server = kubernetes::seeded(kubernetes::KubeOptions::default());
    for i in 0..PODS {
        let (uid, id) = pod_ids(i);
        let mut pod = kubernetes::fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
        pod["metadata"]["name"] = serde_json::json!(format!("web-{i}"));
        pod["metadata"]["uid"] = serde_json::json!(uid);
        for l in 0..7 {
            pod["metadata"]["labels"][format!("example.com/label-{l}")] =
                serde_json::json!(format!("value-{l}"));
        }
        pod["status"]["containerStatuses"][0]["containerID"] =
            serde_json::json!(format!("containerd://{id}"));
        server.add_pod(pod).expect("pod");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let cache = runtime.block_on(async {
        let client = client_from_env(Some(&kubeconfig)).await.expect("client");
        let cache = PodCache::start(client, PodCacheConfig::new("node-a1"));
        assert!(
            cache.wait_ready(Duration::from_secs(30)).await,
            "cache not ready"
        );
        cache
    });
    assert!(cache.status().pods >= PODS, "{:?}", cache.status());
    (server, cache, dir)
}

impl Pipeline {
    /// Each file's lines in turn, in 64 KiB reads (the reader's turns are up to 256 KiB, read 16 KiB
    /// at a time); with `enricher`, each turn first asks it about the file, as the reading thread does.
    fn run_files(
        &self,
        files: &mut [File],
        mut enricher: Option<&mut KubeEnricher>,
        events: &mut Vec<Event>,
        out: &mut Vec<u8>,
    ) -> usize {
        let now = Instant::now();
        let mut written = 0;
        for file in files.iter_mut() {
            let mut framer = Framer::new(0, self.config.max_line_bytes as usize);
            for chunk in file.lines.chunks(64 * 1024) {
                if let Some(enricher) = enricher.as_deref_mut() {
                    match enricher.check(&mut file.kube, file.parser.origin(), now) {
                        Decision::Proceed(Some(origin)) => file.parser.set_origin(origin),
                        Decision::Proceed(None) => {}
                        Decision::Hold(_) => panic!("every pod is cached"),
                    }
                }
                written += self.read(chunk, &mut framer, &mut file.parser, now, events, out);
            }
        }
        written
    }
}

fn enrichment(c: &mut Criterion) {
    let (input, lines) = workload(16 * 1024 * 1024);
    let pipeline = Pipeline::new();
    let mut events = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(1024 * 1024);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (_server, cache, _dir) = pod_cache(&runtime);
    let telemetry: std::sync::Arc<Telemetry> = Default::default();
    let mut enricher = KubeEnricher::new(cache, Duration::from_secs(2), telemetry.clone());

    let mut plain = files(&input, &pipeline.config);
    let mut enriched = files(&input, &pipeline.config);
    let plain_bytes = pipeline.run_files(&mut plain, None, &mut events, &mut out);
    let enriched_bytes =
        pipeline.run_files(&mut enriched, Some(&mut enricher), &mut events, &mut out);
    let read = telemetry.read_counts();
    assert_eq!(read.kube_found, PODS as u64, "{read:?}");
    eprintln!(
        "enrichment: {lines} lines; documents {:.0} bytes/line with path metadata, {:.0} with API metadata",
        plain_bytes as f64 / lines as f64,
        enriched_bytes as f64 / lines as f64
    );

    let mut group = c.benchmark_group("enrichment");
    group
        .measurement_time(Duration::from_secs(10))
        .sample_size(20)
        .throughput(Throughput::Elements(lines as u64));
    group.bench_function("path_metadata/200_files", |b| {
        b.iter(|| black_box(pipeline.run_files(&mut plain, None, &mut events, &mut out)))
    });
    group.bench_function("kube_metadata/200_pods", |b| {
        b.iter(|| {
            black_box(pipeline.run_files(&mut enriched, Some(&mut enricher), &mut events, &mut out))
        })
    });
    group.finish();
}

/// The usual mix with stack traces in it: after every 380 ordinary lines, a 20-line Java or Python
/// trace on stderr, so 5% of the lines are in traces.
fn workload_with_traces(size: usize) -> (Vec<u8>, usize) {
    let (plain, _) = workload(size);
    let mut out = Vec::with_capacity(size + size / 10);
    let mut lines = 0;
    let ts = "2026-11-24T06:54:58.123456789Z";
    for (i, line) in plain.split_inclusive(|b| *b == b'\n').enumerate() {
        out.extend_from_slice(line);
        lines += 1;
        if i % 380 == 379 {
            let trace: Vec<String> = if (i / 380) % 2 == 0 {
                std::iter::once("java.lang.IllegalStateException: charge of 1299 failed".to_owned())
                    .chain((0..19).map(|f| {
                        format!(
                            "\tat com.funlynk.billing.Stage{f}.run(Stage{f}.java:{})",
                            10 + f
                        )
                    }))
                    .collect()
            } else {
                let mut t = vec!["Traceback (most recent call last):".to_owned()];
                for f in 0..9 {
                    t.push(format!(
                        "  File \"/app/billing/stage{f}.py\", line {}, in run",
                        10 + f
                    ));
                    t.push(format!("    return stage{}(order)", f + 1));
                }
                t.push("KeyError: 'card'".to_owned());
                t
            };
            for l in &trace {
                out.extend_from_slice(format!("{ts} stderr F {l}\n").as_bytes());
                lines += 1;
            }
        }
    }
    (out, lines)
}

fn multiline(c: &mut Criterion) {
    let (input, lines) = workload(16 * 1024 * 1024);
    let (traced, traced_lines) = workload_with_traces(16 * 1024 * 1024);
    let none = Pipeline::with_multiline(MultilineType::None);
    let auto = Pipeline::new();
    let mut events = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(1024 * 1024);
    let mut count = |p: &Pipeline, input: &[u8]| {
        let mut n = 0;
        let origin = Origin::new("/x.log".into(), Default::default());
        let mut parser = LineParser::new(origin, 1 << 20, Duration::from_secs(5))
            .with_multiline(p.multiline.clone());
        let mut framer = Framer::new(0, 1 << 20);
        framer.extend(input);
        let now = Instant::now();
        while let Some(line) = framer.next_line() {
            parser.push(line, now, &mut events);
        }
        parser.flush_all(&mut events);
        n += events.len();
        events.clear();
        n
    };
    eprintln!(
        "multiline: usual mix {lines} lines -> {} events (none) / {} (auto); traced mix {traced_lines} lines -> {} events (auto)",
        count(&none, &input),
        count(&auto, &input),
        count(&auto, &traced)
    );

    let mut group = c.benchmark_group("multiline");
    group
        .measurement_time(Duration::from_secs(10))
        .sample_size(20);
    group.throughput(Throughput::Elements(lines as u64));
    group.bench_function("none/usual_mix", |b| {
        b.iter(|| black_box(none.run(black_box(&input), &mut events, &mut out)))
    });
    group.bench_function("auto/usual_mix", |b| {
        b.iter(|| black_box(auto.run(black_box(&input), &mut events, &mut out)))
    });
    group.throughput(Throughput::Bytes(traced.len() as u64));
    group.bench_function("auto/traces_5pct/bytes", |b| {
        b.iter(|| black_box(auto.run(black_box(&traced), &mut events, &mut out)))
    });
    group.finish();
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

/// The file kubelet named the workload's lines in, and where it links to.
const LINK: &str = "/var/log/containers/api-5c8d9f7b6-k8s2p_shop_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";
const TARGET: &str =
    "/var/log/pods/shop_api-5c8d9f7b6-k8s2p_5f0e2a7d-1b3c-4d5e-8f90-a1b2c3d4e5f6/api/0.log";

/// The workload's file known from its path alone.
fn path_origin() -> Arc<Origin> {
    Origin::new(
        LINK.into(),
        path_metadata(Path::new(LINK), Some(Path::new(TARGET))),
    )
}

/// The same file as the Kubernetes API describes it, with its pod's hints when given.
fn api_origin(hints: Option<Hints>) -> Arc<Origin> {
    let metadata = path_metadata(Path::new(LINK), Some(Path::new(TARGET)));
    let kubernetes = Arc::new(Kubernetes::from_path(&metadata));
    let hints = hints.map(Arc::new);
    let api = FromApi {
        kubernetes: &kubernetes,
        container_id: None,
        runtime: None,
        hints: hints.as_ref(),
    };
    Origin::with_kubernetes(LINK.into(), metadata, api)
}

/// The workload's events, parsed and processed once, from `origin`.
fn parsed_events(pipeline: &Pipeline, input: &[u8], origin: Arc<Origin>) -> Vec<Event> {
    let max = pipeline.config.max_line_bytes as usize;
    let mut framer = Framer::new(0, max);
    let mut parser = LineParser::new(origin, max, pipeline.config.partial_timeout);
    let mut events = Vec::new();
    framer.extend(input);
    while let Some(line) = framer.next_line() {
        parser.push(line, Instant::now(), &mut events);
    }
    pipeline.processors.run_batch(&mut events);
    events
}

/// The bodies `bulk_body` builds, each its events and the builder of their requests:
/// - `without_id`, `with_id`: daily indices, without and with deduplication's `_id`;
/// - `with_id_routed`: two `indices` rules that match no event, so every document still goes to
///   `index` and the bytes are the same: one condition on the file's namespace (decided once per
///   file) and one on the message (evaluated for every event), the routing cost at its worst per line;
/// - `with_id_api`: as `with_id`, the file described by the API (the documents gain `orchestrator`
///   and `service`): the baseline of
/// - `with_id_data_streams`: the same file with `elastic.co/dataset` and `elastic.co/namespace`
///   hints, in `setup.mode: data_stream`: each document to `logs-shop.orders-prod`, with its
///   `data_stream.*` and `event.dataset`.
fn bulk_cases(pipeline: &Pipeline, input: &[u8]) -> Vec<(&'static str, Vec<Event>, BulkBuilder)> {
    let daily = || IndexPattern::parse("funlynk-logs-%{+yyyy.MM.dd}").unwrap();
    let plain = parsed_events(pipeline, input, path_origin());
    let rule = |when: &str, index: &str| {
        (
            Some(serde_yaml_ng::from_str(when).unwrap()),
            IndexPattern::parse(index).unwrap(),
        )
    };
    let routed = BulkBuilder::new(daily(), BulkAction::Index, pipeline.encoder.clone())
        .routed(
            vec![
                rule(
                    "equals: {kubernetes.namespace: payments}",
                    "funlynk-logs-pay-%{+yyyy.MM.dd}",
                ),
                rule(
                    "contains: {message: PANIC}",
                    "funlynk-logs-panic-%{+yyyy.MM.dd}",
                ),
            ],
            BulkAction::Index,
        )
        .deduplicated();
    let hints = Hints {
        dataset: Some("shop.orders".into()),
        namespace: Some("prod".into()),
        ..Hints::default()
    };
    let streams = pipeline
        .encoder
        .clone()
        .with_data_streams(DataStreams::new(&Config::default().data_stream));
    vec![
        (
            "without_id",
            plain.clone(),
            BulkBuilder::new(daily(), BulkAction::Index, pipeline.encoder.clone()),
        ),
        (
            "with_id",
            plain.clone(),
            BulkBuilder::new(daily(), BulkAction::Index, pipeline.encoder.clone()).deduplicated(),
        ),
        ("with_id_routed", plain, routed),
        (
            "with_id_api",
            parsed_events(pipeline, input, api_origin(None)),
            BulkBuilder::new(daily(), BulkAction::Index, pipeline.encoder.clone()).deduplicated(),
        ),
        (
            "with_id_data_streams",
            parsed_events(pipeline, input, api_origin(Some(hints))),
            BulkBuilder::data_streams(streams.data_streams().unwrap().clone(), streams)
                .deduplicated(),
        ),
    ]
}

/// Every event into requests sent at bulk_max_bytes (5 MiB), as the batcher does, compressed at
/// `level`; the compressed bytes.
fn build_requests(builder: &mut BulkBuilder, events: &[Event], level: u32) -> usize {
    builder.set_compression(level);
    let mut compressed = 0;
    for event in events {
        builder.push(event).unwrap();
        if builder.len_bytes() >= 5 * 1024 * 1024 {
            compressed += builder.finish().body.len();
        }
    }
    compressed + builder.finish().body.len()
}

fn bulk_body(c: &mut Criterion) {
    let (input, _) = workload(16 * 1024 * 1024);
    let pipeline = Pipeline::new();
    let cases = bulk_cases(&pipeline, &input);
    let mut group = c.benchmark_group("bulk_body");
    group
        .measurement_time(Duration::from_secs(10))
        .sample_size(10)
        .throughput(Throughput::Elements(cases[0].1.len() as u64));
    // The `_id` alone, to tell its cost from gzip's on a busy machine.
    let events = &cases[0].1;
    group.bench_function("ids_only", |b| {
        let mut out = Vec::with_capacity(64);
        b.iter(|| {
            for event in events {
                out.clear();
                doc_id::write(event, &mut out);
                black_box(&out);
            }
        })
    });
    for (name, events, mut builder) in cases {
        // What goes on the wire, once: the IDs do not compress, so this is their cost in bytes.
        for event in &events {
            builder.push(event).unwrap();
        }
        let plain = builder.len_bytes();
        builder.set_compression(1);
        let gzipped = builder.finish().body.len();
        println!(
            "bulk_body/{name}: {plain} bytes, {gzipped} gzipped, for {} events",
            events.len()
        );
        group.bench_function(format!("gzip1_5MiB/{name}"), |b| {
            b.iter(|| black_box(build_requests(&mut builder, &events, 1)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, enrichment, multiline, bulk_body);

/// With `PIPELINE_ONCE=auto|none|traces`, one pass of that workload after a warm-up one, in
/// `measured_pass`, and nothing else: for counting instructions per line under
/// `valgrind --tool=callgrind --toggle-collect=*measured_pass*`, which load does not distort;
/// `PIPELINE_PASSES=N` repeats the measured pass. `PIPELINE_ONCE=bulk1/<case>` (or `bulk0/<case>`,
/// uncompressed) does the same for one of `bulk_body`'s cases (`with_id_api`,
/// `with_id_data_streams`, …) in `measured_bulk`.
fn main() {
    let Ok(which) = std::env::var("PIPELINE_ONCE") else {
        benches();
        Criterion::default().configure_from_args().final_summary();
        return;
    };
    if let Some((level, case)) = which.split_once('/') {
        let level = match level {
            "bulk0" => 0,
            "bulk1" => 1,
            other => panic!("PIPELINE_ONCE={other}/…: bulk0 or bulk1"),
        };
        let (input, _) = workload(16 * 1024 * 1024);
        let pipeline = Pipeline::new();
        let (_, events, mut builder) = bulk_cases(&pipeline, &input)
            .into_iter()
            .find(|(name, _, _)| *name == case)
            .unwrap_or_else(|| panic!("no bulk_body case {case}"));
        build_requests(&mut builder, &events, level);
        let written = measured_bulk(&mut builder, &events, level);
        eprintln!("{which}: {} events, {written} bytes out", events.len());
        return;
    }
    let (input, lines) = match which.as_str() {
        "traces" => workload_with_traces(16 * 1024 * 1024),
        _ => workload(16 * 1024 * 1024),
    };
    let pipeline = match which.as_str() {
        "none" => Pipeline::with_multiline(MultilineType::None),
        _ => Pipeline::new(),
    };
    let mut events = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(1024 * 1024);
    pipeline.run(&input, &mut events, &mut out);
    // `PIPELINE_PASSES` (default 1): more passes, for a sampling profiler or `perf stat`.
    let passes: usize = std::env::var("PIPELINE_PASSES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut written = 0;
    for _ in 0..passes {
        written = measured_pass(&pipeline, &input, &mut events, &mut out);
    }
    eprintln!(
        "{which}: {lines} lines, {} bytes in, {written} bytes out",
        input.len()
    );
}

#[inline(never)]
fn measured_pass(
    pipeline: &Pipeline,
    input: &[u8],
    events: &mut Vec<Event>,
    out: &mut Vec<u8>,
) -> usize {
    black_box(pipeline.run(black_box(input), events, out))
}

#[inline(never)]
fn measured_bulk(builder: &mut BulkBuilder, events: &[Event], level: u32) -> usize {
    black_box(build_requests(builder, black_box(events), level))
}
