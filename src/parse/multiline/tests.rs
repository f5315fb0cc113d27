//! The joiner through the parser, as the pipeline drives it: CRI lines in, events out, checkpoints held.
//! Filebeat's documented examples of `pattern`/`negate`/`match` are cases here.
//!
//! Over 400 lines because each case is one test (18 of them, each a few lines of input and the events
//! it must become), beside the joiner they test.

use std::time::Duration;

use bytes::Bytes;

use crate::config::Multiline;
use crate::event::{Event, Flags, Origin};
use crate::parse::{LineParser, MultilinePlan};
use crate::tail::Line;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A file's parser with the `multiline.` settings given as annotations would give them.
fn parser(settings: &[(&str, &str)]) -> LineParser {
    let settings = Multiline::from_settings(settings.iter().copied()).expect("valid settings");
    let origin = Origin::new("/var/log/containers/x.log".into(), Default::default());
    LineParser::new(origin, 1024 * 1024, TIMEOUT)
        .with_multiline(MultilinePlan::new(&settings, 1 << 20))
}

/// Feeds CRI lines of one stream (`O` stdout / `E` stderr prefix picks the stream), each at the offset
/// following the one before; returns the events and the end of the last line.
struct Feed {
    parser: LineParser,
    offset: u64,
    now: Instant,
    out: Vec<Event>,
}

impl Feed {
    fn new(settings: &[(&str, &str)]) -> Feed {
        Feed {
            parser: parser(settings),
            offset: 0,
            now: Instant::now(),
            out: Vec::new(),
        }
    }

    fn line(&mut self, stream: &str, message: &str) -> u64 {
        let bytes = Bytes::from(format!(
            "2026-12-06T10:00:00.000000001Z {stream} F {message}"
        ));
        let start = self.offset;
        self.offset += bytes.len() as u64 + 1;
        let line = Line {
            bytes,
            offset: start,
            end: self.offset,
            truncated: false,
        };
        self.parser.push(line, self.now, &mut self.out);
        start
    }

    fn lines(&mut self, messages: &[&str]) {
        for m in messages {
            self.line("stdout", m);
        }
    }

    fn finish(mut self) -> Vec<Event> {
        self.parser.flush_all(&mut self.out);
        self.out
    }

    fn messages(self) -> Vec<String> {
        self.finish()
            .iter()
            .map(|e| e.message.as_str().to_owned())
            .collect()
    }
}

fn messages_and_flags(events: &[Event]) -> Vec<(&str, Flags)> {
    events
        .iter()
        .map(|e| (e.message.as_str(), e.flags))
        .collect()
}

fn pattern(
    pattern: &'static str,
    negate: &'static str,
    matches: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("type", "pattern"),
        ("pattern", pattern),
        ("negate", negate),
        ("match", matches),
    ]
}

#[test]
fn filebeat_java_example_joins_indented_lines_after() {
    let mut feed = Feed::new(&pattern("^[[:space:]]", "false", "after"));
    feed.lines(&[
        "Exception in thread \"main\" java.lang.NullPointerException",
        "        at com.example.myproject.Book.getTitle(Book.java:16)",
        "        at com.example.myproject.Author.getBookTitles(Author.java:25)",
        "        at com.example.myproject.Bootstrap.main(Bootstrap.java:14)",
        "next event",
    ]);
    let events = feed.finish();
    assert_eq!(events.len(), 2);
    assert!(events[0].message.as_str().ends_with("Bootstrap.java:14)"));
    assert_eq!(events[0].message.as_str().lines().count(), 4);
    assert_eq!(events[0].flags, Flags::MULTILINE);
    assert_eq!(events[1].message.as_str(), "next event");
    assert_eq!(
        events[1].flags,
        Flags::empty(),
        "a lone line is not flagged"
    );
}

#[test]
fn filebeat_caused_by_example() {
    let mut feed = Feed::new(&pattern(
        r"^[[:space:]]+(at|\.{3})[[:space:]]+\b|^Caused by:",
        "false",
        "after",
    ));
    feed.lines(&[
        "Exception in thread \"main\" java.lang.IllegalStateException: A book has a null property",
        "       at com.example.myproject.Author.getBookIds(Author.java:38)",
        "       at com.example.myproject.Bootstrap.main(Bootstrap.java:14)",
        "Caused by: java.lang.NullPointerException",
        "       at com.example.myproject.Book.getId(Book.java:22)",
        "       ... 1 more",
        "after",
    ]);
    assert_eq!(feed.messages().len(), 2);
}

