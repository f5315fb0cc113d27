//! Raw lines to events: which format a line is in, its parts, long lines joined back together, and the
//! lines of one event (a stack trace) joined into one.
//!
//! This is the hot path. A complete line costs no allocation: its message is a slice of the buffer the
//! line was read into. Only joined lines, docker messages with escapes, and lines that need repair are
//! copied.

mod cri;
mod docker;
mod multiline;
mod partial;
mod parts;
mod stats;
mod utf8;

#[cfg(test)]
pub mod cases;
#[cfg(test)]
mod proptests;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use cri::parse_cri;
pub use docker::parse_docker;
pub use multiline::{MultilinePlan, MultilineRules};
pub use parts::{LineTime, ParseError, Parts};
pub use stats::ParseStats;

use crate::event::{Event, Flags, Format, Origin, Timestamp};
use crate::tail::Line;
use partial::{Joiner, Piece};

/// Every event leaves the parser with its checkpoint past its own last line, then held back here (see
/// `LineParser::settle`): the one place the at-least-once rule for lines still being joined is applied.
use utf8::to_text;

/// Parses the lines of one file, in order. It holds that file's pending partial lines, so make exactly one
/// per file and push every line of the file through it.
/// Where in `out` a call put lines taken over from the file before: one per stream at most.
type Carried = Vec<usize>;

#[derive(Debug)]
pub struct LineParser {
    origin: Arc<Origin>,
    joiner: Joiner,
    multiline: multiline::Joiner,
    stats: ParseStats,
}

impl LineParser {
    /// `max_line_bytes` bounds a joined line; `partial_timeout` is how long a partial line may wait for
    /// its end before it is shipped as it is.
    pub fn new(origin: Arc<Origin>, max_line_bytes: usize, partial_timeout: Duration) -> Self {
        LineParser {
            origin,
            joiner: Joiner::new(max_line_bytes, partial_timeout),
            multiline: multiline::Joiner::new(MultilinePlan::none()),
            stats: ParseStats::default(),
        }
    }

    /// Joins the lines of one event (a stack trace) as `plan` says; without it, every line is an event.
    pub fn with_multiline(mut self, plan: Arc<MultilinePlan>) -> Self {
        self.multiline = multiline::Joiner::new(plan);
        self
    }

    /// The origin new events get.
    pub fn origin(&self) -> &Arc<Origin> {
        &self.origin
    }

    /// From now on, events (including a pending partial line, when it completes) get `origin`: the
    /// file's pod metadata arrived or changed.
    pub fn set_origin(&mut self, origin: Arc<Origin>) {
        self.origin = origin;
    }

    /// Parses one framed line; appends 0 or 1 (or 2 when a format switch flushes a pending partial) events.
    ///
    /// A line in neither format is never dropped: it is shipped raw, flagged UNPARSED, stamped with the
    /// time it was read.
    pub fn push(&mut self, line: Line, now: Instant, out: &mut Vec<Event>) {
        let first = out.len();
        let mut carried_at = Carried::new();
        self.stats.lines += 1;
        let Line {
            bytes,
            offset,
            end,
            truncated,
        } = line;
        let mut flags = Flags::empty();
        if truncated {
            flags.insert(Flags::TRUNCATED);
        }
        let parsed = if bytes.first() == Some(&b'{') {
            let (text, replaced) = to_text(bytes, truncated);
            if replaced {
                flags.insert(Flags::INVALID_UTF8);
            }
            parse_docker(&text)
                .map(|parts| (Format::Docker, parts))
                .map_err(|_| text)
        } else {
            parse_cri(&bytes)
                .map(|parts| (Format::Cri, parts))
                .map_err(|_| {
                    let (text, replaced) = to_text(bytes, truncated);
                    if replaced {
                        flags.insert(Flags::INVALID_UTF8);
                    }
                    text
                })
        };
        match parsed {
            Ok((format, parts)) => {
                let piece = Piece {
                    format,
                    parts,
                    offset,
                    end,
                    flags,
                };
                let multiline = &mut self.multiline;
                self.joiner
                    .push(&self.origin, piece, now, &mut |event, carried| {
                        multiline.push(event, carried, now, out);
                        if carried {
                            carried_at.push(out.len() - 1);
                        }
                    });
            }
            Err(raw) => {
                let mut event = Event::new(self.origin.clone(), Timestamp::now(), raw, offset);
                event.flags = flags | Flags::UNPARSED;
                event.checkpoint = end;
                self.multiline.push(event, false, now, out);
            }
        }
        self.settle(first, out, &carried_at);
    }

