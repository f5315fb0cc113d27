//! Joining the pieces of a long line back into one event.
//!
//! Runtimes split a long line into pieces (containerd and CRI-O tag all but the last `P`; docker leaves
//! the newline off all but the last). Pieces of one stream are consecutive in the file, but the other
//! stream's lines may come between them, so one line may be pending per stream.
//!
//! kubelet may rotate between two pieces: the first ends the rotated file and the rest starts the new
//! one. The new file's joiner then takes the pending line over (`take_over`) and completes it. Offsets
//! belong to one file, so a line taken over holds the new file's checkpoint at where that file starts,
//! and the old file's checkpoint stays before the line (`lent`) until the line is shipped; the caller
//! moves the old file's checkpoint past it in the same batch.
//!
//! An event leaves with its checkpoint past its own last piece; the parser then holds it back to
//! `pending_offset` (what is still being joined), so that rule lives in one place for every stage.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::utf8::to_text;
use super::{LineTime, Parts};
use crate::event::{Event, Flags, Format, Origin, Stream, Timestamp};

/// A parsed line on its way into the joiner.
#[derive(Debug)]
pub(crate) struct Piece {
    pub format: Format,
    pub parts: Parts,
    pub offset: u64,
    pub end: u64,
    /// What is already known to be wrong with the line (truncated by the tailer, UTF-8 replaced before
    /// parsing); carried into the event it ends up in.
    pub flags: Flags,
}

/// The pending partial line of each stream of one file.
#[derive(Debug)]
pub(crate) struct Joiner {
    max_line_bytes: usize,
    timeout: Duration,
    pending: [Option<Pending>; 2],
    /// Lines were taken over by the next file from this offset: this file's checkpoint stays before it.
    lent: Option<u64>,
}

#[derive(Debug)]
struct Pending {
    format: Format,
    timestamp: LineTime,
    /// The first piece's offset: the event's offset.
    offset: u64,
    /// How far back this file's checkpoint must stay: `offset`, or where this file starts for a line
    /// taken over from the file before it.
    hold: u64,
    /// The latest piece's end, in this file.
    end: u64,
    /// Begun in the file before this one.
    carried: bool,
    /// `None` when the timeout is too long to represent: never expires.
    deadline: Option<Instant>,
    message: Vec<u8>,
    flags: Flags,
    /// The message reached `max_line_bytes`; later pieces are dropped until the last one ends the line.
    full: bool,
}

impl Joiner {
    pub fn new(max_line_bytes: usize, timeout: Duration) -> Joiner {
        Joiner {
            max_line_bytes,
            timeout,
            pending: [None, None],
            lent: None,
        }
    }

    /// This file continues `previous` (the same container's next file after a rotation, read from
    /// `start`): `previous`'s pending lines are completed here. Returns where `previous` may be
    /// checkpointed once they are shipped; `previous` stays held back until then. A stream already
    /// pending here keeps its line, and `previous` keeps its own.
    pub fn take_over(&mut self, previous: &mut Joiner, start: u64) -> Option<u64> {
        let mut release = None;
        for (mine, theirs) in self.pending.iter_mut().zip(previous.pending.iter_mut()) {
            if mine.is_some() {
                continue;
            }
            let Some(mut pending) = theirs.take() else {
                continue;
            };
            previous.lent = Some(previous.lent.map_or(pending.hold, |l| l.min(pending.hold)));
            release = Some(release.map_or(pending.end, |r: u64| r.max(pending.end)));
            pending.hold = start;
            pending.end = start;
            pending.carried = true;
            *mine = Some(pending);
        }
        release
    }

    /// Whether a line taken over from the file before is still pending.
    pub fn carries(&self) -> bool {
        self.pending.iter().flatten().any(|p| p.carried)
    }

