//! The reading path (framing, then parsing and encoding) gives the same documents however reads happen to
//! cut the file.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::event::{Encoder, Origin, StaticFields};
use crate::parse::LineParser;
use crate::tail::Framer;

/// A file's worth of realistic lines: CRI full and partial, docker full and partial, invalid UTF-8,
/// malformed lines, and lines over the cap.
fn file_line() -> impl Strategy<Value = Vec<u8>> {
    let text = "[a-zA-Z0-9 {}\":,é]{0,60}";
    prop_oneof![
        (any::<bool>(), any::<bool>(), text).prop_map(|(err, partial, msg)| format!(
            "2026-11-24T06:54:58.{:09}Z {} {} {msg}\n",
            msg.len(),
            if err { "stderr" } else { "stdout" },
            if partial { "P" } else { "F" }
        )
        .into_bytes()),
        (any::<bool>(), text).prop_map(|(newline, msg)| {
            let log = if newline { format!("{msg}\n") } else { msg };
            let mut line = serde_json::to_vec(&serde_json::json!(
                {"log": log, "stream": "stdout", "time": "2026-11-24T07:10:00.5Z"}
            ))
            .unwrap();
            line.push(b'\n');
            line
        }),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(|mut raw| {
            raw.push(b'\n');
            raw
        }),
        Just(b"2026-11-24T06:54:58Z stdout F {\"a\":1}\r\n".to_vec()),
    ]
}

/// Every document the path gives for `data` read in pieces of the given sizes, with the read time of
/// unparsed lines blanked (it is the clock, not the data).
fn documents(data: &[u8], cuts: &[usize], max_line_bytes: usize) -> Vec<String> {
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: serde_json::json!({}),
    });
    let origin = Origin::new("/var/log/containers/x.log".into(), Default::default());
    let mut framer = Framer::new(0, max_line_bytes);
    let mut parser = LineParser::new(origin, max_line_bytes, Duration::from_secs(5));
    let now = Instant::now();
    let mut events = Vec::new();
    let mut rest = data;
    for cut in cuts.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*cut).min(rest.len()));
        framer.extend(head);
        while let Some(line) = framer.next_line() {
            parser.push(line, now, &mut events);
        }
        rest = tail;
    }
    if let Some(line) = framer.finish() {
        parser.push(line, now, &mut events);
    }
    parser.flush_all(&mut events);
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            if event.flags.contains(crate::event::Flags::UNPARSED) {
                event.timestamp = crate::event::Timestamp::from_nanos(0);
            }
            let mut out = Vec::new();
            encoder.encode(&event, &mut out);
            format!("{}@{}", String::from_utf8(out).unwrap(), event.checkpoint)
        })
        .collect()
}

proptest! {
    #[test]
    fn read_boundaries_do_not_change_the_events(
        lines in proptest::collection::vec(file_line(), 0..40),
        cuts in proptest::collection::vec(1usize..200, 1..30),
        max_line_bytes in prop_oneof![Just(1024usize), 40usize..120],
    ) {
        let data = lines.concat();
        let whole = documents(&data, &[data.len().max(1)], max_line_bytes);
        let pieces = documents(&data, &cuts, max_line_bytes);
        prop_assert_eq!(pieces, whole);
    }
}
