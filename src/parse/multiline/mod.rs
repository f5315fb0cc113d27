//! Joining the lines of one event (a stack trace) into one, per file and per stream: after partial lines
//! are joined, before any processor.
//!
//! Each stream of a file (and its unparsed lines) has at most one open group. A line either joins it,
//! starts the next group (the open one ships), or ships alone. A group ships when a line does not
//! continue it, at `timeout` after its last line, when it reaches `max_lines` or `max_bytes` (flagged
//! `multiline_truncated`; its next lines continue in another event, so nothing is dropped), when its
//! file is finished (rotation) and at shutdown.
//!
//! At least once: a group's event has its first line's offset, and its checkpoint is past its last
//! line; while a group is open, the file's checkpoint stays at its first line (`pending_offset`), so a
//! crash re-reads the group whole.

mod auto;
mod plan;

use std::sync::Arc;
use std::time::Instant;

use crate::event::{Event, Flags, Stream, Text};
use plan::{Mode, Step};
pub use plan::{MultilinePlan, MultilineRules};

pub(crate) use auto::State;

/// The open groups of one file.
#[derive(Debug)]
pub(crate) struct Joiner {
    plan: Arc<MultilinePlan>,
    /// stdout, stderr, and lines in neither format.
    slots: [Slot; 3],
}

#[derive(Debug, Default)]
struct Slot {
    group: Option<Group>,
    /// What the last group was, when it shipped before its trace could be seen to end (timeout, end of a
    /// read): a continuation arriving next still shows it continues (flagged multiline).
    ghost: Option<Ghost>,
}

#[derive(Debug)]
struct Ghost {
    state: State,
    last: String,
}

/// Why a group ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// A line did not continue it, or its file or the agent is done.
    Ended,
    /// Its continuation may still come, later than we can wait (timeout, a lone line at the end of a
    /// read in `auto`).
    Waited,
    /// `max_lines` or `max_bytes`.
    Cut,
}

#[derive(Debug)]
struct Group {
    head: Event,
    /// The joined message once a second line came; the head's own message until then.
    joined: Option<String>,
    lines: usize,
    /// Where the last line starts in `joined`.
    last_start: usize,
    /// Past the last line: the event's checkpoint.
    end: u64,
    flags: Flags,
    state: State,
    deadline: Option<Instant>,
    /// Blank lines that belong to the group only if the line after them continues it.
    tentative: Vec<Event>,
}

impl Group {
    fn new(head: Event, state: State, flags: Flags, deadline: Option<Instant>) -> Group {
        Group {
            end: head.checkpoint,
            flags: head.flags | flags,
            joined: None,
            lines: 1,
            last_start: 0,
            state,
            deadline,
            tentative: Vec::new(),
            head,
        }
    }

    fn len(&self) -> usize {
        self.joined
            .as_ref()
            .map_or(self.head.message.len(), String::len)
    }

    fn last(&self) -> &str {
        match &self.joined {
            Some(joined) => &joined[self.last_start..],
            None => self.head.message.as_str(),
        }
    }

    /// Lines it would hold with `line` and its tentative ones, and their size.
    fn fits(&self, line: &Event, max_lines: usize, max_bytes: usize) -> bool {
        let added: usize = self.tentative.iter().map(|t| t.message.len() + 1).sum();
        self.lines + self.tentative.len() < max_lines
            && self.len() + added + 1 + line.message.len() <= max_bytes
    }

    fn append(&mut self, line: Event) {
        let joined = self.joined.get_or_insert_with(|| {
            let mut joined = String::with_capacity(self.head.message.len() * 4);
            joined.push_str(self.head.message.as_str());
            joined
        });
        joined.push('\n');
        self.last_start = joined.len();
        joined.push_str(line.message.as_str());
        self.lines += 1;
        self.end = line.checkpoint;
        self.flags.insert(line.flags);
    }

    fn confirm(&mut self) {
        for line in std::mem::take(&mut self.tentative) {
            self.append(line);
        }
    }

    /// The group's event, then the tentative lines not confirmed, each its own.
    fn ship(self, extra: Flags, out: &mut Vec<Event>) {
        let Group {
            mut head,
            joined,
            lines,
            end,
            mut flags,
            tentative,
            ..
        } = self;
        if lines > 1 {
            flags.insert(Flags::MULTILINE);
        }
        if let Some(joined) = joined {
            head.message = Text::from(joined);
        }
        head.checkpoint = end;
        head.flags = flags | extra;
        out.push(head);
        out.extend(tentative);
    }
}

impl Joiner {
    pub fn new(plan: Arc<MultilinePlan>) -> Joiner {
        Joiner {
            plan,
            slots: Default::default(),
        }
    }