#[test]
fn filebeat_line_continuation_example_joins_before() {
    let mut feed = Feed::new(&pattern(r"\\$", "false", "before"));
    feed.lines(&[
        r#"printf ("%10.10ld  \t %10.10ld \t %s\"#,
        r#"  %f", w, x, y, z );"#,
        "alone",
        "a \\",
        "b \\",
        "c",
        "d",
    ]);
    assert_eq!(
        feed.messages(),
        [
            "printf (\"%10.10ld  \\t %10.10ld \\t %s\\\n  %f\", w, x, y, z );",
            "alone",
            "a \\\nb \\\nc",
            "d"
        ]
    );
}

#[test]
fn filebeat_timestamp_example_negate_after() {
    let mut feed = Feed::new(&pattern(r"^\[[0-9]{4}-[0-9]{2}-[0-9]{2}", "true", "after"));
    feed.lines(&[
        "[2015-08-24 11:49:14,389][INFO ][env                      ] [Letha] using [1] data paths",
        "  mounts [[/ (/dev/disk1)]], net usable_space [34.5gb]",
        "[2015-08-24 11:49:15,000][INFO ][node ] started",
    ]);
    let messages = feed.messages();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].contains("\n  mounts"));
}

#[test]
fn filebeat_application_events_example_flush_pattern() {
    let mut settings = pattern("Start new event", "true", "after");
    settings.push(("flush_pattern", "End event"));
    let mut feed = Feed::new(&settings);
    feed.lines(&[
        "[2015-08-24 11:49:14,389] Start new event",
        "[2015-08-24 11:49:14,395] Content of processing something",
        "[2015-08-24 11:49:14,399] End event",
        "[2015-08-24 11:50:14,389] Some other log",
        "[2015-08-24 11:50:14,395] Some other log",
        "[2015-08-24 11:50:14,399] Some other log",
        "[2015-08-24 11:51:14,389] Start new event",
        "[2015-08-24 11:51:14,395] Content of processing something",
        "[2015-08-24 11:51:14,399] End event",
    ]);
    let messages = feed.messages();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].ends_with("End event") && messages[0].lines().count() == 3);
    assert_eq!(
        messages[1].lines().count(),
        3,
        "lines not matching join the previous one"
    );
    assert!(messages[2].ends_with("End event"));
}

#[test]
fn negate_before_prepends_lines_to_the_next_matching_one() {
    let mut feed = Feed::new(&pattern("^END", "true", "before"));
    feed.lines(&["a", "b", "END 1", "c", "END 2"]);
    assert_eq!(feed.messages(), ["a\nb\nEND 1", "c\nEND 2"]);
}

#[test]
fn count_and_while_pattern() {
    let mut feed = Feed::new(&[("type", "count"), ("count_lines", "3")]);
    feed.lines(&["1", "2", "3", "4", "5"]);
    assert_eq!(feed.messages(), ["1\n2\n3", "4\n5"]);

    let mut feed = Feed::new(&[("type", "while_pattern"), ("pattern", "^ ")]);
    feed.lines(&["head", " a", " b", "tail", " c"]);
    assert_eq!(feed.messages(), ["head", " a\n b", "tail", " c"]);

    let mut feed = Feed::new(&[
        ("type", "while_pattern"),
        ("pattern", "^ "),
        ("negate", "true"),
    ]);
    feed.lines(&["x", "y", " z", "w"]);
    assert_eq!(feed.messages(), ["x\ny", " z", "w"]);
}

#[test]
fn a_json_object_is_never_joined() {
    let mut feed = Feed::new(&pattern("^[[:space:]]", "false", "after"));
    feed.lines(&[
        "head",
        r#"  {"level":"info"}"#,
        " frame",
        r#"{"a":1}"#,
        " orphan",
    ]);
    assert_eq!(
        feed.messages(),
        [
            "head",
            r#"  {"level":"info"}"#,
            " frame",
            r#"{"a":1}"#,
            " orphan"
        ]
    );
}

#[test]
fn max_lines_cuts_and_the_rest_follows_flagged_as_a_continuation() {
    let mut settings = pattern("^[[:space:]]", "false", "after");
    settings.push(("max_lines", "3"));
    let mut feed = Feed::new(&settings);
    feed.lines(&["head", " 1", " 2", " 3", " 4", "next"]);
    let events = feed.finish();
    let got = messages_and_flags(&events);
    assert_eq!(
        got,
        [
            (
                "head\n 1\n 2",
                Flags::MULTILINE | Flags::MULTILINE_TRUNCATED
            ),
            (" 3\n 4", Flags::MULTILINE),
            ("next", Flags::empty()),
        ]
    );
}

