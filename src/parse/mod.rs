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
#[cfg(test)]
mod tests;

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

    /// Joins lines as `plan` says from now on (a pod's multiline hints came or changed); a group the
    /// old plan has open ships first, into `out`.
    pub fn set_multiline(&mut self, plan: Arc<MultilinePlan>, out: &mut Vec<Event>) {
        self.flush_groups(out);
        self.multiline = multiline::Joiner::new(plan);
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
