//! Filebeat's decode_json_fields: JSON written as a log line becomes structured fields.
//!
//! Two deliberate departures from Filebeat:
//! - Only text that starts (after whitespace) with `{`, or `[` with process_array, is decoded. Filebeat
//!   also decodes scalars, so a line reading `42` would put a number at `json` and break the index
//!   mapping of every later object there, and with add_error_key every plain-text line would be flagged
//!   as a JSON error. A plain line is not an error; it simply is not JSON.
//! - A top-level array is left alone without process_array (Filebeat gates only its recursion on it): an
//!   array at `json` conflicts with the object mapping the common case builds.
//!
//! The common case (`message` into a target path, max_depth 1) builds no tree: the text is validated and
//! shipped as the message's own bytes, numbers exactly as written (as Go's UseNumber keeps them). The
//! tree path uses serde_json's `Value`, where an integer beyond the i64/u64 range becomes an f64; such
//! numbers lose precision there, as they would in Elasticsearch's numeric fields anyway.

mod merge;
mod nested;
mod validate;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use crate::config::DecodeJsonFields;
use crate::event::{field, Event, Field, FieldValue, JsonHint};

use super::log_context::Probe;
use validate::{validate_probing, Validation};

/// The processor, built once from its configuration.
#[derive(Debug, Clone)]
pub(super) struct DecodeJson {
    /// `false`: nothing is decoded, unless a pod's hint turns it on for its containers.
    enabled: bool,
    /// Shared, so a copy with a pod's hints applied costs no allocation.
    fields: Arc<[Box<str>]>,
    /// `None` merges into the document root (target `""`).
    target: Option<Arc<str>>,
    overwrite_keys: bool,
    max_depth: usize,
    add_error_key: bool,
    process_array: bool,
}

/// What one field's text turned out to be.
enum Decoded<'a> {
    NotJson,
    /// Validated JSON, shipped as this slice of the field's text.
    Raw(&'a str),
    Tree(Value),
}

impl DecodeJson {
    pub(super) fn new(config: &DecodeJsonFields) -> DecodeJson {
        DecodeJson {
            enabled: config.enabled,
            fields: config.fields.iter().map(|f| f.as_str().into()).collect(),
            target: (!config.target.is_empty()).then(|| config.target.as_str().into()),
            overwrite_keys: config.overwrite_keys,
            // Validation rejects 0; should one get through, decoding the field itself is the least surprise.
            max_depth: config.max_depth.max(1),
            add_error_key: config.add_error_key,
            process_array: config.process_array,
        }
    }

    /// Decodes each configured field; returns how many held text that looked like JSON but was not
    /// decodable. Those are counted whether or not add_error_key marks the event, so a metric can show them.
    ///
    /// A container's `co.elastic.logs/json.*` or `processors.decode_json_fields.*` hints replace the
    /// configured values for its events.
    pub(super) fn run(&self, event: &mut Event) -> u64 {
        let hinted = match event
            .origin
            .hints()
            .map(|h| &h.json)
            .filter(|j| !j.is_empty())
        {
            Some(hint) => self.hinted(hint),
            // The common case takes no reference on the origin (two atomic operations a line).
            None => return self.run_configured(event),
        };
        hinted.run_configured(event)
    }

    fn hinted(&self, hint: &JsonHint) -> DecodeJson {
        DecodeJson {
            enabled: hint.enabled.unwrap_or(self.enabled),
            fields: Arc::clone(&self.fields),
            target: match &hint.target {
                Some(target) => (!target.is_empty()).then(|| Arc::clone(target)),
                None => self.target.clone(),
            },
            overwrite_keys: hint.overwrite_keys.unwrap_or(self.overwrite_keys),
            max_depth: self.max_depth,
            add_error_key: hint.add_error_key.unwrap_or(self.add_error_key),
            process_array: self.process_array,
        }
    }

    fn run_configured(&self, event: &mut Event) -> u64 {
        if !self.enabled {
            return 0;
        }
        let mut errors = 0;
        for name in self.fields.iter() {
            if let Err(message) = self.decode_field(event, name) {
                errors += 1;
                if self.add_error_key {
                    event.set_error("json", message);
                }
            }
        }
        errors
    }

    fn decode_field(&self, event: &mut Event, name: &str) -> Result<(), String> {
        let value = if name == field::MESSAGE {
            let mut probe = Probe::of(&event.message);
            let tree = match self.decode(event.message.as_str(), Some(&mut probe))? {
                Decoded::NotJson => None,
                Decoded::Tree(value) => {
                    probe.tree(&value);
                    Some(value)
                }
                Decoded::Raw(text) => {
                    if let Some(path) = &self.target {
                        let raw = event.message.slice_ref(text);
                        event.fields.push(Field {
                            path: path.clone(),
                            value: FieldValue::RawJson(raw),
                        });
                    }
                    None
                }
            };
            probe.apply(event);
            match tree {
                Some(value) => value,
                None => return Ok(()),
            }
        } else {
            match event.get_str(name).map(|text| self.decode(text, None)) {
                None | Some(Ok(Decoded::NotJson | Decoded::Raw(_))) => return Ok(()),
                Some(Ok(Decoded::Tree(value))) => value,
                Some(Err(message)) => return Err(message),
            }
        };
        match &self.target {
            Some(path) => {
                event.fields.push(Field {
                    path: path.clone(),
                    value: FieldValue::Json(value),
                });
                Ok(())
            }
            None => merge::into_root(event, value, self.overwrite_keys).map_err(String::from),
        }
    }

    /// `probe`: the text is the message, whose bytes a raw field can share, and whose level and trace
    /// IDs the validating walk notes there (a tree is read by the caller).
    fn decode<'a>(&self, text: &'a str, probe: Option<&mut Probe>) -> Result<Decoded<'a>, String> {
        let text = trim_json_space(text);
        if !looks_like_json(text, self.process_array) {
            return Ok(Decoded::NotJson);
        }
        if let (Some(probe), 1, Some(_)) = (probe, self.max_depth, &self.target) {
            match validate_probing(text, probe) {
                Validation::Valid => return Ok(Decoded::Raw(text)),
                Validation::Invalid(err) => return Err(parse_error(&err)),
                // serde_json's `Value` keeps the last of duplicate keys, as Go's decoder does; the
                // tree is read again from scratch.
                Validation::DuplicateKey => probe.reset(),
            }
        }
        let mut value: Value = serde_json::from_str(text).map_err(|err| parse_error(&err))?;
        nested::expand(&mut value, self.max_depth - 1, self.process_array);
        Ok(Decoded::Tree(value))
    }
}

/// Filebeat's wording, so alerts and saved searches on `error.message` keep matching.
fn parse_error(err: &serde_json::Error) -> String {
    format!("parsing input as JSON: {err}")
}

/// JSON's own whitespace only: text that starts with some other space is not JSON to any decoder.
fn trim_json_space(text: &str) -> &str {
    // By bytes: `trim_matches` with a set of chars decodes each one, and showed in `run`'s profile.
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |last| last + 1);
    // Only ASCII bytes are cut, so both ends fall between characters.
    text.get(start..end).unwrap_or_default()
}

/// `text` is already trimmed.
fn looks_like_json(text: &str, process_array: bool) -> bool {
    match text.as_bytes().first() {
        Some(b'{') => true,
        Some(b'[') => process_array,
        _ => false,
    }
}
