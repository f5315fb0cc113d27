//! Fault injection, adjustable while the server runs: what a reflector meets when the API server
//! restarts, compacts its history or is unreachable.

use std::sync::Mutex;

use tokio::sync::watch;

use crate::store::Kind;

#[derive(Clone, Debug)]
pub(super) struct FaultState {
    pub(super) down: bool,
    pub(super) bookmarks: bool,
    /// Bumped by `drop_watches`; a watch started under an older generation is cut.
    pub(super) drop_generation: u64,
    /// A `resourceVersion` below this is compacted away (410 Gone).
    pub(super) expired_before: u64,
    /// Lists of these kinds are answered 503, as by an API server whose storage for them is not ready.
    pub(super) refused_lists: Vec<Kind>,
}

/// The live fault settings of one server.
pub struct KubeFaults {
    state: Mutex<FaultState>,
    changed: watch::Sender<u64>,
}

impl KubeFaults {
    pub(super) fn new() -> KubeFaults {
        KubeFaults {
            state: Mutex::new(FaultState {
                down: false,
                bookmarks: true,
                drop_generation: 0,
                expired_before: 0,
                refused_lists: Vec::new(),
            }),
            changed: watch::channel(0).0,
        }
    }

    pub(super) fn get(&self) -> FaultState {
        lock(&self.state).clone()
    }

    fn set(&self, change: impl FnOnce(&mut FaultState)) {
        change(&mut lock(&self.state));
        self.changed.send_modify(|generation| *generation += 1);
    }

    /// Ends every open watch stream without its terminating chunk, as when an API server restarts:
    /// clients see a broken body, not a clean end.
    pub fn drop_watches(&self) {
        self.set(|s| s.drop_generation += 1);
    }

    /// Closes the listening socket (connections are refused) and cuts open connections; clearing it
    /// listens again on the same port.
    pub fn set_down(&self, down: bool) {
        self.set(|s| s.down = down);
    }

    /// Compacts history: a list or watch asking for a `resourceVersion` older than this gets 410.
    pub fn expire_before(&self, resource_version: u64) {
        self.set(|s| s.expired_before = s.expired_before.max(resource_version));
    }

    /// Answers lists of `kind` with 503 (`refuse`) or normally again: one resource's first list can be
    /// made to come later than another's.
    pub fn refuse_lists(&self, kind: Kind, refuse: bool) {
        self.set(|s| {
            s.refused_lists.retain(|k| *k != kind);
            if refuse {
                s.refused_lists.push(kind);
            }
        });
    }

    /// Whether watches that asked for bookmarks get them (on by default, as on a real server).
    pub fn set_bookmarks(&self, enabled: bool) {
        self.set(|s| s.bookmarks = enabled);
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Waits until `condition` no longer holds.
    pub(super) async fn wait_while(&self, condition: impl Fn(&FaultState) -> bool) {
        let mut changes = self.subscribe();
        while condition(&self.get()) {
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// A test that panicked while holding a lock must not take the server down with it.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
