//! Message bytes to `Text`, tolerating invalid and cut UTF-8.

use bytes::Bytes;

use crate::event::Text;

/// `bytes` as text, sharing the buffer when it is valid UTF-8, and whether anything had to be replaced.
///
/// `cut` says the bytes were cut at an arbitrary byte count (a truncated line). A character left
/// incomplete at the end by such a cut is an artefact of the cut, not of the log, so it is dropped rather
/// than replaced and flagged.
pub(crate) fn to_text(bytes: Bytes, cut: bool) -> (Text, bool) {
    let bytes = match Text::from_utf8(bytes) {
        Ok(text) => return (text, false),
        Err(bytes) => bytes,
    };
    if cut {
        if let Err(e) = std::str::from_utf8(&bytes) {
            if e.error_len().is_none() {
                if let Ok(text) = Text::from_utf8(bytes.slice(..e.valid_up_to())) {
                    return (text, false);
                }
            }
        }
    }
    Text::lossy(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_shares_the_buffer() {
        let bytes = Bytes::from_static("grüße".as_bytes());
        let (text, replaced) = to_text(bytes.clone(), false);
        assert!(!replaced);
        assert_eq!(text.as_bytes().as_ptr(), bytes.as_ptr());
    }

    #[test]
    fn a_character_cut_at_the_end_is_dropped_only_when_cut() {
        let bytes = Bytes::from_static(b"caf\xc3");
        assert_eq!(to_text(bytes.clone(), true), (Text::from("caf"), false));
        assert_eq!(to_text(bytes, false), (Text::from("caf\u{fffd}"), true));
    }

    #[test]
    fn invalid_bytes_are_replaced_even_when_cut() {
        let bytes = Bytes::from_static(b"a\xffb\xc3");
        assert_eq!(
            to_text(bytes, true),
            (Text::from("a\u{fffd}b\u{fffd}"), true)
        );
    }
}
