//! Escaping sixteen bytes at a time whatever the number of quotes among them.
//!
//! Most messages are JSON objects, and escaped as a string a JSON object has a quote every few bytes.
//! json-escape-simd's kernel stops at each one: it writes the escape, then loads and stores a whole
//! vector again from the next byte, so such a message costs a vector round per quote. Here a block of
//! sixteen bytes whose only escapes are `"` and `\` (each written as a backslash and itself) is
//! escaped in one go: each half is spread out by a shuffle looked up from its eight-bit mask, with a
//! backslash in every gap. A block holding a control character, which JSON text holds only as
//! whitespace between tokens and plain text rarely at all, takes the byte-at-a-time path.
//!
//! SSSE3 (for the shuffle) is not part of x86_64's baseline, so the caller checks for it (std keeps
//! the answer after the first time).

use std::arch::x86_64::{
    __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8,
    _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128, _mm_shuffle_epi8,
    _mm_storeu_si128,
};

/// For each eight-bit mask of the bytes to escape in eight input bytes: the sixteen shuffle indices
/// that spread them out, 0x80 (a zero byte, later a backslash) before each escaped byte. Indices past
/// the `8 + popcount` bytes kept are never read back: the next store overwrites them.
static SPREAD: [[u8; 16]; 256] = spread_table();

const fn spread_table() -> [[u8; 16]; 256] {
    let mut table = [[0x80u8; 16]; 256];
    let mut mask = 0;
    while mask < 256 {
        let mut out = 0;
        let mut i = 0;
        while i < 8 {
            if mask & (1 << i) != 0 {
                out += 1; // left 0x80: the backslash's place
            }
            table[mask][out] = i as u8;
            out += 1;
            i += 1;
        }
        mask += 1;
    }
    table
}

/// Appends `s` escaped as serde_json escapes it, without quotes.
///
/// # Safety
/// The CPU must support SSSE3.
#[target_feature(enable = "ssse3")]
pub(super) unsafe fn contents(out: &mut Vec<u8>, s: &str) {
    let src = s.as_bytes();
    // At most two bytes out for each byte in, plus one block's stores past the end; a block with a
    // control character reserves its own six bytes a byte.
    out.reserve(2 * src.len() + 32);
    let mut written = out.len();
    let mut at = 0;
    while at + 16 <= src.len() {
        // SAFETY: sixteen bytes from `at` are in `src`.
        let block = unsafe { _mm_loadu_si128(src.as_ptr().add(at).cast::<__m128i>()) };
        let (escapes, controls) = classify(block);
        at += 16;
        if controls != 0 {
            written = bytewise(out, written, &src[at - 16..at], src.len() - at);
            continue;
        }
        // SAFETY: the reservation above holds: `2 * (src.len() - at) + 32` bytes were free from
        // `written` before this block, which writes at most 32 of them while consuming sixteen.
        written = unsafe { spread(out, written, block, escapes) };
        if escapes == 0 {
            // A clean block is likely the start of a run of plain text: copied 64 bytes at a time
            // while it lasts.
            // SAFETY: as for a block, four times over.
            (at, written) = unsafe { copy_clean(out, written, src, at) };
        }
    }
    let tail = &src[at..];
    if !tail.is_empty() {
        // Padded with spaces, which need no escaping: the block writes the tail's bytes, then spaces
        // that count for nothing as `written` stops before them.
        let mut padded = [b' '; 16];
        padded[..tail.len()].copy_from_slice(tail);
        // SAFETY: `padded` is sixteen bytes.
        let block = unsafe { _mm_loadu_si128(padded.as_ptr().cast::<__m128i>()) };
        let (escapes, controls) = classify(block);
        if controls != 0 {
            written = bytewise(out, written, tail, 0);
        } else {
            // SAFETY: `2 * tail.len() + 32` bytes are free from `written` (the invariant above).
            let end = unsafe { spread(out, written, block, escapes) };
            written = end - (16 - tail.len());
        }
    }
    // SAFETY: every byte up to `written` was stored, and escaping UTF-8 text gives UTF-8 text.
    unsafe { out.set_len(written) };
}

