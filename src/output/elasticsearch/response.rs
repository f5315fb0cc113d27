//! What Elasticsearch answered to a bulk request: for the request as a whole, and for every item.
//!
//! A `POST /_bulk` response is `{"took":…,"errors":…,"items":[{"<action>":{"status":…,"error":{…}}},…]}`,
//! with one item per action, in the order they were sent. It can be as large as the request, so items
//! are read with every field but the status (and the error, when there is one) skipped unparsed, and
//! when `errors` is false only counted.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

/// Reasons can quote the document; beyond this much they say nothing more useful in a log line or the
/// dead-letter file, and a response of thousands of such items must not hold them all in memory.
pub const MAX_REASON_BYTES: usize = 4096;

/// What became of the request as a whole, from its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// Read the items for each one's outcome.
    Success,
    /// Nothing was indexed (overload, timeout, a node down): send it all again after a backoff.
    RetryAll,
    /// 413 (the body is larger than `http.max_content_length`) or 400 for the whole body (something in
    /// it Elasticsearch cannot read): send each half on its own, down to the one document at fault,
    /// which is dead-lettered. Retrying the same body would never succeed and would hold every offset
    /// behind it forever.
    SplitAndRetry,
    /// A configuration problem (credentials, permissions, wrong URL): log loudly and retry with backoff.
    /// Nothing is dropped: a dropped batch is lost for good, while a fixed secret, a granted role or a
    /// rotated credential lets the same batch through, and until then the registry holds the offsets
    /// back so the files are the buffer.
    Fatal,
}

pub fn classify_status(status: u16) -> RequestOutcome {
    match status {
        200..=299 => RequestOutcome::Success,
        400 | 413 => RequestOutcome::SplitAndRetry,
        408 | 429 | 500..=599 => RequestOutcome::RetryAll,
        // 401, 403, 404, and any other status we did not expect from a well-formed bulk request
        // (a redirect from a proxy): each needs a person to look.
        _ => RequestOutcome::Fatal,
    }
}

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    Acked,
    /// A `create` refused because a document with its `_id` exists: with IDs derived from the line
    /// (`output.elasticsearch.deduplicate`), that document is this line, indexed by an earlier attempt
    /// (before a crash, or a request whose answer was lost). Delivered.
    Duplicate,
    /// Refused by the data stream's mappings and kept in its failure store (`"failure_store": "used"`,
    /// 9.1+): in the cluster, but not in the indices searched for logs. Settled, never shipped.
    FailureStored,
    /// Elasticsearch could not take it now (429, 503, any 5xx); send it again.
    Retry {
        status: u16,
        reason: String,
    },
    /// Elasticsearch will never take it as it is (a mapping conflict, an invalid document).
    DeadLetter {
        status: u16,
        error_type: String,
        reason: String,
    },
}

/// The response cannot be matched to the items sent. Since it cannot tell which items were indexed,
/// the whole request is sent again: at least once, at the cost of possible duplicates.
#[derive(Debug, Error)]
pub enum ResponseError {
    #[error("the bulk response is not the JSON expected: {0}")]
    Invalid(serde_json::Error),
    #[error("the bulk response has {got} items for the {expected} sent")]
    ItemCount { expected: usize, got: usize },
}

// By hand rather than `#[from]`, which would also make the JSON error this one's `source()`: the
// message already includes it, and a reporter walking the chain would print it twice.
impl From<serde_json::Error> for ResponseError {
    fn from(error: serde_json::Error) -> ResponseError {
        ResponseError::Invalid(error)
    }
}

/// The outcome of every item, in the order they were sent.
pub fn parse_bulk_response(
    body: &[u8],
    expected_items: usize,
) -> Result<Vec<ItemOutcome>, ResponseError> {
    let head: Head = serde_json::from_slice(body)?;
    // A document kept in the failure store is answered as a success, so `errors` stays false: only
    // a response that names the failure store needs its items read.
    let failure_store = memchr::memmem::find(body, b"\"failure_store\"");
    if !head.errors && failure_store.is_none() {
        check_count(expected_items, head.items.0)?;
        return Ok(vec![ItemOutcome::Acked; head.items.0]);
    }
    let items = serde_json::from_slice::<Items>(body)?.items;
    check_count(expected_items, items.len())?;
    Ok(items.into_iter().map(Item::outcome).collect())
}

