//! `fixtures/multiline/`: stack traces printed by the real runtimes (see its `generate`), written with
//! ordinary lines of both streams through a CRI writer. Read as the tailer reads (small reads, the end of
//! each a flush point), each trace is exactly one event equal to it, and no ordinary line is joined.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Multiline;
use crate::event::{Event, Flags, Origin, Stream};
use crate::parse::{LineParser, MultilinePlan};
use crate::tail::Framer;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/multiline")
}

/// The events of one CRI file read in `read`-byte reads, flushing what expired at the end of each.
fn events(path: &Path, settings: &Multiline, read: usize) -> Vec<Event> {
    let origin = Origin::new(path.display().to_string(), Default::default());
    let max = 1 << 20;
    let mut parser = LineParser::new(origin, max, Duration::from_secs(5))
        .with_multiline(MultilinePlan::new(settings, max as u64));
    let mut framer = Framer::new(0, max);
    let now = Instant::now();
    let mut out = Vec::new();
    for chunk in std::fs::read(path).unwrap().chunks(read) {
        framer.extend(chunk);
        while let Some(line) = framer.next_line() {
            parser.push(line, now, &mut out);
        }
        parser.flush_expired(now, &mut out);
    }
    parser.flush_all(&mut out);
    out
}

/// (stream, message, joined) of each event of `stream`, in order.
fn of_stream(events: &[Event], stream: Stream) -> Vec<(String, bool)> {
    events
        .iter()
        .filter(|e| e.stream == Some(stream))
        .map(|e| {
            let joined = e.flags.contains(Flags::MULTILINE);
            (e.message.as_str().to_owned(), joined)
        })
        .collect()
}

fn expected(path: &Path, stream: Stream) -> Vec<(String, bool)> {
    let name = path.file_stem().unwrap().to_str().unwrap();
    let file = dir().join("expected").join(format!("{name}.json"));
    let all: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == stream.as_str())
        .map(|e| {
            let message = e["message"].as_str().unwrap().to_owned();
            (message, e["joined"].as_bool().unwrap())
        })
        .collect()
}

fn containers() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir().join("containers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6, "the generated files are all there");
    files
}

#[test]
fn each_trace_is_one_event_equal_to_it_and_no_ordinary_line_is_joined() {
    // Deep enough for the deepest fixture (Python's, 1,866 lines): here every trace must be whole.
    let settings = Multiline {
        max_lines: 5000,
        ..Multiline::default()
    };
    let mut traces = 0;
    for path in containers() {
        for read in [4096, 64 * 1024] {
            let events = events(&path, &settings, read);
            for stream in [Stream::Stdout, Stream::Stderr] {
                let got = of_stream(&events, stream);
                let want = expected(&path, stream);
                assert_eq!(got.len(), want.len(), "{} {stream:?}", path.display());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "{} {stream:?}", path.display());
                }
                traces += want.iter().filter(|(_, joined)| *joined).count();
            }
        }
    }
    assert_eq!(
        traces,
        2 * 11,
        "every trace of every file, at both read sizes"
    );
}

#[test]
fn a_trace_deeper_than_max_lines_ships_in_pieces_that_lose_nothing() {
    let path = containers()
        .into_iter()
        .find(|p| p.to_str().unwrap().contains("billing-java"))
        .unwrap();
    let events = events(&path, &Multiline::default(), 64 * 1024);
    let deep = std::fs::read_to_string(dir().join("traces/java_deep.txt")).unwrap();
    let deep = deep.trim_end();
    let stderr: Vec<&Event> = events
        .iter()
        .filter(|e| e.stream == Some(Stream::Stderr) && e.flags.contains(Flags::MULTILINE))
        .collect();
    let start = stderr
        .iter()
        .position(|e| deep.starts_with(e.message.as_str()))
        .expect("the deep trace's head");
    let (first, rest) = (&stderr[start], &stderr[start + 1]);
    assert_eq!(first.message.as_str().lines().count(), 500);
    assert!(first.flags.contains(Flags::MULTILINE_TRUNCATED));
    assert!(!rest.flags.contains(Flags::MULTILINE_TRUNCATED));
    assert_eq!(
        format!("{}\n{}", first.message.as_str(), rest.message.as_str()),
        deep
    );
}
