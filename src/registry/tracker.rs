//! Which offsets are safe to record: the acknowledgement side of the registry.
//!
//! Batches leave the reader in order and may be acknowledged out of order (several bulk requests in
//! flight). An offset is recorded only when its batch *and every batch sent before it* are acknowledged,
//! so the registry never records an offset past a line that was not delivered. The cost is that one slow
//! batch holds back the offsets of the batches after it: after a crash those are read again (duplicates,
//! never loss).
//!
//! It also counts what a crash now would read again: the events of every batch whose offsets are not in
//! the registry on disk yet, whether still in flight, held behind an unacknowledged batch, or recorded
//! here and waiting for the next save. A save that fails leaves that count, and the changes, in place,
//! so the next save writes them.
//!
//! Over 400 lines with its tests, which sit below the tracker's 280 lines of code.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Entry, Snapshot};
use crate::batch::{Ack, Acknowledge};
use crate::tail::{FileIdentity, FileKey, Fingerprint};
use crate::telemetry::UnsavedEvents;

#[derive(Debug)]
struct Tracked {
    entry: Entry,
    /// Closed for good (rotated away, deleted): forgotten once acknowledged up to here.
    retire_at: Option<u64>,
}

#[derive(Debug)]
struct InFlight {
    checkpoints: Vec<(FileKey, u64)>,
    /// Events in the batch, as the loss ledger counts them.
    events: u64,
    acked: bool,
}

/// Acknowledged offsets of the files being tailed.
#[derive(Debug, Default)]
pub struct Tracker {
    agent_id: Option<String>,
    /// Records loaded at start and not yet matched to files by the tailer's first scan. Written back
    /// until then, so a restart that is stopped before its first scan loses no record.
    unresolved: Vec<Entry>,
    files: HashMap<FileKey, Tracked>,
    in_flight: BTreeMap<u64, InFlight>,
    next_batch: u64,
    /// Counts every change to what a save writes; `saved_changes` is the count the last successful
    /// save covered. Counters rather than a flag, so a save that fails, or one overtaken by a change
    /// while it was written, leaves the tracker dirty.
    changes: u64,
    saved_changes: u64,
    /// Events of the batches in `in_flight`.
    events_in_flight: u64,
    /// Events of the batches whose offsets were recorded, ever; `saved_events` is the part of it the
    /// last successful save covered.
    recorded_events: u64,
    saved_events: u64,
}

/// What one save writes, and what it covers once written.
#[derive(Debug)]
pub struct Checkpoint {
    pub snapshot: Snapshot,
    changes: u64,
    recorded_events: u64,
}

impl Tracker {
    pub fn new(agent_id: Option<String>) -> Tracker {
        Tracker {
            agent_id,
            ..Tracker::default()
        }
    }

    /// A tracker for a run resuming from `known`.
    pub fn resuming(agent_id: Option<String>, known: Vec<Entry>) -> Tracker {
        Tracker {
            agent_id,
            unresolved: known,
            ..Tracker::default()
        }
    }

    /// The tailer has matched the loaded records to files (or found them gone): from now on only
    /// tracked files are recorded.
    pub fn resolved(&mut self) {
        if !self.unresolved.is_empty() {
            self.unresolved.clear();
            self.changes += 1;
        }
    }

    /// A file was opened; `entry.offset` is where reading starts, all of it delivered already.
    pub fn track(&mut self, key: FileKey, entry: Entry) {
        self.files.insert(
            key,
            Tracked {
                entry,
                retire_at: None,
            },
        );
        self.changes += 1;
    }

    /// A tracked file is tailed under another name now (it had lost its name); its offset stands.
    pub fn rename(&mut self, key: FileKey, path: &Path, target: &Path) {
        if let Some(tracked) = self.files.get_mut(&key) {
            tracked.entry.path = path.to_path_buf();
            tracked.entry.target = target.to_path_buf();
            self.changes += 1;
        }
    }

    /// The fingerprint grew with the file (files shorter than the fingerprint length at open).
    pub fn update_fingerprint(&mut self, key: FileKey, fingerprint: Fingerprint) {
        if let Some(tracked) = self.files.get_mut(&key) {
            tracked.entry.fingerprint = fingerprint;
            self.changes += 1;
        }
    }

    /// The file was closed for good after reading up to `end`; its record goes once that is delivered.
    pub fn retire(&mut self, key: FileKey, end: u64) {
        if let Some(tracked) = self.files.get_mut(&key) {
            tracked.retire_at = Some(end);
            if tracked.entry.offset >= end {
                self.files.remove(&key);
                self.changes += 1;
            }
        }
    }

    /// A batch of `events` is about to be sent; `checkpoints` holds, per file in it, where reading
    /// resumes once it is delivered. Returns the id to acknowledge it with.
    pub fn register(&mut self, checkpoints: Vec<(FileKey, u64)>, events: u64) -> u64 {
        let id = self.next_batch;
        self.next_batch += 1;
        self.in_flight.insert(
            id,
            InFlight {
                checkpoints,
                events,
                acked: false,
            },
        );
        self.events_in_flight += events;
        id
    }