#[test]
fn max_bytes_bounds_a_group() {
    let mut settings = pattern("^[[:space:]]", "false", "after");
    settings.push(("max_bytes", "1KiB"));
    let mut feed = Feed::new(&settings);
    let frame = format!(" {}", "x".repeat(299));
    feed.lines(&["head", &frame, &frame, &frame, &frame]);
    let events = feed.finish();
    assert_eq!(events.len(), 2);
    assert!(events[0].message.len() <= 1024);
    assert_eq!(events[0].message.as_str().lines().count(), 4);
    assert!(events[0].flags.contains(Flags::MULTILINE_TRUNCATED));
    assert_eq!(events[1].message.as_str(), frame);
    assert_eq!(events[1].flags, Flags::MULTILINE);
}

#[test]
fn a_trace_whose_tail_comes_after_the_timeout_ships_as_two_flagged_events() {
    let mut feed = Feed::new(&[]);
    feed.lines(&[
        "java.lang.IllegalStateException: boom",
        "\tat com.funlynk.A.a(A.java:1)",
    ]);
    assert!(feed.out.is_empty(), "the trace is still open");
    let deadline = feed.parser.next_deadline().expect("a deadline");
    assert_eq!(deadline, feed.now + TIMEOUT);
    feed.parser.flush_expired(feed.now + TIMEOUT, &mut feed.out);
    assert_eq!(feed.out.len(), 1);
    feed.now += TIMEOUT * 2;
    feed.lines(&[
        "\tat com.funlynk.B.b(B.java:2)",
        "\tat com.funlynk.C.c(C.java:3)",
    ]);
    feed.line("stdout", "after the trace");
    let events = feed.finish();
    let got = messages_and_flags(&events);
    assert_eq!(
        got,
        [
            (
                "java.lang.IllegalStateException: boom\n\tat com.funlynk.A.a(A.java:1)",
                Flags::MULTILINE
            ),
            (
                "\tat com.funlynk.B.b(B.java:2)\n\tat com.funlynk.C.c(C.java:3)",
                Flags::MULTILINE
            ),
            ("after the trace", Flags::empty()),
        ]
    );
}

#[test]
fn a_lone_tail_line_after_the_timeout_is_still_flagged_a_continuation() {
    let mut feed = Feed::new(&[]);
    feed.lines(&["Error: boom", "    at main (/app/x.js:1:2)"]);
    feed.parser.flush_expired(feed.now + TIMEOUT, &mut feed.out);
    feed.lines(&["    at /app/x.js:9:9"]);
    let events = feed.finish();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].flags, Flags::MULTILINE);
}

#[test]
fn a_group_holds_the_checkpoint_at_its_first_line_and_ships_with_its_offsets() {
    let mut feed = Feed::new(&[]);
    let before = feed.line("stdout", "ordinary");
    let head = feed.line("stdout", "Traceback (most recent call last):");
    assert_eq!(feed.out.len(), 1, "the line before shipped");
    assert_eq!(feed.out[0].offset, before);
    assert_eq!(
        feed.out[0].checkpoint, head,
        "past the line, not past the trace's start"
    );
    feed.line("stdout", "  File \"/app/main.py\", line 3, in <module>");
    let interleaved = feed.line("stderr", "10.0.0.1 - - \"GET / HTTP/1.1\" 200");
    // The end of a read: the lone stderr line ships, the open trace does not.
    feed.parser.flush_expired(feed.now, &mut feed.out);
    feed.line("stdout", "    charge()");
    let last = feed.line("stdout", "KeyError: 'card'");
    assert_eq!(feed.parser.pending_offset(), Some(head));
    let after = feed.line("stdout", "INFO next request");
    let events = feed.finish();
    let trace = events
        .iter()
        .find(|e| e.message.as_str().starts_with("Traceback"))
        .unwrap();
    assert_eq!(trace.offset, head);
    assert_eq!(trace.message.as_str().lines().count(), 4);
    assert!(trace.checkpoint >= after, "past its last line ({last})");
    let stderr = events.iter().find(|e| e.offset == interleaved).unwrap();
    assert!(
        stderr.checkpoint <= head,
        "an event shipped while the trace is open never moves the checkpoint past the trace"
    );
    let checkpoints: Vec<u64> = events.iter().map(|e| e.checkpoint).collect();
    assert!(
        checkpoints.windows(2).all(|w| w[0] <= w[1]),
        "never moves back: {checkpoints:?}"
    );
}

