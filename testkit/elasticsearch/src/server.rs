//! The HTTP side: a hyper server on its own thread and runtime, so a test can use it from plain
//! `#[test]` functions and from async ones alike.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::builtin;
use super::errors::EsError;
use super::http_server::{self, ServerThread};
use super::routes::{Answer, Context, Reply};
use super::store::{new_id, Store};
use super::{indices, mapping, settings, templates, EsOptions, Faults, RequestLog, RequestRecord};

/// A running test cluster; dropping it stops the server.
pub struct EsServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Dropped last: stops the server.
    _server: ServerThread,
}

pub(super) struct Shared {
    pub(super) options: EsOptions,
    pub(super) faults: Faults,
    pub(super) store: Mutex<Store>,
    log: Mutex<Vec<RequestRecord>>,
    pub(super) cluster_uuid: String,
}

impl EsServer {
    pub fn start() -> EsServer {
        EsServer::start_with(EsOptions::default())
    }

    pub fn start_with(options: EsOptions) -> EsServer {
        let (listener, addr) = http_server::bind();
        let shared = Arc::new(Shared {
            faults: Faults::new(options.seed),
            store: Mutex::new(Store {
                version: options.version.clone(),
                templates: if options.stack_templates {
                    builtin::templates().into_iter().collect()
                } else {
                    Default::default()
                },
                ..Store::default()
            }),
            options,
            log: Mutex::new(Vec::new()),
            cluster_uuid: new_id(22),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let for_thread = shared.clone();
        let server = ServerThread::spawn(
            format!("es-test-server-{}", addr.port()),
            // Documents may nest 1000 deep, as Jackson allows, and debug builds have big frames.
            Some(32 * 1024 * 1024),
            shutdown,
            move || accept_loop(for_thread, listener, shutdown_rx),
        );
        EsServer {
            shared,
            addr,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.shared.options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The documents of one index, in the order they were first written.
    pub fn documents(&self, index: &str) -> Vec<Value> {
        self.documents_with_ids(index)
            .into_iter()
            .map(|(_, doc)| doc)
            .collect()
    }

    /// `index` may also be an alias or a data stream: then the documents of the indices behind it.
    pub fn documents_with_ids(&self, index: &str) -> Vec<(String, Value)> {
        let store = lock(&self.shared.store);
        let names = if store.indices.contains_key(index) {
            vec![index.to_string()]
        } else {
            indices::resolve(&store, index).unwrap_or_default()
        };
        names
            .iter()
            .filter_map(|name| store.indices.get(name))
            .flat_map(|idx| idx.docs().map(|d| (d.id.clone(), d.source.clone())))
            .collect()
    }

    /// Every index that exists (created by a write, even one whose documents all failed), sorted.
    pub fn indices(&self) -> Vec<String> {
        lock(&self.shared.store).indices.keys().cloned().collect()
    }

    /// Every document of every index, as `(index, source)`.
    pub fn all_documents(&self) -> Vec<(String, Value)> {
        let store = lock(&self.shared.store);
        store
            .indices
            .iter()
            .flat_map(|(name, idx)| idx.docs().map(move |d| (name.clone(), d.source.clone())))
            .collect()
    }

    /// What `pick` takes from each document of every index, `(index, source)`, read in place: a test
    /// polling thousands of documents this way holds the store's lock for a walk, not for a deep copy
    /// of every document, so the bulk requests it waits for are not held up behind it.
    pub fn map_documents<T>(&self, mut pick: impl FnMut(&str, &Value) -> Option<T>) -> Vec<T> {
        let store = lock(&self.shared.store);
        store
            .indices
            .iter()
            .flat_map(|(name, idx)| idx.docs().map(move |d| (name, d)))
            .filter_map(|(name, d)| pick(name, &d.source))
            .collect()
    }

    /// The dynamic mapping of an index as `{"field.path": "type"}`.
    pub fn mapping(&self, index: &str) -> Option<Value> {
        let store = lock(&self.shared.store);
        store
            .indices
            .get(index)
            .map(|idx| mapping::describe(&idx.mapping))
    }

    /// One index as `GET /{index}` shows it (`aliases`, `mappings`, `settings` with string values,
    /// `data_stream` for a backing index), or `None` when it does not exist.
    pub fn index(&self, name: &str) -> Option<Value> {
        let store = lock(&self.shared.store);
        if !store.indices.contains_key(name) {
            return None;
        }
        indices::get(&store, name, false)
            .ok()
            .map(|v| v[name].clone())
    }

    /// Every index with its settings (nested, as `GET /{index}` shows them), sorted by name.
    pub fn indices_with_settings(&self) -> Vec<(String, Value)> {
        let store = lock(&self.shared.store);
        store
            .indices
            .iter()
            .map(|(name, idx)| (name.clone(), settings::expand(&idx.settings)))
            .collect()
    }

    /// The documents a data stream's failure store kept (`failure_store.rs`), oldest first.
    pub fn failure_store_documents(&self, stream: &str) -> Vec<Value> {
        let store = lock(&self.shared.store);
        let Some(ds) = store.data_streams.get(stream) else {
            return Vec::new();
        };
        ds.failure_indices
            .iter()
            .filter_map(|name| store.indices.get(name))
            .flat_map(|idx| idx.docs().map(|d| d.source.clone()))
            .collect()
    }

    /// A snapshot lifecycle policy as `GET /_slm/policy/{id}` shows it under `policy`.
    pub fn slm_policy(&self, id: &str) -> Option<Value> {
        let store = lock(&self.shared.store);
        store.slm_policies.get(id).map(|p| p.policy.clone())
    }

    /// The data streams, sorted, each with its backing indices (oldest first).
    pub fn data_streams(&self) -> Vec<(String, Vec<String>)> {
        let store = lock(&self.shared.store);
        store
            .data_streams
            .values()
            .map(|ds| (ds.name.clone(), ds.indices.clone()))
            .collect()
    }

    /// An ILM policy as `GET /_ilm/policy/{name}` shows it under `policy`.
    pub fn ilm_policy(&self, name: &str) -> Option<Value> {
        let store = lock(&self.shared.store);
        store.policies.get(name).map(|p| p.body.clone())
    }

    /// A composable template as `GET /_index_template/{name}` shows it under `index_template`.
    pub fn index_template(&self, name: &str) -> Option<Value> {
        let store = lock(&self.shared.store);
        templates::get(&store, Some(name), false)
            .ok()
            .and_then(|v| {
                v["index_templates"]
                    .get(0)
                    .map(|t| t["index_template"].clone())
            })
    }

    pub fn requests(&self) -> RequestLog {
        RequestLog {
            records: lock(&self.shared.log).clone(),
        }
    }
}

/// A test that panicked while holding a lock must not take the server down with it.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: std::net::TcpListener,
    shutdown: watch::Receiver<bool>,
) {
    let changes = shared.faults.subscribe();
    let down = || shared.faults.get().down;
    http_server::accept_loop(listener, shutdown, changes, down, |stream, shutdown| {
        tokio::spawn(accept(shared.clone(), stream, shutdown.clone()));
    })
    .await;
}

/// A failed handshake ends the connection before any request is read, so it never reaches the log.
async fn accept(shared: Arc<Shared>, stream: TcpStream, shutdown: watch::Receiver<bool>) {
    match shared.options.tls.as_ref().map(super::tls::acceptor) {
        None => connection(shared, stream, shutdown).await,
        Some(acceptor) => {
            if let Ok(stream) = acceptor.accept(stream).await {
                connection(shared, stream, shutdown).await;
            }
        }
    }
}

async fn connection<S>(shared: Arc<Shared>, stream: S, mut shutdown: watch::Receiver<bool>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let for_service = shared.clone();
    let service = hyper::service::service_fn(move |request| {
        let shared = for_service.clone();
        async move { handle(shared, request).await }
    });
    let serve =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    // Leaving the select drops the connection, which closes the socket without a word.
    tokio::select! {
        _ = serve => {}
        _ = shared.faults.wait_while(|c| !c.down) => {}
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, Dropped> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let encoding = header(CONTENT_ENCODING).map(|e| e.to_ascii_lowercase());
    let record = RequestRecord {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        status: None,
        compressed: matches!(encoding.as_deref(), Some("gzip" | "x-gzip" | "deflate")),
        content_type: header(CONTENT_TYPE),
        wire_len: 0,
        body: Vec::new(),
        items: None,
        elapsed: None,
        answered_at: None,
    };
    let slot = {
        let mut log = lock(&shared.log);
        log.push(record);
        log.len() - 1
    };
    let max = shared.options.max_content_length;
    let declared = header(CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
    let body = if declared.is_some_and(|l| l > max as u64) {
        Err(413)
    } else {
        match Limited::new(body, max).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(413)
            }
            // The client went away mid-body: nobody to answer.
            Err(_) => return Err(Dropped),
        }
    };
    let (wire_len, body) = match body.map(|raw| (raw.len(), decode(&raw, encoding.as_deref(), max)))
    {
        Ok((len, Ok(decoded))) => (len, Ok(decoded)),
        Ok((len, Err(status))) => (len, Err(status)),
        Err(status) => (0, Err(status)),
    };
    {
        let mut log = lock(&shared.log);
        log[slot].wire_len = wire_len;
        if let Ok(decoded) = &body {
            log[slot].body = decoded.clone();
        }
    }

    let faults = shared.faults.get();
    if let Some(timeout) = faults.request_timeout {
        tokio::time::sleep(timeout).await;
        return Err(Dropped);
    }
    if faults.stall {
        shared.faults.wait_while(|c| c.stall).await;
    }
    if shared.faults.roll(faults.drop_connection_fraction) {
        return Err(Dropped);
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if let Ok(body) = &body {
        if let Some(taken) = shared.faults.taken_at(body.len()) {
            tokio::time::sleep_until(taken).await;
        }
    }

    let mut context = Context {
        shared: &shared,
        headers: &parts.headers,
        method: &parts.method,
        path: &path,
        query: query.as_deref(),
        started,
        items: None,
    };
    let (status, response) = match body {
        Err(413) => (413, Reply::Empty),
        Err(_) => {
            let error = EsError::new(
                "illegal_argument_exception",
                "failed to decompress the request body",
            );
            (400, Reply::Json(error.body(400)))
        }
        Ok(body) => context.dispatch(&body),
    };
    let items = context.items;
    let answer = context.finish(status, response);
    {
        let mut log = lock(&shared.log);
        log[slot].status = Some(status);
        log[slot].items = items;
        log[slot].elapsed = Some(started.elapsed());
        log[slot].answered_at = Some(std::time::SystemTime::now());
    }
    Ok(answer)
}

/// Undoes `Content-Encoding`, bounded like the raw body; `Err` is the status to answer.
fn decode(raw: &[u8], encoding: Option<&str>, max: usize) -> Result<Vec<u8>, u16> {
    let mut reader: Box<dyn Read + '_> = match encoding {
        Some("gzip" | "x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        Some("deflate") => Box::new(flate2::read::ZlibDecoder::new(raw)),
        // Unknown encodings pass through untouched, as Netty's decompressor leaves them.
        _ => return Ok(raw.to_vec()),
    };
    let mut out = Vec::new();
    (&mut reader)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| 400u16)?;
    if out.len() > max {
        return Err(413);
    }
    Ok(out)
}