    /// The batch was delivered (or dead-lettered): advance every offset the in-order prefix allows.
    pub fn ack(&mut self, id: u64) {
        if let Some(batch) = self.in_flight.get_mut(&id) {
            batch.acked = true;
        }
        while let Some(entry) = self.in_flight.first_entry() {
            if !entry.get().acked {
                break;
            }
            let batch = entry.remove();
            self.events_in_flight -= batch.events;
            self.recorded_events += batch.events;
            for (key, checkpoint) in batch.checkpoints {
                self.advance(key, checkpoint);
            }
        }
    }

    fn advance(&mut self, key: FileKey, checkpoint: u64) {
        let Some(tracked) = self.files.get_mut(&key) else {
            return;
        };
        if checkpoint > tracked.entry.offset {
            tracked.entry.offset = checkpoint;
            tracked.entry.updated = chrono::Utc::now().timestamp();
            self.changes += 1;
        }
        if tracked
            .retire_at
            .is_some_and(|end| tracked.entry.offset >= end)
        {
            self.files.remove(&key);
            self.changes += 1;
        }
    }

    /// Batches sent and not yet delivered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The acknowledged offset of a tracked file.
    pub fn offset(&self, key: FileKey) -> Option<u64> {
        self.files.get(&key).map(|t| t.entry.offset)
    }

    /// Events whose offsets the registry on disk does not hold yet: what a crash now would read again.
    pub fn unsaved_events(&self) -> u64 {
        self.events_in_flight + (self.recorded_events - self.saved_events)
    }

    /// What to write, when anything changed since the last successful save.
    pub fn changed_checkpoint(&mut self) -> Option<Checkpoint> {
        if self.changes == self.saved_changes {
            // The registry on disk already says what memory says: batches acknowledged since without
            // moving an offset are as good as saved.
            self.saved_events = self.recorded_events;
            return None;
        }
        Some(self.checkpoint())
    }

    /// What to write now, changed or not.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            snapshot: self.snapshot(),
            changes: self.changes,
            recorded_events: self.recorded_events,
        }
    }

    /// `checkpoint` is on disk. Changes made while it was written stay to be saved.
    pub fn saved(&mut self, checkpoint: &Checkpoint) {
        self.saved_changes = self.saved_changes.max(checkpoint.changes);
        self.saved_events = self.saved_events.max(checkpoint.recorded_events);
    }

    pub fn snapshot(&self) -> Snapshot {
        // A truncated file is tracked under a new key while the old one's last batches are in flight;
        // the newest record of an identity is the one that describes the file as it is.
        let mut newest: HashMap<FileIdentity, (FileKey, &Entry)> = HashMap::new();
        for (key, tracked) in &self.files {
            let slot = newest
                .entry(tracked.entry.identity)
                .or_insert((*key, &tracked.entry));
            if *key > slot.0 {
                *slot = (*key, &tracked.entry);
            }
        }
        let mut entries: Vec<Entry> = newest.into_values().map(|(_, e)| e.clone()).collect();
        entries.extend(
            self.unresolved
                .iter()
                .filter(|e| !entries.iter().any(|t| t.identity == e.identity))
                .cloned()
                .collect::<Vec<_>>(),
        );
        entries.sort_by(|a, b| (&a.path, a.identity.ino).cmp(&(&b.path, b.identity.ino)));
        Snapshot {
            agent_id: self.agent_id.clone(),
            entries,
        }
    }
}

/// The tracker as the pipeline shares it: the reader registers batches, outputs acknowledge them.
pub type SharedTracker = Arc<Mutex<Tracker>>;

pub fn lock(tracker: &SharedTracker) -> std::sync::MutexGuard<'_, Tracker> {
    // A panic elsewhere while holding the lock leaves plain data that is still consistent per operation.
    tracker.lock().unwrap_or_else(PoisonError::into_inner)
}

impl UnsavedEvents for Mutex<Tracker> {
    fn unsaved_events(&self) -> u64 {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unsaved_events()
    }
}

/// Registers a batch about to be sent and gives it the acknowledgement that advances its offsets.
pub fn register_batch(
    tracker: &SharedTracker,
    checkpoints: Vec<(FileKey, u64)>,
    events: u64,
) -> Ack {
    let id = lock(tracker).register(checkpoints, events);
    Ack::new(id, Arc::clone(tracker) as Arc<dyn Acknowledge>)
}

