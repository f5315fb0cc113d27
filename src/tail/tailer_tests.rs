//! The tailer's behaviour against real files in a temporary directory, a test per case: rotation,
//! removal, restart, copytruncate, descriptor limits and log-root refusals. Long because each case is
//! whole (its files, its steps and what it must read).

use std::collections::HashMap;
use std::io::Write;

use super::*;
use std::time::Duration;

use crate::tail::{Admit, Line, ReadGate};

/// Records what the tailer hands out, per file key, and checks the sink contract as it goes.
#[derive(Default)]
struct Collect {
    lines: Vec<(FileKey, String)>,
    opened: HashMap<FileKey, OpenedFile>,
    finished: Vec<(FileKey, u64)>,
    /// Files to hold unread, until when.
    hold: HashMap<FileKey, Instant>,
    refused: Vec<(PathBuf, PathBuf)>,
    /// `(next, previous, start)`
    continues: Vec<(FileKey, FileKey, u64)>,
    lost: Vec<(FileKey, u64)>,
}

impl LineSink for Collect {
    fn line(&mut self, key: FileKey, line: Line) {
        assert!(self.opened.contains_key(&key), "line before opened");
        assert!(
            !self.finished.iter().any(|(k, _)| *k == key),
            "line after finished"
        );
        self.lines
            .push((key, String::from_utf8(line.bytes.to_vec()).unwrap()));
    }
    fn file(&mut self, event: FileEvent<'_>) {
        match event {
            FileEvent::Opened { key, file } => {
                self.opened.insert(key, file.clone());
            }
            FileEvent::Finished { key, end } => self.finished.push((key, end)),
            FileEvent::Lost { key, bytes } => {
                assert!(!self.finished.iter().any(|(k, _)| *k == key));
                self.lost.push((key, bytes));
            }
            FileEvent::Refused { path, target } => self
                .refused
                .push((path.to_path_buf(), target.to_path_buf())),
            FileEvent::Continues {
                next,
                previous,
                start,
            } => {
                assert!(
                    !self.lines.iter().any(|(k, _)| *k == next),
                    "said before the next file's first line"
                );
                assert!(
                    !self.finished.iter().any(|(k, _)| *k == previous),
                    "said before the previous file is finished"
                );
                self.continues.push((next, previous, start));
            }
            FileEvent::Renamed { .. } | FileEvent::FingerprintGrew { .. } | FileEvent::Resolved => {
            }
        }
    }
}

impl ReadGate for Collect {
    fn admit(&mut self, key: FileKey, _: Instant) -> Admit {
        match self.hold.get(&key).copied().filter(|t| *t > Instant::now()) {
            Some(until) => Admit::Later(until),
            None => Admit::Now,
        }
    }
}

impl Collect {
    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|(_, l)| l.as_str()).collect()
    }
}

/// One run over `log`, resuming from `known`, read to the end: what it handed out.
fn run_once(log: &Path, known: Vec<Resume>) -> Collect {
    let mut tailer = Tailer::new(config(), known);
    let mut sink = Collect::default();
    tailer.sync(
        &[log.to_path_buf()],
        &mut DirWatcher::polling_only(),
        &mut sink,
    );
    drain(&mut tailer, &mut sink);
    sink
}

/// The registry record of `log` after a first run, moved back to `offset`.
fn record_at(log: &Path, offset: u64) -> Resume {
    let first = run_once(log, Vec::new());
    let opened = first.opened.values().next().expect("the file was opened");
    Resume {
        offset,
        ..Resume::from(opened)
    }
}

fn config() -> TailerConfig {
    let mut config = TailerConfig::from_config(&crate::config::Config::default());
    config.max_line_bytes = 1024;
    config.start_at = StartAt::Beginning;
    config.close_removed_after = Duration::ZERO;
    config
}

