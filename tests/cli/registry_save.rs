//! Saving the registry under `loglynk run`: a save that fails (a full disk) is retried until it
//! succeeds, shows in the metrics and readiness, and makes a stop exit 1; what a crash sends again is
//! what the metrics called in flight or unsaved just before it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{
    bytes_of, http_get, indexed_seqs, metrics_address, run_cmd, sample, wait_until, KubeTree,
    Running,
};

/// Every wait in these tests: far above the second or so each step takes.
const STEP: Duration = Duration::from_secs(30);

/// The offset the registry on disk holds for its only file.
fn saved_offset(tree: &KubeTree) -> Option<u64> {
    let bytes = std::fs::read(tree.registry()).ok()?;
    let registry: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    registry["files"][0]["offset"].as_u64()
}

fn metrics_of(running: &Running) -> String {
    assert!(
        wait_until(STEP, || metrics_address(&running.stderr_so_far()).is_some()),
        "no metrics address; stderr:\n{}",
        running.stderr_so_far()
    );
    metrics_address(&running.stderr_so_far()).unwrap()
}

/// One scrape's numbers, absent ones as NaN so a comparison with them fails.
struct Scrape(String);

impl Scrape {
    fn of(address: &str) -> Scrape {
        Scrape(http_get(address, "/metrics").1)
    }

    fn get(&self, name: &str) -> f64 {
        sample(&self.0, name).unwrap_or(f64::NAN)
    }
}

/// The state directory on a 64 KiB tmpfs that the test fills and frees. Where no tmpfs can be mounted
/// (not root), a directory without write permission fails the same writes; where neither works, the
/// test is skipped with the reason printed.
enum FullDisk {
    Tmpfs(PathBuf),
    ReadOnly(PathBuf),
}

const FILLER: &str = "filler";

