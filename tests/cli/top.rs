//! `loglynk top` against a running agent: on a pseudo-terminal (through `script`) its screen is read
//! back with a terminal emulator and checked, a key changes the order and `q` quits; on a pipe it
//! prints one snapshot and exits.

use std::num::NonZeroU16;
use std::time::{Duration, Instant};

use crate::elasticsearch::EsServer;
use crate::support::{
    http_get, loglynk, metrics_address, run_cmd, run_to_end, wait_until, KubeTree, Running,
    Terminal,
};

/// An agent that shipped 300 lines of two pods; the test server and tree live as long as it does.
fn agent() -> (EsServer, KubeTree, Running, String) {
    let server = EsServer::start();
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..200);
    tree.container("payments", "worker-0", "queue")
        .append(0..100);
    let running = Running::spawn(run_cmd(&tree, &server.url()));
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();
    assert!(wait_until(Duration::from_secs(30), || {
        let (_, body) = http_get(&address, "/status");
        body.contains("\"shipped\": 300")
    }));
    (server, tree, running, address)
}

#[test]
fn on_a_pipe_it_prints_one_snapshot_and_exits() {
    let (_server, _tree, running, address) = agent();
    let mut cmd = loglynk();
    cmd.args(["top", "--url", &format!("http://{address}")]);
    let started = Instant::now();
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = run.lines.join("\n");
    assert!(
        run.lines[0].starts_with(&format!("loglynk top — http://{address} — 0.1.0 — up ")),
        "{text}"
    );
    assert!(run.lines[0].contains("pipeline running"), "{text}");
    assert!(
        text.contains("Throughput  in 0/s lines   out 0/s events"),
        "{text}"
    );
    assert!(
        text.contains("Ledger      read 300  shipped 300  dropped 0  dead-lettered 0  in flight 0"),
        "{text}"
    );
    assert!(
        text.contains("Files       2 tailed, 2 open, 0 B behind"),
        "{text}"
    );
    let header = run
        .lines
        .iter()
        .position(|l| l.starts_with("NAMESPACE"))
        .expect("a table");
    let rows: Vec<Vec<&str>> = run.lines[header + 1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    for (namespace, pod, container) in [("shop", "web-1", "app"), ("payments", "worker-0", "queue")]
    {
        let row = rows
            .iter()
            .find(|r| r[1] == pod)
            .unwrap_or_else(|| panic!("{pod}: {text}"));
        assert_eq!(&row[..4], [namespace, pod, container, "idle"], "{text}");
        assert_eq!(row[4..6], ["0", "B"], "nothing behind: {text}");
    }
    running.stop("TERM", Duration::from_secs(20));

    let gone = run_to_end(
        {
            let mut cmd = loglynk();
            cmd.args(["top", "--url", &format!("http://{address}")]);
            cmd
        },
        Duration::from_secs(30),
    );
    assert_eq!(gone.code, Some(1));
    assert!(
        gone.stderr.contains("cannot read the agent at http://"),
        "{}",
        gone.stderr
    );
}

#[test]
fn in_a_terminal_it_draws_the_agent_sorts_on_s_and_quits_on_q() {
    let (_server, _tree, running, address) = agent();
    let binary = env!("CARGO_BIN_EXE_loglynk");
    let mut terminal = Terminal::spawn(
        &format!("exec {binary} top --url http://{address}"),
        150,
        30,
    );
    std::thread::sleep(Duration::from_millis(2500));
    terminal.send(b"s");
    std::thread::sleep(Duration::from_millis(1500));
    terminal.send(b"q");
    let (status, bytes) = terminal.wait(Duration::from_secs(10));
    assert!(
        status.success(),
        "{status:?}: {}",
        String::from_utf8_lossy(&bytes)
    );

    // The screen as it was just before top left the alternate screen.
    let leave = b"\x1b[?1049l";
    let end = bytes
        .windows(leave.len())
        .rposition(|w| w == leave)
        .expect("top left the alternate screen");
    let mut terminal = vt100::Parser::new(
        NonZeroU16::new(30).unwrap(),
        NonZeroU16::new(150).unwrap(),
        0,
    );
    terminal.process(&bytes[..end]);
    assert!(
        terminal.screen().alternate_screen(),
        "drawn on the alternate screen"
    );
    let screen = terminal.screen().contents();
    let title = format!("loglynk top — http://{address} — 0.1.0");
    for expected in [
        title.as_str(),
        "sort: seconds behind (s)",
        "Throughput  in 0/s lines   out 0/s events",
        "Ledger      read 300  shipped 300",
        "retry none  retries 0  unanswered 0",
        "Files (2)",
        "NAMESPACE",
        "payments",
        "worker-0",
        "web-1",
        "idle",
    ] {
        assert!(
            screen.contains(expected),
            "{expected:?} not on the screen:\n{screen}"
        );
    }
    // Back on the normal screen afterwards, the terminal left as it was.
    terminal.process(&bytes[end..]);
    assert!(!terminal.screen().alternate_screen());
    running.stop("TERM", Duration::from_secs(20));
}