/// `n` files `{i}.log` in `dir`, each holding `text(i)`.
fn logs(dir: &Path, n: usize, text: impl Fn(usize) -> String) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let log = dir.join(format!("{i}.log"));
            std::fs::write(&log, text(i)).unwrap();
            log
        })
        .collect()
}

/// A tailer with no records that keeps at most `max_open_files` files open.
fn limited_tailer(max_open_files: usize) -> Tailer {
    let mut config = config();
    config.max_open_files = max_open_files;
    Tailer::new(config, Vec::new())
}

fn drain(tailer: &mut Tailer, sink: &mut Collect) {
    while tailer.read_ready(sink) {}
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn a_busy_file_does_not_starve_another() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("busy.log");
    let quiet = dir.path().join("quiet.log");
    std::fs::write(&busy, "x\n".repeat(10_000)).unwrap();
    std::fs::write(&quiet, "q\n").unwrap();
    let mut config = config();
    config.read_chunk = 1024;
    config.file_budget = 4096;
    let mut tailer = Tailer::new(config, Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(&[busy, quiet], &mut watcher, &mut sink);
    assert!(tailer.read_ready(&mut sink), "the busy file has more");
    assert!(sink.texts().contains(&"q"), "the quiet file got its turn");
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.lines.len(), 10_001);
}

#[test]
fn a_link_out_of_the_log_roots_is_refused_once_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("containers");
    let outside = dir.path().join("elsewhere");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let secret = outside.join("secret.log");
    std::fs::write(&secret, "TOPSECRET\n").unwrap();
    let inside = logs.join("app.log");
    std::fs::write(&inside, "fine\n").unwrap();
    let link = logs.join("evil.log");
    std::os::unix::fs::symlink(&secret, &link).unwrap();

    let mut tailer = Tailer::new(config(), Vec::new());
    tailer.set_roots(vec![std::fs::canonicalize(&logs).unwrap()]);
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    for _ in 0..2 {
        let errors = tailer.sync(&[link.clone(), inside.clone()], &mut watcher, &mut sink);
        assert!(errors.is_empty(), "{errors:?}");
        drain(&mut tailer, &mut sink);
    }
    assert_eq!(sink.texts(), ["fine"]);
    let target = std::fs::canonicalize(&secret).unwrap();
    assert_eq!(sink.refused, [(link.clone(), target)], "said once");
    assert!(!tailer.is_tailed(&link));

    // Pointed back inside, the same name is read.
    std::fs::remove_file(&link).unwrap();
    let ok = logs.join("ok.log");
    std::fs::write(&ok, "now fine\n").unwrap();
    std::os::unix::fs::symlink(&ok, &link).unwrap();
    tailer.sync(std::slice::from_ref(&link), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["fine", "now fine"]);
}

#[test]
fn a_held_file_waits_alone_and_is_read_when_its_time_comes() {
    let dir = tempfile::tempdir().unwrap();
    let held = dir.path().join("held.log");
    let free = dir.path().join("free.log");
    std::fs::write(&held, "h\n").unwrap();
    std::fs::write(&free, "f\n").unwrap();
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    tailer.sync(
        &[held.clone(), free],
        &mut DirWatcher::polling_only(),
        &mut sink,
    );
    let held_key = *sink.opened.iter().find(|(_, f)| f.path == held).unwrap().0;
    let until = Instant::now() + Duration::from_millis(200);
    sink.hold.insert(held_key, until);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["f"], "the other file is not held up");
    assert!(tailer.has_held());
    assert_eq!(
        tailer.next_deadline(),
        Some(until),
        "woken when the hold ends"
    );

    // Growth reported meanwhile does not read it early.
    append(&held, "h2\n");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["f"]);

    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["f", "h", "h2"]);
    assert!(!tailer.has_held());
}

