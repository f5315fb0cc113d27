//! Following files through rotation, while running and across restarts: every line is read, and (where
//! the outcome is deterministic) read once.
//!
//! Each test writes lines `seq=<n>` into a kubelet-like tree and checks the numbers loglynk printed.

use std::io::Write;
use std::time::Duration;

use crate::support::{
    append_seqs, deleted_fds, describe, gzip, wait_until, write_seqs, write_steadily, Budget,
    KubeTree, Running, Seqs,
};

/// kubelet's suffix for a rotated log (`20060102-150405`).
const STAMP: &str = "20261124-071500";
/// For all of a test's lines to arrive, over all its steps: far above the second or two it takes, so a
/// loaded machine does not fail a test, and short enough to keep each test under a minute.
const BUDGET: Duration = Duration::from_secs(40);
/// For the exit on SIGTERM (within shutdown_timeout, 10 s by default).
const EXIT: Duration = Duration::from_secs(10);

/// `loglynk tail --state-dir … <glob>`, following, with short flush and close delays.
fn follow(tree: &KubeTree) -> Running {
    Running::spawn(tree.tail(&["-E", "registry_flush=200ms", "-E", "close_removed_after=1s"]))
}

/// Waits until every number of `want` was printed, failing with what is missing.
fn expect(
    running: &Running,
    seqs: &mut Seqs,
    want: &[std::ops::Range<u64>],
    what: &str,
    budget: &Budget,
) {
    if !running.collect_until(seqs, want, budget.left()) {
        panic!(
            "{what}: not every line arrived within the test's {:?}; missing {}\nstderr:\n{}",
            budget.total(),
            describe(&seqs.missing(want)),
            running.stderr_so_far()
        );
    }
}

/// SIGTERM: exits 0; what it printed while stopping is counted too. Returns stderr.
fn terminate(running: Running, seqs: &mut Seqs) -> String {
    let stopped = running.stop("TERM", EXIT);
    assert_eq!(
        stopped.code,
        Some(0),
        "exit on SIGTERM; stderr:\n{}",
        stopped.stderr
    );
    seqs.add_lines(&stopped.lines);
    stopped.stderr
}

/// A `--no-follow` run over the tree, which must succeed; its output.
fn read_once(tree: &KubeTree, context: &str, budget: &Budget) -> (Seqs, String) {
    let run = tree.read_once(context, budget.left());
    let mut seqs = Seqs::default();
    seqs.add_lines(&run.lines);
    (seqs, run.stderr)
}

/// a. kubelet renames `0.log` to `0.log.<time>` and the runtime creates a new `0.log`; the symlink keeps
/// naming `0.log`. The renamed file is read to its end (including what the runtime wrote to it after the
/// rename, before reopening), then the new file from its start. Three rotations in a row.
#[test]
fn kubelet_rename_and_create_while_following() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let mut writer = c.open_append();
    write_seqs(&mut writer, 0..500);
    // No periodic rescan to fall back on: rotation must be noticed as it happens (inotify, or the 1 s
    // poll of the path), as it must when kubelet rotates again before a 10 s rescan would come.
    let running =
        Running::spawn(tree.tail(&["-E", "registry_flush=200ms", "-E", "scan_frequency=10m"]));
    let mut seqs = Seqs::default();
    expect(&running, &mut seqs, &[0..500], "before rotating", &budget);

    let mut next = 500;
    for round in 0..3u64 {
        // Written just before the rename: most likely not read yet when it happens.
        write_seqs(&mut writer, next..next + 500);
        c.rotate(&format!("20261124-0715{round:02}"));
        // The runtime still writes to the renamed file until kubelet asks it to reopen the log.
        write_seqs(&mut writer, next + 500..next + 600);
        writer = c.open_append();
        write_seqs(&mut writer, next + 600..next + 1100);
        next += 1100;
        expect(
            &running,
            &mut seqs,
            &[0..next],
            &format!("after rotation {round}"),
            &budget,
        );
    }
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..next], "rename/create while following");
}

