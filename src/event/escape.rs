//! JSON strings as the encoder writes them: serde_json's escaper.
//!
//! A word-at-a-time escaper was tried here (issue 16's per-line work) and counted 19 % more
//! instructions than serde_json's on the `pipeline` bench under callgrind (345 M against 290 M for
//! one pass), so serde_json's stays; this is the one place to try again.

/// Appends `s` as a JSON string, quotes included.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}