#[test]
fn a_renamed_file_is_finished_before_its_successor_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("0.log");
    std::fs::write(&log, "1\n2\n").unwrap();
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    // Written before the rename, then kubelet renames and creates a new file.
    append(&log, "3\n4");
    std::fs::rename(&log, dir.path().join("0.log.20261124-100000")).unwrap();
    std::fs::write(&log, "5\n").unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2", "3", "4", "5"]);
    assert_eq!(sink.finished.len(), 1, "the old file is closed");
    assert_eq!(tailer.open_files(), 1);
}

#[test]
fn a_deleted_file_is_read_to_its_end_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "1\n").unwrap();
    let mut config = config();
    config.close_removed_after = Duration::from_millis(50);
    let mut tailer = Tailer::new(config, Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    append(&log, "2\n");
    std::fs::remove_file(&log).unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2"]);
    assert_eq!(tailer.open_files(), 1, "held for close_removed_after");
    std::thread::sleep(Duration::from_millis(60));
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(tailer.open_files(), 0);
    assert_eq!(sink.finished.len(), 1);
}

#[test]
fn a_removed_file_is_closed_at_its_deadline_without_waiting_for_a_poll() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "1\n").unwrap();
    let mut config = config();
    config.close_removed_after = Duration::from_millis(50);
    let mut tailer = Tailer::new(config, Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    std::fs::remove_file(&log).unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    let deadline = tailer.next_deadline().expect("a deadline to close it");
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    // What the reading loop does when it wakes at that deadline.
    tailer.read_ready(&mut sink);
    assert_eq!(tailer.open_files(), 0);
    assert_eq!(tailer.next_deadline(), None, "nothing left to wake up for");
}

#[test]
fn copytruncate_starts_the_file_over() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "one\ntwo\n").unwrap();
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, "3\n");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["one", "two", "3"]);
    assert_eq!(
        sink.finished,
        [(FileKey::new(0), 8)],
        "the old content is finished at its end"
    );
    assert_eq!(
        sink.opened[&FileKey::new(1)].offset,
        0,
        "the new content is a new file"
    );
}

#[test]
fn descriptors_stay_within_max_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let paths = logs(dir.path(), 20, |i| format!("first {i}\n"));
    let mut tailer = limited_tailer(5);
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(&paths, &mut watcher, &mut sink);
    assert!(tailer.open_files() <= 5);
    for round in 0..4 {
        for p in &paths {
            append(p, &format!("round {round}\n"));
        }
        for _ in 0..10 {
            tailer.poll_all();
            drain(&mut tailer, &mut sink);
            assert!(tailer.open_files() <= 5);
        }
    }
    assert_eq!(sink.lines.len(), 20 * 5, "every line of every file");
}

/// Counts, at every callback, this process's descriptors open on files under `dir`: the tailer calls
/// back while it holds a file it has just opened, so a look beyond the limit shows here.
struct CountingDescriptors {
    inner: Collect,
    dir: PathBuf,
    most: usize,
}

impl CountingDescriptors {
    fn count(&mut self) {
        let open = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter(|target| target.starts_with(&self.dir))
            .count();
        self.most = self.most.max(open);
    }
}

impl LineSink for CountingDescriptors {
    fn line(&mut self, key: FileKey, line: Line) {
        self.count();
        self.inner.line(key, line);
    }
    fn file(&mut self, event: FileEvent<'_>) {
        self.count();
        self.inner.file(event);
    }
}

impl ReadGate for CountingDescriptors {
    fn admit(&mut self, key: FileKey, now: Instant) -> Admit {
        self.inner.admit(key, now)
    }
}