#[test]
fn streams_are_joined_separately() {
    let mut feed = Feed::new(&[]);
    feed.line("stderr", "java.lang.RuntimeException: boom");
    feed.line("stdout", "GET /healthz 200");
    feed.line("stderr", "\tat com.funlynk.A.a(A.java:1)");
    feed.line("stdout", "GET /healthz 200");
    feed.line("stderr", "\tat com.funlynk.B.b(B.java:2)");
    let events = feed.finish();
    assert_eq!(events.len(), 3);
    let trace = events.iter().find(|e| e.flags == Flags::MULTILINE).unwrap();
    assert_eq!(trace.message.as_str().lines().count(), 3);
}

#[test]
fn in_auto_a_lone_ordinary_line_ships_at_the_end_of_the_read_and_a_head_waits() {
    let mut feed = Feed::new(&[]);
    feed.line("stdout", "GET /healthz 200");
    feed.line("stderr", "java.lang.RuntimeException: boom");
    feed.parser.flush_expired(feed.now, &mut feed.out);
    assert_eq!(feed.out.len(), 1);
    assert_eq!(feed.out[0].message.as_str(), "GET /healthz 200");
    assert!(
        feed.parser.pending_offset().is_some(),
        "the head waits for its frames"
    );
    feed.parser.flush_expired(feed.now + TIMEOUT, &mut feed.out);
    assert_eq!(feed.out.len(), 2);
    assert_eq!(feed.parser.pending_offset(), None);
}

#[test]
fn a_blank_line_after_a_python_trace_is_its_own_event() {
    let mut feed = Feed::new(&[]);
    feed.lines(&[
        "Traceback (most recent call last):",
        "  File \"/app/main.py\", line 3, in <module>",
        "    charge()",
        "KeyError: 'card'",
        "",
        "next",
    ]);
    assert_eq!(
        feed.messages(),
        [
            "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    charge()\nKeyError: 'card'",
            "",
            "next"
        ]
    );
}

#[test]
fn type_none_ships_every_line() {
    let mut feed = Feed::new(&[("type", "none")]);
    feed.lines(&["java.lang.RuntimeException: boom", "\tat a.B.c(B.java:1)"]);
    assert_eq!(feed.out.len(), 2, "nothing is held");
}

mod ordinary {
    //! No ordinary line is ever joined in `auto`: structured and access logs, klog, logfmt, prose, and
    //! lines that merely begin with spaces, on both streams in any order.

    use proptest::prelude::*;

    use super::*;

    fn ordinary_line() -> impl Strategy<Value = String> {
        prop_oneof![
            (any::<u16>(), "[a-z ]{0,20}")
                .prop_map(|(n, m)| format!(r#"{{"level":"info","n":{n},"msg":"{m}"}}"#)),
            (any::<u8>(), any::<u8>(), "/[a-z/]{0,20}", 100u16..600)
                .prop_map(|(a, b, p, s)| format!(
                    r#"10.42.{a}.{b} - - [06/Dec/2026:10:00:00 +0000] "GET {p} HTTP/1.1" {s} 512 "-" "curl/8""#
                )),
            ("[IWE]", 0u32..1_000_000, "[a-z_]{1,12}", 1u16..999, "[A-Za-z ]{0,30}")
                .prop_map(|(l, us, file, line, m)| format!(
                    "{l}1206 10:00:00.{us:06}       1 {file}.go:{line}] {m}"
                )),
            ("[a-z]{1,8}", "[a-z0-9]{0,8}", "[a-z ()]{0,20}")
                .prop_map(|(k, v, m)| format!("ts=2026-12-06T10:00:00Z level=info {k}={v} msg=\"{m}\"")),
            (" {1,8}", "[a-zA-Z0-9 ,;=!?'-]{0,40}").prop_map(|(s, text)| format!("{s}{text}")),
            "[A-Z][a-zA-Z0-9 ,.;:=!?()'-]{0,60}",
            Just(String::new()),
        ]
    }

    proptest! {
        #[test]
        fn ordinary_lines_are_never_joined(
            lines in proptest::collection::vec((any::<bool>(), ordinary_line(), any::<bool>()), 1..60)
        ) {
            let mut feed = Feed::new(&[]);
            let mut want = [Vec::new(), Vec::new()];
            for (stderr, message, end_of_read) in &lines {
                let stream = if *stderr { "stderr" } else { "stdout" };
                feed.line(stream, message);
                want[usize::from(*stderr)].push(message.clone());
                if *end_of_read {
                    feed.parser.flush_expired(feed.now, &mut feed.out);
                }
            }
            let events = feed.finish();
            let mut got = [Vec::new(), Vec::new()];
            for event in &events {
                prop_assert!(!event.flags.contains(Flags::MULTILINE), "{:?}", event.message);
                let slot = usize::from(event.stream == Some(crate::event::Stream::Stderr));
                got[slot].push(event.message.as_str().to_owned());
            }
            prop_assert_eq!(got, want);
        }
    }
}
