//! Strings inside the scanned text: finding their end eight bytes at a time, checking escapes and
//! surrogate pairs as serde_json does, and unescaping only what `log_context` or a key's hash needs.

use super::{Contents, Scan, Scanner, Stop};

impl Scanner<'_, '_> {
    /// A string, `at` on its opening quote. With `decode`, a string with escapes is unescaped into
    /// `unescaped`; without, its escapes are only checked.
    // Inlined: a call per string cost more than a short string's scan.
    #[inline(always)]
    pub(super) fn string(&mut self, decode: bool) -> Scan<Contents> {
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let mut run = start;
        let mut escaped = false;
        self.at = start;
        loop {
            self.at += plain_len(&bytes[self.at..]);
            match bytes.get(self.at) {
                Some(b'"') => {
                    let end = self.at;
                    self.at += 1;
                    return Ok(if !escaped {
                        Contents::Raw(start, end)
                    } else {
                        if decode {
                            self.unescaped.push_str(&self.text[run..end]);
                        }
                        Contents::Unescaped
                    });
                }
                Some(b'\\') => {
                    if decode {
                        if !escaped {
                            self.unescaped.clear();
                        }
                        self.unescaped.push_str(&self.text[run..self.at]);
                    }
                    escaped = true;
                    let c = self.escape()?;
                    if decode {
                        self.unescaped.push(c);
                    }
                    run = self.at;
                }
                // A control character, or the end of the text.
                _ => return Err(Stop::Invalid),
            }
        }
    }

    /// One escape, `at` on its backslash.
    fn escape(&mut self) -> Scan<char> {
        let bytes = self.text.as_bytes();
        let Some(&c) = bytes.get(self.at + 1) else {
            return Err(Stop::Invalid);
        };
        self.at += 2;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = match high {
                    0xD800..=0xDBFF => {
                        if !bytes[self.at..].starts_with(b"\\u") {
                            return Err(Stop::Invalid);
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Stop::Invalid);
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Stop::Invalid),
                    _ => high,
                };
                char::from_u32(code).ok_or(Stop::Invalid)?
            }
            _ => return Err(Stop::Invalid),
        })
    }

    fn hex4(&mut self) -> Scan<u32> {
        let digits = self
            .text
            .as_bytes()
            .get(self.at..self.at + 4)
            .ok_or(Stop::Invalid)?;
        let mut n = 0;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(Stop::Invalid)?;
            n = n * 16 + v;
        }
        self.at += 4;
        Ok(n)
    }
}

/// How many bytes at the start of `bytes` need no attention inside a string: up to the first `"`,
/// `\` or control character. Sixteen bytes at a time with SSE2 (part of x86_64 itself, so no
/// feature test): under callgrind the eight-byte loop was 5 % of the `pipeline` bench's traces mix,
/// most strings in log JSON being shorter than sixteen bytes. Eight at a time elsewhere.
#[inline(always)]
pub(super) fn plain_len(bytes: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let (blocks, _) = bytes.as_chunks::<16>();
        for (i, block) in blocks.iter().enumerate() {
            let flagged = sse2::flagged(block);
            if flagged != 0 {
                return i * 16 + flagged.trailing_zeros() as usize;
            }
        }
        let done = blocks.len() * 16;
        done + swar_plain_len(&bytes[done..])
    }
    #[cfg(not(target_arch = "x86_64"))]
    swar_plain_len(bytes)
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// A bit for each byte of `block` that is `"`, `\` or below 0x20, lowest byte lowest.
    #[inline(always)]
    pub(super) fn flagged(block: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the load is unaligned from a reference to
        // sixteen bytes.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned `v <= 0x1f` as `max(v, 0x1f) == 0x1f`: SSE2 has no unsigned compare.
            let low = _mm_set1_epi8(0x1f);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        }
    }
}

/// Eight bytes at a time; the lowest flagged byte of a word is exact (borrows only run upwards from a
/// true match).
#[inline(always)]
fn swar_plain_len(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let (words, _) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        let w = u64::from_le_bytes(*word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let flagged = (w.wrapping_sub(ONES * 0x20) & !w)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash);
        let flagged = flagged & HIGHS;
        if flagged != 0 {
            return i * 8 + flagged.trailing_zeros() as usize / 8;
        }
    }
    let done = words.len() * 8;
    done + bytes[done..]
        .iter()
        .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
        .count()
}
