//! `loglynk registry import-filebeat`: a node moving from Filebeat starts exactly where Filebeat stopped.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{bytes_of, loglynk, run_to_end, Budget, KubeTree, Seqs};

/// A Filebeat 8 log/container input state, as its memlog store keeps it.
fn state(source: &Path, inode: u64, device: u64, offset: u64) -> Value {
    json!({
        "id": format!("native::{inode}-{device}"),
        "prev_id": "",
        "source": source,
        "offset": offset,
        "timestamp": [2_061_634_416_285u64, 1_764_000_000u64],
        "ttl": -1,
        "type": "container",
        "FileStateOS": {"inode": inode, "device": device},
        "identifier_name": "native",
    })
}

fn key(inode: u64, device: u64) -> String {
    format!("filebeat::logs::native::{inode}-{device}")
}

/// `loglynk registry import-filebeat REGISTRY --state-dir STATE_DIR`.
fn import_cmd(registry: &Path, state_dir: &Path) -> std::process::Command {
    let mut cmd = loglynk();
    cmd.args(["registry", "import-filebeat"])
        .arg(registry)
        .arg("--state-dir")
        .arg(state_dir);
    cmd
}

/// inode and device of what `path` resolves to, as Filebeat records them (it stats through the link).
fn identity(path: &Path) -> (u64, u64) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.ino(), meta.dev())
}

#[test]
fn import_then_tail_starts_exactly_where_filebeat_stopped() {
    let budget = Budget::new(Duration::from_secs(40));
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let worker = tree.container("payments", "worker-0", "worker");
    let report = tree.container("batch", "report-28391234-xk2jd", "report");
    api.append(0..400);
    worker.append(1_000..1_300);
    report.append(2_000..2_200);
    let gone = tree
        .containers_dir()
        .join(format!("old-0_shop_old-{}.log", "ab".repeat(32)));

    let (api_ino, api_dev) = identity(&api.link);
    let (worker_ino, worker_dev) = identity(&worker.link);
    let (report_ino, report_dev) = identity(&report.link);
    // The report file was replaced since Filebeat saw it: its recorded inode is another one.
    let stale_ino = report_ino ^ (1 << 40);

    // The checkpoint has api at line 100; a later operation in log.json moves it to line 250.
    let checkpoint: Vec<Value> = [
        (
            key(api_ino, api_dev),
            state(&api.link, api_ino, api_dev, bytes_of(0..100)),
        ),
        (
            key(worker_ino, worker_dev),
            state(&worker.link, worker_ino, worker_dev, bytes_of(1_000..1_120)),
        ),
        (
            key(stale_ino, report_dev),
            state(&report.link, stale_ino, report_dev, bytes_of(2_000..2_050)),
        ),
        (
            key(987_654_321, api_dev),
            state(&gone, 987_654_321, api_dev, 4_096),
        ),
    ]
    .into_iter()
    .map(|(key, mut state)| {
        state["_key"] = key.into();
        state
    })
    .collect();

    let registry = tree.root().join("filebeat/data/registry/filebeat");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join("meta.json"), r#"{"version":"1"}"#).unwrap();
    let checkpoint_path = registry.join("41.json");
    // Filebeat writes one entry per line inside the array.
    let body: Vec<String> = checkpoint.iter().map(Value::to_string).collect();
    std::fs::write(&checkpoint_path, format!("[{}\n]", body.join(",\n"))).unwrap();
    std::fs::write(
        registry.join("active.dat"),
        checkpoint_path.to_str().unwrap(),
    )
    .unwrap();
    let op = json!({"op": "set", "id": 42});
    let set = json!({
        "k": key(api_ino, api_dev),
        "v": state(&api.link, api_ino, api_dev, bytes_of(0..250)),
    });
    std::fs::write(registry.join("log.json"), format!("{op}\n{set}\n")).unwrap();

    let imported = run_to_end(import_cmd(&registry, &tree.state_dir()), budget.left());
    let said = format!("{}\n{}", imported.lines.join("\n"), imported.stderr);
    assert_eq!(imported.code, Some(0), "import-filebeat:\n{said}");
    for link in [&api.link, &worker.link, &report.link, &gone] {
        assert!(
            said.contains(link.to_str().unwrap()),
            "the import names {}:\n{said}",
            link.display()
        );
    }
    assert!(
        said.to_lowercase().contains("skip"),
        "the import reports what it skipped:\n{said}"
    );

    let run = run_to_end(tree.tail(&["--no-follow"]), budget.left());
    assert_eq!(run.code, Some(0), "tail; stderr:\n{}", run.stderr);
    let mut seqs = Seqs::default();
    seqs.add_lines(&run.lines);
    seqs.assert_exactly(
        &[250..400, 1_120..1_300, 2_000..2_200],
        "tail after importing Filebeat's registry",
    );
}

