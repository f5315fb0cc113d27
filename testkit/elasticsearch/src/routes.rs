//! Which endpoint a request is for, and the REST layer's checks in Elasticsearch's order: security,
//! handler lookup, method, parameters, content type, body.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use serde_json::{json, Value};

use super::compat;
use super::errors::{flat, rejected_execution, EsError};
use super::route_params::{params_of, GLOBAL_PARAMS};
use super::server::{lock, Shared};
use super::{aliases, auth, bulk, cluster_health, explain, filter_path, items, security, versions};

pub type Answer = Response<Full<Bytes>>;

/// A handler's outcome: a status and body, or an error answered with its status.
pub type Handled = Result<(u16, Value), EsError>;

/// The status Elasticsearch answers an exception with.
fn status_of(error: &EsError) -> u16 {
    match error.kind.as_str() {
        "index_not_found_exception"
        | "resource_not_found_exception"
        | "repository_missing_exception"
        | "index_template_missing_exception"
        | "aliases_not_found_exception" => 404,
        // Outside authentication (a 401), only a node with security off answers this: 500.
        "security_exception" => 500,
        _ => 400,
    }
}

pub enum Reply {
    Json(Value),
    Empty,
}

/// The endpoints served, each with its allowed methods in `route`, its parameters in
/// `route_params.rs` and its handler in `Context::dispatch`.
pub(super) enum Route {
    Root,
    Bulk(Option<String>),
    Index(String),
    /// `/_ilm/policy[/{name}]`.
    IlmPolicy(Option<String>),
    /// `/{index}/_ilm/explain`.
    IlmExplain(String),
    /// `/_index_template[/{name}]`.
    IndexTemplate(Option<String>),
    /// `/_alias[/{name}]`, `/{index}/_alias[/{name}]`.
    Alias(Option<String>, Option<String>),
    /// `POST /_aliases`.
    Aliases,
    /// `/_data_stream[/{name}]`.
    DataStream(Option<String>),
    /// `/_security/user/_has_privileges`.
    HasPrivileges,
    /// `/_cluster/health[/{index}]`.
    ClusterHealth,
    /// `/_snapshot[/{repository}]`.
    Snapshot(Option<String>),
    /// `/_slm/policy[/{id}]`.
    SlmPolicy(Option<String>),
}

fn route(path: &str) -> Option<(Route, &'static [&'static str])> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<String> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').map(percent_decode).collect()
    };
    let user = |name: &String| !name.starts_with('_');
    let one = |name: &String| Some(name.clone());
    Some(match segments.as_slice() {
        [] => (Route::Root, &["GET", "HEAD"]),
        [bulk] if bulk == "_bulk" => (Route::Bulk(None), &["POST", "PUT"]),
        [index, bulk] if bulk == "_bulk" && user(index) => {
            (Route::Bulk(one(index)), &["POST", "PUT"])
        }
        [ilm, policy] if ilm == "_ilm" && policy == "policy" => (Route::IlmPolicy(None), &["GET"]),
        [ilm, policy, name] if ilm == "_ilm" && policy == "policy" => {
            (Route::IlmPolicy(one(name)), &["PUT", "GET", "DELETE"])
        }
        [index, ilm, explain] if ilm == "_ilm" && explain == "explain" && user(index) => {
            (Route::IlmExplain(index.clone()), &["GET"])
        }
        [t] if t == "_index_template" => (Route::IndexTemplate(None), &["GET", "HEAD"]),
        [t, name] if t == "_index_template" => (
            Route::IndexTemplate(one(name)),
            &["PUT", "POST", "GET", "HEAD", "DELETE"],
        ),
        [a] if a == "_alias" => (Route::Alias(None, None), &["GET", "HEAD"]),
        [a, name] if a == "_alias" => (Route::Alias(None, one(name)), &["GET", "HEAD"]),
        [index, a] if a == "_alias" && user(index) => {
            (Route::Alias(one(index), None), &["GET", "HEAD"])
        }
        [index, a, name] if (a == "_alias" || a == "_aliases") && user(index) => (
            Route::Alias(one(index), one(name)),
            &["GET", "HEAD", "PUT", "POST", "DELETE"],
        ),
        [a] if a == "_aliases" => (Route::Aliases, &["POST"]),
        [d] if d == "_data_stream" => (Route::DataStream(None), &["GET"]),
        [s] if s == "_snapshot" => (Route::Snapshot(None), &["GET"]),
        [s, name] if s == "_snapshot" => (
            Route::Snapshot(one(name)),
            &["GET", "PUT", "POST", "DELETE"],
        ),
        [s, p] if s == "_slm" && p == "policy" => (Route::SlmPolicy(None), &["GET"]),
        [s, p, id] if s == "_slm" && p == "policy" => {
            (Route::SlmPolicy(one(id)), &["GET", "PUT", "DELETE"])
        }
        [s, u, h] if s == "_security" && u == "user" && h == "_has_privileges" => {
            (Route::HasPrivileges, &["GET", "POST"])
        }
        [c, h, ..] if c == "_cluster" && h == "health" && segments.len() <= 3 => {
            (Route::ClusterHealth, &["GET"])
        }
        [d, name] if d == "_data_stream" => {
            (Route::DataStream(one(name)), &["GET", "PUT", "DELETE"])
        }
        [index] if user(index) => (
            Route::Index(index.clone()),
            &["PUT", "DELETE", "GET", "HEAD"],
        ),
        _ => return None,
    })
}