/// Copies `src` from `at` to `written` for as long as 64 bytes in a row need no escaping; returns
/// where both stopped.
///
/// # Safety
/// `2 * (src.len() - at) + 32` bytes are free in `out` from `written`.
#[inline]
#[target_feature(enable = "ssse3")]
unsafe fn copy_clean(
    out: &mut Vec<u8>,
    mut written: usize,
    src: &[u8],
    mut at: usize,
) -> (usize, usize) {
    while at + 64 <= src.len() {
        // SAFETY: 64 bytes from `at` are in `src`.
        let blocks: [__m128i; 4] = std::array::from_fn(|i| unsafe {
            _mm_loadu_si128(src.as_ptr().add(at + 16 * i).cast::<__m128i>())
        });
        if blocks.iter().any(|&block| flagged(block) != 0) {
            break;
        }
        // SAFETY: the caller's promise: at least 160 bytes are free from `written`.
        unsafe {
            let dst = out.as_mut_ptr().add(written);
            for (i, &block) in blocks.iter().enumerate() {
                _mm_storeu_si128(dst.add(16 * i).cast::<__m128i>(), block);
            }
        }
        written += 64;
        at += 64;
    }
    (at, written)
}

/// A mask of the block's bytes that need escaping.
#[inline]
#[target_feature(enable = "ssse3")]
fn flagged(block: __m128i) -> u32 {
    let (escapes, controls) = classify(block);
    escapes | controls
}

/// Masks of the block's bytes that are `"` or `\`, and of those below 0x20.
#[inline]
#[target_feature(enable = "ssse3")]
fn classify(block: __m128i) -> (u32, u32) {
    let quote = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'"' as i8));
    let backslash = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\\' as i8));
    // Unsigned `b <= 0x1f` as `max(b, 0x1f) == 0x1f`: there is no unsigned compare.
    let low = _mm_set1_epi8(0x1f);
    let control = _mm_cmpeq_epi8(_mm_max_epu8(block, low), low);
    (
        _mm_movemask_epi8(_mm_or_si128(quote, backslash)) as u32,
        _mm_movemask_epi8(control) as u32,
    )
}

/// Writes the block at `written` with a backslash before each byte `escapes` flags (none of them a
/// control character); returns the new end.
///
/// # Safety
/// `out` has 32 bytes of capacity free from `written`.
#[inline]
#[target_feature(enable = "ssse3")]
unsafe fn spread(out: &mut Vec<u8>, written: usize, block: __m128i, escapes: u32) -> usize {
    // SAFETY: the caller's promise covers both stores, of sixteen bytes each, the second at most
    // sixteen bytes on.
    unsafe {
        let dst = out.as_mut_ptr().add(written);
        if escapes == 0 {
            _mm_storeu_si128(dst.cast::<__m128i>(), block);
            return written + 16;
        }
        let (low, high) = ((escapes & 0xff) as usize, (escapes >> 8) as usize);
        let first = _mm_shuffle_epi8(block, load(&SPREAD[low]));
        _mm_storeu_si128(dst.cast::<__m128i>(), backslashes(first));
        let n = 8 + low.count_ones() as usize;
        // The high half's indices are the low half's plus eight; 0x80 + 8 still has its top bit set,
        // so the gaps stay zero.
        let shifted = _mm_add_epi8(load(&SPREAD[high]), _mm_set1_epi8(8));
        let second = _mm_shuffle_epi8(block, shifted);
        _mm_storeu_si128(dst.add(n).cast::<__m128i>(), backslashes(second));
        written + n + 8 + high.count_ones() as usize
    }
}

/// The gaps a shuffle left as zero bytes, as backslashes: no byte of the block is zero, since a
/// block with a control character never gets here.
#[inline]
#[target_feature(enable = "ssse3")]
fn backslashes(spread: __m128i) -> __m128i {
    let gaps = _mm_cmpeq_epi8(spread, _mm_setzero_si128());
    _mm_or_si128(spread, _mm_and_si128(gaps, _mm_set1_epi8(b'\\' as i8)))
}

#[inline]
#[target_feature(enable = "ssse3")]
fn load(row: &[u8; 16]) -> __m128i {
    // SAFETY: an unaligned load of sixteen bytes from a reference to sixteen bytes.
    unsafe { _mm_loadu_si128(row.as_ptr().cast::<__m128i>()) }
}

/// `bytes` escaped one at a time at `written`, keeping room for `rest` more input bytes after them;
/// returns the new end. Control characters take serde_json's forms: `\b \t \n \f \r`, else `\u00xx`.
fn bytewise(out: &mut Vec<u8>, written: usize, bytes: &[u8], rest: usize) -> usize {
    // SAFETY: `written` bytes were stored, all of them initialized.
    unsafe { out.set_len(written) };
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0..0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    // Restores what `contents` counts on for the blocks after this one.
    out.reserve(2 * rest + 32);
    out.len()
}
