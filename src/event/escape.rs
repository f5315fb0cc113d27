//! JSON strings as the encoder writes them, byte for byte what serde_json writes.
//!
//! Escaping the message was the largest single cost of `run` (18 % of its CPU at `compression_level:
//! 0`, in serde_json's byte-at-a-time `format_escaped_str_contents`): most messages are JSON objects
//! themselves, so every one of their quotes is escaped. `json-escape-simd` (sonic-rs's kernel) scans
//! 16 or 32 bytes at a time and writes the same escapes as serde_json (short forms for `\b \t \n \f
//! \r`, lowercase `\u00xx` for the other control characters, nothing else escaped), but stops at
//! every quote; on x86_64 `dense.rs` escapes a block of sixteen bytes in one step however many quotes
//! it holds. A 363-byte JSON message from the bench's mix took 63 ns instead of 205, a 204-byte klog
//! line 29 ns instead of 21; in `run` at level 0 (perf), escaping went from 10 % of the CPU to 5 %. The
//! property tests below hold both kernels to serde_json's output.

#[cfg(target_arch = "x86_64")]
mod dense;

/// Strings longer than this are escaped in pieces, so the output buffer reserves room for a piece's
/// escapes rather than the whole string's (json-escape-simd reserves six times its input).
const PIECE: usize = 64 * 1024;

/// Appends `s` as a JSON string, quotes included.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("ssse3") {
        out.push(b'"');
        for piece in pieces(s) {
            // SAFETY: the CPU has SSSE3, just checked (std caches the answer).
            unsafe { dense::contents(out, piece) };
        }
        out.push(b'"');
        return;
    }
    portable(out, s);
}

/// json-escape-simd's kernel, where the dense one cannot run.
fn portable(out: &mut Vec<u8>, s: &str) {
    if s.len() <= PIECE {
        json_escape_simd::escape_into(s, out);
        return;
    }
    out.push(b'"');
    for piece in pieces(s) {
        // The kernel always writes quotes, so they are taken off again (one move of at most `PIECE`
        // bytes, only for strings longer than that).
        let open = out.len();
        json_escape_simd::escape_into(piece, out);
        out.pop();
        out.remove(open);
    }
    out.push(b'"');
}

/// `s` cut into pieces of at most `PIECE` bytes, between characters.
fn pieces(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = rest.len().min(PIECE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

/// Appends `s`, a name of the agent's own that needs no escaping (a field name, a stream, a known
/// level, a flag), as a JSON string: copied, as the SIMD kernel's set-up costs more than such a string.
pub(super) fn plain(out: &mut Vec<u8>, s: &'static str) {
    debug_assert!(
        !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'),
        "{s:?} needs escaping"
    );
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `s` as `string` writes it, checked against the portable kernel's output, so that both are
    /// held to serde_json's on any machine.
    fn escaped(s: &str) -> Vec<u8> {
        let mut out = b"prefix".to_vec();
        string(&mut out, s);
        let mut portable_out = b"prefix".to_vec();
        portable(&mut portable_out, s);
        assert_eq!(out, portable_out, "the two kernels differ on {s:?}");
        out
    }

    fn serde_json(s: &str) -> Vec<u8> {
        let mut out = b"prefix".to_vec();
        serde_json::to_writer(&mut out, s).unwrap();
        out
    }

    #[test]
    fn every_byte_that_needs_escaping_is_escaped_as_serde_json_does() {
        let all: String = (0u8..0x80).map(char::from).collect();
        assert_eq!(escaped(&all), serde_json(&all));
        assert_eq!(escaped(""), b"prefix\"\"");
        assert_eq!(
            escaped("a\"b\\c\u{1}\u{7f}é"),
            serde_json("a\"b\\c\u{1}\u{7f}é")
        );
    }

    #[test]
    fn every_arrangement_of_escapes_in_a_block_and_in_a_tail() {
        // Each bit of `mask` puts a quote or a backslash at its place in sixteen bytes; the lengths
        // around sixteen and thirty-two cover a block followed by a tail, and a tail alone.
        for mask in 0u32..1 << 16 {
            let block: String = (0..16)
                .map(|i| match (mask >> i & 1, i % 3) {
                    (0, _) => 'a',
                    (_, 0) => '\\',
                    _ => '"',
                })
                .collect();
            for len in [mask as usize % 16, 16, 17 + mask as usize % 15] {
                let s: String = block.chars().cycle().take(len).collect();
                assert_eq!(escaped(&s), serde_json(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn a_control_character_anywhere_among_quotes() {
        let base = "\"k\":\"v\\\" é € \"more\":\"text\",\"n\":12345}";
        for at in 0..=base.len() {
            if !base.is_char_boundary(at) {
                continue;
            }
            for control in ['\n', '\t', '\u{0}', '\u{1f}', '\u{8}'] {
                let s = format!("{}{control}{}", &base[..at], &base[at..]);
                assert_eq!(escaped(&s), serde_json(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn long_runs_of_plain_text_with_an_escape_anywhere() {
        // Plain text is copied 64 bytes at a time; an escape at each place ends such a run early
        // or late, or lands in the blocks and tail after it.
        for len in [200, 400, 700] {
            for at in 0..=len {
                let s: String = (0..len)
                    .map(|i| {
                        if i == at {
                            '"'
                        } else {
                            char::from(b'a' + (i % 26) as u8)
                        }
                    })
                    .collect();
                assert_eq!(escaped(&s), serde_json(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn a_string_longer_than_a_piece_is_one_string_cut_only_between_characters() {
        // 'é' is two bytes, so some piece boundary falls inside one unless the cut moves back.
        let long: String = "ab\"é\n\u{1}€x\\".repeat(3 * PIECE / 10 + 7);
        assert!(long.len() > 2 * PIECE);
        assert_eq!(escaped(&long), serde_json(&long));
    }

    #[test]
    fn a_long_string_does_not_reserve_six_times_its_length() {
        let long = "x".repeat(16 * PIECE);
        let mut out = Vec::new();
        string(&mut out, &long);
        assert_eq!(out.len(), long.len() + 2);
        assert!(out.capacity() < 3 * long.len(), "{}", out.capacity());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in "(?s).{0,300}") {
            prop_assert_eq!(escaped(&s), serde_json(&s));
        }

        #[test]
        fn strings_dense_with_escapes_and_wide_characters(
            s in proptest::collection::vec(
                prop_oneof![Just('"'), Just('\\'), Just('\n'), Just('\u{0}'), Just('\u{1f}'),
                    Just('é'), Just('€'), Just('😀'), Just('a'), Just(' ')],
                0..200,
            ).prop_map(|c| c.into_iter().collect::<String>())
        ) {
            prop_assert_eq!(escaped(&s), serde_json(&s));
        }
    }

    proptest! {
        // Each case is a few hundred KiB; a few cover the cut's positions within a character.
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn long_strings_cut_anywhere(head in "(?s).{0,40}", n in 0usize..3) {
            let s = format!("{head}{}", "é\"x".repeat(PIECE / 4 + n));
            prop_assert_eq!(escaped(&s), serde_json(&s));
        }
    }
}
