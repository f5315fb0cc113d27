//! Docker's json-file log format.

use bytes::Bytes;
use memchr::memchr;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{LineTime, ParseError, Parts};
use crate::event::{Stream, Text};

/// One json-file line. Other members (`attrs`, …) are skipped.
#[derive(Deserialize)]
struct DockerLine<'a> {
    /// Kept raw rather than as a `Cow<str>`: every complete line ends in an escaped `\n`, so serde would
    /// unescape (copy) every message; looking at the raw string first keeps the common case a slice.
    #[serde(borrow)]
    log: &'a RawValue,
    stream: &'a str,
    time: &'a str,
}

/// Parses one json-file line: `{"log":"text\n","stream":"stdout","time":"<RFC 3339>"}`.
///
/// A `log` ending in a newline is a complete line; the newline (and a `\r` before it) is not part of the
/// message. Without one, docker split a long line (at 16 KiB) and the rest follows on later lines.
///
/// Takes `Text` because the line is made valid UTF-8 first: JSON must be, and a message with an invalid
/// byte is still worth parsing. The message is a slice of `line` unless it had escapes to decode.
pub fn parse_docker(line: &Text) -> Result<Parts, ParseError> {
    let parsed: DockerLine<'_> = serde_json::from_str(line.as_str())?;
    let stream = Stream::from_bytes(parsed.stream.as_bytes()).ok_or(ParseError::UnknownStream)?;
    let timestamp = LineTime::parse(parsed.time)?;
    let (message, complete) = log_message(line, parsed.log)?;
    Ok(Parts {
        timestamp,
        stream,
        partial: !complete,
        message,
    })
}

/// The decoded `log` string without its line ending, and whether it had one.
fn log_message(line: &Text, log: &RawValue) -> Result<(Bytes, bool), ParseError> {
    let literal = log.get();
    let body = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or(ParseError::LogNotString)?;
    let (body, complete) = match strip_escape(body, b'n') {
        Some(body) => (strip_escape(body, b'r').unwrap_or(body), true),
        None => (body, false),
    };
    if memchr(b'\\', body.as_bytes()).is_none() {
        // `body` is borrowed from `line` (serde's lifetimes guarantee it), so this never panics.
        return Ok((line.as_bytes().slice_ref(body.as_bytes()), complete));
    }
    let mut decoded: String = serde_json::from_str(literal)?;
    let complete = decoded.ends_with('\n');
    if complete {
        decoded.pop();
        if decoded.ends_with('\r') {
            decoded.pop();
        }
    }
    Ok((Bytes::from(decoded), complete))
}

/// `s` without a trailing JSON escape `\<letter>`, when it ends with one. `\\n` is an escaped backslash
/// followed by `n`, not a newline, hence counting the backslashes.
fn strip_escape(s: &str, letter: u8) -> Option<&str> {
    let head = s.as_bytes().strip_suffix(&[letter])?;
    let backslashes = head.iter().rev().take_while(|&&b| b == b'\\').count();
    // Both stripped bytes are ASCII, so the cut is on a character boundary.
    (backslashes % 2 == 1).then(|| &s[..head.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &'static str) -> Result<Parts, ParseError> {
        parse_docker(&Text::from(line))
    }

    fn message(line: &'static str) -> (String, bool) {
        let parts = parse(line).unwrap();
        (
            String::from_utf8(parts.message.to_vec()).unwrap(),
            parts.partial,
        )
    }

    #[test]
    fn a_complete_line_loses_its_line_ending_and_shares_the_buffer() {
        let line = Text::from(
            r#"{"log":"hello\r\n","stream":"stderr","time":"2019-01-01T11:11:11.111111111Z"}"#,
        );
        let parts = parse_docker(&line).unwrap();
        assert_eq!(&parts.message[..], b"hello");
        assert!(!parts.partial);
        assert_eq!(parts.stream, Stream::Stderr);
        let range = line.as_bytes().as_ptr_range();
        assert!(range.contains(&parts.message.as_ptr()), "not a copy");
    }

    #[test]
    fn escapes_are_decoded() {
        let m = |s| message(s).0;
        assert_eq!(
            m(
                r#"{"log":"say \"hi\" caf\u00e9\tend\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#
            ),
            "say \"hi\" café\tend"
        );
        assert_eq!(
            m(r#"{"log":"dir C:\\n\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#),
            "dir C:\\n"
        );
        assert_eq!(
            m(r#"{"log":"unicode newline\u000a","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#),
            "unicode newline"
        );
    }

    #[test]
    fn an_escaped_backslash_before_n_is_not_a_line_ending() {
        let (msg, partial) =
            message(r#"{"log":"ends in \\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#);
        assert_eq!(msg, "ends in \\n");
        assert!(partial);
        let (msg, partial) =
            message(r#"{"log":"\\\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#);
        assert_eq!(msg, "\\");
        assert!(!partial);
    }

    #[test]
    fn member_order_whitespace_and_extra_members_do_not_matter() {
        let (msg, partial) = message(
            r#"{ "time" : "2019-01-01T00:00:00Z", "attrs": {"k": [1, "v"]}, "stream": "stdout", "log" : "x\n" }"#,
        );
        assert_eq!(msg, "x");
        assert!(!partial);
    }

    type Check = fn(&ParseError) -> bool;

    #[test]
    fn says_what_is_wrong() {
        let cases: [(&str, Check); 6] = [
            (r#"{"log":"x\n","stream":"stdout"}"#, |e| {
                matches!(e, ParseError::Json(_))
            }),
            (r#"{"log":"x\n""#, |e| matches!(e, ParseError::Json(_))),
            (
                r#"{"log":"x\n","stream":"stdin","time":"2019-01-01T00:00:00Z"}"#,
                |e| matches!(e, ParseError::UnknownStream),
            ),
            (
                r#"{"log":"x\n","stream":"stdout","time":"yesterday"}"#,
                |e| matches!(e, ParseError::BadTimestamp),
            ),
            (
                r#"{"log":1,"stream":"stdout","time":"2019-01-01T00:00:00Z"}"#,
                |e| matches!(e, ParseError::LogNotString),
            ),
            (
                r#"{"log":"x","log":"y","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#,
                |e| matches!(e, ParseError::Json(_)),
            ),
        ];
        for (line, expected) in cases {
            let err = parse_docker(&Text::from(line.to_owned())).unwrap_err();
            assert!(expected(&err), "{line}: {err}");
        }
    }
}
