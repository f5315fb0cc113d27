//! The CRI and docker json-file parsers, one line at a time, each against a reference: the regex the CRI
//! parser documents, and serde's own typed reading of the docker line.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use loglynk::event::{Stream, Text, TimeError, Timestamp};
use loglynk::parse::{parse_cri, parse_docker, LineTime, Parts};
use loglynk_fuzz::line_time_is_sound;
use serde::Deserialize;

fuzz_target!(|data: &[u8]| {
    let line = Bytes::copy_from_slice(data);
    check_cri(&line);
    // The line parser makes a line valid UTF-8 before it tries docker's format.
    let text = Text::from(String::from_utf8_lossy(data).into_owned());
    check_docker(&text);
});

fn check_cri(line: &Bytes) {
    let got = parse_cri(line);
    let expected = cri_reference(line);
    match (&got, &expected) {
        (Ok(parts), Some((stream, partial, message))) => {
            assert_eq!(parts.stream, *stream);
            assert_eq!(parts.partial, *partial);
            assert_eq!(&parts.message[..], *message);
            // The message is a slice of the line, never a copy.
            let range = line.as_ptr_range();
            assert!(parts.message.is_empty() || range.contains(&parts.message.as_ptr()));
            line_time_is_sound(&parts.timestamp);
        }
        (Err(_), None) => {}
        _ => panic!(
            "parse_cri and the reference disagree on {:?}: {got:?} vs {expected:?}",
            String::from_utf8_lossy(line)
        ),
    }
}

/// The documented regex, `^(?s)(?P<timestamp>[^ ]+) (?P<stream>stdout|stderr) (?P<tag>P|F)(?::[^ ]*)?
/// (?: (?P<message>.*))?$`, plus an RFC 3339 timestamp, written the plain way.
fn cri_reference(line: &[u8]) -> Option<(Stream, bool, &[u8])> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let timestamp = fields.next()?;
    let stream = Stream::from_bytes(fields.next()?)?;
    let tags = fields.next()?;
    let message = fields.next().unwrap_or_default();
    let timestamp = std::str::from_utf8(timestamp).ok()?;
    if Timestamp::parse_shippable(timestamp) == Err(TimeError::NotRfc3339) {
        return None;
    }
    let partial = match tags.split(|&b| b == b':').next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    Some((stream, partial, message))
}

fn check_docker(text: &Text) {
    let Ok(parts) = parse_docker(text) else {
        return;
    };
    let Parts {
        timestamp,
        stream,
        partial,
        message,
    } = parts;
    // The reference: serde's plain typed reading, which skips other members as the parser does.
    let reference: DockerLine = serde_json::from_str(text.as_str())
        .unwrap_or_else(|e| panic!("parse_docker accepted what serde rejects ({e}): {text:?}"));
    let log = reference.log.as_str();
    let (expected, complete) = match log.strip_suffix('\n') {
        Some(rest) => (rest.strip_suffix('\r').unwrap_or(rest), true),
        None => (log, false),
    };
    assert_eq!(
        std::str::from_utf8(&message).ok(),
        Some(expected),
        "message of {text:?}"
    );
    assert_eq!(partial, !complete, "partial flag of {text:?}");
    assert_eq!(stream.as_str(), reference.stream);
    match &timestamp {
        LineTime::At(ts) => assert_eq!(Timestamp::parse_shippable(&reference.time), Ok(*ts)),
        LineTime::OutOfRange(text) => assert_eq!(**text, *reference.time),
    }
    line_time_is_sound(&timestamp);
}

#[derive(Deserialize)]
struct DockerLine {
    log: String,
    stream: String,
    time: String,
}
