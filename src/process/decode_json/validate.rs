//! Checking that text is exactly one JSON value without building a tree, noticing duplicate keys.
//!
//! This is what lets a decoded message ship as the message's own bytes: the text is scanned once and
//! nothing is allocated but a small stack of key hashes. Duplicate keys have to be found because
//! Elasticsearch rejects a document that has them, while Filebeat (Go's decoder) keeps the last value;
//! text with one is handed to the tree path, which behaves like Go.
//!
//! The scanner is written here rather than driven through serde_json's `Deserializer` because the
//! visitor calls cost more than the scanning: under callgrind the serde walk was 39 % of the
//! `pipeline` bench's instructions. It accepts exactly what serde_json's `Value` parser accepts (the
//! encoder re-parses raw JSON as a tree when fields collide, and Elasticsearch parses it too):
//! escapes and surrogate pairs are checked, a number whose magnitude overflows an `f64` is refused,
//! and nesting stops at serde_json's recursion limit. The property tests in `validate/tests.rs` hold
//! it to that. The error message of invalid text is serde_json's own, from a second parse that only
//! invalid text pays for.

use std::cell::Cell;
use std::collections::HashSet;

use serde_json::Value;

use crate::process::log_context::{classify, Parent, Probe, Slot};

pub(super) enum Validation {
    Valid,
    /// Some object names a key twice, or two of its keys hash alike, or the scanner refused what
    /// serde_json accepts: the tree path decides (always correct, only slower).
    DuplicateKey,
    Invalid(serde_json::Error),
}

/// Objects with more keys than this check membership in a hash set; below it a linear scan over a few
/// cache lines is faster than hashing again.
const LINEAR_SCAN_KEYS: usize = 32;

/// serde_json's recursion limit: text nested this deep is an error to it.
const MAX_DEPTH: usize = 128;

mod string;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(super) fn validate(text: &str) -> Validation {
    validate_probing(text, &mut Probe::default())
}

/// [`validate`], noting in `probe` the level and trace IDs the text holds on the way (see
/// `log_context`): the scan looks at every key anyway. `probe` is meaningful only when `Valid`.
pub(super) fn validate_probing(text: &str, probe: &mut Probe) -> Validation {
    thread_local! {
        // The key stack and unescaping buffer, kept between lines: allocating them for each line cost
        // more than the duplicate check itself.
        static SCRATCH: Cell<(Vec<u64>, String)> = const { Cell::new((Vec::new(), String::new())) };
    }
    let (keys, unescaped) = SCRATCH.take();
    let mut scan = Scanner {
        text,
        at: 0,
        depth: MAX_DEPTH,
        keys,
        unescaped,
        probe,
    };
    let result = scan.document();
    let (mut keys, mut unescaped) = (scan.keys, scan.unescaped);
    // A line nested deep enough, or with a long enough escaped key, to grow them past this gives them
    // back, so a thread keeps no more.
    if keys.capacity() <= 256 && unescaped.capacity() <= 4096 {
        keys.clear();
        unescaped.clear();
        SCRATCH.set((keys, unescaped));
    }
    match result {
        Ok(()) => Validation::Valid,
        Err(Stop::Duplicate) => Validation::DuplicateKey,
        Err(Stop::Invalid) => match serde_json::from_str::<Value>(text) {
            Err(err) => Validation::Invalid(err),
            // The scanner is stricter than serde_json somewhere: the tree path decides, correctly.
            Ok(_) => Validation::DuplicateKey,
        },
    }
}

enum Stop {
    Invalid,
    Duplicate,
}

type Scan<T = ()> = Result<T, Stop>;

/// A string's contents: a slice of the text when it has no escapes, else in `Scanner::unescaped`.
enum Contents {
    Raw(usize, usize),
    Unescaped,
}

struct Scanner<'t, 'p> {
    text: &'t str,
    at: usize,
    /// Levels of nesting left before serde_json's limit.
    depth: usize,
    /// Key hashes of the objects being scanned, innermost last; each object truncates back to where it
    /// started, so one buffer serves every level.
    keys: Vec<u64>,
    unescaped: String,
    probe: &'p mut Probe,
}

impl Scanner<'_, '_> {
    fn document(&mut self) -> Scan {
        self.value(Slot::Object(Parent::Root))?;
        self.skip_space();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.byte() {
            self.at += 1;
        }
    }

    /// Skips `b` (after whitespace), or fails.
    fn expect(&mut self, b: u8) -> Scan {
        self.skip_space();
        if self.byte() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    /// One value; `slot` says what it is to `log_context` (the root is `Object(Root)`).
    fn value(&mut self, slot: Slot) -> Scan {
        self.skip_space();
        match self.byte() {
            Some(b'{') => self.nested(|s| s.object(slot)),
            Some(b'[') => self.nested(Scanner::array),
            Some(b'"') => {
                let wanted = matches!(slot, Slot::Field(..));
                let contents = self.string(wanted)?;
                if wanted {
                    let text = self.text;
                    let value = match contents {
                        Contents::Raw(start, end) => &text[start..end],
                        Contents::Unescaped => self.unescaped.as_str(),
                    };
                    self.probe.string(slot, value);
                }
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number(slot),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            _ => Err(Stop::Invalid),
        }
    }

    fn nested(&mut self, scan: impl FnOnce(&mut Self) -> Scan) -> Scan {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(Stop::Invalid);
        }
        self.at += 1;
        scan(self)?;
        self.depth += 1;
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Scan {
        if self.text.as_bytes()[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }

    fn array(&mut self) -> Scan {
        self.skip_space();
        if self.byte() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.value(Slot::Ignored)?;
            self.skip_space();
            match self.byte() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Stop::Invalid),
            }
        }
    }

