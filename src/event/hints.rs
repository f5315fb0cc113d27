//! What a pod's annotations ask of its containers' logs (Filebeat's `co.elastic.logs/*` hints and
//! Elastic Agent's `elastic.co/*`), parsed once per pod by enrichment and carried by each file's
//! [`Origin`](super::Origin), where the processors and the encoder read them.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::RegexSet;

use crate::config::Multiline;

/// One container's hints, the namespace's defaults, the pod's and the container's own merged.
#[derive(Debug, Clone)]
pub struct Hints {
    /// `co.elastic.logs/enabled`: `false` leaves the container's files unread.
    pub enabled: bool,
    /// `include_lines`: only lines matching one of these are shipped (checked before `exclude_lines`).
    pub include_lines: Option<RegexSet>,
    /// `exclude_lines`: lines matching one of these are dropped.
    pub exclude_lines: Option<RegexSet>,
    pub json: JsonHint,
    /// `elastic.co/dataset`, validated as a data stream's dataset.
    pub dataset: Option<Arc<str>>,
    /// `elastic.co/namespace`, validated as a data stream's namespace.
    pub namespace: Option<Arc<str>>,
    /// `elastic.co/preserve_original_event`: the line as read is kept in `event.original`.
    pub preserve_original_event: bool,
    /// `loglynk.io/rate_limit`: how fast the pod may ship (its containers together).
    pub rate_limit: Option<crate::config::RateLimit>,
    /// `co.elastic.logs/multiline.*`: how the container's lines are joined, instead of the
    /// configuration's `multiline`.
    pub multiline: Option<Arc<Multiline>>,
    /// The annotations these were read from, by hint name: what two `Hints` are compared by.
    pub source: BTreeMap<String, String>,
}

/// decode_json_fields for one container: each `None` leaves the configured value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonHint {
    pub enabled: Option<bool>,
    /// `Some("")` merges into the document root (`json.keys_under_root: true`).
    pub target: Option<Arc<str>>,
    pub overwrite_keys: Option<bool>,
    pub add_error_key: Option<bool>,
}

impl JsonHint {
    pub fn is_empty(&self) -> bool {
        *self == JsonHint::default()
    }
}

impl Default for Hints {
    fn default() -> Hints {
        Hints {
            enabled: true,
            include_lines: None,
            exclude_lines: None,
            json: JsonHint::default(),
            dataset: None,
            namespace: None,
            preserve_original_event: false,
            rate_limit: None,
            multiline: None,
            source: BTreeMap::new(),
        }
    }
}

impl PartialEq for Hints {
    fn eq(&self, other: &Hints) -> bool {
        self.source == other.source
    }
}

impl Eq for Hints {}

impl Hints {
    /// Whether a line's message is shipped: it matches `include_lines` (when set) and not
    /// `exclude_lines`, as Filebeat orders them.
    pub fn keeps_line(&self, message: &str) -> bool {
        if let Some(include) = &self.include_lines {
            if !include.is_match(message) {
                return false;
            }
        }
        !self
            .exclude_lines
            .as_ref()
            .is_some_and(|exclude| exclude.is_match(message))
    }

    /// Nothing for the processors to do per line.
    pub fn filters_lines(&self) -> bool {
        self.include_lines.is_some() || self.exclude_lines.is_some()
    }
}