/// Filebeat 8's filestream input knows files by a SHA-256 of their first 1,024 bytes by default
/// (`file_identity.fingerprint`); a state whose file still starts with those bytes resumes where Filebeat
/// stopped, one whose file no longer does is read from its start.
#[test]
fn filestream_fingerprint_states_resume_the_file_that_still_has_that_head() {
    use sha2::{Digest, Sha256};
    let budget = Budget::new(Duration::from_secs(40));
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let worker = tree.container("payments", "worker-0", "worker");
    api.append(0..400);
    worker.append(1_000..1_300);
    let fingerprint = |path: &Path| {
        let head = &std::fs::read(path).unwrap()[..1024];
        let hex: String = Sha256::digest(head)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        hex
    };
    let state = |source: &Path, hash: &str, offset: u64| {
        json!({
            "k": format!("filestream::container-logs::fingerprint::{hash}"),
            "v": {
                "ttl": 1_800_000_000_000u64,
                "updated": [2_062_731_942_177u64, 1_795_504_389u64],
                "cursor": {"offset": offset},
                "meta": {"source": source, "identifier_name": "fingerprint"},
            },
        })
    };
    let api_state = state(&api.link, &fingerprint(&api.link), bytes_of(0..100));
    // The worker's file was replaced since: Filebeat's fingerprint is of other bytes.
    let worker_state = state(&worker.link, &"0f".repeat(32), bytes_of(1_000..1_200));
    let registry = tree.root().join("filebeat/data/registry/filebeat");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join("meta.json"), r#"{"version":"1"}"#).unwrap();
    let log: String = [(1, api_state), (2, worker_state)]
        .into_iter()
        .map(|(id, set)| format!("{}\n{set}\n", json!({"op": "set", "id": id})))
        .collect();
    std::fs::write(registry.join("log.json"), log).unwrap();

    let imported = run_to_end(import_cmd(&registry, &tree.state_dir()), budget.left());
    let said = format!("{}\n{}", imported.lines.join("\n"), imported.stderr);
    assert_eq!(imported.code, Some(0), "import-filebeat:\n{said}");
    assert!(
        said.contains("not the ones Filebeat fingerprinted"),
        "{said}"
    );

    let run = run_to_end(tree.tail(&["--no-follow"]), budget.left());
    assert_eq!(run.code, Some(0), "tail; stderr:\n{}", run.stderr);
    let mut seqs = Seqs::default();
    seqs.add_lines(&run.lines);
    seqs.assert_exactly(
        &[100..400, 1_000..1_300],
        "tail after importing filestream's fingerprint states",
    );
}

/// The DaemonSet's init container runs `--if-absent` at every start of the pod: it imports on the node's
/// first start only, and a node that never ran Filebeat starts all the same.
#[test]
fn if_absent_imports_once_and_passes_over_a_node_without_filebeat() {
    let budget = Budget::new(Duration::from_secs(40));
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    api.append(0..200);
    let (ino, dev) = identity(&api.link);
    let registry = tree.root().join("filebeat/data/registry/filebeat");
    std::fs::create_dir_all(&registry).unwrap();
    std::fs::write(registry.join("meta.json"), r#"{"version":"1"}"#).unwrap();
    let set = json!({"k": key(ino, dev), "v": state(&api.link, ino, dev, bytes_of(0..50))});
    let op = json!({"op": "set", "id": 1});
    std::fs::write(registry.join("log.json"), format!("{op}\n{set}\n")).unwrap();
    let import = |from: &Path, state_dir: &Path| {
        let mut cmd = import_cmd(from, state_dir);
        cmd.arg("--if-absent");
        run_to_end(cmd, budget.left())
    };

    let first = import(&registry, &tree.state_dir());
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let saved = tree.state_dir().join("registry.json");
    let recorded = std::fs::read(&saved).expect("the first start imports");
    // Filebeat's registry moves on (as it would, were Filebeat still running): a second start must not
    // take it over again.
    let set = json!({"k": key(ino, dev), "v": state(&api.link, ino, dev, bytes_of(0..150))});
    std::fs::write(registry.join("log.json"), format!("{op}\n{set}\n")).unwrap();
    let second = import(&registry, &tree.state_dir());
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(
        second.lines.join("\n").contains("nothing imported"),
        "{:?}",
        second.lines
    );
    assert_eq!(std::fs::read(&saved).unwrap(), recorded, "left as it was");

    let elsewhere = tempfile::tempdir().unwrap();
    let fresh = elsewhere.path().join("state");
    let none = import(&elsewhere.path().join("no-filebeat"), &fresh);
    assert_eq!(none.code, Some(0), "{}", none.stderr);
    assert!(!fresh.join("registry.json").exists());

    let run = run_to_end(tree.tail(&["--no-follow"]), budget.left());
    let mut seqs = Seqs::default();
    seqs.add_lines(&run.lines);
    seqs.assert_exactly(&[50..200], "tail after a first-start import");
}