    /// Emits the piece as an event when it completes a line, and keeps it otherwise. A pending line of the
    /// same stream in the other format is emitted (flagged PARTIAL) first: its end was never written.
    /// Events go to `emit`, with whether the line was taken over from the file before.
    pub fn push(
        &mut self,
        origin: &Arc<Origin>,
        piece: Piece,
        now: Instant,
        emit: &mut impl FnMut(Event, bool),
    ) {
        let Piece {
            format,
            parts,
            offset,
            end,
            flags,
        } = piece;
        let stream = parts.stream;
        let slot = slot(stream);
        if self.pending[slot]
            .as_ref()
            .is_some_and(|p| p.format != format)
        {
            self.flush(origin, slot, emit);
        }
        match self.pending[slot].take() {
            None if !parts.partial => {
                let line = Line {
                    format,
                    timestamp: parts.timestamp,
                    message: parts.message,
                    offset,
                    flags,
                };
                emit(line.into_event(origin, stream, end), false);
            }
            None => {
                let capacity = parts.message.len().saturating_mul(2);
                let mut pending = Pending {
                    format,
                    timestamp: parts.timestamp,
                    offset,
                    hold: offset,
                    end,
                    carried: false,
                    deadline: now.checked_add(self.timeout),
                    message: Vec::with_capacity(capacity.min(self.max_line_bytes)),
                    flags,
                    full: false,
                };
                pending.append(&parts.message, self.max_line_bytes);
                self.pending[slot] = Some(pending);
            }
            Some(mut pending) => {
                pending.append(&parts.message, self.max_line_bytes);
                pending.end = end;
                pending.flags.insert(flags);
                if parts.partial {
                    self.pending[slot] = Some(pending);
                } else {
                    Self::emit(origin, stream, pending, Flags::empty(), emit);
                }
            }
        }
    }

    /// Emits, flagged PARTIAL, every pending line whose deadline is at or before `now`.
    pub fn flush_expired(
        &mut self,
        origin: &Arc<Origin>,
        now: Instant,
        emit: &mut impl FnMut(Event, bool),
    ) {
        while let Some(slot) = self.earliest(|p| p.deadline.is_some_and(|d| d <= now)) {
            self.flush(origin, slot, emit);
        }
    }

    /// Emits every pending line, flagged PARTIAL.
    pub fn flush_all(&mut self, origin: &Arc<Origin>, emit: &mut impl FnMut(Event, bool)) {
        while let Some(slot) = self.earliest(|_| true) {
            self.flush(origin, slot, emit);
        }
    }