#[test]
fn a_file_found_while_every_descriptor_is_taken_is_not_opened_beyond_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let paths = logs(&dir_path, 12, |i| format!("first {i}\nsecond {i}\n"));
    let mut tailer = limited_tailer(3);
    let mut sink = CountingDescriptors {
        inner: Collect::default(),
        dir: dir_path,
        most: 0,
    };
    let mut watcher = DirWatcher::polling_only();
    // All twelve found at once, none read yet: no file is idle to be closed for the next one.
    tailer.sync(&paths, &mut watcher, &mut sink);
    assert!(sink.most <= 3, "{} descriptors open at once", sink.most);
    for round in 0..3 {
        for p in &paths {
            append(p, &format!("round {round}\n"));
        }
        for _ in 0..20 {
            tailer.poll_all();
            while tailer.read_ready(&mut sink) {}
        }
    }
    assert!(sink.most <= 3, "{} descriptors open at once", sink.most);
    assert_eq!(sink.inner.lines.len(), 12 * 5, "every line of every file");

    // Rotated as kubelet does, most of them closed meanwhile: finding each one's rotated file opens
    // its neighbours, and its successor is a file found by name.
    for p in &paths[..6] {
        append(p, "last before rotation\n");
        std::fs::rename(p, p.with_extension("log.1")).unwrap();
        std::fs::write(p, "first after rotation\n").unwrap();
    }
    for _ in 0..20 {
        tailer.sync(&[], &mut watcher, &mut sink);
        tailer.poll_all();
        while tailer.read_ready(&mut sink) {}
    }
    assert!(sink.most <= 3, "{} descriptors open at once", sink.most);
    assert!(tailer.most_open <= 3, "{} opened at once", tailer.most_open);
    assert_eq!(
        sink.inner.lines.len(),
        12 * 5 + 6 * 2,
        "every line of every file"
    );
}

#[test]
fn rotations_never_seen_are_found_within_max_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let logs = logs(dir.path(), 4, |i| format!("0-{i}\n"));
    let mut tailer = limited_tailer(2);
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(&logs, &mut watcher, &mut sink);
    for _ in 0..10 {
        tailer.poll_all();
        drain(&mut tailer, &mut sink);
    }
    // Each name rotated twice before the tailer looks again: the middle file is never seen by name.
    for (i, log) in logs.iter().enumerate() {
        for round in 1..=2 {
            append(log, &format!("{round}-{i}\n"));
            std::fs::rename(log, dir.path().join(format!("{i}.log.{round}"))).unwrap();
            std::fs::write(log, "").unwrap();
        }
        append(log, &format!("3-{i}\n"));
    }
    for _ in 0..20 {
        tailer.sync(&[], &mut watcher, &mut sink);
        tailer.poll_all();
        drain(&mut tailer, &mut sink);
    }
    assert!(tailer.most_open <= 2, "{} opened at once", tailer.most_open);
    let mut texts = sink.texts();
    texts.sort_unstable();
    let mut expected: Vec<String> = (0..4)
        .flat_map(|i| (0..4).map(move |round| format!("{round}-{i}")))
        .collect();
    expected.sort_unstable();
    assert_eq!(texts, expected);
}

#[test]
fn files_rotated_while_down_are_found_within_max_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut known = Vec::new();
    let mut logs = Vec::new();
    for i in 0..6 {
        let log = dir.path().join(format!("{i}.log"));
        std::fs::write(&log, format!("1-{i}\n2-{i}\n")).unwrap();
        known.push(record_at(&log, 8));
        // While down: one more line, a rename, a new file under the name.
        append(&log, &format!("3-{i}\n"));
        std::fs::rename(&log, dir.path().join(format!("{i}.log.20261124-100000"))).unwrap();
        std::fs::write(&log, format!("4-{i}\n")).unwrap();
        logs.push(log);
    }
    let mut config = config();
    config.max_open_files = 2;
    let mut tailer = Tailer::new(config, known);
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(&logs, &mut watcher, &mut sink);
    for _ in 0..30 {
        tailer.poll_all();
        drain(&mut tailer, &mut sink);
    }
    assert!(tailer.most_open <= 2, "{} opened at once", tailer.most_open);
    let mut texts = sink.texts();
    texts.sort_unstable();
    let mut expected: Vec<String> = (0..6)
        .flat_map(|i| [format!("3-{i}"), format!("4-{i}")])
        .collect();
    expected.sort_unstable();
    assert_eq!(texts, expected);
}