impl FullDisk {
    fn under(dir: &Path) -> Option<FullDisk> {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
            .arg(dir)
            .output();
        match mounted {
            Ok(out) if out.status.success() => return Some(FullDisk::Tmpfs(dir.to_owned())),
            Ok(out) => println!(
                "cannot mount a tmpfs ({}); trying a read-only state directory",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => println!("cannot run mount ({e}); trying a read-only state directory"),
        }
        let disk = FullDisk::ReadOnly(dir.to_owned());
        disk.fill();
        let probe = dir.join("probe");
        if std::fs::write(&probe, b"x").is_ok() {
            // Root writes through permissions: nothing here can make the write fail.
            let _ = std::fs::remove_file(&probe);
            disk.free();
            println!("SKIPPED: no tmpfs can be mounted and permissions do not stop this user");
            return None;
        }
        disk.free();
        Some(disk)
    }

    fn fill(&self) {
        match self {
            FullDisk::Tmpfs(dir) => {
                use std::io::Write;
                let mut filler = std::fs::File::create(dir.join(FILLER)).unwrap();
                let chunk = [0u8; 4096];
                // Bounded: the tmpfs holds 16 such chunks.
                for _ in 0..64 {
                    if filler.write_all(&chunk).is_err() {
                        return;
                    }
                }
                panic!("64 KiB tmpfs at {} never filled up", dir.display());
            }
            FullDisk::ReadOnly(dir) => chmod(dir, 0o500),
        }
    }

    fn free(&self) {
        match self {
            FullDisk::Tmpfs(dir) => std::fs::remove_file(dir.join(FILLER)).unwrap(),
            FullDisk::ReadOnly(dir) => chmod(dir, 0o700),
        }
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        match self {
            FullDisk::Tmpfs(dir) => {
                let _ = Command::new("umount").arg("-l").arg(&*dir).status();
            }
            FullDisk::ReadOnly(dir) => chmod(dir, 0o700),
        }
    }
}

fn chmod(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The scenario: the state directory fills up while lines are shipped, then space comes back.
#[test]
fn a_full_disk_delays_the_registry_until_space_is_back_and_a_stop_then_exits_1() {
    let es = EsServer::start();
    let tree = KubeTree::new();
    // Declared after the tree, so it is unmounted before the tree's directory is removed.
    let Some(disk) = FullDisk::under(&tree.state_dir()) else {
        return;
    };
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let mut running = Running::spawn(run_cmd(&tree, &es.url()));
    let mut address = metrics_of(&running);
    c.append(0..1000);
    assert!(
        wait_until(STEP, || saved_offset(&tree) == Some(bytes_of(0..1000))),
        "registry {:?}; stderr:\n{}",
        saved_offset(&tree),
        running.stderr_so_far()
    );

    disk.fill();
    c.append(1000..5000);
    // Shipping goes on; the registry cannot follow, and says so.
    let shipped = wait_until(STEP, || {
        let m = Scrape::of(&address);
        indexed_seqs(&[&es]).len() == 5000
            && m.get("loglynk_events_in_flight") == 0.0
            && m.get("loglynk_registry_unsaved_events") == 4000.0
            && m.get("loglynk_registry_flush_failures_total") >= 2.0
    });
    assert!(
        shipped,
        "indexed {}; metrics:\n{}\nstderr:\n{}",
        indexed_seqs(&[&es]).len(),
        Scrape::of(&address).0,
        running.stderr_so_far()
    );
    assert_eq!(saved_offset(&tree), Some(bytes_of(0..1000)));
    let (status, body) = http_get(&address, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("registry"), "{body}");

    // Space comes back: the next retry saves, with no new line to prompt it.
    let failures_before = Scrape::of(&address).get("loglynk_registry_flush_failures_total");
    disk.free();
    assert!(
        wait_until(Duration::from_secs(10), || saved_offset(&tree)
            == Some(bytes_of(0..5000))),
        "registry still at {:?} of {} bytes, 10 s after space came back; stderr:\n{}",
        saved_offset(&tree),
        bytes_of(0..5000),
        running.stderr_so_far()
    );
    assert!(
        wait_until(STEP, || http_get(&address, "/readyz").0 == 200),
        "{:?}",
        http_get(&address, "/readyz")
    );
    let m = Scrape::of(&address);
    assert_eq!(m.get("loglynk_registry_unsaved_events"), 0.0, "{}", m.0);
    assert!(m.get("loglynk_registry_flush_failures_total") >= failures_before);

    // A SIGKILL now sends nothing again.
    let killed = running.kill();
    assert_eq!(killed.code, None);
    running = Running::spawn(run_cmd(&tree, &es.url()));
    address = metrics_of(&running);
    c.append(5000..5010);
    assert!(
        wait_until(STEP, || indexed_seqs(&[&es]).len() == 5010
            && saved_offset(&tree) == Some(bytes_of(0..5010))),
        "indexed {}; stderr:\n{}",
        indexed_seqs(&[&es]).len(),
        running.stderr_so_far()
    );
    let twice: Vec<u64> = indexed_seqs(&[&es])
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(n, _)| n)
        .collect();
    assert!(twice.is_empty(), "sent again after the kill: {twice:?}");

    // SIGTERM while the disk is full: the last save fails, and the exit says so.
    disk.fill();
    c.append(5010..5100);
    assert!(
        wait_until(STEP, || indexed_seqs(&[&es]).len() == 5100
            && Scrape::of(&address).get("loglynk_registry_unsaved_events")
                == 90.0),
        "indexed {}; metrics:\n{}\nstderr:\n{}",
        indexed_seqs(&[&es]).len(),
        Scrape::of(&address).0,
        running.stderr_so_far()
    );
    let stopped = running.stop("TERM", STEP);
    assert_eq!(stopped.code, Some(1), "stderr:\n{}", stopped.stderr);
    let registry = tree.registry().display().to_string();
    let said = stopped.stderr.lines().find(|line| {
        line.contains("\"level\":\"ERROR\"") && line.contains(&registry) && line.contains("90")
    });
    assert!(
        said.is_some(),
        "an error naming {registry} and the 90 events; stderr:\n{}",
        stopped.stderr
    );
    println!("at SIGTERM with the disk full: {}", said.unwrap());
    assert_eq!(saved_offset(&tree), Some(bytes_of(0..5010)));
}

/// What one crash sent again: the agent's gauges just before the SIGKILL, the cluster after the
/// restart caught up, and how many items the restarted agent found already indexed.
struct Crash {
    in_flight: f64,
    unsaved: f64,
    counts: BTreeMap<u64, u32>,
    deduplicated: f64,
}

/// A run saves 0..500; a second one ships 500..3000 without saving them, then 3000..3600 stay in
/// flight while Elasticsearch stalls, and it is SIGKILLed; a third run reads again everything after the
/// saved offset. Every agent runs with `output.elasticsearch.deduplicate` as given.
fn crash_and_restart(deduplicate: bool) -> Crash {
    let es = EsServer::start();
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let agent = |extra: &[&str]| {
        let mut cmd = run_cmd(&tree, &es.url());
        cmd.arg("-E")
            .arg(format!("output.elasticsearch.deduplicate={deduplicate}"))
            .args(extra);
        Running::spawn(cmd)
    };

    // A first run saves 0..500 and stops cleanly.
    c.append(0..500);
    let first = agent(&[]);
    assert!(wait_until(STEP, || indexed_seqs(&[&es]).len() == 500));
    let stopped = first.stop("TERM", STEP);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_eq!(saved_offset(&tree), Some(bytes_of(0..500)));

    // A second run saves nothing for ten minutes: all it ships stays unsaved.
    let second = agent(&["-E", "registry_flush=10m"]);
    let address = metrics_of(&second);
    c.append(500..3000);
    assert!(
        wait_until(STEP, || {
            let m = Scrape::of(&address);
            indexed_seqs(&[&es]).len() == 3000 && m.get("loglynk_events_in_flight") == 0.0
        }),
        "indexed {}",
        indexed_seqs(&[&es]).len()
    );
    // Then Elasticsearch stops answering, so the next lines stay in flight.
    es.faults().set_stall(true);
    c.append(3000..3600);
    assert!(
        wait_until(STEP, || Scrape::of(&address)
            .get("loglynk_lines_read_total")
            == 3100.0),
        "{}",
        Scrape::of(&address).0
    );
    let m = Scrape::of(&address);
    let in_flight = m.get("loglynk_events_in_flight");
    let unsaved = m.get("loglynk_registry_unsaved_events");
    assert_eq!(in_flight, 600.0, "{}", m.0);
    assert_eq!(unsaved, 2500.0, "acknowledged since the last save: {}", m.0);
    let killed = second.kill();
    assert_eq!(killed.code, None);
    es.faults().set_stall(false);

    // The third run reads again everything after the saved offset.
    let third = agent(&[]);
    let address = metrics_of(&third);
    assert!(
        wait_until(STEP, || {
            let m = Scrape::of(&address);
            m.get("loglynk_lines_read_total") == 3100.0 && m.get("loglynk_events_in_flight") == 0.0
        }),
        "{}",
        Scrape::of(&address).0
    );
    let deduplicated = Scrape::of(&address).get("loglynk_events_deduplicated_total");
    let counts = indexed_seqs(&[&es]);
    let stopped = third.stop("TERM", STEP);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert_eq!(counts.len(), 3600, "every line indexed");
    Crash {
        in_flight,
        unsaved,
        counts,
        deduplicated,
    }
}

/// README's bound on what a crash sends again: the events in flight plus those acknowledged and not
/// yet saved, both read from /metrics just before the SIGKILL. Without deduplication each of them is
/// a second document in the cluster.
#[test]
fn what_a_crash_sends_again_is_bounded_by_in_flight_plus_unsaved() {
    let Crash {
        in_flight,
        unsaved,
        counts,
        deduplicated,
    } = crash_and_restart(false);
    let sent_again: f64 = counts.values().map(|c| f64::from(c - 1)).sum();
    println!(
        "in flight {in_flight}, unsaved {unsaved} at the kill; {sent_again} documents sent again"
    );
    assert_eq!(deduplicated, 0.0, "nothing is refused without _ids");
    assert!(
        sent_again <= in_flight + unsaved,
        "{sent_again} sent again, more than in flight ({in_flight}) + unsaved ({unsaved})"
    );
    assert!(
        sent_again >= unsaved,
        "every unsaved event is sent again: {sent_again} < {unsaved}"
    );
    assert!(
        sent_again > in_flight,
        "in flight alone ({in_flight}) does not bound it ({sent_again})"
    );
}

/// The same crash with deduplication on (the default): the lines are sent again just as often, and
/// the cluster refuses each as already there, so it holds every line once; the restarted agent counts
/// them in `loglynk_events_deduplicated_total`, within the same bound.
#[test]
fn with_deduplication_a_crash_leaves_no_second_document() {
    let Crash {
        in_flight,
        unsaved,
        counts,
        deduplicated,
    } = crash_and_restart(true);
    println!(
        "in flight {in_flight}, unsaved {unsaved} at the kill; {deduplicated} refused as duplicates"
    );
    let twice: Vec<u64> = counts
        .iter()
        .filter(|(_, &c)| c > 1)
        .map(|(&n, _)| n)
        .collect();
    assert!(twice.is_empty(), "indexed twice: {twice:?}");
    assert!(
        deduplicated >= unsaved && deduplicated <= in_flight + unsaved,
        "{deduplicated} refused as duplicates; unsaved {unsaved}, in flight {in_flight}"
    );
}

/// SIGTERM while Elasticsearch stalls: once `shutdown_timeout` passed, the agent gives up on the lines
/// in flight, writes the registry with what was acknowledged (here nothing else would: `registry_flush`
/// is ten minutes), says so, and exits 0. The abandoned lines stay after the saved offset, read again
/// at the next start.
#[test]
fn a_stop_past_shutdown_timeout_saves_what_was_acknowledged() {
    let es = EsServer::start();
    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args(["-E", "registry_flush=10m", "-E", "shutdown_timeout=2s"]);
    let agent = Running::spawn(cmd);
    let address = metrics_of(&agent);
    c.append(0..500);
    assert!(
        wait_until(STEP, || {
            indexed_seqs(&[&es]).len() == 500
                && Scrape::of(&address).get("loglynk_events_in_flight") == 0.0
        }),
        "indexed {}",
        indexed_seqs(&[&es]).len()
    );
    es.faults().set_stall(true);
    c.append(500..600);
    assert!(
        wait_until(STEP, || Scrape::of(&address)
            .get("loglynk_lines_read_total")
            == 600.0),
        "{}",
        Scrape::of(&address).0
    );
    assert_ne!(
        saved_offset(&tree),
        Some(bytes_of(0..500)),
        "saved before the stop: the test would prove nothing"
    );

    let stopped = agent.stop("TERM", STEP);
    es.faults().set_stall(false);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(
        stopped.took >= Duration::from_secs(2),
        "exited after {:?}, before shutdown_timeout",
        stopped.took
    );
    assert_eq!(
        saved_offset(&tree),
        Some(bytes_of(0..500)),
        "the acknowledged lines are saved, the abandoned ones are not; stderr:\n{}",
        stopped.stderr
    );
    let expired: serde_json::Value = stopped
        .stderr
        .lines()
        .find(|l| l.contains("shutdown_timeout expired"))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no JSON line saying so:\n{}", stopped.stderr));
    assert_eq!(expired["level"], "WARN");
    assert_eq!(expired["unacknowledged"], 100, "{expired}");
}
