//! Where a bulk item's `_index` leads, as `TransportBulkAction` resolves it: date math first, then an
//! existing index (not a data stream's backing index, except for updates and deletes), an alias's
//! write index, a data stream's write index (`create` only), or else auto-creation: a data stream
//! when the matching template has `data_stream`, an index with that template otherwise.

use super::aliases;
use super::bulk::Kind;
use super::data_streams;
use super::date_math;
use super::errors::EsError;
use super::index_name;
use super::indices::{self, CreateRequest, Origin};
use super::store::Store;
use super::templates;

/// A failed resolution: the status and error of the item.
pub type Refusal = (u16, EsError);

fn iae(reason: String) -> Refusal {
    (400, EsError::new("illegal_argument_exception", reason))
}

/// The name as resolved from date math, checked against the index name rules.
pub fn name(requested: &str) -> Result<String, Refusal> {
    let name = date_math::resolve(requested, chrono::Utc::now()).map_err(|e| (400, e))?;
    index_name::check(&name).map_err(|rule| {
        (
            400,
            EsError::new(
                "invalid_index_name_exception",
                index_name::reason(&name, &rule),
            )
            .on_index(&name, "_na_"),
        )
    })?;
    Ok(name)
}

/// The concrete index an item writes to; `None` for a delete of something that does not exist.
pub fn resolve(store: &mut Store, name: &str, kind: Kind) -> Result<Option<String>, Refusal> {
    if let Some(idx) = store.indices.get(name) {
        if let Some(ds) = &idx.data_stream {
            match kind {
                Kind::Create => return Err(iae(format!(
                    "index request with op_type=create targeting backing indices is disallowed, target corresponding data stream [{ds}] instead"
                ))),
                Kind::Index => return Err(iae(format!(
                    "index request with op_type=index and no if_primary_term and if_seq_no set targeting backing indices is disallowed, target corresponding data stream [{ds}] instead"
                ))),
                Kind::Update | Kind::Delete => {}
            }
        }
        return Ok(Some(name.to_string()));
    }
    if store.is_alias(name) {
        return aliases::write_index(store, name)
            .map(Some)
            .map_err(|e| (400, e));
    }
    if !store.data_streams.contains_key(name) {
        if kind == Kind::Delete {
            return Ok(None);
        }
        let stream_template =
            templates::find(store, name).is_some_and(|(_, t)| t.data_stream.is_some());
        if stream_template {
            data_streams::create(store, name).map_err(|e| (400, e))?;
        } else {
            indices::create(
                store,
                name,
                name,
                CreateRequest::default(),
                Origin::AutoCreate,
            )
            .map_err(|e| (400, e))?;
            return Ok(Some(name.to_string()));
        }
    }
    if kind != Kind::Create {
        return Err(iae(
            "only write ops with an op_type of create are allowed in data streams".to_string(),
        ));
    }
    Ok(store
        .data_streams
        .get(name)
        .map(|ds| ds.write_index().to_string()))
}
