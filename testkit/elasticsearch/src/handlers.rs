//! The handlers of the setup endpoints (indices, ILM, templates, aliases, data streams): each takes
//! the store's lock, calls the module that knows the endpoint, and hands back a status and body or
//! an error for `Context::dispatch` to answer.

use hyper::Method;
use serde_json::json;

use super::routes::{Context, Handled};
use super::server::lock;
use super::{aliases, data_streams, date_math, ilm, indices, snapshots, templates};

impl Context<'_> {
    /// A boolean query parameter (`?only_errors`, `?only_errors=true`).
    pub(super) fn flag(&self, name: &str) -> bool {
        self.params()
            .iter()
            .any(|(k, v)| k == name && (v.is_empty() || v == "true"))
    }

    pub(super) fn ilm_policy(&self, name: Option<&str>, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), name) {
            ("PUT", Some(name)) => ilm::put(&mut store, name, body),
            ("DELETE", Some(name)) => ilm::delete(&mut store, name),
            (_, name) => ilm::get(&store, name),
        }
        .map(|v| (200, v))
    }

    pub(super) fn snapshot(&self, repository: Option<&str>, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), repository) {
            ("PUT" | "POST", Some(name)) => snapshots::put_repository(&mut store, name, body),
            ("DELETE", Some(name)) => snapshots::delete_repository(&mut store, name),
            (_, name) => snapshots::get_repository(&store, name),
        }
        .map(|v| (200, v))
    }

    pub(super) fn slm_policy(&self, id: Option<&str>, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), id) {
            ("PUT", Some(id)) => snapshots::put_policy(&mut store, id, body),
            ("DELETE", Some(id)) => snapshots::delete_policy(&mut store, id),
            (_, id) => snapshots::get_policy(&store, id),
        }
        .map(|v| (200, v))
    }

    pub(super) fn index_template(&self, name: Option<&str>, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), name) {
            ("PUT" | "POST", Some(name)) => {
                templates::put(&mut store, name, body, self.flag("create"))
            }
            ("DELETE", Some(name)) => templates::delete(&mut store, name),
            (_, name) => templates::get(&store, name, self.flag("flat_settings")),
        }
        .map(|v| (200, v))
    }

    pub(super) fn alias(&self, index: Option<&str>, name: Option<&str>, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), index, name) {
            ("PUT" | "POST" | "DELETE", Some(index), Some(name)) => {
                let delete = *self.method == Method::DELETE;
                aliases::put_or_delete(&mut store, index, name, delete, body).map(|v| (200, v))
            }
            _ => aliases::get(&store, index, name),
        }
    }

    pub(super) fn data_stream(&self, name: Option<&str>) -> Handled {
        let mut store = lock(&self.shared.store);
        match (self.method.as_str(), name) {
            ("PUT", Some(name)) => {
                data_streams::create(&mut store, name).map(|_| json!({ "acknowledged": true }))
            }
            ("DELETE", Some(name)) => data_streams::delete(&mut store, name),
            (_, name) => data_streams::get(&store, name),
        }
        .map(|v| (200, v))
    }

    pub(super) fn index(&self, name: &str, body: &[u8]) -> Handled {
        let mut store = lock(&self.shared.store);
        match *self.method {
            Method::GET | Method::HEAD => {
                let resolved = date_math::resolve(name, chrono::Utc::now())?;
                indices::get(&store, &resolved, self.flag("flat_settings")).map(|v| (200, v))
            }
            Method::DELETE => indices::delete(&mut store, name).map(|v| (200, v)),
            _ => {
                let resolved = date_math::resolve(name, chrono::Utc::now())?;
                let request = indices::parse_create_body(body)?;
                indices::create(&mut store, &resolved, name, request, indices::Origin::Api)?;
                let answer =
                    json!({ "acknowledged": true, "shards_acknowledged": true, "index": resolved });
                Ok((200, answer))
            }
        }
    }
}
