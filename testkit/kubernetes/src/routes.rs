//! Which endpoint a request is for, and the answers to lists, gets and errors, shaped as the real
//! API server shapes them (Status objects for every failure).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use hyper::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response};
use serde_json::{json, Value};

use super::body::Body;
use super::faults::lock;
use super::selectors::Selector;
use super::server::Shared;
use super::store::{key, meta_str, Kind};
use super::watch;

pub type Answer = Response<Body>;

/// The query string, decoded; the first occurrence of a parameter wins.
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        let pairs = query
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Query(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Empty values count as absent, as Go's query decoding into ListOptions treats them.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("1" | "true" | "True" | "TRUE"))
    }
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A `Status` failure, as every error leaves the real server.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        status["details"] = details;
    }
    status
}

pub fn respond(code: u16, body: &Value) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    with_headers(code, Body::Full(Some(Bytes::from(bytes))))
}

pub fn with_headers(code: u16, body: Body) -> Answer {
    let mut answer = Response::new(body);
    *answer.status_mut() =
        hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = answer.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        "application/json".parse().expect("static header"),
    );
    headers.insert(
        CACHE_CONTROL,
        "no-cache, private".parse().expect("static header"),
    );
    answer
}

enum Route {
    Version,
    Api,
    Collection(Kind, Option<String>),
    Object(Kind, String, String),
}

fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let route = match segments.as_slice() {
        ["version"] => Route::Version,
        ["api"] => Route::Api,
        ["api", "v1", "pods"] => Route::Collection(Kind::Pod, None),
        ["api", "v1", "namespaces"] => Route::Collection(Kind::Namespace, None),
        ["api", "v1", "nodes"] => Route::Collection(Kind::Node, None),
        ["api", "v1", "namespaces", ns, "pods"] if !ns.is_empty() => {
            Route::Collection(Kind::Pod, Some(ns.to_string()))
        }
        ["api", "v1", "namespaces", ns, "pods", name] if !ns.is_empty() && !name.is_empty() => {
            Route::Object(Kind::Pod, key(ns, name), name.to_string())
        }
        ["api", "v1", "namespaces", name] if !name.is_empty() => {
            Route::Object(Kind::Namespace, name.to_string(), name.to_string())
        }
        ["api", "v1", "nodes", name] if !name.is_empty() => {
            Route::Object(Kind::Node, name.to_string(), name.to_string())
        }
        _ => return None,
    };
    Some(route)
}

/// The one endpoint that takes a body (`access.rs`); the server routes it before `dispatch`.
pub const ACCESS_REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// Authentication comes before routing: a wrong token gets 401 on any path.
pub fn authenticate<B>(shared: &Arc<Shared>, request: &Request<B>) -> Option<Answer> {
    let token = shared.options.token.as_ref()?;
    let sent = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    (sent != Some(token.as_str()))
        .then(|| respond(401, &status(401, "Unauthorized", "Unauthorized", None)))
}

pub fn dispatch<B>(shared: &Arc<Shared>, request: &Request<B>) -> Answer {
    let Some(route) = route(request.uri().path()) else {
        let message = "the server could not find the requested resource";
        return respond(404, &status(404, "NotFound", message, Some(json!({}))));
    };
    if request.method() != Method::GET {
        let message = "the server does not allow this method on the requested resource";
        return respond(
            405,
            &status(405, "MethodNotAllowed", message, Some(json!({}))),
        );
    }
    let query = Query::parse(request.uri().query());
    match route {
        Route::Version => respond(200, &version()),
        Route::Api => respond(
            200,
            &json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443" }],
            }),
        ),
        Route::Object(kind, key, name) => get(shared, kind, &key, &name),
        Route::Collection(kind, ns) if query.flag("watch") => {
            watch::start(shared, kind, ns, &query)
        }
        Route::Collection(kind, _) if shared.faults.get().refused_lists.contains(&kind) => {
            let message = "the server is currently unable to handle the request";
            respond(503, &status(503, "ServiceUnavailable", message, None))
        }
        Route::Collection(kind, ns) => match list(shared, kind, ns.as_deref(), &query) {
            Ok(list) => respond(200, &list),
            Err((code, body)) => respond(code, &body),
        },
    }
}