    fn object(&mut self, slot: Slot) -> Scan {
        let parent = match slot {
            Slot::Object(parent) => Some(parent),
            _ => None,
        };
        self.skip_space();
        if self.byte() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        let start = self.keys.len();
        let mut many: Option<HashSet<u64>> = None;
        loop {
            self.expect(b'"')?;
            self.at -= 1;
            let contents = self.string(true)?;
            let key = match contents {
                Contents::Raw(start, end) => &self.text[start..end],
                Contents::Unescaped => self.unescaped.as_str(),
            };
            let hash = key_hash(key);
            let inner = parent.map_or(Slot::Ignored, |parent| classify(parent, key));
            let seen = match &mut many {
                Some(set) => !set.insert(hash),
                None => {
                    let keys = self.keys.get(start..).unwrap_or_default();
                    if keys.contains(&hash) {
                        true
                    } else if keys.len() >= LINEAR_SCAN_KEYS {
                        let mut set: HashSet<u64> = keys.iter().copied().collect();
                        set.insert(hash);
                        many = Some(set);
                        false
                    } else {
                        self.keys.push(hash);
                        false
                    }
                }
            };
            if seen {
                // Stopping here saves scanning the rest; the tree path parses it all again anyway.
                return Err(Stop::Duplicate);
            }
            self.expect(b':')?;
            self.skip_space();
            // Most members are strings nothing reads, or numbers: scanned here, a call saved per member.
            match self.byte() {
                Some(b'"') if inner == Slot::Ignored => {
                    self.string(false)?;
                }
                Some(b'-' | b'0'..=b'9') => self.number(inner)?,
                _ => self.value(inner)?,
            }
            self.skip_space();
            match self.byte() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    self.keys.truncate(start);
                    return Ok(());
                }
                _ => return Err(Stop::Invalid),
            }
        }
    }

    /// A number as JSON writes them; a non-negative integer that fits a `u64` is noted in the probe,
    /// as serde_json's `visit_u64` would have it.
    fn number(&mut self, slot: Slot) -> Scan {
        let bytes = self.text.as_bytes();
        let start = self.at;
        let digits = |at: usize| digits(&bytes[at..]);
        let negative = bytes[self.at] == b'-';
        self.at += usize::from(negative);
        match bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.at += digits(self.at),
            _ => return Err(Stop::Invalid),
        }
        let integer_end = self.at;
        let mut exponent = false;
        if bytes.get(self.at) == Some(&b'.') {
            let n = digits(self.at + 1);
            if n == 0 {
                return Err(Stop::Invalid);
            }
            self.at += 1 + n;
        }
        if let Some(b'e' | b'E') = bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = bytes.get(self.at) {
                self.at += 1;
            }
            let n = digits(self.at);
            if n == 0 {
                return Err(Stop::Invalid);
            }
            self.at += n;
            exponent = true;
        }
        let number = &self.text[start..self.at];
        // Only an exponent or some 309 digits can take an f64 past its range; serde_json's own parser
        // says whether it does, with its own rounding.
        if (exponent || number.len() > 300) && serde_json::from_str::<f64>(number).is_err() {
            return Err(Stop::Invalid);
        }
        if matches!(slot, Slot::Field(..)) && !negative && integer_end == self.at {
            if let Ok(n) = number.parse::<u64>() {
                self.probe.number(slot, n);
            }
        }
        Ok(())
    }
}

/// How many ASCII digits `bytes` starts with, eight bytes at a time: a bytewise loop's exit, at each
/// number's own length, was mispredicted about once a number, and numbers are most of a dense
/// payload's values.
#[inline(always)]
fn digits(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let mut n = 0;
    while let Some(word) = bytes.get(n..n + 8) {
        // `x` is 0-9 for a digit. Below 0x80, `x + 0x76` carries into the high bit exactly when
        // `x >= 10`; the mask keeps one byte's sum from carrying into the next.
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ (ONES * 0x30);
        let other = (((x & (ONES * 0x7f)) + ONES * 0x76) | x) & (ONES * 0x80);
        if other != 0 {
            return n + other.trailing_zeros() as usize / 8;
        }
        n += 8;
    }
    n + bytes[n..].iter().take_while(|b| b.is_ascii_digit()).count()
}

/// FxHash's word-at-a-time mixing, seeded with the length. Weak against crafted collisions, which is
/// fine: a collision only sends the text down the tree path.
fn key_hash(key: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ word).wrapping_mul(K);
    let bytes = key.as_bytes();
    let n = bytes.len();
    // Every byte is read, in words that may overlap: with the length, they tell keys apart as the
    // bytes do. The last bytes a byte at a time were half the hash's time, most keys being short.
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            bytes[at..at + 4].try_into().expect("four bytes"),
        ))
    };
    if n <= 8 {
        let last = match n {
            4.. => half(0) | half(n - 4) << 32,
            1.. => {
                u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16
            }
            0 => 0,
        };
        return mix(n as u64, last);
    }
    let (words, rest) = bytes.as_chunks::<8>();
    let h = words
        .iter()
        .fold(n as u64, |h, w| mix(h, u64::from_le_bytes(*w)));
    if rest.is_empty() {
        return h;
    }
    let last = bytes[n - 8..].try_into().expect("eight bytes");
    mix(h, u64::from_le_bytes(last))
}