#[test]
fn a_restart_resumes_known_files_and_ignores_a_reused_inode() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "old 1\nold 2\n").unwrap();
    let entry = record_at(&log, 6);

    append(&log, "new 3\n");
    assert_eq!(
        run_once(&log, vec![entry.clone()]).texts(),
        ["old 2", "new 3"]
    );

    // Same identity, other content: a new file that reused the inode is read from its start.
    std::fs::write(&log, "reused 1\n").unwrap();
    assert_eq!(run_once(&log, vec![entry]).texts(), ["reused 1"]);
}

#[test]
fn a_file_rotated_while_down_is_finished_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("0.log");
    std::fs::write(&log, "1\n2\n").unwrap();
    let entry = record_at(&log, 4);
    // While down: more lines, a rename, a new file.
    append(&log, "3\n");
    std::fs::rename(&log, dir.path().join("0.log.20261124-100000")).unwrap();
    std::fs::write(&log, "4\n").unwrap();
    assert_eq!(run_once(&log, vec![entry]).texts(), ["3", "4"]);
}

#[test]
fn repeated_rotations_lose_nothing_even_when_one_was_never_seen() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("0.log");
    std::fs::write(&log, "").unwrap();
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    let mut expected = Vec::new();
    for round in 0..6 {
        for i in 0..3 {
            let line = format!("{round}-{i}");
            append(&log, &format!("{line}\n"));
            expected.push(line);
        }
        if round % 2 == 0 {
            drain(&mut tailer, &mut sink);
        }
        std::fs::rename(&log, dir.path().join(format!("0.log.{round}"))).unwrap();
        std::fs::write(&log, "").unwrap();
        // Odd rounds rotate twice before the tailer looks: one file is never seen under the name.
        if round % 2 == 0 {
            tailer.changed(&std::fs::canonicalize(&log).unwrap());
            tailer.check_changed(&mut watcher, &mut sink);
            drain(&mut tailer, &mut sink);
        }
    }
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), expected);
}

#[test]
fn a_closed_file_deleted_before_it_was_read_to_its_end_is_lost_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    std::fs::write(&a, "1\n").unwrap();
    let mut config = config();
    config.close_inactive = Duration::ZERO;
    config.max_open_files = 1;
    config.file_budget = 64;
    let mut tailer = Tailer::new(config, Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&a), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(tailer.open_files(), 0, "closed once idle");
    // b takes the one descriptor and keeps it, being read in small turns.
    std::fs::write(&b, "b\n".repeat(1000)).unwrap();
    tailer.sync(&[a.clone(), b], &mut watcher, &mut sink);
    tailer.read_ready(&mut sink);
    append(&a, "2\n3\n");
    tailer.poll_all();
    tailer.read_ready(&mut sink);
    assert!(!sink.texts().contains(&"2"), "a could not be reopened");
    std::fs::remove_file(&a).unwrap();
    tailer.poll_all();
    tailer.read_ready(&mut sink);
    let key_a = sink.lines[0].0;
    assert_eq!(sink.lost, [(key_a, 4)]);
    assert_eq!(sink.finished, [(key_a, 2)]);
}

#[test]
fn inactive_files_are_closed_and_reopened_when_they_grow() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "1\n").unwrap();
    let mut config = config();
    config.close_inactive = Duration::ZERO;
    let mut tailer = Tailer::new(config, Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&log), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(tailer.open_files(), 0, "closed once idle");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(tailer.open_files(), 0, "an unchanged file stays closed");
    append(&log, "2\n");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2"]);
    assert!(
        sink.finished.is_empty(),
        "closing for inactivity is not the end"
    );
}