    /// Flushes partials pending longer than partial_timeout, flagged PARTIAL, and joined events whose
    /// multiline timeout passed (in `auto`, a lone line that does not look like a trace's head too: the
    /// reading round that read it is over).
    pub fn flush_expired(&mut self, now: Instant, out: &mut Vec<Event>) {
        let first = out.len();
        let mut carried_at = Carried::new();
        let multiline = &mut self.multiline;
        self.joiner
            .flush_expired(&self.origin, now, &mut |event, carried| {
                multiline.push(event, carried, now, out);
                if carried {
                    carried_at.push(out.len() - 1);
                }
            });
        self.multiline.flush_expired(now, out);
        self.settle(first, out, &carried_at);
    }

    /// Flushes every pending partial flagged PARTIAL, and every open multiline group (end of file in
    /// --no-follow mode, shutdown, a rotated file finished).
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        let first = out.len();
        let mut carried_at = Carried::new();
        let multiline = &mut self.multiline;
        let now = Instant::now();
        self.joiner.flush_all(&self.origin, &mut |event, carried| {
            multiline.push(event, carried, now, out);
            if carried {
                carried_at.push(out.len() - 1);
            }
        });
        self.multiline.flush_all(out);
        self.settle(first, out, &carried_at);
    }

    /// Ships every open multiline group, leaving partial lines pending: the agent stops, or `--no-follow`
    /// read everything there is. A group is whole lines, so nothing is lost by shipping it now; a
    /// partial line's end is still to be written, so it is read again by the next run instead.
    pub fn flush_groups(&mut self, out: &mut Vec<Event>) {
        let first = out.len();
        self.multiline.flush_all(out);
        self.settle(first, out, &[]);
    }

    /// The events this call produced (`out[first..]`) get their checkpoints held back before any line
    /// still being joined (a partial line, an open multiline group, a line lent to the next file) and
    /// before any line of an event that follows them (joiners ship in the order groups end, not
    /// begin), so resuming from any event's checkpoint re-reads every line not yet shipped. A line
    /// taken over from the file before (`carried`) has that file's offsets, so it holds nothing here.
    fn settle(&mut self, first: usize, out: &mut [Event], carried: &[usize]) {
        let mut floor = self.pending_offset().unwrap_or(u64::MAX);
        for (i, event) in out.iter_mut().enumerate().skip(first).rev() {
            event.checkpoint = event.checkpoint.min(floor);
            if !carried.contains(&i) {
                floor = floor.min(event.offset);
            }
        }
        self.stats.count(&out[first..]);
    }

    /// The lines of this parser's file continue those of `previous` (the same container's next file
    /// after a rotation, read from `start`): a line `previous` left partial is completed here. Returns
    /// where `previous` may be checkpointed once what was taken over is shipped (`carries` turns false
    /// in the call that ships it); `previous`'s checkpoint stays before the line until then.
    pub fn take_over(&mut self, previous: &mut LineParser, start: u64) -> Option<u64> {
        self.joiner.take_over(&mut previous.joiner, start)
    }

    /// Whether a line taken over from the file before is still pending.
    pub fn carries(&self) -> bool {
        self.joiner.carries()
    }

    /// Offset of the earliest line still being joined (a partial's first part, a multiline group's first
    /// line), if any: the registry must not pass it.
    pub fn pending_offset(&self) -> Option<u64> {
        [
            self.joiner.pending_offset(),
            self.multiline.pending_offset(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// When the earliest pending partial or multiline group will expire, so the caller can schedule a
    /// wake-up.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.joiner.next_deadline(), self.multiline.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn stats(&self) -> ParseStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn parser(max_line_bytes: usize) -> LineParser {
        let origin = Origin::new("/var/log/containers/x.log".into(), Default::default());
        LineParser::new(origin, max_line_bytes, TIMEOUT)
    }

    fn line(bytes: impl Into<Bytes>, offset: u64) -> Line {
        let bytes = bytes.into();
        let end = offset + bytes.len() as u64 + 1;
        Line {
            bytes,
            offset,
            end,
            truncated: false,
        }
    }

    #[test]
    fn a_cri_message_is_a_slice_of_the_line() {
        let mut out = Vec::new();
        let bytes = Bytes::from(b"2026-11-24T06:54:58.1Z stdout F zero copy".to_vec());
        let range = bytes.as_ptr_range();
        parser(1024).push(line(bytes, 0), Instant::now(), &mut out);
        assert_eq!(out[0].message.as_str(), "zero copy");
        assert!(range.contains(&out[0].message.as_bytes().as_ptr()));
    }

    #[test]
    fn a_docker_message_without_escapes_is_a_slice_of_the_line() {
        let mut out = Vec::new();
        let bytes = Bytes::from(
            br#"{"log":"zero copy\n","stream":"stdout","time":"2019-01-01T00:00:00Z"}"#.to_vec(),
        );
        let range = bytes.as_ptr_range();
        parser(1024).push(line(bytes, 0), Instant::now(), &mut out);
        assert_eq!(out[0].message.as_str(), "zero copy");
        assert!(range.contains(&out[0].message.as_bytes().as_ptr()));
    }

    #[test]
    fn a_partial_line_is_flushed_after_the_timeout() {
        let t0 = Instant::now();
        let mut parser = parser(1024);
        let mut out = Vec::new();
        assert_eq!(parser.next_deadline(), None);
        parser.push(line("2026-11-24T06:54:58Z stdout P wait", 10), t0, &mut out);
        parser.push(
            line("2026-11-24T06:54:58Z stderr F e", 50),
            t0 + Duration::from_secs(1),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].checkpoint, 10,
            "the pending partial holds the checkpoint"
        );
        assert_eq!(parser.pending_offset(), Some(10));
        assert_eq!(parser.next_deadline(), Some(t0 + TIMEOUT));

        out.clear();
        parser.flush_expired(t0 + Duration::from_secs(4), &mut out);
        assert!(out.is_empty());
        parser.flush_expired(t0 + Duration::from_secs(6), &mut out);
        assert_eq!(out.len(), 1);
        let event = &out[0];
        assert_eq!(event.message.as_str(), "wait");
        assert_eq!(event.flags, Flags::PARTIAL);
        assert_eq!((event.offset, event.checkpoint), (10, 45));
        assert_eq!(parser.pending_offset(), None);
        assert_eq!(parser.next_deadline(), None);
        assert_eq!(parser.stats().partial_flushed, 1);
    }

    #[test]
    fn the_deadline_runs_from_the_first_part() {
        let t0 = Instant::now();
        let mut parser = parser(1024);
        let mut out = Vec::new();
        parser.push(line("2026-11-24T06:54:58Z stdout P a", 0), t0, &mut out);
        parser.push(
            line("2026-11-24T06:54:58Z stdout P b", 32),
            t0 + Duration::from_secs(4),
            &mut out,
        );
        assert_eq!(parser.next_deadline(), Some(t0 + TIMEOUT));
        parser.flush_expired(t0 + TIMEOUT, &mut out);
        assert_eq!(out[0].message.as_str(), "ab");
    }

    #[test]
    fn a_huge_timeout_never_expires_and_does_not_panic() {
        let origin = Origin::new("x.log".into(), Default::default());
        let mut parser = LineParser::new(origin, 1024, Duration::MAX);
        let mut out = Vec::new();
        parser.push(
            line("2026-11-24T06:54:58Z stdout P a", 0),
            Instant::now(),
            &mut out,
        );
        assert_eq!(parser.next_deadline(), None);
        assert_eq!(parser.pending_offset(), Some(0));
        parser.flush_all(&mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn a_line_the_tailer_cut_is_parsed_and_flagged() {
        let mut parser = parser(1024);
        let mut out = Vec::new();
        let mut cut = line(&b"2026-11-24T06:54:58Z stdout F caf\xc3"[..], 0);
        cut.truncated = true;
        parser.push(cut, Instant::now(), &mut out);
        let event = &out[0];
        assert_eq!(
            event.message.as_str(),
            "caf",
            "the half character is dropped"
        );
        assert_eq!(event.flags, Flags::TRUNCATED);
        assert_eq!(event.format, Some(Format::Cri));

        let mut cut = line(r#"{"log":"abc"#, 100);
        cut.truncated = true;
        parser.push(cut, Instant::now(), &mut out);
        assert_eq!(out[1].message.as_str(), r#"{"log":"abc"#);
        assert_eq!(out[1].flags, Flags::TRUNCATED | Flags::UNPARSED);
        assert_eq!(
            parser.stats(),
            ParseStats {
                lines: 2,
                unparsed: 1,
                invalid_utf8: 0,
                partial_flushed: 0,
                truncated: 2,
            }
        );
    }

    #[test]
    fn a_line_split_by_a_rotation_is_completed_by_the_next_file() {
        let t0 = Instant::now();
        let mut old = parser(1024);
        let mut new = parser(1024);
        let mut out = Vec::new();
        old.push(line("2026-11-24T06:54:58Z stdout F whole", 0), t0, &mut out);
        old.push(line("2026-11-24T06:54:58Z stdout P hal", 36), t0, &mut out);
        assert_eq!(old.pending_offset(), Some(36));
        assert_eq!(new.take_over(&mut old, 0), Some(70), "the old file's end");
        assert!(new.carries());
        assert_eq!(old.pending_offset(), Some(36), "still held back: lent");
        assert_eq!(new.pending_offset(), Some(0), "the new file's start");
        // A late line of the old file cannot move its checkpoint past the line lent.
        old.push(line("2026-11-24T06:54:58Z stderr F late", 70), t0, &mut out);
        assert_eq!(out[1].checkpoint, 36);

        new.push(line("2026-11-24T06:54:58Z stdout F f", 0), t0, &mut out);
        let joined = &out[2];
        assert_eq!(joined.message.as_str(), "half");
        assert_eq!(joined.flags, Flags::empty());
        assert_eq!(
            (joined.offset, joined.checkpoint),
            (36, 32),
            "its first piece's offset; the new file's checkpoint past its last"
        );
        assert!(!new.carries());
    }

    #[test]
    fn a_line_taken_over_expires_with_its_first_deadline_and_holds_only_the_new_start() {
        let t0 = Instant::now();
        let mut old = parser(1024);
        let mut new = parser(1024);
        let mut out = Vec::new();
        old.push(line("2026-11-24T06:54:58Z stdout P half", 10), t0, &mut out);
        assert_eq!(new.take_over(&mut old, 500), Some(45));
        assert_eq!(new.next_deadline(), Some(t0 + TIMEOUT));
        assert_eq!(old.next_deadline(), None);
        new.push(line("2026-11-24T06:54:58Z stderr F e", 500), t0, &mut out);
        assert_eq!(out[0].checkpoint, 500, "held at the new file's start");
        new.flush_expired(t0 + TIMEOUT, &mut out);
        assert_eq!(out[1].message.as_str(), "half");
        assert_eq!(out[1].flags, Flags::PARTIAL);
        assert_eq!(out[1].checkpoint, 500, "never the old file's offsets");
        assert!(!new.carries());

        // Nothing pending: nothing taken over.
        let mut third = parser(1024);
        assert_eq!(third.take_over(&mut new, 0), None);
    }

    #[test]
    fn a_cut_part_is_flagged_on_the_joined_line() {
        let mut parser = parser(1024);
        let mut out = Vec::new();
        let mut cut = line("2026-11-24T06:54:58Z stdout P abc", 0);
        cut.truncated = true;
        parser.push(cut, Instant::now(), &mut out);
        parser.push(
            line("2026-11-24T06:54:58Z stdout F def", 40),
            Instant::now(),
            &mut out,
        );
        assert_eq!(out[0].message.as_str(), "abcdef");
        assert_eq!(out[0].flags, Flags::TRUNCATED);
    }
}
