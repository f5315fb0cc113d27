//! The cluster's state: indices with their documents (in the order they were first written), their
//! mappings, settings and aliases (aliases live on their indices, as in Elasticsearch's metadata);
//! and beside them the ILM policies, composable index templates and data streams.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::aliases::AliasMeta;
use super::data_streams::DataStream;
use super::ilm::Policy;
use super::mapping::Mapping;
use super::settings::{self, Settings};
use super::snapshots::SlmPolicy;
use super::templates::Template;

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
    /// Normalized (`index.`-prefixed, string values), including the ones Elasticsearch sets itself
    /// (`index.uuid`, `index.creation_date`, `index.provided_name`, …).
    pub settings: Settings,
    pub aliases: BTreeMap<String, AliasMeta>,
    /// The data stream this is a backing index of.
    pub data_stream: Option<String>,
    /// Deleted documents leave a `None`, so the others keep their order and positions.
    slots: Vec<Option<Doc>>,
    by_id: HashMap<String, usize>,
    next_seq_no: u64,
}

impl Index {
    pub fn with(uuid: String, mapping: Mapping, settings: Settings) -> Index {
        Index {
            uuid,
            mapping,
            settings,
            aliases: BTreeMap::new(),
            data_stream: None,
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

    pub fn creation_millis(&self) -> i64 {
        settings::get(&self.settings, "index.creation_date")
            .and_then(|d| d.parse().ok())
            .unwrap_or_default()
    }

    pub fn hidden(&self) -> bool {
        settings::get_bool(&self.settings, "index.hidden", false)
    }
}

#[derive(Debug, Default)]
pub struct Store {
    /// The node's version (`EsOptions::version`): what it takes depends on it.
    pub version: String,
    pub indices: BTreeMap<String, Index>,
    pub policies: BTreeMap<String, Policy>,
    pub templates: BTreeMap<String, Template>,
    pub data_streams: BTreeMap<String, DataStream>,
    /// Snapshot repositories, as registered (`{"type": …, "settings": …}`).
    pub repositories: BTreeMap<String, Value>,
    pub slm_policies: BTreeMap<String, SlmPolicy>,
}

impl Store {
    /// The indices an alias points to, with its settings on each.
    pub fn alias(&self, alias: &str) -> Vec<(&String, &AliasMeta)> {
        self.indices
            .iter()
            .filter_map(|(name, idx)| idx.aliases.get(alias).map(|meta| (name, meta)))
            .collect()
    }

    pub fn is_alias(&self, name: &str) -> bool {
        self.indices
            .values()
            .any(|idx| idx.aliases.contains_key(name))
    }

    /// Every alias name, sorted.
    pub fn alias_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .indices
            .values()
            .flat_map(|idx| idx.aliases.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The cluster's clock, in epoch milliseconds.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
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