/// a, under steady writes: rotations every ~0.7 s while lines stream in (kubelet never rotates this
/// often, which leaves no time for a rescan to repair a missed rotation). Every line once.
#[test]
fn kubelet_rotation_under_steady_writes_loses_nothing() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "orders-6f7d8c9b5a-zx9cv", "orders");
    let running = Running::spawn(tree.tail(&["-E", "registry_flush=200ms"]));
    let writer = write_steadily(c.clone(), 0..6_000, 1_000, Duration::from_secs(4));
    writer.join().expect("the writer thread");
    let mut seqs = Seqs::default();
    expect(
        &running,
        &mut seqs,
        &[0..6_000],
        "steady writes with rotations",
        &budget,
    );
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..6_000], "rotations under steady writes");
}

/// a, while loglynk is down: lines written after it stopped are in the renamed file, which the registry
/// entry is matched to by identity in the same directory; its remainder is read, then the new `0.log`.
#[test]
fn kubelet_rotation_while_down_reads_the_rest_of_the_renamed_file_then_the_new_one() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "web-7d9f8b6c5-x2x4q", "nginx");
    c.append(0..500);
    let (first, _) = read_once(&tree, "first run", &budget);
    first.assert_exactly(&[0..500], "first run");

    // While down: more lines, rotation, lines in the new file.
    c.append(500..800);
    c.rotate(STAMP);
    c.append(800..1000);

    let running = follow(&tree);
    let mut seqs = Seqs::default();
    expect(&running, &mut seqs, &[500..1000], "after restart", &budget);
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[500..1000], "restart after a rotation while down");
}

/// b. copytruncate: the file is copied, then truncated in place, so its size drops below the read
/// offset. Reading restarts at 0 with a warning saying "truncated"; the copy is not read.
#[test]
fn copytruncate_while_following_restarts_at_zero_with_a_warning() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("payments", "worker-0", "worker");
    let mut writer = c.open_append();
    write_seqs(&mut writer, 0..500);
    let running = follow(&tree);
    let mut seqs = Seqs::default();

    std::fs::copy(c.log(), c.dir.join("0.log.1")).unwrap();
    // Deterministic: everything before the truncation has been read when it happens.
    expect(&running, &mut seqs, &[0..500], "before truncating", &budget);
    writer.set_len(0).unwrap();
    // Far less than was there: the size stays below the old offset.
    write_seqs(&mut writer, 500..600);
    expect(&running, &mut seqs, &[0..600], "after truncating", &budget);
    let stderr = terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..600], "copytruncate while following");
    assert!(
        stderr.contains("truncated"),
        "a warning saying the file was truncated; stderr:\n{stderr}"
    );
}

/// b, across a restart: truncated and rewritten while loglynk was down; the new content is read once,
/// from its start.
#[test]
fn copytruncate_while_down_reads_the_new_content_from_its_start() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("payments", "worker-1", "worker");
    c.append(0..500);
    let (first, _) = read_once(&tree, "first run", &budget);
    first.assert_exactly(&[0..500], "first run");

    std::fs::copy(c.log(), c.dir.join("0.log.1")).unwrap();
    let writer = c.open_append();
    writer.set_len(0).unwrap();
    drop(writer);
    c.append(500..600);

    let (second, _) = read_once(&tree, "second run", &budget);
    second.assert_exactly(&[500..600], "restart after copytruncate while down");
}

/// c. While loglynk is down, the file is rotated and the rotated file compressed to `.gz` (the original
/// removed): the remainder is read from the `.gz`, matched by the fingerprint of its decompressed content.
#[test]
fn rotated_and_gzipped_while_down_the_rest_is_read_from_the_gz() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "cart-6b7c8d9e0f-abcde", "cart");
    c.append(0..500);
    let (first, _) = read_once(&tree, "first run", &budget);
    first.assert_exactly(&[0..500], "first run");

    c.append(500..800);
    let rotated = c.rotate(STAMP);
    c.append(800..1000);
    // kubelet compresses into a temporary name, renames it into place, then removes the original.
    let gz = c.dir.join(format!("0.log.{STAMP}.gz"));
    let tmp = c.dir.join(format!("0.log.{STAMP}.tmp"));
    std::fs::write(&tmp, gzip(&std::fs::read(&rotated).unwrap())).unwrap();
    std::fs::rename(&tmp, &gz).unwrap();
    std::fs::remove_file(&rotated).unwrap();

    let running = follow(&tree);
    let mut seqs = Seqs::default();
    expect(&running, &mut seqs, &[500..1000], "after restart", &budget);
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[500..1000], "restart after rotation + gzip while down");
}

