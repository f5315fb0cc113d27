//! `loglynk tail` following growing files, and stopping cleanly on a signal.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::support::{loglynk, wait_until, write_file, Running};

fn cri(i: usize) -> String {
    format!(
        "2026-11-24T10:00:{:02}.000000000Z stdout F line {i}\n",
        i % 60
    )
}

#[test]
fn appended_lines_arrive_within_two_seconds_and_sigterm_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    write_file(&log, cri(0).as_bytes());
    let mut cmd = loglynk();
    cmd.args(["tail", "--from-beginning"])
        .arg(format!("{}/*.log", dir.path().display()));
    let running = Running::spawn(cmd);

    let first = running
        .next_document(Duration::from_secs(10))
        .expect("the existing line");
    assert_eq!(first["message"], "line 0");

    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 1..=3 {
        let written = Instant::now();
        file.write_all(cri(i).as_bytes()).unwrap();
        let doc = running
            .next_document(Duration::from_secs(2))
            .unwrap_or_else(|| panic!("line {i} not seen within 2 s"));
        assert_eq!(doc["message"], format!("line {i}"));
        assert!(written.elapsed() < Duration::from_secs(2));
    }

    // A file created after start is discovered too.
    write_file(&dir.path().join("late.log"), cri(99).as_bytes());
    let doc = running
        .next_document(Duration::from_secs(5))
        .expect("a new file is picked up");
    assert_eq!(doc["message"], "line 99");

    running.signal("TERM");
    let (code, stderr) = running.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_dangling_partial_is_shipped_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    write_file(
        &log,
        b"2026-11-24T10:00:00Z stdout F ready\n2026-11-24T10:00:01Z stdout P half a li\n",
    );
    let mut cmd = loglynk();
    cmd.arg("tail").arg(&log);
    let running = Running::spawn(cmd);
    assert!(running.next_document(Duration::from_secs(10)).is_some());
    running.signal("INT");
    let doc = running
        .next_document(Duration::from_secs(10))
        .expect("the partial is flushed at shutdown");
    assert_eq!(doc["message"], "half a li");
    assert_eq!(doc["log"]["flags"], serde_json::json!(["partial"]));
    let (code, stderr) = running.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{stderr}");
}

/// CPU ticks (user + system) a process has used, from /proc/<pid>/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn following_idle_files_does_not_spin() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        write_file(&dir.path().join(format!("f{i}.log")), cri(i).as_bytes());
    }
    let mut cmd = loglynk();
    cmd.arg("tail")
        .arg(format!("{}/*.log", dir.path().display()));
    let running = Running::spawn(cmd);
    for _ in 0..20 {
        running
            .next_document(Duration::from_secs(10))
            .expect("every file's line");
    }
    let pid = running.child.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(pid) - before;
    // A busy loop would burn ~300 ticks (100 Hz) in 3 s; polling 20 files once a second costs ~0.
    assert!(used < 30, "{used} CPU ticks in 3 s idle");
    running.signal("TERM");
    let (code, _) = running.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
}

#[test]
fn a_glob_matching_nothing_is_named_once_and_again_when_it_matches() {
    let dir = tempfile::tempdir().unwrap();
    write_file(&dir.path().join("app.log"), cri(0).as_bytes());
    let missing = format!("{}/*.txt", dir.path().display());
    let mut cmd = loglynk();
    cmd.args(["tail", "--from-beginning"])
        .arg(format!("{}/*.log", dir.path().display()))
        .arg(&missing);
    let running = Running::spawn(cmd);
    let warned = wait_until(Duration::from_secs(10), || {
        running.stderr_so_far().contains(&missing)
    });
    let stderr = running.stderr_so_far();
    assert!(warned, "no warning naming {missing}:\n{stderr}");
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(stderr.contains("no file matches this path"), "{stderr}");

    // Followed, not given up on: a file it matches is read, and the warning is taken back.
    write_file(&dir.path().join("late.txt"), cri(1).as_bytes());
    let matched = wait_until(Duration::from_secs(10), || {
        running
            .stderr_so_far()
            .contains("files match this path now")
    });
    assert!(matched, "{}", running.stderr_so_far());
    let stopped = running.kill();
    assert_eq!(
        stopped.stderr.matches(&missing).count(),
        2,
        "{}",
        stopped.stderr
    );
}
