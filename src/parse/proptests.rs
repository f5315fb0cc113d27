//! Properties of the whole parser over generated input.

use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;

use super::LineParser;
use crate::event::{Event, Flags, Origin, Stream};
use crate::tail::Line;

fn parser(max_line_bytes: usize) -> LineParser {
    let origin = Origin::new("/var/log/containers/x.log".into(), Default::default());
    LineParser::new(origin, max_line_bytes, Duration::from_secs(5))
}

/// Pushes the lines as consecutive lines of one file, then flushes.
fn run(parser: &mut LineParser, lines: Vec<Vec<u8>>) -> Vec<Event> {
    let now = Instant::now();
    let mut out = Vec::new();
    let mut offset = 0;
    for bytes in lines {
        let end = offset + bytes.len() as u64 + 1;
        let line = Line {
            bytes: Bytes::from(bytes),
            offset,
            end,
            truncated: false,
        };
        parser.push(line, now, &mut out);
        offset = end;
    }
    parser.flush_all(&mut out);
    out
}

/// At least once: resuming from any event's checkpoint re-reads every line a later event came from.
fn checkpoints_skip_nothing(events: &[Event]) -> bool {
    events.iter().enumerate().all(|(k, acked)| {
        events[k + 1..]
            .iter()
            .all(|later| later.offset >= acked.checkpoint)
    })
}

/// One CRI line: stream, whether it is a partial, and a message without newlines.
fn cri_line() -> impl Strategy<Value = (bool, bool, String)> {
    (any::<bool>(), any::<bool>(), "[^\n]{0,40}")
}

/// Bytes that reach past format detection some of the time.
fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tail = proptest::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        tail.clone(),
        tail.clone().prop_map(|t| [&b"{"[..], &t].concat()),
        tail.clone()
            .prop_map(|t| [&br#"{"log":""#[..], &t].concat()),
        tail.prop_map(|t| [&b"2026-11-24T06:54:58Z stdout P "[..], &t].concat()),
    ]
}

proptest! {
    #[test]
    fn joined_messages_are_the_parts_in_order(lines in proptest::collection::vec(cri_line(), 0..40)) {
        let mut expected = [String::new(), String::new()];
        let mut input = Vec::new();
        for (i, (stderr, partial, message)) in lines.iter().enumerate() {
            let stream = if *stderr { "stderr" } else { "stdout" };
            let tag = if *partial { "P" } else { "F" };
            input.push(format!("2026-11-24T06:54:58.{i:09}Z {stream} {tag} {message}").into_bytes());
            expected[usize::from(*stderr)].push_str(message);
        }
        let mut parser = parser(1 << 20);
        let events = run(&mut parser, input);
        let mut got = [String::new(), String::new()];
        for event in &events {
            prop_assert!(event.flags.is_empty() || event.flags == Flags::PARTIAL);
            let slot = usize::from(event.stream == Some(Stream::Stderr));
            got[slot].push_str(event.message.as_str());
        }
        prop_assert_eq!(got, expected);
        prop_assert_eq!(parser.pending_offset(), None);
        prop_assert!(checkpoints_skip_nothing(&events));
        let completed = lines.iter().filter(|(_, partial, _)| !partial).count();
        prop_assert!(events.len() >= completed);
    }

    #[test]
    fn any_line_becomes_exactly_one_event(bytes in line_bytes(), max in 0usize..64) {
        let events = run(&mut parser(max), vec![bytes]);
        prop_assert_eq!(events.len(), 1);
    }

    #[test]
    fn any_lines_neither_panic_nor_lose_a_checkpoint(
        lines in proptest::collection::vec(line_bytes(), 0..12),
        max in 0usize..64,
    ) {
        let count = lines.len() as u64;
        let starts: Vec<u64> = lines
            .iter()
            .scan(0, |offset, l| {
                let start = *offset;
                *offset += l.len() as u64 + 1;
                Some(start)
            })
            .collect();
        let mut parser = parser(max);
        let events = run(&mut parser, lines);
        prop_assert_eq!(parser.stats().lines, count);
        prop_assert!(events.len() <= starts.len());
        for event in &events {
            prop_assert!(starts.contains(&event.offset));
        }
        prop_assert!(checkpoints_skip_nothing(&events));
    }
}
