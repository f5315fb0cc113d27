//! Checking that text is exactly one JSON value without building a tree, noticing duplicate keys.
//!
//! This is what lets a decoded message ship as the message's own bytes: the text is walked once by
//! serde_json's parser and nothing is allocated but a small stack of key hashes. Duplicate keys have to be
//! found because Elasticsearch rejects a document that has them, while Filebeat (Go's decoder) keeps the
//! last value; text with one is handed to the tree path, which behaves like Go.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::process::log_context::{classify, Parent, Probe, Slot};

pub(super) enum Validation {
    Valid,
    /// Some object names a key twice, or two of its keys hash alike (harmless: the tree path is always
    /// correct, only slower).
    DuplicateKey,
    Invalid(serde_json::Error),
}

/// Objects with more keys than this check membership in a hash set; below it a linear scan over a few
/// cache lines is faster than hashing again.
const LINEAR_SCAN_KEYS: usize = 32;

#[cfg(test)]
pub(super) fn validate(text: &str) -> Validation {
    validate_probing(text, &mut Probe::default())
}

/// [`validate`], noting in `probe` the level and trace IDs the text holds on the way (see
/// `log_context`): the walk looks at every key anyway. `probe` is meaningful only when `Valid`.
pub(super) fn validate_probing(text: &str, probe: &mut Probe) -> Validation {
    thread_local! {
        // The key stack, kept between lines: allocating it for each line cost more than the duplicate
        // check itself.
        static KEYS: Cell<Vec<u64>> = const { Cell::new(Vec::new()) };
    }
    let mut keys = KEYS.take();
    keys.clear();
    let mut state = State {
        keys,
        duplicate: false,
        probe,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let result = Walk(&mut state, Slot::Object(Parent::Root))
        .deserialize(&mut de)
        .and_then(|()| de.end());
    let duplicate = state.duplicate;
    // A line nested deep enough to grow it past this gives it back, so a thread keeps no more.
    if state.keys.capacity() <= 256 {
        KEYS.set(state.keys);
    }
    match result {
        Ok(()) => Validation::Valid,
        Err(_) if duplicate => Validation::DuplicateKey,
        Err(err) => Validation::Invalid(err),
    }
}

struct State<'p> {
    /// Key hashes of the objects being walked, innermost last; each object truncates back to where it
    /// started, so one buffer serves every level.
    keys: Vec<u64>,
    duplicate: bool,
    probe: &'p mut Probe,
}

/// Walks one value. It asks for every value by `deserialize_any` rather than skipping it (as `IgnoredAny`
/// and `RawValue` do, some 40% faster) because skipping is laxer: it passes `"\ud800"` and `1e400`,
/// which a tree parse rejects. The encoder re-parses raw JSON as a tree when fields collide, and
/// Elasticsearch parses it too, so whatever passes here must parse there.
/// The slot says what the value is to `log_context`; the root is `Object(Root)`.
struct Walk<'s, 'p>(&'s mut State<'p>, Slot);

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        if self.1 != Slot::Ignored {
            self.0.probe.number(self.1, n);
        }
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        if self.1 != Slot::Ignored {
            self.0.probe.string(self.1, s);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Walk(&mut *self.0, Slot::Ignored))?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let parent = match self.1 {
            Slot::Object(parent) => Some(parent),
            _ => None,
        };
        let start = state.keys.len();
        let mut many: Option<HashSet<u64>> = None;
        while let Some((hash, slot)) = map.next_key_seed(KeyHash(parent))? {
            let seen = match &mut many {
                Some(set) => !set.insert(hash),
                None => {
                    let keys = state.keys.get(start..).unwrap_or_default();
                    if keys.contains(&hash) {
                        true
                    } else if keys.len() >= LINEAR_SCAN_KEYS {
                        let mut set: HashSet<u64> = keys.iter().copied().collect();
                        set.insert(hash);
                        many = Some(set);
                        false
                    } else {
                        state.keys.push(hash);
                        false
                    }
                }
            };
            if seen {
                // Stopping here saves walking the rest; the tree path parses it all again anyway.
                state.duplicate = true;
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(Walk(&mut *state, slot))?;
        }
        state.keys.truncate(start);
        Ok(())
    }
}