/// d. A file deleted while open (the pod is gone: kubelet removes its log directory and symlink) is read
/// to its end, then closed: loglynk holds no descriptor to a deleted file afterwards.
#[test]
fn a_deleted_file_is_read_to_its_end_then_closed() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("batch", "report-28391234-xk2jd", "report");
    let keep = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let mut writer = c.open_append();
    write_seqs(&mut writer, 0..500);
    keep.append(10_000..10_010);
    let running = follow(&tree);
    let mut seqs = Seqs::default();
    expect(
        &running,
        &mut seqs,
        &[0..500, 10_000..10_010],
        "before deleting",
        &budget,
    );

    // The last lines, then the container is garbage-collected before they were necessarily read.
    write_seqs(&mut writer, 500..600);
    drop(writer);
    std::fs::remove_file(&c.link).unwrap();
    std::fs::remove_dir_all(&c.pod_dir).unwrap();

    expect(
        &running,
        &mut seqs,
        &[0..600, 10_000..10_010],
        "after deleting",
        &budget,
    );
    let pid = running.pid();
    // close_removed_after is 1 s; the deadline only allows for a slow machine.
    let closed = wait_until(budget.left(), || deleted_fds(pid).is_empty());
    assert!(
        closed,
        "still open at the end of the test's {:?}: {:?}",
        budget.total(),
        deleted_fds(pid)
    );
    // The other file is still followed.
    keep.append(10_010..10_020);
    expect(
        &running,
        &mut seqs,
        &[10_000..10_020],
        "the other file",
        &budget,
    );
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..600, 10_000..10_020], "deleted while open");
}

/// e. The `/var/log/containers` symlink is re-pointed at another file: the new target is read from its
/// start, and followed.
#[test]
fn a_repointed_symlink_reads_the_new_target_from_its_start() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "search-5f6g7h8i9j-lmnop", "search");
    c.append(0..300);
    let running = follow(&tree);
    let mut seqs = Seqs::default();
    expect(
        &running,
        &mut seqs,
        &[0..300],
        "before re-pointing",
        &budget,
    );

    let next = c.dir.join("1.log");
    append_seqs(&next, 300..600);
    c.repoint(&next);
    expect(&running, &mut seqs, &[0..600], "the new target", &budget);
    append_seqs(&next, 600..700);
    expect(
        &running,
        &mut seqs,
        &[0..700],
        "the new target, growing",
        &budget,
    );
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..700], "re-pointed symlink");
}

/// f. The `/var/log/containers` link disappears for a while and comes back to the same file (kubelet
/// recreates links; an overlay remount can hide them): the file's record outlives the missing name,
/// so nothing is read twice, while running or across a restart made while the link was missing.
#[test]
fn a_link_that_disappears_and_comes_back_reads_nothing_twice() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7c9d8e6f5-qwert", "checkout");
    c.append(0..1000);
    let running = follow(&tree);
    let mut seqs = Seqs::default();
    expect(
        &running,
        &mut seqs,
        &[0..1000],
        "before removing the link",
        &budget,
    );

    std::fs::remove_file(&c.link).unwrap();
    // Well past close_removed_after (1 s) and a poll: the file was closed meanwhile.
    std::thread::sleep(Duration::from_secs(3));
    std::os::unix::fs::symlink(c.log(), &c.link).unwrap();
    c.append(1000..1100);
    expect(&running, &mut seqs, &[0..1100], "the link is back", &budget);

    // Missing across a restart.
    std::fs::remove_file(&c.link).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    terminate(running, &mut seqs);
    let running = follow(&tree);
    std::thread::sleep(Duration::from_secs(2)); // the restarted agent's first scans, without the link
    std::os::unix::fs::symlink(c.log(), &c.link).unwrap();
    c.append(1100..1200);
    expect(
        &running,
        &mut seqs,
        &[0..1200],
        "after the restart",
        &budget,
    );
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..1200], "a link that disappears and comes back");
}

