//! UTF-8 text that shares its bytes with the line it was read from.

use std::fmt;

use bytes::Bytes;

/// Immutable UTF-8 text backed by [`Bytes`], so a message cut out of a read buffer is a reference-count
/// bump rather than a copy. The invariant (valid UTF-8) is checked once, where the text is made.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// Valid UTF-8 as-is; invalid UTF-8 back unchanged so the caller decides (see [`Text::lossy`]).
    pub fn from_utf8(bytes: Bytes) -> Result<Text, Bytes> {
        match std::str::from_utf8(&bytes) {
            Ok(_) => Ok(Text(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// The bytes as text, with invalid sequences replaced by U+FFFD; `true` when anything was replaced.
    pub fn lossy(bytes: Bytes) -> (Text, bool) {
        match Text::from_utf8(bytes) {
            Ok(text) => (text, false),
            Err(bytes) => (
                Text::from(String::from_utf8_lossy(&bytes).into_owned()),
                true,
            ),
        }
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks or inherits valid UTF-8, and the bytes are immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The part of this text that `part` (a sub-slice of `self.as_str()`) covers, sharing the bytes.
    ///
    /// # Panics
    /// When `part` does not lie within this text; that is a bug in the caller.
    pub fn slice_ref(&self, part: &str) -> Text {
        Text(self.0.slice_ref(part.as_bytes()))
    }

    /// [`Text::slice_ref`] when `part` lies within this text, else `None`.
    pub fn try_slice_ref(&self, part: &str) -> Option<Text> {
        let whole = self.0.as_ptr() as usize..self.0.as_ptr() as usize + self.0.len();
        let start = part.as_ptr() as usize;
        (whole.contains(&start) && start + part.len() <= whole.end).then(|| self.slice_ref(part))
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::from(s))
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text(Bytes::from_static(s.as_bytes()))
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_flags_and_replaces_invalid_utf8() {
        let (text, replaced) = Text::lossy(Bytes::from_static(b"ok \xff\xfe end"));
        assert!(replaced);
        assert_eq!(text.as_str(), "ok \u{fffd}\u{fffd} end");
        let (text, replaced) = Text::lossy(Bytes::from_static("grüße".as_bytes()));
        assert!(!replaced);
        assert_eq!(text.as_str(), "grüße");
    }

    #[test]
    fn slice_ref_shares_the_buffer() {
        let text = Text::from("prefix message");
        let part = text.slice_ref(&text.as_str()[7..]);
        assert_eq!(part.as_str(), "message");
        assert_eq!(
            part.as_bytes().as_ptr(),
            text.as_bytes()[7..].as_ptr(),
            "no copy was made"
        );
    }
}
