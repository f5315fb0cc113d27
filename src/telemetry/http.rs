//! The agent's HTTP endpoint: `GET /metrics` for Prometheus, `GET /healthz` for the liveness probe
//! (the process answers) and `GET /readyz` for the readiness probe (the pipeline runs, the registry
//! can be written and Elasticsearch answered lately), `GET /status` (what the agent is doing, as
//! JSON: `status.rs`), and, with `http.reload.enabled`, `POST /reload`, which reloads the configuration
//! and answers with the outcome. Nothing else is served.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::{Metrics, Telemetry};

/// `/readyz` fails when Elasticsearch has not answered for this long. The agent probes it when no
/// request went out for a while, so a quiet node stays ready.
pub const READY_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address} for /metrics and /healthz: {cause}")]
pub struct HttpError {
    address: String,
    cause: std::io::Error,
}

/// What a reload ended in: what was applied, or why the new configuration was refused.
pub type ReloadOutcome = Result<String, String>;

/// A request to reload the configuration: from SIGHUP, the watched file, or `POST /reload`, which waits
/// for the outcome.
#[derive(Debug)]
pub struct ReloadRequest {
    /// What asked: `SIGHUP`, `file`, `http`.
    pub cause: &'static str,
    pub reply: Option<oneshot::Sender<ReloadOutcome>>,
}

/// Binds `host:port` (port 0 picks a free one) and serves on the current runtime until it shuts down.
/// With `reload`, `POST /reload` is served too. Returns the bound address.
pub async fn serve_http(
    host: &str,
    port: u16,
    metrics: Arc<Metrics>,
    telemetry: Arc<Telemetry>,
    reload: Option<mpsc::Sender<ReloadRequest>>,
) -> Result<SocketAddr, HttpError> {
    let error = |cause| HttpError {
        address: format!("{host}:{port}"),
        cause,
    };
    let listener = TcpListener::bind((host, port)).await.map_err(error)?;
    let address = listener.local_addr().map_err(error)?;
    tracing::info!(%address, "serving /metrics, /healthz and /readyz");
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of descriptors, typically: back off rather than spin.
                    tracing::warn!(%error, "metrics endpoint: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let metrics = Arc::clone(&metrics);
            let telemetry = Arc::clone(&telemetry);
            let reload = reload.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let reloading = match (&reload, request.uri().path(), request.method()) {
                        (Some(reload), "/reload", &Method::POST) => Some(reload.clone()),
                        _ => None,
                    };
                    let response = match reloading {
                        Some(_) => None,
                        None => Some(respond(&request, &metrics, &telemetry, reload.is_some())),
                    };
                    async move {
                        Ok::<_, Infallible>(match (response, reloading) {
                            (Some(response), _) => response,
                            (None, Some(reload)) => ask_reload(&reload).await,
                            (None, None) => plain(StatusCode::NOT_FOUND, "not found\n"),
                        })
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "metrics endpoint: connection ended with an error");
                }
            });
        }
    });
    Ok(address)
}

/// Asks for a reload and answers with its outcome: 200 and what was applied, or 422 and why the new
/// configuration was refused (the running one stays).
async fn ask_reload(reload: &mpsc::Sender<ReloadRequest>) -> Response<Full<Bytes>> {
    let (reply, outcome) = oneshot::channel();
    let request = ReloadRequest {
        cause: "http",
        reply: Some(reply),
    };
    if reload.send(request).await.is_err() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "the agent is stopping\n");
    }
    match outcome.await {
        Ok(Ok(applied)) => plain_owned(StatusCode::OK, format!("{applied}\n")),
        Ok(Err(refused)) => plain_owned(StatusCode::UNPROCESSABLE_ENTITY, format!("{refused}\n")),
        Err(_) => plain(StatusCode::SERVICE_UNAVAILABLE, "the agent is stopping\n"),
    }
}

fn respond(
    request: &Request<Incoming>,
    metrics: &Metrics,
    telemetry: &Telemetry,
    reload_enabled: bool,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if path == "/reload" && reload_enabled {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only POST\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if !matches!(path, "/metrics" | "/healthz" | "/readyz" | "/status") {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match path {
        "/metrics" => {
            let mut response = Response::new(Full::new(Bytes::from(metrics.encode())));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
            response
        }
        "/status" => {
            let body = serde_json::to_vec_pretty(&super::status(telemetry)).unwrap_or_default();
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        "/readyz" => match not_ready(telemetry) {
            Some(reason) => plain_owned(StatusCode::SERVICE_UNAVAILABLE, reason),
            None => plain(StatusCode::OK, "ok\n"),
        },
        _ => plain(StatusCode::OK, "ok\n"),
    }
}

fn not_ready(telemetry: &Telemetry) -> Option<String> {
    if !telemetry.pipeline_running() {
        return Some("the pipeline is not running\n".into());
    }
    if let Some(error) = telemetry.registry_failing() {
        // Shipping goes on, but what is shipped meanwhile is sent again after a crash.
        return Some(format!("the registry cannot be saved: {error}\n"));
    }
    match telemetry.since_es_answered() {
        None => Some("Elasticsearch has not answered yet\n".into()),
        Some(since) if since > READY_WITHIN => Some(format!(
            "Elasticsearch last answered {}s ago\n",
            since.as_secs()
        )),
        Some(_) => None,
    }
}

fn plain_owned(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = plain(status, "");
    *response.body_mut() = Full::new(Bytes::from(body));
    response
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
