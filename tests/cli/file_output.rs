//! `run` with `output.file`: NDJSON files in a directory, rotated by size, the registry kept as for
//! Elasticsearch, so every line lands exactly once across a restart.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{loglynk, wait_until, Budget, KubeTree, Running, Seqs};

const BUDGET: Duration = Duration::from_secs(60);

fn run_to_files(tree: &KubeTree, dir: &Path, rotate_kb: u64, files: usize) -> Running {
    let mut cmd = loglynk();
    cmd.arg("run");
    for setting in [
        format!("output.file.path={}", dir.display()),
        format!("output.file.rotate_every_kb={rotate_kb}"),
        format!("output.file.number_of_files={files}"),
        "registry_flush=100ms".to_owned(),
        "shutdown_timeout=3s".to_owned(),
        "http.enabled=false".to_owned(),
        format!("state_dir={}", tree.state_dir().display()),
        format!("paths=[\"{}\"]", tree.glob()),
    ] {
        cmd.arg("-E").arg(setting);
    }
    Running::spawn(cmd)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn lines_in(dir: &Path) -> Vec<String> {
    files_in(dir)
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

/// Runs until `want` lines are in the files, then stops with SIGTERM, which must exit 0.
fn ship(tree: &KubeTree, dir: &Path, rotate_kb: u64, files: usize, want: usize, budget: &Budget) {
    let running = run_to_files(tree, dir, rotate_kb, files);
    let arrived = wait_until(budget.left(), || lines_in(dir).len() >= want);
    let stopped = running.stop("TERM", budget.left());
    assert!(arrived, "{want} lines not written: {}", stopped.stderr);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn every_line_lands_once_across_a_restart_in_rotated_private_files() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let dir = tree.root().join("out");
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    api.append(0..300);
    ship(&tree, &dir, 16, 100, 300, &budget);
    api.append(300..500);
    ship(&tree, &dir, 16, 100, 500, &budget);

    let mut seqs = Seqs::default();
    seqs.add_lines(&lines_in(&dir));
    seqs.assert_exactly(&[0..500], "two runs to output.file");
    let files = files_in(&dir);
    assert!(files.len() > 2, "rotated at 16 KiB: {files:?}");
    for file in &files {
        let meta = std::fs::metadata(file).unwrap();
        assert!(
            meta.len() <= 16 * 1024,
            "{} is {} bytes",
            file.display(),
            meta.len()
        );
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "{}",
            file.display()
        );
    }
}

#[test]
fn at_most_number_of_files_are_kept() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let dir = tree.root().join("out");
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    api.append(0..400);
    let running = run_to_files(&tree, &dir, 4, 3);
    // Done once the last line is in the newest file; the oldest lines went with deleted files.
    let current = dir.join("loglynk.ndjson");
    let last = wait_until(budget.left(), || {
        std::fs::read_to_string(&current).is_ok_and(|text| {
            text.lines()
                .last()
                .is_some_and(|l| l.contains("\"seq=399\""))
        })
    });
    let stopped = running.stop("TERM", budget.left());
    assert!(last, "{}", stopped.stderr);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    let files = files_in(&dir);
    assert_eq!(files.len(), 3, "{files:?}");
}