pub struct Context<'a> {
    pub shared: &'a Shared,
    pub headers: &'a HeaderMap,
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub started: Instant,
    /// For the request log: how many items a bulk answer carried.
    pub items: Option<usize>,
}

impl Context<'_> {
    fn header(&self, name: hyper::header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn uri(&self) -> String {
        match self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.to_string(),
        }
    }

    pub(super) fn params(&self) -> Vec<(String, String)> {
        self.query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }

    pub fn dispatch(&mut self, body: &[u8]) -> (u16, Reply) {
        let authorization = self.header(hyper::header::AUTHORIZATION);
        if let Err(error) = auth::check(&self.shared.options, authorization, &self.uri()) {
            return (401, Reply::Json(error.body(401)));
        }
        let Some((route, allowed)) = route(self.path) else {
            let message = format!(
                "no handler found for uri [{}] and method [{}]",
                self.uri(),
                self.method
            );
            return (400, Reply::Json(flat(message, 400)));
        };
        if !allowed.contains(&self.method.as_str()) {
            let message = format!(
                "Incorrect HTTP method for uri [{}] and method [{}], allowed: [{}]",
                self.uri(),
                self.method,
                allowed.join(", ")
            );
            return (405, Reply::Json(flat(message, 405)));
        }
        let accepted = params_of(&route);
        for (name, _) in self.params() {
            if !GLOBAL_PARAMS.contains(&name.as_str()) && !accepted.contains(&name.as_str()) {
                let error = EsError::new(
                    "illegal_argument_exception",
                    format!(
                        "request [{}] contains unrecognized parameter: [{name}]",
                        self.path
                    ),
                );
                return (400, Reply::Json(error.body(400)));
            }
        }
        if let Err(error) = compat::check(
            &self.shared.options.version,
            self.header(ACCEPT),
            self.header(CONTENT_TYPE),
            !body.is_empty(),
        ) {
            return (400, Reply::Json(error.body(400)));
        }
        if !body.is_empty() && !self.content_type_ok() {
            let message = match self.header(CONTENT_TYPE) {
                None => "Content-Type header is missing".to_string(),
                Some(value) => format!("Content-Type header [{value}] is not supported"),
            };
            return (406, Reply::Json(flat(message, 406)));
        }
        let answer = match route {
            Route::Root => return (200, Reply::Json(self.info())),
            Route::Bulk(default_index) => return self.bulk(default_index.as_deref(), body),
            Route::Index(name) => self.index(&name, body),
            Route::IlmPolicy(name) => self.ilm_policy(name.as_deref(), body),
            Route::IlmExplain(index) => {
                let store = lock(&self.shared.store);
                explain::explain(
                    &store,
                    &index,
                    self.flag("only_managed"),
                    self.flag("only_errors"),
                )
                .map(|v| (200, v))
            }
            Route::IndexTemplate(name) => self.index_template(name.as_deref(), body),
            Route::Alias(index, name) => self.alias(index.as_deref(), name.as_deref(), body),
            Route::Aliases => {
                let mut store = lock(&self.shared.store);
                aliases::update(&mut store, body).map(|v| (200, v))
            }
            Route::DataStream(name) => self.data_stream(name.as_deref()),
            Route::HasPrivileges => {
                security::has_privileges(&self.shared.options, body).map(|v| (200, v))
            }
            Route::ClusterHealth => {
                let store = lock(&self.shared.store);
                let forced = self.shared.faults.get().health;
                Ok((200, cluster_health::health(&store, forced.as_deref())))
            }
            Route::Snapshot(name) => self.snapshot(name.as_deref(), body),
            Route::SlmPolicy(id) => self.slm_policy(id.as_deref(), body),
        };
        match answer {
            Ok((status, value)) => (status, Reply::Json(value)),
            Err(error) => {
                let status = status_of(&error);
                (status, Reply::Json(error.body(status)))
            }
        }
    }

    /// JSON and NDJSON, plain or in the versioned form the official clients send
    /// (`application/vnd.elasticsearch+x-ndjson; compatible-with=8`).
    fn content_type_ok(&self) -> bool {
        let Some(value) = self.header(CONTENT_TYPE) else {
            return false;
        };
        let mut parts = value.split(';').map(|p| p.trim().to_ascii_lowercase());
        let media = parts.next().unwrap_or_default();
        let params: Vec<String> = parts.collect();
        match media.as_str() {
            "application/json" | "application/x-ndjson" => true,
            "application/vnd.elasticsearch+json" | "application/vnd.elasticsearch+x-ndjson" => {
                // Which versions this node takes is `compat::check`'s to say.
                params.iter().any(|p| p.starts_with("compatible-with="))
            }
            _ => false,
        }
    }

    /// What `GET /` says, with the Lucene and compatibility versions of the version played.
    fn info(&self) -> Value {
        let (lucene, wire, index) = versions::info(&self.shared.options.version);
        json!({
            "name": "es-test-node",
            "cluster_name": "es-test-cluster",
            "cluster_uuid": self.shared.cluster_uuid,
            "version": {
                "number": self.shared.options.version,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "1a77947f34deddb41af25e6f0ddb8e830159c179",
                "build_date": "2024-08-05T10:05:34.233336849Z",
                "build_snapshot": false,
                "lucene_version": lucene,
                "minimum_wire_compatibility_version": wire,
                "minimum_index_compatibility_version": index
            },
            "tagline": "You Know, for Search"
        })
    }

    fn bulk(&mut self, default_index: Option<&str>, body: &[u8]) -> (u16, Reply) {
        if body.is_empty() {
            let error = EsError::new("parse_exception", "request body is required");
            return (400, Reply::Json(error.body(400)));
        }
        let faults = self.shared.faults.get();
        if self.shared.faults.roll(faults.reject_bulk_fraction_429) {
            let error = rejected_execution("coordinating operation [bulk]");
            return (429, Reply::Json(error.body(429)));
        }
        if self.shared.faults.roll(faults.reject_bulk_fraction_500) {
            let error = EsError::new("exception", "test server fault: internal error");
            return (500, Reply::Json(error.body(500)));
        }
        let ops = match bulk::parse(body, default_index) {
            Ok(ops) => ops,
            Err(error) => return (400, Reply::Json(error.body(400))),
        };
        let (items, errors) = {
            let mut store = lock(&self.shared.store);
            items::execute(&ops, &mut store, &self.shared.faults)
        };
        self.items = Some(items.len());
        let took = self.started.elapsed().as_millis() as u64;
        (
            200,
            Reply::Json(json!({ "took": took, "errors": errors, "items": items })),
        )
    }

    /// Builds the answer: the product header on everything, `filter_path` applied, the versioned
    /// media type echoed to clients that asked for it.
    pub fn finish(&self, status: u16, reply: Reply) -> Answer {
        let versioned =
            compat::asked(self.header(ACCEPT)).or_else(|| compat::asked(self.header(CONTENT_TYPE)));
        let content_type = match versioned {
            Some(v) => format!("application/vnd.elasticsearch+json;compatible-with={v}"),
            None => "application/json".to_owned(),
        };
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("X-Elastic-Product", "Elasticsearch");
        if status == 401 {
            for challenge in auth::CHALLENGES {
                builder = builder.header("WWW-Authenticate", challenge);
            }
        }
        if status == 405 {
            if let Some((_, allowed)) = route(self.path) {
                builder = builder.header("Allow", allowed.join(","));
            }
        }
        let body = match reply {
            Reply::Empty => Bytes::new(),
            Reply::Json(value) => {
                builder = builder.header(CONTENT_TYPE, content_type);
                let filter = self.params().into_iter().find(|(k, _)| k == "filter_path");
                let value = match filter {
                    Some((_, filter)) => filter_path::apply(&value, &filter),
                    _ => value,
                };
                if *self.method == Method::HEAD {
                    Bytes::new()
                } else {
                    Bytes::from(value.to_string())
                }
            }
        };
        builder
            .body(Full::new(body))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