    /// Takes one line's event. `carried` (a line begun in the file before a rotation) ships alone:
    /// its offsets belong to the other file.
    pub fn push(&mut self, event: Event, carried: bool, now: Instant, out: &mut Vec<Event>) {
        let plan = &*self.plan;
        if matches!(plan.mode, Mode::None) {
            out.push(event);
            return;
        }
        let slot = &mut self.slots[slot(event.stream)];
        if carried {
            close(slot, Close::Ended, out);
            out.push(event);
            return;
        }
        let deadline = now.checked_add(plan.timeout);
        let ghost = slot.ghost.take();
        let step = match (&slot.group, &ghost) {
            (Some(g), _) => plan.step(Some((g.state, g.last(), g.lines)), event.message.as_str()),
            (None, Some(ghost)) => {
                plan.step(Some((ghost.state, &ghost.last, 1)), event.message.as_str())
            }
            (None, None) => plan.step(None, event.message.as_str()),
        };
        match (step, slot.group.as_mut()) {
            (Step::Join(state) | Step::JoinEnd(state), Some(g))
                if g.fits(&event, plan.max_lines, plan.max_bytes) =>
            {
                g.confirm();
                g.append(event);
                g.state = state;
                g.deadline = deadline;
                if matches!(step, Step::JoinEnd(_)) {
                    close(slot, Close::Ended, out);
                }
            }
            (Step::Tentative(state), Some(g)) if g.fits(&event, plan.max_lines, plan.max_bytes) => {
                g.tentative.push(event);
                g.state = state;
                g.deadline = deadline;
            }
            (Step::Tentative(_), None) => {
                // A blank line after a group that already shipped: nothing to confirm it for.
                slot.group = Some(Group::new(event, State::Head, Flags::empty(), deadline));
            }
            (Step::Join(state) | Step::JoinEnd(state) | Step::Tentative(state), _) => {
                // The group is full, or already shipped: this line continues it in a new event.
                close(slot, Close::Cut, out);
                slot.group = Some(Group::new(event, state, Flags::MULTILINE, deadline));
                if matches!(step, Step::JoinEnd(_)) {
                    close(slot, Close::Ended, out);
                }
            }
            (Step::Start(state), _) => {
                close(slot, Close::Ended, out);
                slot.group = Some(Group::new(event, state, Flags::empty(), deadline));
            }
            (Step::Alone, _) => {
                close(slot, Close::Ended, out);
                out.push(event);
            }
        }
    }

    /// Ships the groups whose timeout passed and, in `auto`, a lone line that does not look like a
    /// trace's head: its continuation, had it one, would have been written with it.
    pub fn flush_expired(&mut self, now: Instant, out: &mut Vec<Event>) {
        let auto = matches!(self.plan.mode, Mode::Auto);
        for slot in self.in_file_order() {
            let Some(group) = &self.slots[slot].group else {
                continue;
            };
            let soft = auto
                && group.lines == 1
                && group.tentative.is_empty()
                && !group.flags.contains(Flags::MULTILINE)
                && !auto::looks_like_head(group.head.message.as_str());
            if soft || group.deadline.is_some_and(|d| d <= now) {
                close(&mut self.slots[slot], Close::Waited, out);
            }
        }
    }

    /// Ships every open group (the file is finished, or the agent stops).
    pub fn flush_all(&mut self, out: &mut Vec<Event>) {
        for slot in self.in_file_order() {
            close(&mut self.slots[slot], Close::Ended, out);
            self.slots[slot].ghost = None;
        }
    }

    /// The first line of the earliest open group: the file's checkpoint must not pass it.
    pub fn pending_offset(&self) -> Option<u64> {
        self.groups().map(|g| g.head.offset).min()
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.groups().filter_map(|g| g.deadline).min()
    }

    fn groups(&self) -> impl Iterator<Item = &Group> {
        self.slots.iter().filter_map(|s| s.group.as_ref())
    }

    /// The slots, those with an open group first by where it starts, so groups ship in file order.
    fn in_file_order(&self) -> [usize; 3] {
        let mut order = [0, 1, 2];
        order.sort_by_key(|&i| {
            self.slots[i]
                .group
                .as_ref()
                .map_or(u64::MAX, |g| g.head.offset)
        });
        order
    }
}

/// Ships the slot's open group; `Cut` flags it, `Waited` remembers it for a continuation to come.
fn close(slot: &mut Slot, how: Close, out: &mut Vec<Event>) {
    let Some(group) = slot.group.take() else {
        return;
    };
    let extra = match how {
        Close::Cut => Flags::MULTILINE_TRUNCATED,
        Close::Ended | Close::Waited => Flags::empty(),
    };
    if how == Close::Waited {
        slot.ghost = Some(Ghost {
            state: group.state,
            last: group.last().to_owned(),
        });
    }
    group.ship(extra, out);
}

fn slot(stream: Option<Stream>) -> usize {
    match stream {
        Some(Stream::Stdout) => 0,
        Some(Stream::Stderr) => 1,
        None => 2,
    }
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod tests;
