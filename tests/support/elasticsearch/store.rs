//! The cluster's state: indices with their documents (in the order they were first written) and
//! their mappings.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::mapping::Mapping;

#[derive(Debug)]
pub struct Doc {
    pub id: String,
    pub source: Value,
    pub version: u64,
}

#[derive(Debug)]
pub struct Index {
    pub uuid: String,
    pub mapping: Mapping,
    /// Deleted documents leave a `None`, so the others keep their order and positions.
    slots: Vec<Option<Doc>>,
    by_id: HashMap<String, usize>,
    next_seq_no: u64,
}

impl Index {
    fn new() -> Index {
        Index {
            uuid: new_id(22),
            mapping: Mapping::default(),
            slots: Vec::new(),
            by_id: HashMap::new(),
            next_seq_no: 0,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Doc> {
        self.by_id.get(id).and_then(|&i| self.slots[i].as_ref())
    }

    /// Writes a document; returns its new version and sequence number.
    pub fn put(&mut self, id: &str, source: Value) -> (u64, u64) {
        let seq_no = self.take_seq_no();
        if let Some(doc) = self.by_id.get(id).and_then(|&i| self.slots[i].as_mut()) {
            doc.version += 1;
            doc.source = source;
            return (doc.version, seq_no);
        }
        self.by_id.insert(id.to_string(), self.slots.len());
        self.slots.push(Some(Doc {
            id: id.to_string(),
            source,
            version: 1,
        }));
        (1, seq_no)
    }

    /// Removes a document; its version after deletion and the sequence number, if it existed.
    pub fn delete(&mut self, id: &str) -> Option<(u64, u64)> {
        let slot = self.by_id.remove(id)?;
        let doc = self.slots[slot].take()?;
        Some((doc.version + 1, self.take_seq_no()))
    }

    pub fn take_seq_no(&mut self) -> u64 {
        self.next_seq_no += 1;
        self.next_seq_no - 1
    }

    pub fn docs(&self) -> impl Iterator<Item = &Doc> {
        self.slots.iter().flatten()
    }
}

#[derive(Debug, Default)]
pub struct Store {
    pub indices: BTreeMap<String, Index>,
}

impl Store {
    /// The index, created on first use as `action.auto_create_index` does.
    pub fn index_mut(&mut self, name: &str) -> &mut Index {
        self.indices
            .entry(name.to_string())
            .or_insert_with(Index::new)
    }
}

/// An id like Elasticsearch's auto-generated ones: URL-safe base64 without padding.
pub fn new_id(len: usize) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < len {
                out.push(ALPHABET[usize::from(byte & 63)] as char);
            }
        }
    }
    out
}