/// `containers/pod_ns_c-0.log`, a link to `pods/ns_pod_uid/c/0.log`, as kubelet lays them out.
fn linked(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("pods/ns_pod_uid/c/0.log");
    let link = dir.join("containers/pod_ns_c-0.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::fs::write(&log, "1\n2\n").unwrap();
    std::os::unix::fs::symlink(&log, &link).unwrap();
    (link, log)
}

#[test]
fn a_file_whose_link_is_gone_is_kept_and_resumed_when_a_link_leads_to_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (link, log) = linked(dir.path());
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&link), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);

    std::fs::remove_file(&link).unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert!(sink.finished.is_empty(), "kept while the file exists");
    assert_eq!(tailer.open_files(), 0, "closed after close_removed_after");
    assert_eq!(tailer.next_deadline(), None, "nothing to wake up for");
    append(&log, "3\n");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);

    std::os::unix::fs::symlink(&log, &link).unwrap();
    tailer.sync(std::slice::from_ref(&link), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    append(&log, "4\n");
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2", "3", "4"]);
    assert_eq!(sink.opened.len(), 1, "one file, tailed all along");
    assert!(tailer.is_tailed(&link));

    // Gone for good: the link, then the file.
    std::fs::remove_file(&link).unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert!(sink.finished.is_empty());
    std::fs::remove_file(&log).unwrap();
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.finished, [(FileKey::new(0), 8)]);
    assert!(tailer.is_empty());
}

#[test]
fn a_record_whose_link_is_gone_at_a_restart_is_kept_for_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let (link, log) = linked(dir.path());
    let entry = record_at(&link, 4);
    std::fs::remove_file(&link).unwrap();

    let mut tailer = Tailer::new(config(), vec![entry]);
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(&[], &mut watcher, &mut sink);
    tailer.poll_all();
    drain(&mut tailer, &mut sink);
    assert!(sink.texts().is_empty());
    assert!(sink.finished.is_empty(), "kept while the file exists");

    std::os::unix::fs::symlink(&log, &link).unwrap();
    append(&log, "3\n");
    tailer.sync(std::slice::from_ref(&link), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["3"]);
}

#[test]
fn the_file_in_a_rotated_files_place_continues_it_and_a_repointed_link_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (link, log) = linked(dir.path());
    let mut tailer = Tailer::new(config(), Vec::new());
    let mut sink = Collect::default();
    let mut watcher = DirWatcher::polling_only();
    tailer.sync(std::slice::from_ref(&link), &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    std::fs::rename(&log, log.with_file_name("0.log.20261124-100000")).unwrap();
    std::fs::write(&log, "3\n").unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2", "3"]);
    assert_eq!(sink.continues, [(FileKey::new(1), FileKey::new(0), 0)]);

    let other = log.with_file_name("1.log");
    std::fs::write(&other, "4\n").unwrap();
    let tmp = link.with_extension("tmp");
    std::os::unix::fs::symlink(&other, &tmp).unwrap();
    std::fs::rename(&tmp, &link).unwrap();
    tailer.sync(&[], &mut watcher, &mut sink);
    drain(&mut tailer, &mut sink);
    assert_eq!(sink.texts(), ["1", "2", "3", "4"]);
    assert_eq!(sink.continues.len(), 1, "another file, not a continuation");
}

#[test]
fn a_file_rotated_while_down_is_continued_by_the_file_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let (link, log) = linked(dir.path());
    let entry = record_at(&link, 2);
    std::fs::rename(&log, log.with_file_name("0.log.20261124-100000")).unwrap();
    std::fs::write(&log, "3\n").unwrap();
    let sink = run_once(&link, vec![entry]);
    assert_eq!(sink.texts(), ["2", "3"]);
    let rotated = sink
        .opened
        .iter()
        .find(|(_, f)| f.target.ends_with("0.log.20261124-100000"))
        .map(|(k, _)| *k)
        .unwrap();
    let current = sink
        .opened
        .iter()
        .find(|(_, f)| f.target.ends_with("0.log"))
        .map(|(k, _)| *k)
        .unwrap();
    assert_eq!(sink.continues, [(current, rotated, 0)]);
}
