//! Reloading the configuration of a running `loglynk run`: on SIGHUP, when its file changes (a ConfigMap
//! mount swapping its `..data` symlink), and on `POST /reload`; every line exactly once across reloads.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{
    http_request, indexed_seqs, loglynk, metrics_address, sample, seq_of, wait_until,
    write_steadily, Budget, Container, KubeTree, Running,
};

/// A ConfigMap as kubelet mounts it: `loglynk.yml -> ..data/loglynk.yml`, `..data -> ..<version>`.
struct ConfigMapDir {
    dir: PathBuf,
    versions: u32,
}

impl ConfigMapDir {
    fn new(tree: &KubeTree, text: &str) -> ConfigMapDir {
        let dir = tree.root().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        let mut map = ConfigMapDir { dir, versions: 0 };
        map.publish(text);
        std::os::unix::fs::symlink("..data/loglynk.yml", map.file()).unwrap();
        map
    }

    fn file(&self) -> PathBuf {
        self.dir.join("loglynk.yml")
    }

    /// kubelet's update: the new version's directory, then `..data` swapped to it in one rename.
    fn publish(&mut self, text: &str) {
        self.versions += 1;
        let version = format!("..v{}", self.versions);
        std::fs::create_dir(self.dir.join(&version)).unwrap();
        std::fs::write(self.dir.join(&version).join("loglynk.yml"), text).unwrap();
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&version, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
    }
}

/// The agent's configuration for a test: fast flushes and retries, metrics on a free loopback port,
/// the index template left alone (the indices change name), and `extra` appended.
pub(super) fn config_text(tree: &KubeTree, hosts: &[&str], paths: &[&Path], extra: &str) -> String {
    let paths: Vec<String> = paths
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let hosts: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
    format!(
        "paths: [{}]\n\
         state_dir: {:?}\n\
         registry_flush: 100ms\n\
         shutdown_timeout: 15s\n\
         setup.enabled: false\n\
         http: {{host: 127.0.0.1, port: 0}}\n\
         output.elasticsearch:\n  \
           hosts: [{}]\n  \
           ssl.certificate_authorities: []\n  \
           flush_interval: 100ms\n  \
           backoff: {{init: 20ms, max: 200ms}}\n\
         {extra}",
        paths.join(", "),
        tree.state_dir().display().to_string(),
        hosts.join(", "),
    )
}

/// Replaces the file in one rename, as an editor or `kubectl cp` would: the watch never reads half of it.
pub(super) fn replace(file: &Path, text: &str) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

pub(super) fn run_with(file: &Path) -> Running {
    let mut cmd = loglynk();
    cmd.arg("run").arg("-c").arg(file);
    Running::spawn(cmd)
}

fn assert_exactly_once(seen: &BTreeMap<u64, u32>, want: &[Range<u64>], stderr: &str) {
    let missing: Vec<u64> = want
        .iter()
        .flat_map(|r| r.clone())
        .filter(|n| !seen.contains_key(n))
        .collect();
    let twice: Vec<(&u64, &u32)> = seen.iter().filter(|(_, c)| **c > 1).collect();
    let unexpected: Vec<&u64> = seen
        .keys()
        .filter(|n| !want.iter().any(|r| r.contains(n)))
        .collect();
    assert!(
        missing.is_empty() && twice.is_empty() && unexpected.is_empty(),
        "missing {} (e.g. {:?}), duplicated {} (e.g. {:?}), unexpected {:?}; stderr:\n{stderr}",
        missing.len(),
        &missing[..missing.len().min(10)],
        twice.len(),
        &twice[..twice.len().min(10)],
        &unexpected[..unexpected.len().min(10)],
    );
}

fn all_there(servers: &[&EsServer], want: &[Range<u64>]) -> bool {
    let seen = indexed_seqs(servers);
    want.iter()
        .flat_map(|r| r.clone())
        .all(|n| seen.contains_key(&n))
}

fn reloads(address: &str, result: &str) -> f64 {
    let (_, metrics) = http_request(address, "GET", "/metrics");
    sample(
        &metrics,
        &format!("loglynk_config_reloads_total{{result=\"{result}\"}}"),
    )
    .unwrap_or(-1.0)
}

