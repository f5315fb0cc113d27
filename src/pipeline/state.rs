//! The agent's durable state: the registry of delivered offsets and the agent's identity.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::registry::{Entry, RegistryError, SharedTracker, Store, Tracker};
use crate::telemetry;

/// What a run resumes from.
pub struct State {
    pub store: Store,
    pub tracker: SharedTracker,
    /// Records to resume files from; handed to the tailer.
    pub known: Vec<Entry>,
    /// `agent.id`, kept across restarts.
    pub agent_id: String,
}

impl State {
    /// Loads the registry under `dir`. A damaged registry is set aside and reported; reading then starts
    /// as if there were none (duplicates, never loss).
    pub fn open(dir: &Path) -> Result<State, RegistryError> {
        let store = Store::open(dir)?;
        let loaded = store.load()?;
        if let Some(kept) = &loaded.recovered_from {
            telemetry::registry_corrupt(
                store.path(),
                kept,
                loaded.reason.as_deref().unwrap_or("unknown"),
            );
        }
        let agent_id = loaded
            .snapshot
            .agent_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let tracker = Arc::new(Mutex::new(Tracker::resuming(
            Some(agent_id.clone()),
            loaded.snapshot.entries.clone(),
        )));
        Ok(State {
            store,
            tracker,
            known: loaded.snapshot.entries,
            agent_id,
        })
    }
}
