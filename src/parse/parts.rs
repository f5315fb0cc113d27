//! What parsing one line yields: its parts, or what is wrong with it.

use bytes::Bytes;

use crate::event::{Stream, TimeError, Timestamp};

/// One well-formed line, split into what the runtime wrote around the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    pub timestamp: LineTime,
    pub stream: Stream,
    /// The line is one piece of a longer line (CRI tag `P`, or a docker `log` without its trailing
    /// newline) and continues on a later line of the same stream.
    pub partial: bool,
    /// Shares the line's buffer when nothing had to be unescaped. Not checked for UTF-8 yet: a runtime
    /// splits a long line at a byte count, possibly inside a character, which is only whole again once the
    /// pieces are joined.
    pub message: Bytes,
}

/// The time the runtime wrote on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineTime {
    At(Timestamp),
    /// Valid RFC 3339 that `@timestamp` cannot hold (before 1970, after 2262: see
    /// [`Timestamp::parse_shippable`]), as written. Elasticsearch would refuse the document, so the
    /// line ships at the time it is read, flagged `timestamp_out_of_range`, with this text kept.
    OutOfRange(Box<str>),
}

impl LineTime {
    /// From a line's bytes: the runtimes' own form without a UTF-8 check or chrono, anything else
    /// through [`LineTime::parse`].
    pub(crate) fn parse_bytes(bytes: &[u8]) -> Result<LineTime, ParseError> {
        if let Some(at) = Timestamp::parse_runtime_form(bytes) {
            return Ok(LineTime::At(at));
        }
        std::str::from_utf8(bytes)
            .map_err(|_| ParseError::BadTimestamp)
            .and_then(LineTime::parse)
    }

    pub(crate) fn parse(text: &str) -> Result<LineTime, ParseError> {
        match Timestamp::parse_shippable(text) {
            Ok(at) => Ok(LineTime::At(at)),
            Err(TimeError::OutOfRange) => Ok(LineTime::OutOfRange(text.into())),
            Err(TimeError::NotRfc3339) => Err(ParseError::BadTimestamp),
        }
    }
}

/// Why a line is not in the format it was taken for. The line is still shipped (raw, flagged `unparsed`);
/// this only says why.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("no stream after the timestamp")]
    NoStream,
    #[error("the timestamp is not RFC 3339")]
    BadTimestamp,
    #[error("the stream is neither stdout nor stderr")]
    UnknownStream,
    #[error("no tag after the stream")]
    NoTag,
    #[error("the first tag is neither P nor F")]
    UnknownTag,
    #[error("not a docker json-file line: {0}")]
    Json(serde_json::Error),
    #[error("the docker \"log\" member is not a string")]
    LogNotString,
}

// By hand rather than `#[from]`, which would also make the JSON error this one's `source()`: the
// message already includes it, and a reporter walking the chain would print it twice.
impl From<serde_json::Error> for ParseError {
    fn from(error: serde_json::Error) -> ParseError {
        ParseError::Json(error)
    }
}