/// Waits until the log says a reload applied a change of `key`.
pub(super) fn applied(running: &Running, key: &str, budget: &Budget) -> bool {
    wait_until(budget.left(), || {
        running
            .stderr_so_far()
            .lines()
            .any(|l| l.contains("\"configuration reloaded\"") && l.contains(key))
    })
}

fn address_of(running: &Running, budget: &Budget) -> String {
    let mut address = None;
    assert!(
        wait_until(budget.left(), || {
            address = metrics_address(&running.stderr_so_far());
            address.is_some()
        }),
        "no metrics address; stderr:\n{}",
        running.stderr_so_far()
    );
    address.unwrap()
}

#[test]
fn paths_processors_output_and_log_level_reload_while_lines_are_written() {
    let budget = Budget::new(Duration::from_secs(90));
    let server = EsServer::start();
    let url = server.url();
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let web: Container = tree.container("shop", "web-7d9f8b6c5-x2x4q", "web");
    web.append(1_000_000..1_000_200);
    let only_api = config_text(&tree, &[&url], &[&api.link], "");
    let mut map = ConfigMapDir::new(&tree, &only_api);
    let running = run_with(&map.file());
    let address = address_of(&running, &budget);
    let writer = write_steadily(api.clone(), 0..3_000, 1_000, Duration::from_secs(8));
    assert!(
        wait_until(budget.left(), || all_there(&[&server], &[0..100])),
        "api's lines are shipped; stderr:\n{}",
        running.stderr_so_far()
    );
    assert!(
        !indexed_seqs(&[&server]).contains_key(&1_000_000),
        "web is not in paths yet"
    );
    assert_eq!(
        http_request(&address, "POST", "/reload").0,
        404,
        "off by default"
    );

    // Paths: a ConfigMap update, and SIGHUP (which used to end the agent with 129).
    let glob = PathBuf::from(tree.glob());
    map.publish(&config_text(&tree, &[&url], &[&glob], ""));
    running.signal("HUP");
    assert!(
        wait_until(budget.left(), || all_there(
            &[&server],
            &[1_000_000..1_000_200]
        )),
        "web's lines are shipped once its path is configured; stderr:\n{}",
        running.stderr_so_far()
    );

    // Output settings and processors, by the file alone.
    let renamed =
        "output.elasticsearch.index: \"reloaded-%{+yyyy.MM.dd}\"\nadd_host_metadata: false\n";
    map.publish(&config_text(&tree, &[&url], &[&glob], renamed));
    assert!(
        applied(&running, "output.elasticsearch.index", &budget),
        "the file change is applied; stderr:\n{}",
        running.stderr_so_far()
    );
    web.append(1_000_200..1_000_300);
    assert!(
        wait_until(budget.left(), || all_there(
            &[&server],
            &[1_000_200..1_000_300]
        )),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    for (index, doc) in server.all_documents() {
        if seq_of(&doc).is_some_and(|n| n >= 1_000_200) {
            assert!(index.starts_with("reloaded-"), "{index}: {doc}");
            assert!(doc.get("host").is_none(), "add_host_metadata is off: {doc}");
        }
    }

    // The log level: a broken request is logged at debug only.
    let garbage = |address: &str| {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(b"NOT HTTP\r\n\r\n").unwrap();
        let _ = stream.read_to_end(&mut Vec::new());
    };
    garbage(&address);
    std::thread::sleep(Duration::from_millis(300));
    let debug_line = "connection ended with an error";
    assert!(!running.stderr_so_far().contains(debug_line));
    let debug = format!("{renamed}logging.level: debug\n");
    map.publish(&config_text(&tree, &[&url], &[&glob], &debug));
    assert!(
        applied(&running, "logging.level", &budget),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    garbage(&address);
    assert!(
        wait_until(Duration::from_secs(5), || running
            .stderr_so_far()
            .contains(debug_line)),
        "debug logging after the reload; stderr:\n{}",
        running.stderr_so_far()
    );

    writer.join().unwrap();
    let want = [0..3_000, 1_000_000..1_000_300];
    assert!(
        wait_until(budget.left(), || all_there(&[&server], &want)),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    assert_eq!(reloads(&address, "failure"), 0.0);
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_exactly_once(&indexed_seqs(&[&server]), &want, &stopped.stderr);
}

#[test]
fn an_invalid_configuration_is_refused_and_the_running_one_stays() {
    let budget = Budget::new(Duration::from_secs(60));
    let server = EsServer::start();
    let url = server.url();
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let file = tree.root().join("loglynk.yml");
    let valid = config_text(&tree, &[&url], &[&api.link], "http.reload.enabled: true\n");
    std::fs::write(&file, &valid).unwrap();
    api.append(0..100);
    let running = run_with(&file);
    let address = address_of(&running, &budget);
    assert!(wait_until(budget.left(), || all_there(
        &[&server],
        &[0..100]
    )));

    // Line 4 of the file (the misspelled key) is named in the error.
    let invalid = valid.replacen("shutdown_timeout: 15s", "shutdown_timeuot: 15s", 1);
    assert_eq!(invalid.lines().nth(3), Some("shutdown_timeuot: 15s"));
    replace(&file, &invalid);
    running.signal("HUP");
    assert!(
        wait_until(budget.left(), || reloads(&address, "failure") >= 1.0),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    let stderr = running.stderr_so_far();
    let refusal = stderr
        .lines()
        .find(|l| l.contains("the new configuration is invalid"))
        .unwrap_or_else(|| panic!("the refusal is logged; stderr:\n{stderr}"));
    assert!(
        refusal.contains("shutdown_timeuot") && refusal.contains("line 4"),
        "{refusal}"
    );
    api.append(100..200);
    assert!(
        wait_until(budget.left(), || all_there(&[&server], &[0..200])),
        "the running configuration ships on; stderr:\n{}",
        running.stderr_so_far()
    );
    let (status, body) = http_request(&address, "POST", "/reload");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("shutdown_timeuot"), "{body}");
    assert_eq!(http_request(&address, "GET", "/reload").0, 405);

    // Fixed, with a setting that cannot change live: applied, and that one named and kept.
    let moved = valid
        .replacen("registry_flush: 100ms", "registry_flush: 200ms", 1)
        .replacen("port: 0", "port: 1", 1);
    replace(&file, &moved);
    let (status, body) = http_request(&address, "POST", "/reload");
    assert_eq!(status, 200, "{body}");
    assert!(
        wait_until(budget.left(), || reloads(&address, "success") >= 1.0),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    api.append(200..300);
    assert!(wait_until(budget.left(), || all_there(
        &[&server],
        &[0..300]
    )));
    let stderr = running.stderr_so_far();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("cannot change without a restart") && l.contains("http")),
        "the kept setting is named; stderr:\n{stderr}"
    );
    assert_eq!(
        http_request(&address, "GET", "/healthz").0,
        200,
        "the port is kept"
    );
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_exactly_once(&indexed_seqs(&[&server]), &[0..300], &stopped.stderr);
}

#[test]
fn new_elasticsearch_hosts_take_over_while_requests_are_in_flight() {
    let budget = Budget::new(Duration::from_secs(90));
    let old = EsServer::start();
    // Each bulk request to the old cluster takes a while: some are in flight at the reload.
    old.faults().set_latency(Duration::from_millis(700));
    let new = EsServer::start();
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let text = |url: &str| config_text(&tree, &[url], &[&api.link], "");
    let mut map = ConfigMapDir::new(&tree, &text(&old.url()));
    let running = run_with(&map.file());
    let writer = write_steadily(api.clone(), 0..3_000, 100_000, Duration::from_secs(6));
    assert!(
        wait_until(budget.left(), || !old.all_documents().is_empty()),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    map.publish(&text(&new.url()));
    assert!(
        wait_until(budget.left(), || !new.all_documents().is_empty()),
        "the new hosts receive the lines; stderr:\n{}",
        running.stderr_so_far()
    );
    let before = old.all_documents().len();
    writer.join().unwrap();
    assert!(
        wait_until(budget.left(), || all_there(&[&old, &new], &[0..3_000])),
        "stderr:\n{}",
        running.stderr_so_far()
    );
    assert_eq!(
        old.all_documents().len(),
        before,
        "nothing goes to the old hosts once the reload is done"
    );
    let stopped = running.stop("TERM", Duration::from_secs(20));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(before > 0 && !indexed_seqs(&[&new]).is_empty());
    assert_exactly_once(&indexed_seqs(&[&old, &new]), &[0..3_000], &stopped.stderr);
}
