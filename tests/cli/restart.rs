//! The registry: offsets survive restarts (clean or SIGKILL), so nothing acknowledged is read twice and
//! nothing unacknowledged is lost.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::support::{
    describe, wait_until, write_steadily, Budget, KubeTree, Running, Seqs, Stopped,
};

/// For each test, over all its steps: far above the second or two they take, under a minute in all.
const BUDGET: Duration = Duration::from_secs(40);

/// A `--no-follow` run over the tree, which must succeed.
fn read_once(tree: &KubeTree, context: &str, budget: &Budget) -> Stopped {
    tree.read_once(context, budget.left())
}

fn seqs_of(run: &Stopped) -> Seqs {
    let mut seqs = Seqs::default();
    seqs.add_lines(&run.lines);
    seqs
}

#[test]
fn a_second_run_over_unchanged_files_prints_nothing_and_a_third_only_what_was_appended() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let api = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let worker = tree.container("payments", "worker-0", "worker");
    api.append(0..200);
    worker.append(10_000..10_300);

    let first = read_once(&tree, "first run", &budget);
    seqs_of(&first).assert_exactly(&[0..200, 10_000..10_300], "first run");
    assert!(
        tree.registry().is_file(),
        "{} written at exit",
        tree.registry().display()
    );

    let second = read_once(&tree, "second run", &budget);
    assert!(
        second.lines.is_empty(),
        "the second run re-read {} lines, e.g. {:.300}",
        second.lines.len(),
        second.lines[0]
    );

    api.append(200..250);
    worker.append(10_300..10_301);
    let third = read_once(&tree, "third run", &budget);
    seqs_of(&third).assert_exactly(&[200..250, 10_300..10_301], "third run");
}

#[test]
fn sigterm_exits_0_promptly_and_leaves_the_registry() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    c.append(0..100);
    let running = Running::spawn(tree.tail(&["-E", "registry_flush=200ms"]));
    let mut seqs = Seqs::default();
    assert!(
        running.collect_until(&mut seqs, &[0..100], budget.left()),
        "missing {}; stderr:\n{}",
        describe(&seqs.missing(&[0..100])),
        running.stderr_so_far()
    );
    // Flushed periodically, not only at exit.
    assert!(
        wait_until(budget.left(), || tree.registry().is_file()),
        "no {} while running, with registry_flush=200ms",
        tree.registry().display()
    );

    // Default shutdown_timeout is 10 s; with nothing in flight the exit is immediate.
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "stderr:\n{}", stopped.stderr);
    seqs.add_lines(&stopped.lines);
    seqs.assert_exactly(&[0..100], "the run stopped by SIGTERM");
    println!("exited {:?} after SIGTERM", stopped.took);

    let registry = std::fs::read(tree.registry()).expect("the registry exists after exit");
    serde_json::from_slice::<serde_json::Value>(&registry).unwrap_or_else(|e| {
        panic!(
            "registry.json is not JSON ({e}): {:.300}",
            String::from_utf8_lossy(&registry)
        )
    });
    // What it records is what was printed: a restart reads nothing again.
    let again = read_once(&tree, "after SIGTERM", &budget);
    assert!(
        again.lines.is_empty(),
        "re-read after a clean stop: {} lines",
        again.lines.len()
    );
}

#[test]
fn a_corrupt_registry_is_set_aside_and_everything_is_read_from_the_start() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    c.append(0..300);
    std::fs::write(
        tree.registry(),
        b"\x00\x9f\xff{\"version\": garbage\n\x01\x02 not a registry",
    )
    .unwrap();

    let run = read_once(&tree, "with a corrupt registry", &budget);
    seqs_of(&run).assert_exactly(&[0..300], "with a corrupt registry");
    assert!(
        run.stderr.to_lowercase().contains("corrupt"),
        "stderr says the registry is corrupt:\n{}",
        run.stderr
    );
    let set_aside: Vec<String> = std::fs::read_dir(tree.state_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("registry.corrupt-"))
        .collect();
    assert!(
        !set_aside.is_empty(),
        "a registry.corrupt-* file in the state dir, got {:?}",
        std::fs::read_dir(tree.state_dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect::<Vec<_>>()
    );

    // A fresh registry was written: the next run reads nothing again.
    let again = read_once(&tree, "after recovering", &budget);
    assert!(
        again.lines.is_empty(),
        "re-read after recovering: {} lines",
        again.lines.len()
    );
}