/// g. containerd splits a long line into `P` pieces and a last `F`. When kubelet rotates between two
/// pieces, the `P` ends the rotated file and the `F` starts the new one: they are joined into one
/// line, as within one file, and the rotated file's record still goes once the line is delivered.
#[test]
fn a_line_split_by_a_rotation_is_joined_across_it() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "indexer-5f6g7h8i9j-lmnop", "indexer");
    let mut writer = c.open_append();
    write_seqs(&mut writer, 0..10);
    writer
        .write_all(b"2026-11-24T10:00:00.000000000Z stdout P seq=10\n")
        .unwrap();
    // A long partial_timeout: the join must not depend on the rotation coming soon enough.
    let running = Running::spawn(tree.tail(&[
        "-E",
        "registry_flush=200ms",
        "-E",
        "close_removed_after=1s",
        "-E",
        "partial_timeout=30s",
    ]));
    let mut seqs = Seqs::default();
    expect(&running, &mut seqs, &[0..10], "before rotating", &budget);

    c.rotate(STAMP);
    let mut writer = c.open_append();
    writer
        .write_all(b"2026-11-24T10:00:00.000000000Z stdout F 00\n")
        .unwrap();
    write_seqs(&mut writer, 11..20);
    let mut documents = Vec::new();
    while documents.len() < 10 {
        match running.next_document(budget.left()) {
            Some(doc) => documents.push(doc),
            None => break,
        }
    }
    let shown: Vec<String> = documents
        .iter()
        .map(|d| format!("{} {}", d["message"], d["log"]["flags"]))
        .collect();
    assert_eq!(
        documents[0]["message"], "seq=1000",
        "the two halves as one line first: {shown:?}"
    );
    assert!(
        documents.iter().all(|d| d["log"]["flags"].is_null()),
        "nothing flagged: {shown:?}"
    );
    for doc in &documents {
        seqs.add_line(&doc.to_string());
    }

    // Both files' offsets recorded, and then the rotated file's record gone: nothing is held back.
    let size = std::fs::metadata(c.log()).unwrap().len();
    let registry = || -> Vec<(String, u64)> {
        let text = std::fs::read_to_string(tree.registry()).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        value["files"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| (f["target"].to_string(), f["offset"].as_u64().unwrap_or(0)))
            .collect()
    };
    let settled = wait_until(budget.left(), || {
        let files = registry();
        files.len() == 1 && files[0].1 == size
    });
    assert!(settled, "registry: {:?}", registry());
    terminate(running, &mut seqs);
    seqs.assert_exactly(&[0..10, 1000..1001, 11..20], "a line split by a rotation");
}

/// g, while loglynk is down: the rest of the rotated file starts with the `P` piece (the registry's
/// offset stopped before it) and the new file with the `F`; they are joined after the restart.
#[test]
fn a_line_split_by_a_rotation_while_down_is_joined_after_the_restart() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "indexer-5f6g7h8i9j-vwxyz", "indexer");
    let mut writer = c.open_append();
    write_seqs(&mut writer, 0..10);
    writer
        .write_all(b"2026-11-24T10:00:00.000000000Z stdout P seq=10\n")
        .unwrap();
    let (first, _) = read_once(&tree, "first run", &budget);
    first.assert_exactly(&[0..10], "first run");

    c.rotate(STAMP);
    let mut writer = c.open_append();
    writer
        .write_all(b"2026-11-24T10:00:00.000000000Z stdout F 00\n")
        .unwrap();
    write_seqs(&mut writer, 11..20);
    let (second, _) = read_once(&tree, "second run", &budget);
    second.assert_exactly(
        &[1000..1001, 11..20],
        "a line split by a rotation while down",
    );
}
