//! The bulk-response parser: any body, any item count expected. An error or one outcome per item sent,
//! with reasons capped, never a panic or an allocation out of proportion to the body.
//!
//! Input: `<expected items, one byte><response body>`.

#![no_main]

use std::fmt;

use libfuzzer_sys::fuzz_target;
use loglynk::output::elasticsearch::response::{
    parse_bulk_response, ItemOutcome, MAX_REASON_BYTES,
};
use serde::de::{MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let [expected, body @ ..] = data else {
        return;
    };
    let expected = usize::from(*expected);
    // A count no body could match is refused (and nothing is sized by it).
    assert!(parse_bulk_response(body, usize::MAX).is_err());
    let Ok(outcomes) = parse_bulk_response(body, expected) else {
        return;
    };
    assert_eq!(outcomes.len(), expected);
    // What the parser accepted, serde's plain typed reading accepts too, with an items array that long.
    // (Members neither reads are skipped unchecked by both.)
    let reference: Response = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("accepted a body serde rejects ({e})"));
    let items = reference.items;
    assert_eq!(items.len(), expected);
    // An ellipsis (3 bytes) marks a cut reason.
    let capped = |s: &str| s.len() <= MAX_REASON_BYTES + '…'.len_utf8();
    for (outcome, item) in outcomes.iter().zip(items) {
        match outcome {
            ItemOutcome::Acked => {}
            ItemOutcome::Retry { status, reason } => {
                assert!(*status == 429 || (500..=599).contains(status));
                assert!(capped(reason));
                check_status(item, *status);
            }
            ItemOutcome::DeadLetter {
                status,
                error_type,
                reason,
            } => {
                assert!(!(200..=299).contains(status));
                assert!(capped(reason) && capped(error_type));
                check_status(item, *status);
            }
        }
    }
});

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
}

/// The parser's shape for an item's body, so serde reads it as leniently (an array `[status, error]` is
/// a struct to serde).
#[derive(Deserialize)]
struct ItemBody {
    status: u16,
    #[serde(rename = "error")]
    _error: Option<Box<RawValue>>,
}

/// The item's first member (`{"<action>":{"status":…}}`), the one the parser judges, has that status.
fn check_status(item: &RawValue, status: u16) {
    let Entries(entries) = serde_json::from_str(item.get())
        .unwrap_or_else(|e| panic!("an item the parser judged does not read ({e}): {item}"));
    let (_, body) = entries
        .first()
        .expect("an item the parser judged has an action");
    let body: ItemBody = serde_json::from_str(body.get()).expect("its body has a status");
    assert_eq!(body.status, status);
}

/// An object's members in order, duplicates kept.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Members)
    }
}
