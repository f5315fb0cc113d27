//! Lines split by a rotation: when the rotated file's checkpoint may pass the piece it lent.
//!
//! A partial line at the end of a rotated file is completed by the file that took its place (see
//! `LineParser::take_over`). Its first piece is in the rotated file, whose checkpoint stays before it
//! until the line is shipped; then the rotated file's checkpoint moves past it in the batch that carries
//! the line, so the registry never passes a piece that was not delivered, and the rotated file's record
//! is not held back for longer than the line takes to complete (at most `partial_timeout`).

use crate::tail::FileKey;

/// The partial lines lent from rotated files to their successors, while in the air.
#[derive(Debug, Default)]
pub(super) struct Handovers {
    lent: Vec<Handover>,
}

#[derive(Debug)]
struct Handover {
    previous: FileKey,
    next: FileKey,
    /// Where `previous` may be checkpointed once the line is shipped: the end of what it lent, or of
    /// the whole file once it is finished.
    release: u64,
    shipped: bool,
    previous_done: bool,
}

impl Handovers {
    pub fn is_empty(&self) -> bool {
        self.lent.is_empty()
    }

    /// `next` took over what `previous` had pending, which ended at `release`.
    pub fn lend(&mut self, previous: FileKey, next: FileKey, release: u64) {
        self.lent.push(Handover {
            previous,
            next,
            release,
            shipped: false,
            previous_done: false,
        });
    }

    /// `next`'s parser ran, and `carries` tells whether the line it took over is still pending. When it
    /// is not (shipped in this call, joined or flushed), returns the checkpoint of the rotated file to
    /// add to the same batch.
    pub fn parsed(&mut self, next: FileKey, carries: bool) -> Option<(FileKey, u64)> {
        if carries {
            return None;
        }
        let i = self
            .lent
            .iter()
            .position(|h| h.next == next && !h.shipped)?;
        let handover = &mut self.lent[i];
        handover.shipped = true;
        let checkpoint = (handover.previous, handover.release);
        if handover.previous_done {
            self.lent.swap_remove(i);
        }
        Some(checkpoint)
    }

    /// `previous` was finished at `end`, every line of it handed out. When the line it lent has been
    /// shipped already, returns the checkpoint that lets its record go (lines it got after lending were
    /// held back to the lent piece); otherwise that is released with the line.
    pub fn finished(&mut self, previous: FileKey, end: u64) -> Option<(FileKey, u64)> {
        let i = self.lent.iter().position(|h| h.previous == previous)?;
        let handover = &mut self.lent[i];
        handover.release = handover.release.max(end);
        handover.previous_done = true;
        if !handover.shipped {
            return None;
        }
        let checkpoint = (previous, handover.release);
        self.lent.swap_remove(i);
        Some(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rotated_file_is_released_with_the_line_and_again_at_its_end() {
        let (old, new) = (FileKey::new(1), FileKey::new(2));
        let mut h = Handovers::default();
        h.lend(old, new, 70);
        assert_eq!(h.parsed(new, true), None, "still pending");
        assert_eq!(h.parsed(new, false), Some((old, 70)));
        assert_eq!(h.parsed(new, false), None, "once");
        assert!(!h.is_empty(), "the rotated file may still get lines");
        assert_eq!(h.finished(old, 90), Some((old, 90)));
        assert!(h.is_empty());
    }

    #[test]
    fn a_file_finished_before_the_line_ships_is_released_to_its_end_with_it() {
        let (old, new) = (FileKey::new(1), FileKey::new(2));
        let mut h = Handovers::default();
        h.lend(old, new, 70);
        assert_eq!(h.finished(old, 90), None);
        assert_eq!(h.parsed(new, false), Some((old, 90)));
        assert!(h.is_empty());
    }
}
