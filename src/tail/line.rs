//! A framed line, as the tailer hands it to the parser.

use bytes::Bytes;

/// One newline-terminated line of a file, without its newline (or a `\r\n`'s `\r`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub bytes: Bytes,
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// Byte offset just past the line's newline: where reading resumes after this line.
    pub end: u64,
    /// The line was longer than `max_line_bytes`; `bytes` holds its first `max_line_bytes` bytes and the
    /// rest was skipped.
    pub truncated: bool,
}
