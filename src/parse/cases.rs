//! Lines and the events they must become, shared by the parser's tests (and any future fuzz or
//! conformance test): each case pushes its lines into one `LineParser`, then flushes it.
//!
//! A table, not logic: it is long because every case the parsers promise is one entry here.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::event::{Event, Format, Origin, Stream, Timestamp};
use crate::tail::Line;

use super::LineParser;

pub struct Case {
    pub name: &'static str,
    /// Consecutive lines of one file, without their newlines.
    pub lines: &'static [&'static [u8]],
    pub max_line_bytes: usize,
    /// Every event pushing the lines and then `flush_all` emits, in order.
    pub expect: &'static [Expect],
}

/// A file position, named by line (index into `Case::lines`) so cases need no byte counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pos {
    Start(usize),
    End(usize),
}

pub struct Expect {
    pub message: &'static str,
    pub stream: Option<Stream>,
    pub format: Option<Format>,
    /// As `Timestamp::write_rfc3339` writes it; `None` for the time the line was read.
    pub timestamp: Option<&'static str>,
    /// `log.original_timestamp`: the line's own time, when `@timestamp` cannot hold it.
    pub original: Option<&'static str>,
    /// The line the event starts at.
    pub line: usize,
    pub checkpoint: Pos,
    /// `log.flags` names.
    pub flags: &'static [&'static str],
}

const TS: &str = "2026-11-24T06:54:58.123456789Z";
const DOCKER_TS: &str = "2019-01-01T11:11:11.111111111Z";
const MAX: usize = 1024;

/// A complete line that starts and is acknowledged at `line`.
const fn ok(message: &'static str, stream: Stream, format: Format, line: usize) -> Expect {
    Expect {
        message,
        stream: Some(stream),
        format: Some(format),
        timestamp: Some(TS),
        original: None,
        line,
        checkpoint: Pos::End(line),
        flags: &[],
    }
}

const fn cri(message: &'static str, line: usize) -> Expect {
    ok(message, Stream::Stdout, Format::Cri, line)
}

const fn docker(message: &'static str, line: usize) -> Expect {
    ok(message, Stream::Stdout, Format::Docker, line).at(DOCKER_TS)
}

const fn unparsed(message: &'static str, line: usize) -> Expect {
    Expect {
        message,
        stream: None,
        format: None,
        timestamp: None,
        original: None,
        line,
        checkpoint: Pos::End(line),
        flags: &["unparsed"],
    }
}

impl Expect {
    const fn stderr(self) -> Expect {
        Expect {
            stream: Some(Stream::Stderr),
            ..self
        }
    }
    const fn at(self, timestamp: &'static str) -> Expect {
        Expect {
            timestamp: Some(timestamp),
            ..self
        }
    }
    /// Dated where `@timestamp` cannot be: shipped at the read time, its own time kept.
    const fn out_of_range(self, original: &'static str) -> Expect {
        Expect {
            timestamp: None,
            original: Some(original),
            flags: &["timestamp_out_of_range"],
            ..self
        }
    }
    const fn checkpoint(self, checkpoint: Pos) -> Expect {
        Expect { checkpoint, ..self }
    }
    const fn flags(self, flags: &'static [&'static str]) -> Expect {
        Expect { flags, ..self }
    }
}

const fn case(
    name: &'static str,
    lines: &'static [&'static [u8]],
    expect: &'static [Expect],
) -> Case {
    Case {
        name,
        lines,
        max_line_bytes: MAX,
        expect,
    }
}

