//! The objects and their full change history. Every write bumps one global resourceVersion, as etcd's
//! revision does, so lists and watches of different kinds share one clock.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Pod,
    Namespace,
    Node,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Kind::Pod => "pods",
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
        }
    }

    pub fn namespaced(self) -> bool {
        self == Kind::Pod
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Deleted,
}

/// One write. `old` is the state before (for MODIFIED and DELETED), `new` the state after (for
/// DELETED: the last state, carrying the deletion's resourceVersion, as the real server sends it).
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub kind: Kind,
    pub change: Change,
    pub old: Option<Value>,
    pub new: Value,
}

pub struct Store {
    pub rv: u64,
    objects: HashMap<Kind, BTreeMap<String, Value>>,
    pub events: Vec<Event>,
    rng: u64,
}

/// The storage key, ordered like etcd's `/registry/{plural}/{ns}/{name}` so pages come in the
/// order a real server returns them.
pub fn key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object["metadata"][field].as_str().unwrap_or("")
}

impl Store {
    pub fn new(seed: u64) -> Store {
        Store {
            // Real clusters never start at 1; a large start catches clients that assume small numbers.
            rv: 1000,
            objects: HashMap::new(),
            events: Vec::new(),
            rng: seed,
        }
    }

    /// Applies one write; `Err` says why the object was not accepted.
    pub fn write(&mut self, kind: Kind, change: Change, object: Value) -> Result<u64, String> {
        let mut object = object;
        if !object.is_object() {
            return Err("an object must be a JSON object".to_string());
        }
        let name = meta_str(&object, "name").to_string();
        if name.is_empty() {
            return Err("metadata.name is required".to_string());
        }
        let namespace = match (kind.namespaced(), meta_str(&object, "namespace")) {
            (true, "") => "default".to_string(),
            (true, ns) => ns.to_string(),
            (false, _) => String::new(),
        };
        let key = key(&namespace, &name);
        let old = self.objects.entry(kind).or_default().get(&key).cloned();
        match (change, &old) {
            (Change::Added, Some(_)) => {
                return Err(format!("{} \"{name}\" already exists", kind.plural()))
            }
            (Change::Modified | Change::Deleted, None) => {
                return Err(format!("{} \"{name}\" not found", kind.plural()))
            }
            _ => {}
        }
        if change == Change::Deleted {
            object = old.clone().unwrap_or(object);
        }
        let uid = match old.as_ref().map(|o| meta_str(o, "uid")) {
            Some(uid) if !uid.is_empty() => uid.to_string(),
            _ => self.next_uid(),
        };
        let created = old
            .as_ref()
            .map(|o| o["metadata"]["creationTimestamp"].clone())
            .filter(|c| c.is_string())
            .unwrap_or_else(|| json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        self.rv += 1;
        if let Some(map) = object.as_object_mut() {
            map.insert("kind".into(), json!(kind.name()));
            map.insert("apiVersion".into(), json!("v1"));
            let metadata = map.entry("metadata").or_insert_with(|| json!({}));
            if let Some(metadata) = metadata.as_object_mut() {
                metadata.insert("resourceVersion".into(), json!(self.rv.to_string()));
                metadata.entry("uid").or_insert_with(|| json!(uid));
                metadata.entry("creationTimestamp").or_insert(created);
                if kind.namespaced() {
                    metadata.insert("namespace".into(), json!(namespace));
                } else {
                    metadata.remove("namespace");
                }
            }
        }
        let objects = self.objects.entry(kind).or_default();
        if change == Change::Deleted {
            objects.remove(&key);
        } else {
            objects.insert(key, object.clone());
        }
        self.events.push(Event {
            rv: self.rv,
            kind,
            change,
            old,
            new: object,
        });
        Ok(self.rv)
    }

    /// The objects of one kind as they were at `rv`, by storage key. The whole history is kept, so
    /// any version up to the current one can be rebuilt; compaction is the caller's check.
    pub fn state_at(&self, kind: Kind, rv: u64) -> BTreeMap<String, Value> {
        if rv >= self.rv {
            return self.objects.get(&kind).cloned().unwrap_or_default();
        }
        let mut state = BTreeMap::new();
        for event in self.events.iter().filter(|e| e.kind == kind && e.rv <= rv) {
            let key = key(
                meta_str(&event.new, "namespace"),
                meta_str(&event.new, "name"),
            );
            if event.change == Change::Deleted {
                state.remove(&key);
            } else {
                state.insert(key, event.new.clone());
            }
        }
        state
    }

    pub fn get(&self, kind: Kind, key: &str) -> Option<&Value> {
        self.objects.get(&kind).and_then(|objects| objects.get(key))
    }

    /// Events of `kind` newer than `rv`, in order.
    pub fn events_after(&self, kind: Kind, rv: u64) -> Vec<Event> {
        let start = self.events.partition_point(|e| e.rv <= rv);
        self.events[start..]
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect()
    }

    /// A random-looking but seeded v4 UUID.
    fn next_uid(&mut self) -> String {
        let hi = splitmix(&mut self.rng);
        let lo = splitmix(&mut self.rng);
        let hex = format!("{hi:016x}{lo:016x}");
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        )
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
