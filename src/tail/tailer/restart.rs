//! Taking up the files of an earlier run: each record is matched to the file with its identity and
//! first bytes, where it was or, when it rotated while loglynk was down, next to where it was. The
//! unread rest of a rotated file is read before the file now under its name, oldest first, so lines
//! come out in the order they were written.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use super::{Phase, Tailer};
use crate::tail::siblings::{find_rotated, Found};
use crate::tail::{FileIdentity, FileKey, Fingerprint, LineSink, OpenedFile, Resume};
use crate::telemetry;

/// A file of an earlier run that rotated while loglynk was down, found again.
struct Rotated {
    /// Its record (offset 0 if its content was rewritten).
    known: Resume,
    /// Where it is now.
    target: PathBuf,
    gzip: bool,
    /// When it was last written: orders a name's files, oldest first.
    modified: Option<SystemTime>,
}

/// The files that had one name, queued to be read one after the other.
struct RotationChain {
    /// The last file of the chain queued for reading: the next one waits for it.
    last: Option<FileKey>,
    /// The newest record of the name: where a rotation nobody saw would have left its files.
    newest: Resume,
    /// When the newest uncompressed file of the chain was last written: files rotated after that were
    /// never seen.
    since: Option<SystemTime>,
}

impl Tailer {
    /// The record of an earlier run for this file, if it has one: same identity and same first bytes
    /// (an inode reused by a new file has other content).
    /// A record with the same identity but other first bytes is for content that is gone (truncated
    /// while down, or the inode reused): the file is read from its start.
    pub(super) fn take_known(&mut self, identity: FileIdentity, file: &File) -> Option<Resume> {
        let i = self.known.iter().position(|e| e.identity == identity)?;
        let mut known = self.known.swap_remove(i);
        if !known.fingerprint.matches_file(file).unwrap_or(false) {
            telemetry::file_replaced_while_down(&known.path);
            known.offset = 0;
        }
        Some(known)
    }

    /// Records that matched no discovered file: files rotated while loglynk was down. Each is looked
    /// for next to where it was, and the unread rest read, before the file now under its name.
    /// A file still where it was whose name is gone lost its name, not its place: it is kept as such.
    pub(super) fn resume_rotated(&mut self, sink: &mut impl LineSink) {
        // Find every record's file first, so none is mistaken for a rotation nobody saw.
        let mut found_all: Vec<Rotated> = Vec::new();
        for known in std::mem::take(&mut self.known) {
            if let Some(rotated) = self.find_known(known, &found_all, sink) {
                found_all.push(rotated);
            }
        }
        // Oldest first, each name's files chained, so lines come out in the order they were written.
        found_all.sort_by(|a, b| (a.modified, &a.target).cmp(&(b.modified, &b.target)));
        let mut chains: HashMap<PathBuf, RotationChain> = HashMap::new();
        for rotated in found_all {
            let chain = chains
                .entry(rotated.known.path.clone())
                .or_insert_with(|| RotationChain {
                    last: None,
                    newest: rotated.known.clone(),
                    since: None,
                });
            let opened = OpenedFile {
                target: rotated.target,
                ..OpenedFile::from(rotated.known.clone())
            };
            let read_all = !rotated.gzip
                && std::fs::metadata(&opened.target).is_ok_and(|m| m.len() <= opened.offset);
            if read_all {
                self.finished_ids.insert(opened.identity);
            } else {
                telemetry::rotated_while_down(&opened.path, &opened.target, opened.offset);
                chain.last =
                    Some(self.insert(opened, Phase::Orphan, chain.last, rotated.gzip, sink));
            }
            chain.newest = rotated.known;
            if !rotated.gzip {
                chain.since = rotated.modified;
            }
        }
        for (path, chain) in chains {
            self.close_chain(path, chain, sink);
        }
    }

    /// Where the file of `known` is now, if it rotated; `None` when it is gone, or kept as a file that
    /// lost its name. `found` are the files other records led to already, which this one is not.
    fn find_known(
        &mut self,
        mut known: Resume,
        found: &[Rotated],
        sink: &mut impl LineSink,
    ) -> Option<Rotated> {
        let dir = known.target.parent()?.to_path_buf();
        let tailed: Vec<PathBuf> = self
            .files
            .values()
            .map(|t| t.file.target.clone())
            .chain(found.iter().map(|r| r.target.clone()))
            .collect();
        let exclude = |p: &Path| tailed.iter().any(|t| t == p);
        // Finding it opens its neighbours, one at a time.
        self.free_descriptor();
        let Some(at) = find_rotated(&dir, known.identity, known.fingerprint, &exclude) else {
            telemetry::record_gone(&known.path);
            return None;
        };
        let in_place = at == Found::Renamed(known.target.clone());
        let (target, gzip) = match at {
            Found::Renamed(p) => (p, false),
            Found::Compressed(p) => (p, true),
            Found::Rewritten(p) => {
                known.offset = 0;
                known.fingerprint = File::open(&p)
                    .and_then(|f| Fingerprint::of_file(&f))
                    .unwrap_or(known.fingerprint);
                (p, false)
            }
        };
        if in_place && known.path.symlink_metadata().is_err() {
            telemetry::file_unnamed(&known.path, &target);
            let opened = OpenedFile {
                target,
                ..OpenedFile::from(known)
            };
            let since = Instant::now();
            self.insert(opened, Phase::Unnamed { since }, None, false, sink);
            return None;
        }
        let modified = std::fs::metadata(&target).and_then(|m| m.modified()).ok();
        Some(Rotated {
            known,
            target,
            gzip,
            modified,
        })
    }

    /// The end of a name's chain: files rotated again while down (after the last known one) are read
    /// whole, and the file now under the name waits for the chain, continuing its last file if it took
    /// that one's place.
    fn close_chain(&mut self, path: PathBuf, chain: RotationChain, sink: &mut impl LineSink) {
        let RotationChain {
            mut last,
            newest,
            since,
        } = chain;
        let (Some(dir), Some(base)) = (newest.target.parent(), newest.target.file_name()) else {
            return;
        };
        let origin = OpenedFile {
            path: path.clone(),
            offset: 0,
            ..OpenedFile::from(newest.clone())
        };
        if let Some(since) = since {
            let base = base.to_os_string();
            let dir = dir.to_path_buf();
            last = self.read_skipped_rotations(&dir, &base, since, &origin, last, sink);
        }
        let successor = self.by_path.get(&path).copied();
        if let (Some(successor), Some(last)) = (successor, last) {
            let continues = self
                .files
                .get(&successor)
                .is_some_and(|next| self.takes_place_of(&next.file.target, last));
            if let Some(next) = self.files.get_mut(&successor) {
                next.after = Some(last);
                next.continues = continues.then_some(last);
            }
        }
    }
}
