//! A batch's checkpoints: per file with events in the batch, where reading resumes once the batch is
//! delivered. The batch builder owns them alone, fed by what the parser produced; the registry's
//! tracker takes them with the batch and keeps what was acknowledged.

use std::collections::HashMap;

use crate::tail::FileKey;

#[derive(Debug, Default)]
pub(super) struct BatchCheckpoints {
    files: HashMap<FileKey, u64>,
    /// The latest checkpoint of the file being read now: lines come a file's turn at a time, so the
    /// map is touched once per turn rather than once per line.
    current: Option<(FileKey, u64)>,
}

impl BatchCheckpoints {
    /// The file being parsed produced an event that ends at `checkpoint`.
    pub(super) fn parsed(&mut self, key: FileKey, checkpoint: u64) {
        match &mut self.current {
            Some((current, value)) if *current == key => *value = checkpoint,
            slot => {
                if let Some((k, c)) = slot.replace((key, checkpoint)) {
                    merge(&mut self.files, k, c);
                }
            }
        }
    }

    /// A checkpoint for a file other than the one whose events are being added (a rotated file whose
    /// handed-over line was completed, or that was finished).
    pub(super) fn note(&mut self, key: FileKey, checkpoint: u64) {
        match &mut self.current {
            Some((current, value)) if *current == key => *value = (*value).max(checkpoint),
            _ => merge(&mut self.files, key, checkpoint),
        }
    }

    /// Every file's checkpoint, for the batch being sent; none are left.
    pub(super) fn take(&mut self) -> Vec<(FileKey, u64)> {
        if let Some((key, checkpoint)) = self.current.take() {
            merge(&mut self.files, key, checkpoint);
        }
        self.files.drain().collect()
    }
}

/// Records `checkpoint` for `key`; a file's checkpoint never moves back.
fn merge(checkpoints: &mut HashMap<FileKey, u64>, key: FileKey, checkpoint: u64) {
    let value = checkpoints.entry(key).or_insert(checkpoint);
    *value = (*value).max(checkpoint);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_has_one_checkpoint_that_never_moves_back() {
        let (a, b) = (FileKey::new(0), FileKey::new(1));
        let mut checkpoints = BatchCheckpoints::default();
        checkpoints.parsed(a, 10);
        checkpoints.parsed(a, 20);
        checkpoints.parsed(b, 5);
        checkpoints.note(a, 15);
        checkpoints.note(b, 7);
        let mut taken = checkpoints.take();
        taken.sort();
        assert_eq!(taken, [(a, 20), (b, 7)]);
        assert!(
            checkpoints.take().is_empty(),
            "nothing is left for the next batch"
        );
    }
}
