//! The HTTP side of the Elasticsearch output: one connection per configured host, round robin with a
//! short failover, TLS and authentication as Filebeat's `output.elasticsearch` configures them.
//!
//! Requests go through the official `elasticsearch` crate's transport. Bulk bodies are sent with its raw
//! `Transport::send` rather than its typed bulk API: the body is already NDJSON (and already gzipped when
//! configured), with item spans the retry logic depends on, so re-serializing it would cost a copy and
//! could change the bytes the spans point into.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use elasticsearch::http::Method;

mod compat;
mod error;
mod node;
mod setup;

pub use compat::major_of;
pub use error::{ClientError, SendError};

use super::request::BulkRequest;
use crate::config::{ElasticsearchOutput, VerificationMode};
use crate::telemetry;
use node::{Body, Node};
use setup::{authorization, read_tls};

/// How long a host that failed is passed over while another one is up: long enough not to spend every
/// request of a burst on a dead node, short enough that a restarted node gets traffic back quickly.
const DOWN_FOR: Duration = Duration::from_secs(5);
/// `GET /` is tiny; a node that cannot answer it in this long is not usable.
const INFO_TIMEOUT: Duration = Duration::from_secs(30);
/// Only what delivery reads of a bulk response, as Filebeat asks: Elasticsearch otherwise answers some
/// 200 bytes per item (`_index`, `_id`, `_version`, `result`, `_shards`, `_seq_no`, …), a megabyte for a
/// 5 MiB request, all of it received and parsed. `failure_store` is there only on items it concerns.
const BULK_PATH: &str =
    "/_bulk?filter_path=errors,items.*.error,items.*.status,items.*.failure_store";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub host: String,
}

#[derive(Debug, Clone)]
/// An answer of any HTTP status, for the caller to classify.
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub host: String,
}

#[derive(Clone)]
pub struct EsClient {
    inner: Arc<Inner>,
}

struct Inner {
    nodes: Vec<Node>,
    next: AtomicUsize,
}

impl EsClient {
    /// Errors name the file or host at fault, never a credential.
    pub fn new(config: &ElasticsearchOutput) -> Result<EsClient, ClientError> {
        if config.hosts.is_empty() {
            return Err(ClientError::NoHosts);
        }
        let tls = if uses_tls(config) {
            Some(read_tls(config)?)
        } else {
            None
        };
        if tls
            .as_ref()
            .is_some_and(|t| t.mode == VerificationMode::None)
        {
            telemetry::certificate_not_verified();
        }
        let authorization = authorization(config)?;
        let nodes = config
            .hosts
            .iter()
            .map(|url| Node::new(url, tls.as_ref(), authorization.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(EsClient {
            inner: Arc::new(Inner {
                nodes,
                next: AtomicUsize::new(0),
            }),
        })
    }

    /// Reads the files the settings name (CA, client certificate and key) as [`EsClient::new`] will:
    /// `run` calls this before it opens any port, so a missing CA file is a configuration error found
    /// at start. Loading cannot check it: `config check` runs where the files are not mounted.
    pub fn check_files(config: &ElasticsearchOutput) -> Result<(), ClientError> {
        if uses_tls(config) {
            read_tls(config)?;
        }
        Ok(())
    }

    /// `GET /`: the version the cluster reports. The node that answered asks for it from then on
    /// (`compatible-with=9` on a 9.x node, 8 otherwise), each node for itself, since nodes of both
    /// majors answer side by side while a cluster is upgraded.
    pub async fn info(&self) -> Result<ServerInfo, SendError> {
        let (status, body, node) = self.send(Method::Get, "/", None, INFO_TIMEOUT).await?;
        let host = node.host.clone();
        if !(200..300).contains(&status) {
            return Err(SendError::Status { host, status });
        }
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| SendError::Other {
                host: host.clone(),
                reason: format!("GET / is not JSON: {e}"),
            })?;
        match value.pointer("/version/number").and_then(|v| v.as_str()) {
            Some(version) => {
                node.compat.learn(version);
                Ok(ServerInfo {
                    version: version.to_owned(),
                    host,
                })
            }
            None => Err(SendError::Other {
                host,
                reason: "GET / has no version.number".to_owned(),
            }),
        }
    }

    /// `POST /_bulk`; any HTTP status comes back as a reply, for the caller to classify.
    pub async fn bulk(&self, request: &BulkRequest, timeout: Duration) -> Result<Reply, SendError> {
        let body = (request.body.clone(), Body::Ndjson { gzip: request.gzip });
        let (status, body, node) = self
            .send(Method::Post, BULK_PATH, Some(body), timeout)
            .await?;
        Ok(Reply {
            status,
            body,
            host: node.host.clone(),
        })
    }

    /// A JSON API call (`GET`, `PUT`, `HEAD`, …) other than a bulk: `path` is already percent-encoded.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Reply, SendError> {
        let body = body.map(|b| (Bytes::from(b), Body::Json));
        let (status, body, node) = self.send(method, path, body, timeout).await?;
        Ok(Reply {
            status,
            body,
            host: node.host.clone(),
        })
    }

    /// Tries the live hosts in round-robin order, moving on only when nothing was sent (connection
    /// refused), so a request is never applied twice by this client itself.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, Body)>,
        timeout: Duration,
    ) -> Result<(u16, Bytes, &Node), SendError> {
        let mut last = None;
        for node in self.candidates() {
            let headers = node.headers(body.as_ref().map(|(_, kind)| *kind));
            match node
                .send(
                    method,
                    path,
                    headers,
                    body.as_ref().map(|(b, _)| b.clone()),
                    timeout,
                )
                .await
            {
                Ok((status, body)) => {
                    node.mark(None);
                    return Ok((status, body, node));
                }
                Err(error) => {
                    node.mark(Some(Instant::now() + DOWN_FOR));
                    if !matches!(error, SendError::Connect { .. }) {
                        return Err(error);
                    }
                    last = Some(error);
                }
            }
        }
        Err(last.unwrap_or_else(|| SendError::Other {
            host: String::new(),
            reason: "no Elasticsearch host configured".to_owned(),
        }))
    }

    /// The live hosts from the next one in turn; when every host is down, just the next one, so a
    /// recovered cluster is noticed without spending a timeout on each host per request.
    fn candidates(&self) -> Vec<&Node> {
        let nodes = &self.inner.nodes;
        let start = self.inner.next.fetch_add(1, Ordering::Relaxed) % nodes.len().max(1);
        let now = Instant::now();
        let rotated = (0..nodes.len()).filter_map(|i| nodes.get((start + i) % nodes.len()));
        let live: Vec<&Node> = rotated.clone().filter(|n| n.is_up(now)).collect();
        if live.is_empty() {
            rotated.take(1).collect()
        } else {
            live
        }
    }
}

/// Plain-HTTP hosts need no CA, and the default CA path need not exist on a test machine.
fn uses_tls(config: &ElasticsearchOutput) -> bool {
    config.hosts.iter().any(|h| h.scheme() == "https")
}