pub const CASES: &[Case] = &[
    // CRI, complete lines.
    case(
        "cri full line",
        &[b"2026-11-24T06:54:58.123456789Z stdout F hello world"],
        &[cri("hello world", 0)],
    ),
    case(
        "cri stderr",
        &[b"2026-11-24T06:54:58.123456789Z stderr F oops"],
        &[cri("oops", 0).stderr()],
    ),
    case(
        "cri spaces in the message are kept",
        &[b"2026-11-24T06:54:58.123456789Z stdout F  two  spaces "],
        &[cri(" two  spaces ", 0)],
    ),
    case(
        "cri empty message",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout F ",
            b"2026-11-24T06:54:58.123456789Z stdout F",
        ],
        &[cri("", 0), cri("", 1)],
    ),
    case(
        // The tailer already took the `\r` of a `\r\n` off; one left over was written by the program.
        "cri trailing carriage return is the program's",
        &[b"2026-11-24T06:54:58.123456789Z stdout F dos\r"],
        &[cri("dos\r", 0)],
    ),
    case(
        "cri extra tags",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout F:x tagged",
            b"2026-11-24T06:54:58.123456789Z stdout P:x:y one ",
            b"2026-11-24T06:54:58.123456789Z stdout F:z two",
        ],
        &[cri("tagged", 0), cri("one two", 1).checkpoint(Pos::End(2))],
    ),
    case(
        "cri timestamps with offsets are normalised to UTC",
        &[
            b"2026-11-24T07:54:58.5+01:00 stdout F east",
            b"2026-11-23T20:24:58.123456789-10:30 stdout F west",
        ],
        &[
            cri("east", 0).at("2026-11-24T06:54:58.500000000Z"),
            cri("west", 1),
        ],
    ),
    case(
        "cri nanoseconds are kept",
        &[
            b"2026-11-24T06:54:58.000000001Z stdout F one",
            b"2026-11-24T06:54:58Z stdout F none",
        ],
        &[
            cri("one", 0).at("2026-11-24T06:54:58.000000001Z"),
            cri("none", 1).at("2026-11-24T06:54:58.000000000Z"),
        ],
    ),
    // CRI, joined lines.
    case(
        "cri P+F is joined with the first part's time",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P hel",
            b"2026-11-24T06:54:59.000000000Z stdout F lo",
        ],
        &[cri("hello", 0).checkpoint(Pos::End(1))],
    ),
    case(
        "cri P P F",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P a",
            b"2026-11-24T06:54:58.123456789Z stdout P b",
            b"2026-11-24T06:54:58.123456789Z stdout F c",
            b"2026-11-24T06:54:58.123456789Z stdout F next",
        ],
        &[cri("abc", 0).checkpoint(Pos::End(2)), cri("next", 3)],
    ),
    case(
        "cri empty parts",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P",
            b"2026-11-24T06:54:58.123456789Z stdout P x",
            b"2026-11-24T06:54:58.123456789Z stdout F",
        ],
        &[cri("x", 0).checkpoint(Pos::End(2))],
    ),
    case(
        "cri interleaved stdout and stderr partials",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P out-",
            b"2026-11-24T06:54:58.123456789Z stderr P err-",
            b"2026-11-24T06:54:58.123456789Z stdout F 1",
            b"2026-11-24T06:54:58.123456789Z stderr F 2",
        ],
        &[
            // stderr's first part is still pending: acknowledging "out-1" must not skip it.
            cri("out-1", 0).checkpoint(Pos::Start(1)),
            cri("err-2", 1).stderr().checkpoint(Pos::End(3)),
        ],
    ),
    case(
        "checkpoint waits for the other stream's pending partial",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P held ",
            b"2026-11-24T06:54:58.123456789Z stderr F quick",
            b"2026-11-24T06:54:58.123456789Z stdout F back",
        ],
        &[
            cri("quick", 1).stderr().checkpoint(Pos::Start(0)),
            cri("held back", 0).checkpoint(Pos::End(2)),
        ],
    ),
    case(
        "a character split between parts is whole again",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P caf\xc3",
            b"2026-11-24T06:54:58.123456789Z stdout F \xa9!",
        ],
        &[cri("café!", 0).checkpoint(Pos::End(1))],
    ),
    // Dated where Elasticsearch's date_nanos cannot be: shipped at the read time, never refused.
    case(
        "cri dated before 1970",
        &[b"1969-12-31T23:59:59.999999999Z stdout F clock not set"],
        &[cri("clock not set", 0).out_of_range("1969-12-31T23:59:59.999999999Z")],
    ),
    case(
        "docker dated after 2262",
        &[br#"{"log":"far\n","stream":"stdout","time":"2262-04-11T23:47:16.854775808Z"}"#],
        &[docker("far", 0).out_of_range("2262-04-11T23:47:16.854775808Z")],
    ),
    case(
        "a joined line keeps its first part's time",
        &[
            b"0001-01-01T00:00:00+01:00 stdout P a",
            b"2026-11-24T06:54:58.123456789Z stdout F b",
        ],
        &[cri("ab", 0)
            .out_of_range("0001-01-01T00:00:00+01:00")
            .checkpoint(Pos::End(1))],
    ),
    case(
        "the first and last times date_nanos holds",
        &[
            b"1970-01-01T00:00:00Z stdout F first",
            b"2262-04-11T23:47:16.854775807Z stdout F last",
        ],
        &[
            cri("first", 0).at("1970-01-01T00:00:00.000000000Z"),
            cri("last", 1).at("2262-04-11T23:47:16.854775807Z"),
        ],
    ),
    // Lines in neither format: shipped raw, never dropped.
    case(
        "cri truncated after the date",
        &[b"2026-11-24T06:54"],
        &[unparsed("2026-11-24T06:54", 0)],
    ),
    case(
        "cri truncated after the stream",
        &[b"2026-11-24T06:54:58Z stdout"],
        &[unparsed("2026-11-24T06:54:58Z stdout", 0)],
    ),
    case(
        "cri no tag",
        &[b"2026-11-24T06:54:58Z stdout "],
        &[unparsed("2026-11-24T06:54:58Z stdout ", 0)],
    ),
    case(
        "cri bad timestamp",
        &[b"not-a-time stdout F x", b"2026-11-24 stdout F x"],
        &[
            unparsed("not-a-time stdout F x", 0),
            unparsed("2026-11-24 stdout F x", 1),
        ],
    ),
    case(
        "cri unknown stream",
        &[b"2026-11-24T06:54:58Z stdin F x"],
        &[unparsed("2026-11-24T06:54:58Z stdin F x", 0)],
    ),
    case(
        "cri unknown tag",
        &[b"2026-11-24T06:54:58Z stdout X x"],
        &[unparsed("2026-11-24T06:54:58Z stdout X x", 0)],
    ),
    case("empty line", &[b""], &[unparsed("", 0)]),
    case(
        "plain text",
        &[b"panic: runtime error"],
        &[unparsed("panic: runtime error", 0)],
    ),
    case(
        "docker missing members",
        &[
            br#"{"log":"x\n","stream":"stdout"}"#,
            br#"{"log":"x\n","time":"2019-01-01T11:11:11.111111111Z"}"#,
            br#"{"stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
        ],
        &[
            unparsed(r#"{"log":"x\n","stream":"stdout"}"#, 0),
            unparsed(r#"{"log":"x\n","time":"2019-01-01T11:11:11.111111111Z"}"#, 1),
            unparsed(
                r#"{"stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
                2,
            ),
        ],
    ),
    case(
        "docker invalid JSON",
        &[b"{", br#"{"log":"x\n","stream":"stdout","time":"2019-01-01T11:11"#],
        &[
            unparsed("{", 0),
            unparsed(r#"{"log":"x\n","stream":"stdout","time":"2019-01-01T11:11"#, 1),
        ],
    ),
    case(
        "docker wrong member values",
        &[
            br#"{"log":"x\n","stream":"stdin","time":"2019-01-01T11:11:11Z"}"#,
            br#"{"log":"x\n","stream":"stdout","time":"2019-01-01"}"#,
            br#"{"log":7,"stream":"stdout","time":"2019-01-01T11:11:11Z"}"#,
        ],
        &[
            unparsed(
                r#"{"log":"x\n","stream":"stdin","time":"2019-01-01T11:11:11Z"}"#,
                0,
            ),
            unparsed(r#"{"log":"x\n","stream":"stdout","time":"2019-01-01"}"#, 1),
            unparsed(
                r#"{"log":7,"stream":"stdout","time":"2019-01-01T11:11:11Z"}"#,
                2,
            ),
        ],
    ),
    case(
        "an unparsed line between parts waits for the partial too",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P a",
            b"garbage",
            b"2026-11-24T06:54:58.123456789Z stdout F b",
        ],
        &[
            unparsed("garbage", 1).checkpoint(Pos::Start(0)),
            cri("ab", 0).checkpoint(Pos::End(2)),
        ],
    ),
    // Invalid UTF-8.
    case(
        "invalid UTF-8 in a cri message",
        &[b"2026-11-24T06:54:58.123456789Z stdout F caf\xc3 x\xff"],
        &[cri("caf\u{fffd} x\u{fffd}", 0).flags(&["invalid_utf8"])],
    ),
    case(
        "invalid UTF-8 in a cri header",
        &[b"2026\xff stdout F x"],
        &[unparsed("2026\u{fffd} stdout F x", 0).flags(&["unparsed", "invalid_utf8"])],
    ),
    case(
        "invalid UTF-8 in a docker line",
        &[b"{\"log\":\"a\xffb\\n\",\"stream\":\"stdout\",\"time\":\"2019-01-01T11:11:11.111111111Z\"}"],
        &[docker("a\u{fffd}b", 0).flags(&["invalid_utf8"])],
    ),
    case(
        "invalid UTF-8 in a docker part is flagged on the joined line",
        &[
            b"{\"log\":\"a\xff\",\"stream\":\"stdout\",\"time\":\"2019-01-01T11:11:11.111111111Z\"}",
            br#"{"log":"b\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
        ],
        &[docker("a\u{fffd}b", 0)
            .checkpoint(Pos::End(1))
            .flags(&["invalid_utf8"])],
    ),
    // Docker.
    case(
        "docker full line",
        &[br#"{"log":"hello\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#],
        &[docker("hello", 0)],
    ),
    case(
        "docker stderr, extra members",
        &[
            br#"{"log":"x\n","stream":"stderr","attrs":{"tag":"a"},"time":"2019-01-01T11:11:11.111111111Z"}"#,
        ],
        &[docker("x", 0).stderr()],
    ),
    case(
        "docker escapes",
        &[
            br#"{"log":"say \"hi\" caf\u00e9\tend\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
            br#"{"log":"C:\\new\\n\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
        ],
        &[
            docker("say \"hi\" café\tend", 0),
            docker("C:\\new\\n", 1),
        ],
    ),
    case(
        "docker trailing carriage return",
        &[
            br#"{"log":"dos\r\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
            br#"{"log":"tab\t\r\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
        ],
        &[docker("dos", 0), docker("tab\t", 1)],
    ),
    case(
        "docker empty message",
        &[br#"{"log":"\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#],
        &[docker("", 0)],
    ),
    case(
        "docker partial join",
        &[
            br#"{"log":"part one ","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
            br#"{"log":"err\n","stream":"stderr","time":"2019-01-01T11:11:12Z"}"#,
            br#"{"log":"part \"two\"\n","stream":"stdout","time":"2019-01-01T11:11:13Z"}"#,
        ],
        &[
            docker("err", 1)
                .stderr()
                .at("2019-01-01T11:11:12.000000000Z")
                .checkpoint(Pos::Start(0)),
            docker("part one part \"two\"", 0).checkpoint(Pos::End(2)),
        ],
    ),
    // Bounds, flushes and format switches.
    Case {
        max_line_bytes: 8,
        ..case(
            "a join longer than max_line_bytes is cut and the rest dropped",
            &[
                b"2026-11-24T06:54:58.123456789Z stdout P abcdef",
                b"2026-11-24T06:54:58.123456789Z stdout P ghijkl",
                b"2026-11-24T06:54:58.123456789Z stdout P mnop",
                b"2026-11-24T06:54:58.123456789Z stdout F qr",
                b"2026-11-24T06:54:58.123456789Z stdout F next",
            ],
            &[
                cri("abcdefgh", 0)
                    .checkpoint(Pos::End(3))
                    .flags(&["truncated"]),
                cri("next", 4),
            ],
        )
    },
    Case {
        max_line_bytes: 5,
        ..case(
            "a join is cut on a character boundary",
            &[
                b"2026-11-24T06:54:58.123456789Z stdout P abcd",
                "2026-11-24T06:54:58.123456789Z stdout F é!".as_bytes(),
            ],
            &[cri("abcd", 0)
                .checkpoint(Pos::End(1))
                .flags(&["truncated"])],
        )
    },
    case(
        "flush_all ships pending partials in file order",
        &[
            b"2026-11-24T06:54:58.123456789Z stderr P first",
            b"2026-11-24T06:54:58.123456789Z stdout P second",
        ],
        &[
            cri("first", 0)
                .stderr()
                .checkpoint(Pos::Start(1))
                .flags(&["partial"]),
            cri("second", 1).flags(&["partial"]),
        ],
    ),
    case(
        "docker log ending in an escaped backslash and n is partial",
        &[br#"{"log":"not a newline\\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#],
        &[docker("not a newline\\n", 0).flags(&["partial"])],
    ),
    case(
        "format switch mid-partial flushes the pending part",
        &[
            b"2026-11-24T06:54:58.123456789Z stdout P cri part",
            br#"{"log":"dock\n","stream":"stdout","time":"2019-01-01T11:11:11.111111111Z"}"#,
            br#"{"log":"docker part","stream":"stderr","time":"2019-01-01T11:11:11.111111111Z"}"#,
            b"2026-11-24T06:54:58.123456789Z stderr F cri",
        ],
        &[
            cri("cri part", 0).flags(&["partial"]),
            docker("dock", 1),
            docker("docker part", 2).stderr().flags(&["partial"]),
            cri("cri", 3).stderr(),
        ],
    ),
];

/// The file position `pos` names, with each line followed by a newline.
fn position(lines: &[&[u8]], pos: Pos) -> u64 {
    let start = |i: usize| lines[..i].iter().map(|l| l.len() as u64 + 1).sum::<u64>();
    match pos {
        Pos::Start(i) => start(i),
        Pos::End(i) => start(i) + lines[i].len() as u64 + 1,
    }
}

fn origin() -> std::sync::Arc<Origin> {
    Origin::new("/var/log/containers/x.log".into(), Default::default())
}

/// Pushes the case's lines, then flushes; the events, and the stats counted on the way.
pub fn run(case: &Case) -> (Vec<Event>, super::ParseStats) {
    let mut parser = LineParser::new(origin(), case.max_line_bytes, Duration::from_secs(5));
    let now = Instant::now();
    let mut out = Vec::new();
    for (i, bytes) in case.lines.iter().enumerate() {
        let line = Line {
            bytes: Bytes::from_static(bytes),
            offset: position(case.lines, Pos::Start(i)),
            end: position(case.lines, Pos::End(i)),
            truncated: false,
        };
        parser.push(line, now, &mut out);
    }
    parser.flush_all(&mut out);
    (out, parser.stats())
}

fn rfc3339(ts: Timestamp) -> String {
    let mut out = Vec::new();
    ts.write_rfc3339(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_case() {
    for case in CASES {
        let name = case.name;
        let before = Timestamp::now();
        let (events, stats) = run(case);
        let after = Timestamp::now();
        let got: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
        let want: Vec<_> = case.expect.iter().map(|e| e.message).collect();
        assert_eq!(got, want, "{name}: messages");
        for (event, expect) in events.iter().zip(case.expect) {
            let what = format!("{name}: {:?}", expect.message);
            assert_eq!(event.stream, expect.stream, "{what}: stream");
            assert_eq!(event.format, expect.format, "{what}: format");
            match expect.timestamp {
                Some(ts) => assert_eq!(rfc3339(event.timestamp), ts, "{what}: timestamp"),
                None => assert!(
                    (before..=after).contains(&event.timestamp),
                    "{what}: timestamp should be the read time"
                ),
            }
            assert_eq!(
                event.original_timestamp.as_deref(),
                expect.original,
                "{what}: original timestamp"
            );
            let offset = position(case.lines, Pos::Start(expect.line));
            assert_eq!(event.offset, offset, "{what}: offset");
            let checkpoint = position(case.lines, expect.checkpoint);
            assert_eq!(event.checkpoint, checkpoint, "{what}: checkpoint");
            let flags: Vec<_> = event.flags.names().collect();
            assert_eq!(flags, expect.flags, "{what}: flags");
        }
        let flagged = |flag| {
            case.expect
                .iter()
                .filter(|e| e.flags.contains(&flag))
                .count() as u64
        };
        assert_eq!(stats.lines, case.lines.len() as u64, "{name}: lines");
        assert_eq!(stats.unparsed, flagged("unparsed"), "{name}: unparsed");
        assert_eq!(stats.invalid_utf8, flagged("invalid_utf8"), "{name}");
        assert_eq!(stats.partial_flushed, flagged("partial"), "{name}");
        assert_eq!(stats.truncated, flagged("truncated"), "{name}");
    }
}