    /// How far back the checkpoint must stay for the lines pending (or lent to the next file).
    pub fn pending_offset(&self) -> Option<u64> {
        let pending = self.pending.iter().flatten().map(|p| p.hold).min();
        match (pending, self.lent) {
            (Some(p), Some(l)) => Some(p.min(l)),
            (p, l) => p.or(l),
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .flatten()
            .filter_map(|p| p.deadline)
            .min()
    }

    /// The slot of the pending line that started first among those matching, so flushes come out in file
    /// order.
    fn earliest(&self, matches: impl Fn(&Pending) -> bool) -> Option<usize> {
        (0..self.pending.len())
            .filter_map(|slot| Some((slot, self.pending[slot].as_ref()?)))
            .filter(|(_, p)| matches(p))
            .min_by_key(|(_, p)| (p.hold, p.offset))
            .map(|(slot, _)| slot)
    }

    fn flush(&mut self, origin: &Arc<Origin>, slot: usize, emit: &mut impl FnMut(Event, bool)) {
        if let Some(pending) = self.pending[slot].take() {
            Self::emit(origin, STREAMS[slot], pending, Flags::PARTIAL, emit);
        }
    }

    /// Emits a line taken out of its slot, its checkpoint past its last piece.
    fn emit(
        origin: &Arc<Origin>,
        stream: Stream,
        pending: Pending,
        extra: Flags,
        emit: &mut impl FnMut(Event, bool),
    ) {
        let (checkpoint, carried) = (pending.end, pending.carried);
        let line = Line {
            format: pending.format,
            timestamp: pending.timestamp,
            message: Bytes::from(pending.message),
            offset: pending.offset,
            flags: pending.flags | extra,
        };
        emit(line.into_event(origin, stream, checkpoint), carried);
    }
}

impl Pending {
    /// Appends a piece, up to `max` bytes in all; past that, cuts on a character boundary, flags the line
    /// TRUNCATED and drops whatever follows.
    fn append(&mut self, piece: &[u8], max: usize) {
        if self.full {
            return;
        }
        let room = max.saturating_sub(self.message.len());
        if piece.len() <= room {
            self.message.extend_from_slice(piece);
            return;
        }
        let (kept, dropped) = piece.split_at(room);
        self.message.extend_from_slice(kept);
        // Back off over the start of a character the cut went through; it may have begun in an earlier
        // piece, since runtimes split at a byte count. A character has at most three continuation bytes.
        let mut next = dropped.first().copied();
        for _ in 0..3 {
            if next.is_none_or(|b| b & 0xC0 != 0x80) {
                break;
            }
            next = self.message.pop();
        }
        self.full = true;
        self.flags.insert(Flags::TRUNCATED);
    }
}

const STREAMS: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// A complete (or given up on) line, ready to become an event.
struct Line {
    format: Format,
    timestamp: LineTime,
    message: Bytes,
    offset: u64,
    flags: Flags,
}

impl Line {
    fn into_event(self, origin: &Arc<Origin>, stream: Stream, checkpoint: u64) -> Event {
        let mut flags = self.flags;
        let (message, replaced) = to_text(self.message, flags.contains(Flags::TRUNCATED));
        if replaced {
            flags.insert(Flags::INVALID_UTF8);
        }
        let (timestamp, original) = match self.timestamp {
            LineTime::At(at) => (at, None),
            LineTime::OutOfRange(text) => {
                flags.insert(Flags::TIMESTAMP_OUT_OF_RANGE);
                (Timestamp::now(), Some(text))
            }
        };
        let mut event = Event::new(origin.clone(), timestamp, message, self.offset);
        event.stream = Some(stream);
        event.format = Some(self.format);
        event.checkpoint = checkpoint;
        event.flags = flags;
        event.original_timestamp = original;
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(message: &'static str, partial: bool, offset: u64) -> Piece {
        Piece {
            format: Format::Cri,
            parts: Parts {
                timestamp: LineTime::At(Timestamp::from_nanos(0)),
                stream: Stream::Stdout,
                partial,
                message: Bytes::from_static(message.as_bytes()),
            },
            offset,
            end: offset + 10,
            flags: Flags::empty(),
        }
    }

    #[test]
    fn parts_past_the_limit_are_not_buffered() {
        let origin = Origin::new("x.log".into(), Default::default());
        let mut joiner = Joiner::new(10, Duration::from_secs(5));
        let now = Instant::now();
        let mut out = Vec::new();
        let mut emit = |event, _| out.push(event);
        for i in 0..100 {
            joiner.push(&origin, piece("0123456", true, i * 10), now, &mut emit);
        }
        let pending = joiner.pending[0].as_ref().unwrap();
        assert_eq!(pending.message, b"0123456012");
        assert!(pending.full);
        assert_eq!(pending.end, 1000);
        joiner.push(&origin, piece("end", false, 1000), now, &mut emit);
        assert_eq!(out[0].message.as_str(), "0123456012");
        assert_eq!(out[0].flags, Flags::TRUNCATED);
        assert_eq!((out[0].offset, out[0].checkpoint), (0, 1010));
    }

    #[test]
    fn a_cut_backs_off_over_a_character_begun_in_an_earlier_part() {
        let mut pending = Pending {
            format: Format::Cri,
            timestamp: LineTime::At(Timestamp::from_nanos(0)),
            offset: 0,
            hold: 0,
            end: 0,
            carried: false,
            deadline: None,
            message: Vec::new(),
            flags: Flags::empty(),
            full: false,
        };
        // "€" is E2 82 AC; the limit falls right after its first byte.
        pending.append(b"ab\xe2", 3);
        pending.append(b"\x82\xac", 3);
        assert_eq!(pending.message, b"ab");
        assert!(pending.flags.contains(Flags::TRUNCATED));
    }
}
