//! Checks the fuzz targets share. Each one panics, which is what libFuzzer reports, when what it checks
//! does not hold.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// `bytes` as one JSON document (what Elasticsearch would be sent), which must parse and must not name a
/// key twice in any object: Elasticsearch rejects such a document.
pub fn json_document(bytes: &[u8]) -> Value {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("the document is not UTF-8 ({e}): {bytes:?}"));
    // No depth limit here: the document is as deep as the JSON it decoded, and only its validity is in
    // question. Inputs are small, so the stack holds.
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de)
        .and_then(|v: Value| de.end().map(|()| v))
        .unwrap_or_else(|e| panic!("the document is not JSON ({e}): {text}"));
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    if let Err(e) = Unique.deserialize(&mut de) {
        panic!("the document has a duplicate key ({e}): {text}");
    }
    value
}

/// Walks a JSON value, failing on a key written twice in one object.
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique {
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
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Unique)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("{key:?} twice")));
            }
            map.next_value_seed(Unique)?;
        }
        Ok(())
    }
}

/// A line's time: one `@timestamp` holds, which reads back as written; or the text of one it cannot
/// hold, which is valid RFC 3339 outside 1970 to 2262.
pub fn line_time_is_sound(time: &loglynk::parse::LineTime) {
    use loglynk::event::{TimeError, Timestamp};
    match time {
        loglynk::parse::LineTime::At(ts) => {
            assert!(ts.as_nanos() >= 0, "{} ns is before 1970", ts.as_nanos());
            timestamp_round_trips(*ts);
        }
        loglynk::parse::LineTime::OutOfRange(text) => assert_eq!(
            Timestamp::parse_shippable(text),
            Err(TimeError::OutOfRange),
            "{text:?}"
        ),
    }
}

/// `ts` written as the encoder writes it must read back as the same instant.
pub fn timestamp_round_trips(ts: loglynk::event::Timestamp) {
    let mut out = Vec::new();
    ts.write_rfc3339(&mut out);
    let text = std::str::from_utf8(&out).expect("RFC 3339 is ASCII");
    assert_eq!(
        loglynk::event::Timestamp::parse_rfc3339(text),
        Some(ts),
        "{text} does not read back as {} ns",
        ts.as_nanos()
    );
}
