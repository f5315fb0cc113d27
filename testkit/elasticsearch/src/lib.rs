//! An Elasticsearch 8 stand-in (or 9, or 7.17: `EsOptions::version`) for end-to-end tests of the
//! output: it answers over real HTTP and is as strict as a real cluster about what it accepts, so a
//! shipper that passes against it does not meet its first 400 in production. A node of each major
//! takes the REST API versions that major takes (`compat.rs`).
//!
//! Use it as a dev-dependency (`testkit_elasticsearch`): `EsServer::start()` serves on 127.0.0.1 until
//! dropped.
//!
//! What it serves (every answer carries `X-Elastic-Product: Elasticsearch`):
//! - `GET|HEAD /`, `POST|PUT /_bulk` and `/{index}/_bulk`;
//! - `GET|HEAD|PUT|DELETE /{index}` (`PUT` with `settings`, `mappings`, `aliases`; date math names
//!   such as `<logs-{now/d}-000001>` resolved);
//! - `PUT|GET|DELETE /_ilm/policy/{name}`, `GET /_ilm/policy`, `GET /{index}/_ilm/explain`;
//! - `PUT|POST|GET|HEAD|DELETE /_index_template/{name}`, `GET /_index_template`;
//! - `GET|HEAD /_alias[/{name}]`, `/{index}/_alias[/{name}]`, `PUT|DELETE /{index}/_alias/{name}`,
//!   `POST /_aliases`;
//! - `PUT|GET|DELETE /_data_stream/{name}`, `GET /_data_stream`;
//! - `GET /_cluster/health[/{index}]`, `GET|POST /_security/user/_has_privileges`;
//! - `PUT|GET|DELETE /_snapshot/{repo}`, `GET /_snapshot`, `PUT|GET|DELETE /_slm/policy/{id}`,
//!   `GET /_slm/policy` (registering repositories and policies; no snapshot is ever taken).
//!
//! Per version: `index.mode` (`index_mode.rs`: LogsDB from 8.15) and the failure store
//! (`failure_store.rs`: 8.19 and 9.1+) as each takes them.
//!
//! Everything else gets the answers a real node gives to a path it has no handler for
//! (400 `no handler found…`) or to a wrong method (405).
//!
//! New indices take the highest-priority matching template's settings, mappings and aliases; a
//! `create` to a name whose template has `data_stream` creates the data stream. Explicit mappings
//! are enforced on documents alongside the dynamic rules (`mapping.rs`).
//!
//! Deliberate simplifications, each safe for a shipper's tests: one node, one shard per index
//! (whatever `number_of_shards` says); dynamic strings map to `keyword` (what Filebeat's template
//! does, not the bare `text` + `.keyword` default) and there is no date detection; no scripts in
//! updates; no component templates; of the built-in templates only `logs` (`logs-*-*`, priority 100,
//! `builtin.rs`), present unless `EsOptions::stack_templates` is false; no built-in ILM policies; ILM is shown as it stands once it has
//! run, and rollover never happens; snapshot repositories are registered but hold nothing. Each module's
//! header says what it leaves out.

mod aliases;
mod auth;
mod builtin;
mod bulk;
mod cluster_health;
mod compat;
mod data_streams;
mod date_math;
mod dates;
mod dynamic_templates;
mod errors;
mod explain;
mod failure_store;
mod faults;
mod field_types;
mod field_values;
mod filter_path;
mod handlers;
mod ilm;
mod ilm_actions;
mod ilm_policy;
mod ilm_rules;
mod index_mode;
mod index_name;
mod indices;
mod items;
mod mapping;
mod mapping_json;
mod mapping_walk;
mod patterns;
mod request_body;
mod route_params;
mod routes;
mod security;
mod server;
mod setting_rules;
mod settings;
mod snapshots;
mod source;
mod store;
mod targets;
mod template_checks;
mod templates;
mod tls;
mod units;
mod versions;

pub use faults::{FaultConfig, Faults};
pub use security::Grants;
pub use server::EsServer;
pub use tls::{Issued, TestCa, TlsIdentity};

// The modules reach the shared plumbing as `super::http_server`.
use testkit_http as http_server;

use std::time::Duration;

/// How the server is started.
#[derive(Clone, Debug)]
pub struct EsOptions {
    /// With `password`: basic auth is required on every request.
    pub username: Option<String>,
    pub password: Option<String>,
    /// `id:key`, as Filebeat's `api_key` setting takes it; requests then may (or, without a username,
    /// must) send `Authorization: ApiKey base64(id:key)`.
    pub api_key: Option<String>,
    /// Reported by `GET /`.
    pub version: String,
    /// Like `http.max_content_length`: larger bodies (after decompression) get a 413.
    pub max_content_length: usize,
    /// Seeds the fault-injection RNG so a failing run can be repeated.
    pub seed: u64,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<TlsIdentity>,
    /// What the authenticated user's roles grant (`_has_privileges` answers from it); `None`: a
    /// superuser, as ECK's `elastic`.
    pub grants: Option<Grants>,
    /// Elasticsearch's `stack.templates.enabled`: the built-in `logs` template is there from the
    /// start (`builtin.rs`). True by default, as on a real cluster.
    pub stack_templates: bool,
}

impl Default for EsOptions {
    fn default() -> Self {
        EsOptions {
            username: None,
            password: None,
            api_key: None,
            version: "8.15.0".to_string(),
            max_content_length: 100 * 1024 * 1024,
            seed: 0x5eed,
            tls: None,
            grants: None,
            stack_templates: true,
        }
    }
}

impl EsOptions {
    pub fn with_basic_auth(user: &str, password: &str) -> EsOptions {
        EsOptions {
            username: Some(user.to_string()),
            password: Some(password.to_string()),
            ..EsOptions::default()
        }
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// `None` while unanswered, and for ever when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The body arrived with `Content-Encoding: gzip` (or deflate).
    pub compressed: bool,
    pub content_type: Option<String>,
    /// The body as received on the wire.
    pub wire_len: usize,
    /// The body after decompression.
    pub body: Vec<u8>,
    /// For bulk requests that got an answer with items: how many.
    pub items: Option<usize>,
    pub elapsed: Option<Duration>,
    /// When the answer was made (wall clock, to compare with the documents' `@timestamp`).
    pub answered_at: Option<std::time::SystemTime>,
}

/// A snapshot of every request received so far, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    pub records: Vec<RequestRecord>,
}

impl RequestLog {
    pub fn count(&self, path: &str) -> usize {
        self.records.iter().filter(|r| r.path == path).count()
    }

    pub fn count_status(&self, path: &str, status: u16) -> usize {
        self.records
            .iter()
            .filter(|r| r.path == path && r.status == Some(status))
            .count()
    }

    /// Requests to any `_bulk` endpoint.
    pub fn bulk(&self) -> Vec<&RequestRecord> {
        self.records
            .iter()
            .filter(|r| r.path == "/_bulk" || r.path.ends_with("/_bulk"))
            .collect()
    }

    /// How many requests ended without an answer (dropped, timed out, or still stalled).
    pub fn unanswered(&self) -> usize {
        self.records.iter().filter(|r| r.status.is_none()).count()
    }
}