/// A map key, reduced to its hash, and what its value holds for `log_context` when the object is one
/// it looks into. Keys arrive unescaped, so `"a"` and `"\u0061"` hash alike.
struct KeyHash(Option<Parent>);

impl<'de> DeserializeSeed<'de> for KeyHash {
    type Value = (u64, Slot);

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<(u64, Slot), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyHash {
    type Value = (u64, Slot);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<(u64, Slot), E> {
        let slot = self.0.map_or(Slot::Ignored, |parent| classify(parent, key));
        Ok((key_hash(key), slot))
    }
}

/// FxHash's word-at-a-time mixing, seeded with the length. Weak against crafted collisions, which is
/// fine: a collision only sends the text down the tree path.
fn key_hash(key: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let (words, rest) = key.as_bytes().as_chunks::<8>();
    let mut h = words
        .iter()
        .fold(key.len() as u64, |h, w| mix(h, u64::from_le_bytes(*w)));
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        for (dst, src) in last.iter_mut().zip(rest) {
            *dst = *src;
        }
        h = mix(h, u64::from_le_bytes(last));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(text: &str) -> &'static str {
        match validate(text) {
            Validation::Valid => "valid",
            Validation::DuplicateKey => "duplicate",
            Validation::Invalid(_) => "invalid",
        }
    }

    #[test]
    fn accepts_exactly_one_value() {
        assert_eq!(
            outcome(r#"{"a":[1,-2.5e3,true,null,"x\n"],"b":{}}"#),
            "valid"
        );
        assert_eq!(outcome(" [] "), "valid");
        assert_eq!(outcome("{} {}"), "invalid");
        assert_eq!(outcome(r#"{"a":"#), "invalid");
        assert_eq!(outcome(r#"{"a":1,}"#), "invalid");
        assert_eq!(outcome(""), "invalid");
    }

    #[test]
    fn is_as_strict_as_the_tree_parser() {
        for text in [
            r#"["\ud800"]"#,
            "[\"\u{1}\"]",
            "[1e400]",
            r#"["\x"]"#,
            "[01]",
        ] {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
            assert_eq!(outcome(text), "invalid", "{text}");
        }
    }

    #[test]
    fn finds_duplicate_keys_at_any_depth_and_through_escapes() {
        assert_eq!(outcome(r#"{"a":1,"a":2}"#), "duplicate");
        assert_eq!(outcome(r#"{"a":1,"\u0061":2}"#), "duplicate");
        assert_eq!(outcome(r#"[{"x":{"b":1,"b":2}}]"#), "duplicate");
        // The same key in sibling or nested objects is not a duplicate.
        assert_eq!(outcome(r#"{"a":{"a":{"a":1}},"b":{"a":2}}"#), "valid");
        assert_eq!(outcome(r#"[{"a":1},{"a":1}]"#), "valid");
    }

    #[test]
    fn large_objects_switch_to_a_set() {
        let keys: Vec<String> = (0..100)
            .map(|i| format!("\"k{i}\":{{\"k{i}\":1}}"))
            .collect();
        let object = format!("{{{}}}", keys.join(","));
        assert_eq!(outcome(&object), "valid");
        let duplicated = format!("{{{},\"k7\":0}}", keys.join(","));
        assert_eq!(outcome(&duplicated), "duplicate");
    }

    #[test]
    fn the_walk_notes_levels_and_ids_as_the_tree_reading_does() {
        let text = r#"{"msg":"x","lvl":"ERROR","nested":{"level":"info"},"list":[{"trace_id":"no"}],
            "trace":{"id":"t-1"},"span.id":"s-1","dd":{"span_id":7},"log":{"level":"debug"}}"#;
        let mut walked = Probe::default();
        assert!(matches!(
            validate_probing(text, &mut walked),
            Validation::Valid
        ));
        let mut tree = Probe::default();
        tree.tree(&serde_json::from_str(text).unwrap());
        assert_eq!(walked, tree);
        assert_eq!(walked.level.as_ref().map(|l| l.as_str()), Some("debug"));
        assert_eq!(walked.ids.trace_id.as_deref(), Some("t-1"));
        assert_eq!(walked.ids.span_id.as_deref(), Some("s-1"));
    }

    #[test]
    fn short_keys_do_not_collide() {
        let keys = ["", "a", "a\0", "ab", "abcdefgh", "abcdefghi", "b", "ba"];
        let mut hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
    }
}