impl Acknowledge for Mutex<Tracker> {
    fn acknowledge(&self, id: u64) {
        self.lock().unwrap_or_else(PoisonError::into_inner).ack(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(ino: u64, offset: u64) -> Entry {
        Entry {
            identity: FileIdentity { dev: 1, ino },
            fingerprint: Fingerprint::of_bytes(b"x"),
            path: PathBuf::from(format!("/var/log/containers/{ino}.log")),
            target: PathBuf::from(format!("/var/log/pods/p/c/{ino}.log")),
            offset,
            updated: 0,
        }
    }

    #[test]
    fn out_of_order_acks_never_pass_an_unacknowledged_batch() {
        let mut t = Tracker::new(None);
        let (a, b) = (FileKey::new(0), FileKey::new(1));
        t.track(a, entry(10, 0));
        t.track(b, entry(11, 0));
        let first = t.register(vec![(a, 100)], 1);
        let second = t.register(vec![(a, 200), (b, 50)], 1);
        let third = t.register(vec![(b, 80)], 1);
        t.ack(third);
        t.ack(second);
        assert_eq!((t.offset(a), t.offset(b)), (Some(0), Some(0)));
        assert_eq!(t.in_flight(), 3);
        t.ack(first);
        assert_eq!((t.offset(a), t.offset(b)), (Some(200), Some(80)));
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn retired_files_are_forgotten_once_delivered() {
        let mut t = Tracker::new(Some("agent".into()));
        let a = FileKey::new(0);
        t.track(a, entry(10, 0));
        let id = t.register(vec![(a, 100)], 1);
        t.retire(a, 100);
        assert_eq!(t.snapshot().entries.len(), 1, "kept until delivered");
        t.ack(id);
        assert!(t.snapshot().entries.is_empty());
        assert_eq!(t.snapshot().agent_id.as_deref(), Some("agent"));
    }

    #[test]
    fn loaded_records_are_kept_until_resolved() {
        let mut t = Tracker::resuming(None, vec![entry(1, 10), entry(2, 20)]);
        t.track(FileKey::new(0), entry(1, 10));
        let offsets: Vec<u64> = t.snapshot().entries.iter().map(|e| e.offset).collect();
        assert_eq!(
            offsets,
            [10, 20],
            "the tracked one once, the unresolved one kept"
        );
        t.resolved();
        assert_eq!(t.snapshot().entries.len(), 1);
    }

    #[test]
    fn snapshots_only_when_something_changed() {
        let mut t = Tracker::new(None);
        assert!(t.changed_checkpoint().is_none());
        t.track(FileKey::new(3), entry(3, 7));
        let checkpoint = t.changed_checkpoint().unwrap();
        assert_eq!(checkpoint.snapshot.entries[0].offset, 7);
        t.saved(&checkpoint);
        assert!(t.changed_checkpoint().is_none());
        let id = t.register(vec![(FileKey::new(3), 7)], 5);
        t.ack(id);
        assert!(
            t.changed_checkpoint().is_none(),
            "no progress, nothing to write"
        );
        assert_eq!(t.unsaved_events(), 0, "and nothing the registry lacks");
    }

    #[test]
    fn a_failed_save_leaves_everything_to_be_saved_again() {
        let mut t = Tracker::new(None);
        let a = FileKey::new(0);
        t.track(a, entry(10, 0));
        let id = t.register(vec![(a, 100)], 40);
        t.ack(id);
        // The save of this one fails: it is never reported saved.
        let _ = t.changed_checkpoint().expect("a change to save");
        assert_eq!(t.unsaved_events(), 40);
        let retried = t
            .changed_checkpoint()
            .expect("still to save after a failure");
        assert_eq!(retried.snapshot.entries[0].offset, 100);
        // A change while it is written stays to be saved, and so do its events.
        let id = t.register(vec![(a, 150)], 2);
        t.ack(id);
        t.saved(&retried);
        assert_eq!(t.unsaved_events(), 2);
        let next = t
            .changed_checkpoint()
            .expect("the change made during the save");
        assert_eq!(next.snapshot.entries[0].offset, 150);
        t.saved(&next);
        assert_eq!(t.unsaved_events(), 0);
        assert!(t.changed_checkpoint().is_none());
    }

    #[test]
    fn unsaved_events_count_batches_held_behind_an_unacknowledged_one() {
        let mut t = Tracker::new(None);
        let a = FileKey::new(0);
        t.track(a, entry(10, 0));
        let saved = t.changed_checkpoint().unwrap();
        t.saved(&saved);
        let slow = t.register(vec![(a, 100)], 10);
        let quick = t.register(vec![(a, 200)], 20);
        t.ack(quick);
        assert_eq!(
            t.unsaved_events(),
            30,
            "acknowledged, but not recordable yet"
        );
        assert!(t.changed_checkpoint().is_none(), "no offset can move yet");
        assert_eq!(t.unsaved_events(), 30);
        t.ack(slow);
        assert_eq!(t.unsaved_events(), 30, "recorded, not saved");
        let checkpoint = t.changed_checkpoint().unwrap();
        t.saved(&checkpoint);
        assert_eq!(t.unsaved_events(), 0);
    }
}
