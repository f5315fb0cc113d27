//! Watch streams: a chunked `application/json` body of newline-separated events, fed by one task per
//! watch from the store's history.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::body::{Body, Cut};
use super::faults::lock;
use super::routes::{parse_rv, respond, status, with_headers, Answer, Query};
use super::selectors::Selector;
use super::server::Shared;
use super::store::{meta_str, Change, Event, Kind};

/// What one watch delivers: its kind, namespace and selectors.
struct Filter {
    kind: Kind,
    namespace: Option<String>,
    selector: Selector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| meta_str(object, "namespace") == ns)
            && self.selector.matches(object)
    }

    /// The event type this watch sees: an object moving into the selection is ADDED and one moving
    /// out is DELETED, as the real server translates them.
    fn event_type(&self, event: &Event) -> Option<&'static str> {
        let was = event.old.as_ref().is_some_and(|o| self.matches(o));
        let is = self.matches(&event.new);
        match event.change {
            Change::Added => is.then_some("ADDED"),
            Change::Deleted => was.then_some("DELETED"),
            Change::Modified => match (was, is) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
        }
    }
}

fn line(kind: &str, object: &Value) -> Result<Bytes, Cut> {
    let mut bytes =
        serde_json::to_vec(&json!({ "type": kind, "object": object })).unwrap_or_default();
    bytes.push(b'\n');
    Ok(Bytes::from(bytes))
}

pub fn start(shared: &Arc<Shared>, kind: Kind, namespace: Option<String>, q: &Query) -> Answer {
    let selector = match Selector::parse(kind, q.get("fieldSelector"), q.get("labelSelector")) {
        Ok(selector) => selector,
        Err(message) => return respond(400, &status(400, "BadRequest", &message, None)),
    };
    let from = match q.non_empty("resourceVersion").map(parse_rv) {
        Some(Err((code, body))) => return respond(code, &body),
        Some(Ok(rv)) => rv,
        None => 0,
    };
    let timeout = match q.non_empty("timeoutSeconds").map(str::parse::<u64>) {
        Some(Ok(seconds)) => Some(Duration::from_secs(seconds)),
        Some(Err(_)) => {
            let message = "invalid timeoutSeconds";
            return respond(400, &status(400, "BadRequest", message, None));
        }
        None => None,
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    let filter = Filter {
        kind,
        namespace,
        selector,
    };
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(run(shared.clone(), filter, from, timeout, bookmarks, tx));
    with_headers(200, Body::Stream(rx))
}

async fn run(
    shared: Arc<Shared>,
    filter: Filter,
    from: u64,
    timeout: Option<Duration>,
    bookmarks: bool,
    tx: mpsc::Sender<Result<Bytes, Cut>>,
) {
    let faults = shared.faults.get();
    let generation = faults.drop_generation;
    let mut written = shared.written.subscribe();
    let mut changes = shared.faults.subscribe();
    let mut shutdown = shared.shutdown.clone();
    // A timeout too large to represent is no timeout (adding it would overflow).
    let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
    let period = shared
        .options
        .bookmark_interval
        .max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);

    // Unset or "0": the current state as synthetic ADDED events, then changes after it.
    let mut last = if from == 0 {
        let (state, rv) = {
            let store = lock(&shared.store);
            (store.state_at(filter.kind, store.rv), store.rv)
        };
        for object in state.values().filter(|o| filter.matches(o)) {
            if tx.send(line("ADDED", object)).await.is_err() {
                return;
            }
        }
        rv
    } else if from < faults.expired_before {
        // The real server answers 200 and reports the compaction as the stream's only event.
        let message = format!(
            "too old resource version: {from} ({})",
            faults.expired_before
        );
        let _ = tx
            .send(line("ERROR", &status(410, "Expired", &message, None)))
            .await;
        return;
    } else {
        from
    };

    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        let (events, current) = {
            let store = lock(&shared.store);
            (store.events_after(filter.kind, last), store.rv)
        };
        for event in &events {
            if let Some(kind) = filter.event_type(event) {
                if tx.send(line(kind, &event.new)).await.is_err() {
                    return;
                }
            }
        }
        last = last.max(current);
        tokio::select! {
            changed = written.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            changed = changes.changed() => {
                if changed.is_err() || shared.faults.get().drop_generation != generation {
                    let _ = tx.send(Err(Cut)).await;
                    return;
                }
            }
            _ = ticks.tick(), if bookmarks => {
                if shared.faults.get().bookmarks {
                    // Only the resourceVersion is meaningful in a bookmark; it promises every
                    // change up to it was sent.
                    let object = json!({
                        "kind": filter.kind.name(),
                        "apiVersion": "v1",
                        "metadata": { "resourceVersion": last.to_string() },
                    });
                    if tx.send(line("BOOKMARK", &object)).await.is_err() {
                        return;
                    }
                }
            }
            // A clean end: dropping the sender finishes the chunked body.
            _ = sleep_until(deadline) => return,
            _ = tx.closed() => return,
            _ = shutdown.changed() => {}
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
