//! A minimal Elasticsearch bulk endpoint in the bench's own process: it decompresses each body, counts
//! its items, notes each line's `qid=` (so a duplicate is not mistaken for progress) and answers every
//! item 201. It can be told to stall: accept bulk requests and answer none; and to take only so many
//! bytes a second, as a cluster whose indexing is the bottleneck.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// See [`Shared::on_answer`].
pub type AnswerHook = Box<dyn Fn(&[u8]) + Send + Sync>;

#[derive(Default)]
pub struct Shared {
    pub requests: AtomicU64,
    pub items: AtomicU64,
    pub body_bytes: AtomicU64,
    pub raw_bytes: AtomicU64,
    /// While set, bulk requests are accepted and left unanswered.
    pub stalled: AtomicBool,
    /// Distinct `qid`s seen.
    pub unique: AtomicU64,
    /// Documents with Kubernetes labels (metadata from the API), and documents flagged
    /// `kube_metadata_missing`.
    pub labelled: AtomicU64,
    pub metadata_missing: AtomicU64,
    seen: Mutex<Vec<u64>>,
    /// Decompressed bulk bytes indexed per second, one request after another; 0: no limit.
    pub bytes_per_second: AtomicU64,
    busy_until: Mutex<Option<tokio::time::Instant>>,
    /// Called with each decompressed body just before it is answered.
    pub on_answer: std::sync::OnceLock<AnswerHook>,
}

pub struct Endpoint {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
}

impl Endpoint {
    /// A server on 127.0.0.1:0, on its own runtime in a background thread (left running until exit).
    pub fn start() -> Endpoint {
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
    let rate = shared.bytes_per_second.load(Ordering::Relaxed);
    if rate > 0 {
        let cost = Duration::from_secs_f64(raw.len() as f64 / rate as f64);
        let done = {
            let mut busy = shared.busy_until.lock().unwrap();
            let start = busy.map_or(tokio::time::Instant::now(), |b| {
                b.max(tokio::time::Instant::now())
            });
            *busy = Some(start + cost);
            start + cost
        };
        tokio::time::sleep_until(done).await;
    }
    if let Some(hook) = shared.on_answer.get() {
        hook(&raw);
    }
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
    let labels = memchr::memmem::Finder::new(b"\"labels\":{");
    let missing = memchr::memmem::Finder::new(b"kube_metadata_missing");
    let (mut labelled, mut metadata_missing) = (0, 0);
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
            labelled += u64::from(labels.find(doc).is_some());
            metadata_missing += u64::from(missing.find(doc).is_some());
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
    shared.labelled.fetch_add(labelled, Ordering::Relaxed);
    shared
        .metadata_missing
        .fetch_add(metadata_missing, Ordering::Relaxed);
    lines / 2
}

const INFO: &str = r#"{"name":"bench-node","cluster_name":"bench","cluster_uuid":"bWVtb3J5LWJlbmNoLWNsdXN0ZXI","version":{"number":"8.15.0","build_flavor":"default","build_type":"docker","build_hash":"1a77947f34deddb41af25e6f0ddb8e830159c179","build_date":"2024-08-05T10:05:34.233336849Z","build_snapshot":false,"lucene_version":"9.11.1","minimum_wire_compatibility_version":"7.17.0","minimum_index_compatibility_version":"7.0.0"},"tagline":"You Know, for Search"}"#;