fn version() -> Value {
    json!({
        "major": "1",
        "minor": "31",
        "gitVersion": "v1.31.4",
        "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
        "gitTreeState": "clean",
        "buildDate": "2024-12-10T18:38:34Z",
        "goVersion": "go1.22.10",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn get(shared: &Arc<Shared>, kind: Kind, key: &str, name: &str) -> Answer {
    match lock(&shared.store).get(kind, key) {
        Some(object) => respond(200, object),
        None => {
            let message = format!("{} \"{name}\" not found", kind.plural());
            let details = json!({ "name": name, "kind": kind.plural() });
            respond(404, &status(404, "NotFound", &message, Some(details)))
        }
    }
}

type Failure = (u16, Value);

fn bad_request(message: &str) -> Failure {
    (400, status(400, "BadRequest", message, None))
}

fn invalid(message: &str) -> Failure {
    let message = format!("ListOptions.meta.k8s.io \"\" is invalid: {message}");
    (422, status(422, "Invalid", &message, None))
}

fn too_large(rv: u64, current: u64) -> Failure {
    let message = format!("Too large resource version: {rv}, current: {current}");
    let details = json!({ "causes": [{ "reason": "ResourceVersionTooLarge", "message": "Too large resource version" }], "retryAfterSeconds": 1 });
    (504, status(504, "Timeout", &message, Some(details)))
}

/// `Err` when the parameter is there but not a resourceVersion.
pub fn parse_rv(raw: &str) -> Result<u64, Failure> {
    raw.parse::<u64>()
        .map_err(|_| bad_request(&format!("invalid resource version: {raw}")))
}

/// A page of a list. Continue tokens look like the real ones (base64 of
/// `{"v":"meta.k8s.io/v1","rv":N,"start":KEY}`) and pin the snapshot the first page was cut from.
fn list(shared: &Arc<Shared>, kind: Kind, ns: Option<&str>, q: &Query) -> Result<Value, Failure> {
    let selector = Selector::parse(kind, q.get("fieldSelector"), q.get("labelSelector"))
        .map_err(|m| bad_request(&m))?;
    let limit = match q.non_empty("limit") {
        Some(raw) => raw
            .parse::<i64>()
            .map_err(|_| bad_request(&format!("invalid limit: {raw}")))?
            .max(0) as usize,
        None => shared.options.page_size_default.unwrap_or(0),
    };
    let expired_before = shared.faults.get().expired_before;
    let store = lock(&shared.store);
    let current = store.rv;
    let (snapshot, start) = match q.non_empty("continue") {
        Some(token) => {
            if q.non_empty("resourceVersion").is_some_and(|rv| rv != "0") {
                return Err(bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let (rv, start) = decode_continue(token)
                .ok_or_else(|| bad_request("invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
            if rv < expired_before {
                let message = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";
                return Err((410, status(410, "Expired", message, None)));
            }
            (rv.min(current), start)
        }
        None => (snapshot_rv(q, current, expired_before)?, String::new()),
    };
    let state = store.state_at(kind, snapshot);
    drop(store);
    let matching: Vec<(&String, &Value)> = state
        .range(start..)
        .filter(|(_, o)| ns.is_none_or(|ns| meta_str(o, "namespace") == ns))
        .filter(|(_, o)| selector.matches(o))
        .collect();
    let take = if limit == 0 {
        matching.len()
    } else {
        limit.min(matching.len())
    };
    let mut metadata = json!({ "resourceVersion": snapshot.to_string() });
    if take < matching.len() {
        let last = matching[take - 1].0;
        metadata["continue"] = json!(encode_continue(snapshot, &format!("{last}\u{0}")));
        // The real server counts the rest only when it can do so cheaply: without selectors.
        if selector.is_empty() {
            metadata["remainingItemCount"] = json!(matching.len() - take);
        }
    }
    let items: Vec<Value> = matching[..take]
        .iter()
        .map(|(_, o)| {
            // List items go out without kind and apiVersion, as the real server sends them.
            let mut item = (*o).clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("kind");
                map.remove("apiVersion");
            }
            item
        })
        .collect();
    Ok(json!({
        "kind": format!("{}List", kind.name()),
        "apiVersion": "v1",
        "metadata": metadata,
        "items": items,
    }))
}

/// Which version a list without `continue` is served at (`resourceVersion` + `resourceVersionMatch`).
fn snapshot_rv(q: &Query, current: u64, expired_before: u64) -> Result<u64, Failure> {
    let rv = q.non_empty("resourceVersion");
    let rv_match = q.non_empty("resourceVersionMatch");
    let Some(raw) = rv else {
        if rv_match.is_some() {
            return Err(invalid("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"));
        }
        return Ok(current);
    };
    let rv = parse_rv(raw)?;
    match rv_match {
        None | Some("NotOlderThan") if rv == 0 => Ok(current),
        None | Some("NotOlderThan") if rv > current => Err(too_large(rv, current)),
        None | Some("NotOlderThan") => Ok(current),
        Some("Exact") if rv == 0 => Err(invalid("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")),
        Some("Exact") if rv > current => Err(too_large(rv, current)),
        Some("Exact") if rv < expired_before => {
            let message = format!("The resourceVersion for the provided list is too old: {rv} ({expired_before})");
            Err((410, status(410, "Expired", &message, None)))
        }
        Some("Exact") => Ok(rv),
        Some(other) => Err(invalid(&format!(
            "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
        ))),
    }
}

fn encode_continue(rv: u64, start: &str) -> String {
    let token = json!({ "v": "meta.k8s.io/v1", "rv": rv, "start": start });
    URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Option<(u64, String)> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let token: Value = serde_json::from_slice(&raw).ok()?;
    if token["v"] != "meta.k8s.io/v1" {
        return None;
    }
    Some((token["rv"].as_u64()?, token["start"].as_str()?.to_string()))
}
