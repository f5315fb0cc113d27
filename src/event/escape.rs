//! JSON strings, written byte for byte as serde_json writes them, eight bytes at a time.
//!
//! Every document has its message escaped, so this runs over every byte shipped. serde_json's
//! serializer looks at one byte at a time; most of a log line needs no escape, so here eight bytes
//! are tested at once and copied in runs. The output is the same bytes serde_json writes (the tests
//! compare them): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00xx` with lower-case hex for the
//! other control characters; nothing else is escaped.

const ONES: u64 = u64::MAX / 255;
const HIGH: u64 = ONES << 7;
const LOW7: u64 = !HIGH;

/// Appends `s` as a JSON string, quotes included.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mask = needs_escape(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if mask == 0 {
            i += 8;
            continue;
        }
        let at = i + (mask.trailing_zeros() / 8) as usize;
        out.extend_from_slice(&bytes[run..at]);
        escape(out, bytes[at]);
        run = at + 1;
        i = at + 1;
    }
    for (at, &byte) in bytes.iter().enumerate().skip(i) {
        if byte < 0x20 || byte == b'"' || byte == b'\\' {
            out.extend_from_slice(&bytes[run..at]);
            escape(out, byte);
            run = at + 1;
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// The high bit of each byte of `word` that is below 0x20, `"` or `\`, and of no other. Exact per
/// byte (no borrow crosses bytes), so the lowest bit set is the first byte to escape.
fn needs_escape(word: u64) -> u64 {
    // A byte is below 0x20 when neither it nor its low seven bits plus 0x60 reach 0x80.
    let control = !(((word & LOW7) + ONES * 0x60) | word) & HIGH;
    control
        | zero_bytes(word ^ (ONES * u64::from(b'"')))
        | zero_bytes(word ^ (ONES * u64::from(b'\\')))
}

/// The high bit of each zero byte of `word`.
fn zero_bytes(word: u64) -> u64 {
    !(((word & LOW7) + LOW7) | word) & HIGH
}

fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, s);
        String::from_utf8(out).expect("valid UTF-8")
    }

    #[test]
    fn every_ascii_byte_at_every_position_as_serde_json_writes_it() {
        for byte in 0..=0x7fu8 {
            let c = char::from(byte);
            for at in 0..20 {
                let s: String = (0..20).map(|i| if i == at { c } else { 'a' }).collect();
                assert_eq!(
                    ours(&s),
                    serde_json::to_string(&s).unwrap(),
                    "{byte:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn non_ascii_is_left_as_it_is() {
        for s in [
            "grüße \"ü\"\n",
            "日本語のログ\t行",
            "€\u{7f}\u{80}\u{10ffff}",
            "",
        ] {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn the_same_bytes_as_serde_json(s in "(?s).{0,80}", noise in "[\"\\\\\\x00-\\x1f a-z]{0,40}") {
            let mixed = format!("{s}{noise}{s}");
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(ours(&mixed), serde_json::to_string(&mixed).unwrap());
        }
    }
}
