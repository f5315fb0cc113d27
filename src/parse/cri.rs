//! The CRI log format, written by containerd and CRI-O.

use bytes::Bytes;
use memchr::memchr;

use super::{LineTime, ParseError, Parts};
use crate::event::Stream;

/// Parses one CRI line: `<RFC 3339 timestamp> <stdout|stderr> <tags> <message>`.
///
/// Equivalent to the regex (over bytes, `.` matching anything)
/// `^(?s)(?P<timestamp>[^ ]+) (?P<stream>stdout|stderr) (?P<tag>P|F)(?::[^ ]*)?(?: (?P<message>.*))?$`
/// followed by an RFC 3339 check of the timestamp. Only the first of the `:`-separated tags means anything
/// today (`P` partial, `F` full); the others are reserved by the CRI spec and ignored. A line that ends
/// right after its tags has an empty message.
///
/// The message is a slice of `line`, not a copy.
pub fn parse_cri(line: &Bytes) -> Result<Parts, ParseError> {
    let bytes = &line[..];
    let ts_end = memchr(b' ', bytes).ok_or(ParseError::NoStream)?;
    let timestamp = LineTime::parse_bytes(&bytes[..ts_end])?;

    let stream_start = ts_end + 1;
    let stream_len = memchr(b' ', &bytes[stream_start..]).ok_or(ParseError::NoTag)?;
    let stream = Stream::from_bytes(&bytes[stream_start..stream_start + stream_len])
        .ok_or(ParseError::UnknownStream)?;

    let tags_start = stream_start + stream_len + 1;
    let (tags_end, message_start) = match memchr(b' ', &bytes[tags_start..]) {
        Some(len) => (tags_start + len, tags_start + len + 1),
        None => (bytes.len(), bytes.len()),
    };
    let tags = &bytes[tags_start..tags_end];
    let first_tag = tags.split(|&b| b == b':').next().unwrap_or_default();
    let partial = match first_tag {
        b"P" => true,
        b"F" => false,
        b"" => return Err(ParseError::NoTag),
        _ => return Err(ParseError::UnknownTag),
    };

    Ok(Parts {
        timestamp,
        stream,
        partial,
        message: line.slice(message_start..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &'static [u8]) -> Result<Parts, ParseError> {
        parse_cri(&Bytes::from_static(line))
    }

    #[test]
    fn splits_a_full_line() {
        let parts = parse(b"2026-11-24T06:54:58.000000001Z stderr F a b ").unwrap();
        let LineTime::At(at) = parts.timestamp else {
            panic!("{:?}", parts.timestamp);
        };
        assert_eq!(at.as_nanos() % 1_000_000_000, 1);
        assert_eq!(parts.stream, Stream::Stderr);
        assert!(!parts.partial);
        assert_eq!(&parts.message[..], b"a b ");
    }

    #[test]
    fn only_the_first_tag_matters() {
        assert!(
            parse(b"2026-11-24T06:54:58Z stdout P:x:y m")
                .unwrap()
                .partial
        );
        assert!(!parse(b"2026-11-24T06:54:58Z stdout F:P m").unwrap().partial);
    }

    #[test]
    fn tags_at_the_end_of_the_line_mean_an_empty_message() {
        for line in [
            &b"2026-11-24T06:54:58Z stdout F"[..],
            b"2026-11-24T06:54:58Z stdout F ",
            b"2026-11-24T06:54:58Z stdout F:x",
        ] {
            assert!(parse_cri(&Bytes::from_static(line))
                .unwrap()
                .message
                .is_empty());
        }
    }

    type Check = fn(&ParseError) -> bool;

    #[test]
    fn says_what_is_wrong() {
        let cases: [(&[u8], Check); 9] = [
            (b"", |e| matches!(e, ParseError::NoStream)),
            (b"2026-11-24T06:54", |e| matches!(e, ParseError::NoStream)),
            (b"2026-11-24T06:54 stdout F x", |e| {
                matches!(e, ParseError::BadTimestamp)
            }),
            (b"\xff stdout F x", |e| {
                matches!(e, ParseError::BadTimestamp)
            }),
            (b"2026-11-24T06:54:58Z stdout", |e| {
                matches!(e, ParseError::NoTag)
            }),
            (b"2026-11-24T06:54:58Z stdout ", |e| {
                matches!(e, ParseError::NoTag)
            }),
            (b"2026-11-24T06:54:58Z stdin F x", |e| {
                matches!(e, ParseError::UnknownStream)
            }),
            (b"2026-11-24T06:54:58Z stdout X x", |e| {
                matches!(e, ParseError::UnknownTag)
            }),
            (b"2026-11-24T06:54:58Z stdout FP x", |e| {
                matches!(e, ParseError::UnknownTag)
            }),
        ];
        for (line, expected) in cases {
            let err = parse_cri(&Bytes::copy_from_slice(line)).unwrap_err();
            assert!(expected(&err), "{:?}: {err}", String::from_utf8_lossy(line));
        }
    }
}
