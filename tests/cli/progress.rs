//! Progress where work is long: `tail --no-follow` over a backlog and `run` catching up draw one line
//! on a terminal's stderr (bytes read of bytes known, rate, time left) and clear it; on a pipe they
//! print nothing extra.

use std::time::Duration;

use crate::elasticsearch::EsServer;
use crate::support::{cri_lines, loglynk, run_cmd, run_to_end, shell_quote, KubeTree, Terminal};

/// A container with `mib` MiB of lines.
fn backlog(tree: &KubeTree, mib: usize) {
    let c = tree.container("shop", "web-1", "app");
    let lines = cri_lines(0..(mib as u64 * 1024 * 1024 / 50));
    std::fs::write(c.log(), lines).unwrap();
}

/// The progress lines drawn (each redraw starts with carriage return and erase-line).
fn progress_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split("\r\x1b[2K")
        .skip(1)
        .map(|s| s.split(['\r', '\n']).next().unwrap_or("").to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn tail_no_follow_shows_progress_on_a_terminal_and_nothing_on_a_pipe() {
    let tree = KubeTree::new();
    backlog(&tree, 6);
    let binary = env!("CARGO_BIN_EXE_loglynk");
    // stdout into a reader that waits before it reads: tail is held back, as by a slow consumer.
    let terminal = Terminal::spawn(
        &format!(
            "{binary} tail --no-follow {} | (sleep 2; cat > /dev/null)",
            shell_quote(&tree.glob())
        ),
        120,
        20,
    );
    let (status, bytes) = terminal.wait(Duration::from_secs(60));
    assert!(status.success(), "{}", String::from_utf8_lossy(&bytes));
    let lines = progress_lines(&bytes);
    assert!(lines.len() >= 3, "{lines:?}");
    let known = lines
        .iter()
        .find(|l| l.contains(", stalled") || l.contains("/s, "))
        .unwrap_or_else(|| panic!("no rate: {lines:?}"));
    assert!(known.starts_with("loglynk: read "), "{known}");
    assert!(known.contains(" of 6."), "{known}");
    let text = String::from_utf8_lossy(&bytes);
    let last_progress = text.rfind("loglynk: read ").unwrap();
    assert!(
        text[last_progress..].contains("\r\x1b[2K"),
        "the line is cleared at the end"
    );

    let mut cmd = loglynk();
    cmd.args(["tail", "--no-follow", &tree.glob()]);
    let piped = run_to_end(cmd, Duration::from_secs(60));
    assert_eq!(piped.code, Some(0));
    assert!(!piped.stderr.contains("loglynk: read"), "{}", piped.stderr);
    assert!(!piped.stderr.contains('\x1b'), "{}", piped.stderr);
}

#[test]
fn run_catching_up_shows_progress_on_a_terminal() {
    let server = EsServer::start();
    server.faults().set(|f| f.stall = true);
    let tree = KubeTree::new();
    backlog(&tree, 12);
    let cmd = run_cmd(&tree, &server.url());
    let mut line = format!("exec {}", shell_quote(env!("CARGO_BIN_EXE_loglynk")));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&shell_quote(&arg.to_string_lossy()));
    }
    line.push_str(
        " -E output.elasticsearch.bulk_max_bytes=256KiB -E max_queued_bytes=1MiB -E shutdown_timeout=1s",
    );
    let mut terminal = Terminal::spawn(&line, 160, 20);
    std::thread::sleep(Duration::from_millis(2500));
    terminal.send(b"\x03");
    let (_, bytes) = terminal.wait(Duration::from_secs(30));
    let lines = progress_lines(&bytes);
    let line = lines
        .iter()
        .find(|l| l.starts_with("loglynk: catching up: read "))
        .unwrap_or_else(|| panic!("{lines:?}\n{}", String::from_utf8_lossy(&bytes)));
    assert!(
        line.contains(" of 12.") && (line.contains(" left") || line.ends_with(", stalled")),
        "{line}"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(&format!("{line}\r\n")) || text.contains(&format!("{line}\n")),
        "a whole line, so the JSON log lines stay whole: {text}"
    );
}