fn check_count(expected: usize, got: usize) -> Result<(), ResponseError> {
    if expected == got {
        Ok(())
    } else {
        Err(ResponseError::ItemCount { expected, got })
    }
}

/// What every response is read for. The items are counted as serde_json reads past them, with
/// nothing kept: reading them as a `RawValue` and counting that was two passes over 3,000 items a
/// response, ~1.9 % of the agent's CPU with gzip (perf, run_throughput).
#[derive(Deserialize)]
struct Head {
    /// Absent is read as true, so the items are looked at rather than assumed indexed.
    #[serde(default = "yes")]
    errors: bool,
    items: ItemCount,
}

fn yes() -> bool {
    true
}

/// The items, read again when one has to be looked at.
#[derive(Deserialize)]
struct Items {
    items: Vec<Item>,
}

/// The number of elements of a JSON array.
struct ItemCount(usize);

impl<'de> Deserialize<'de> for ItemCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ItemCount, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = usize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of items")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(n)
            }
        }
        deserializer.deserialize_seq(Count).map(ItemCount)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Create,
    // `index`, `update` and `delete` (and any action a later version adds) are judged by status alone.
    #[serde(other)]
    Other,
}

struct Item {
    action: Action,
    body: ItemBody,
}

#[derive(Deserialize)]
struct ItemBody {
    status: u16,
    /// Kept raw: only failed items have one, and its shape is read only then.
    error: Option<Box<RawValue>>,
    /// `used`, `not_enabled`, `failed`: present only where the failure store was relevant.
    failure_store: Option<String>,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Item, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with one action key")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                let Some(action) = map.next_key::<Action>()? else {
                    return Err(de::Error::custom("a bulk item with no action"));
                };
                let body = map.next_value()?;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Item { action, body })
            }
        }
        deserializer.deserialize_map(ItemVisitor)
    }
}

impl Item {
    fn is_version_conflict(&self) -> bool {
        let (error_type, _) = error_text(self.body.error.as_deref(), self.body.status);
        error_type == "version_conflict_engine_exception"
    }

    fn outcome(self) -> ItemOutcome {
        let status = self.body.status;
        match status {
            200..=299 if self.body.failure_store.as_deref() == Some("used") => {
                ItemOutcome::FailureStored
            }
            200..=299 => ItemOutcome::Acked,
            // A create fails with 409 only when a document with its `_id` exists. With IDs derived
            // from the line, a resend carries the same ID, so the existing document is this one,
            // indexed by an earlier attempt whose response was lost: it is delivered, and
            // dead-lettering it would report a loss that did not happen.
            409 if matches!(self.action, Action::Create) && self.is_version_conflict() => {
                ItemOutcome::Duplicate
            }
            429 | 500..=599 => {
                let (error_type, reason) = error_text(self.body.error.as_deref(), status);
                let reason = if reason.is_empty() {
                    error_type
                } else {
                    format!("{error_type}: {reason}")
                };
                ItemOutcome::Retry {
                    status,
                    reason: truncate(reason),
                }
            }
            _ => {
                let (error_type, reason) = error_text(self.body.error.as_deref(), status);
                ItemOutcome::DeadLetter {
                    status,
                    error_type,
                    reason,
                }
            }
        }
    }
}

/// The error's type and reason. Elasticsearch 8 writes an object; a plain string (older versions,
/// proxies) is taken as the reason.
fn error_text(error: Option<&RawValue>, status: u16) -> (String, String) {
    #[derive(Deserialize)]
    struct ErrorObject {
        #[serde(rename = "type")]
        kind: Option<String>,
        reason: Option<String>,
    }
    let unknown = || format!("http_{status}");
    let Some(raw) = error else {
        return (unknown(), String::new());
    };
    if let Ok(object) = serde_json::from_str::<ErrorObject>(raw.get()) {
        return (
            truncate(object.kind.unwrap_or_else(unknown)),
            truncate(object.reason.unwrap_or_default()),
        );
    }
    let reason = serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned());
    (unknown(), truncate(reason))
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_REASON_BYTES {
        let mut cut = MAX_REASON_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
