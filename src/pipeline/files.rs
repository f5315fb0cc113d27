//! The registry adapter: what the tailer tells of files, recorded in the registry's tracker, and the
//! registry's records turned into where the tailer resumes. It lives here, where both are visible, so
//! the tailer knows nothing of the registry and the registry nothing of the tailer beyond identity.

use crate::registry::{Entry, Tracker};
use crate::tail::{FileEvent, OpenedFile, Resume};

/// Where the tailer takes up the file of a registry record.
pub fn resume_of(entry: Entry) -> Resume {
    Resume {
        path: entry.path,
        target: entry.target,
        identity: entry.identity,
        fingerprint: entry.fingerprint,
        offset: entry.offset,
    }
}

/// The registry record of a file just opened, read up to where reading starts.
pub fn entry_of(file: &OpenedFile, updated: i64) -> Entry {
    Entry {
        identity: file.identity,
        fingerprint: file.fingerprint,
        path: file.path.clone(),
        target: file.target.clone(),
        offset: file.offset,
        updated,
    }
}

/// Records in `tracker` what `event` changes of the registry. Offsets move on acknowledgement, not
/// here: a file's record is created, renamed, re-printed and retired as the tailer says.
pub fn record(tracker: &mut Tracker, event: FileEvent<'_>) {
    match event {
        FileEvent::Opened { key, file } => {
            tracker.track(key, entry_of(file, chrono::Utc::now().timestamp()));
        }
        FileEvent::Renamed { key, file } => tracker.rename(key, &file.path, &file.target),
        FileEvent::FingerprintGrew { key, fingerprint } => {
            tracker.update_fingerprint(key, fingerprint);
        }
        FileEvent::Resolved => tracker.resolved(),
        FileEvent::Finished { key, end } => tracker.retire(key, end),
        FileEvent::Continues { .. } | FileEvent::Refused { .. } | FileEvent::Lost { .. } => {}
    }
}

#[cfg(test)]
#[path = "tail_model_tests.rs"]
mod tail_model_tests;