/// A small, seedable generator (splitmix64), so a failing schedule can be replayed with
/// `LOGLYNK_TEST_SEED=<seed>`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `range` (milliseconds).
    fn millis(&mut self, range: Range<u64>) -> Duration {
        Duration::from_millis(range.start + self.next() % (range.end - range.start))
    }
}

const TOTAL: u64 = 30_000;
const ROTATE_EVERY: u64 = 2_000;
/// 30,000 lines over 20 s: 1,500 lines/s, a rotation every ~1.3 s.
const WRITE_FOR: Duration = Duration::from_secs(20);
const KILLS: usize = 5;

/// The crash test: loglynk is SIGKILLed at random moments while a container writes and kubelet
/// rotates; each time it is restarted. Every line ends up printed by some run; duplicates are bounded by
/// what was in flight.
#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let seed = std::env::var("LOGLYNK_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("LOGLYNK_TEST_SEED={seed}");
    eprintln!("sigkill test: LOGLYNK_TEST_SEED={seed}");
    let mut rng = Rng(seed);
    let mut kill_at: Vec<Duration> = (0..KILLS)
        .map(|_| rng.millis(300..WRITE_FOR.as_millis() as u64 - 500))
        .collect();
    kill_at.sort();
    println!("SIGKILL at {kill_at:?} after the writer started");

    let tree = KubeTree::new();
    let c = tree.container("shop", "checkout-7f8e9d6c5b-q1w2e", "checkout");
    let spawn = || {
        Running::spawn(tree.tail(&["-E", "registry_flush=100ms", "-E", "close_removed_after=5s"]))
    };

    let mut seqs = Seqs::default();
    let mut running = spawn();
    let started = Instant::now();
    let writer = write_steadily(c.clone(), 0..TOTAL, ROTATE_EVERY, WRITE_FOR);

    let mut per_run = Vec::new();
    for at in &kill_at {
        if let Some(wait) = (started + *at).checked_duration_since(Instant::now()) {
            // Scheduling the kill, not waiting for a result.
            std::thread::sleep(wait);
        }
        let killed = running.kill();
        per_run.push(killed.lines.len());
        seqs.add_killed_run(&killed.lines);
        running = spawn();
    }
    writer.join().expect("the writer thread");

    // The last run catches up with everything still unread.
    // Bounded from the start, so the whole test stays under 90 s (the exit below takes at most 15 s).
    let catch_up = Duration::from_secs(70).saturating_sub(started.elapsed());
    let caught_up = running.collect_until(&mut seqs, &[0..TOTAL], catch_up);
    let stopped = running.stop("TERM", Duration::from_secs(15));
    seqs.add_lines(&stopped.lines);
    let missing = seqs.missing(&[0..TOTAL]);
    let duplicates = seqs.duplicates();
    println!(
        "runs printed {per_run:?} lines before SIGKILL; {} lines in all, {duplicates} duplicates, \
         finished {:?} after the writer started",
        seqs.total(),
        started.elapsed()
    );
    assert!(
        missing.is_empty(),
        "seed {seed}: lost {} (caught up before the deadline: {caught_up})\nlast run's stderr:\n{}",
        describe(&missing),
        stopped.stderr
    );
    assert_eq!(stopped.code, Some(0), "stderr:\n{}", stopped.stderr);
    assert!(
        seqs.unexpected(&[0..TOTAL]).is_empty(),
        "numbers never written: {}",
        describe(&seqs.unexpected(&[0..TOTAL]))
    );
    assert!(
        duplicates < 10_000,
        "seed {seed}: {duplicates} duplicates: more than what can have been in flight"
    );
}
