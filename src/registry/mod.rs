//! Durable offsets: what has been delivered, per file, kept on disk across restarts.
//!
//! Delivery is at least once. A file's offset is only recorded once every byte before it was acknowledged
//! by the output, so a crash or restart re-reads what may have been in flight (duplicates, never gaps).
//! That promise holds only if the record itself survives a crash: the store replaces its file atomically
//! and fsyncs it, so a power cut leaves the old registry or the new one, never half of each. A registry
//! that is damaged anyway is set aside for inspection rather than trusted or deleted.
//!
//! A file is known by its device and inode, because the path of a container log is a symlink whose
//! target rotates; the content fingerprint tells a reused inode from the file that had it before.
//!
//! `filebeat` reads the registry of the Filebeat this agent replaces, so a migration resumes where
//! Filebeat stopped instead of re-shipping every log on the node.

mod checkpointer;
pub mod filebeat;
mod migrate;
mod path_bytes;
mod store;

pub use filebeat::{
    parse_filebeat_registry, read_filebeat_registry, FilebeatError, FilebeatImport, FilebeatState,
};
pub use store::{Entry, Loaded, RegistryError, Snapshot, Store};
mod tracker;

pub use checkpointer::{Checkpointer, SaveFailed, SaveReport};
pub use migrate::{import_filebeat, ImportReport};
pub use tracker::{lock, register_batch, Checkpoint, SharedTracker, Tracker};
