//! Whether an object in the cluster is what `loglynk bootstrap` would install, read and compared as
//! `bootstrap` does, without writing: for `loglynk doctor`.

use elasticsearch::http::Method;

use super::bodies::Object;
use super::diff::diff;
use super::install::{call, comparable, parse, rejected};
use super::BootstrapError;
use crate::output::elasticsearch::client::EsClient;

/// An object in the cluster against loglynk's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    Missing,
    Equal,
    /// The diff, one line a leaf, as `bootstrap` prints it.
    Differs(Vec<String>),
}

/// Reads `object` back from the cluster and compares it with loglynk's. The rollover write index is
/// there when its alias is (ILM has rolled it over since, and the alias is what matters).
pub async fn compare(client: &EsClient, object: &Object) -> Result<Comparison, BootstrapError> {
    let path = match object.kind {
        "write index" => format!("/_alias/{}", object.name),
        _ => object.path.clone(),
    };
    let reply = call(client, Method::Get, &path, None, object).await?;
    match reply.status {
        404 => return Ok(Comparison::Missing),
        200 if object.kind == "write index" => return Ok(Comparison::Equal),
        200 => {}
        status => return Err(rejected(&reply, object, status)),
    }
    let installed = parse(&reply, object)?;
    let (installed, wanted) =
        comparable(object, &installed).ok_or_else(|| BootstrapError::Unexpected {
            host: reply.host.clone(),
            what: format!("GET {}", object.path),
            reason: "the answer does not hold the object".into(),
        })?;
    let changes = diff(&installed, &wanted);
    Ok(if changes.is_empty() {
        Comparison::Equal
    } else {
        Comparison::Differs(changes)
    })
}
