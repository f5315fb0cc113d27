//! `loglynk doctor`'s checks of the node itself failing as they fail there: a link that leads
//! nowhere, a state_dir that cannot be written or whose disk is full, an invalid configuration.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::doctor::{check, Node};
use crate::elasticsearch::EsServer;
use crate::support::{loglynk, run_to_end};

#[test]
fn links_that_lead_nowhere_and_a_state_dir_that_cannot_be_written_fail() {
    let es = EsServer::start();
    let mut node = Node::new(es);
    node.bootstrap();
    let dangling = node.tree.containers_dir().join("gone_shop_app-0123.log");
    std::os::unix::fs::symlink(node.tree.root().join("nowhere.log"), &dangling).unwrap();
    node.set("state_dir=/proc/loglynk-doctor-test");
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    let paths = check(&report, &format!("paths {}", node.tree.glob()));
    assert_eq!(paths["found"], "1 of 2 files cannot be shipped");
    assert!(
        paths["details"][0]
            .as_str()
            .unwrap()
            .contains("gone_shop_app-0123.log: leads nowhere"),
        "{paths}"
    );
    let state = check(&report, "state_dir");
    assert_eq!(state["ok"], false);
    assert!(
        state["found"]
            .as_str()
            .unwrap()
            .contains("cannot be written"),
        "{state}"
    );
    if !is_root() {
        let unreadable = node.tree.containers_dir().join("locked_shop_app-4567.log");
        std::fs::write(&unreadable, "x\n").unwrap();
        std::fs::set_permissions(
            &unreadable,
            std::os::unix::fs::PermissionsExt::from_mode(0o000),
        )
        .unwrap();
        let (_, report) = node.report();
        let paths = check(&report, &format!("paths {}", node.tree.glob()));
        assert!(paths.to_string().contains("cannot be read"), "{paths}");
    }
}

#[test]
fn a_full_disk_under_state_dir_fails() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = Tmpfs::mount(dir.path(), "1m") else {
        eprintln!(
            "skipped: no tmpfs can be mounted here (not root); the unwritable case covers it"
        );
        return;
    };
    let filler = dir.path().join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 2 * 1024 * 1024]);
    let es = EsServer::start();
    let mut node = Node::new(es);
    node.set(&format!("state_dir={}", dir.path().display()));
    let (_, report) = node.report();
    let state = check(&report, "state_dir");
    assert_eq!(state["ok"], false, "{state}");
    let found = state["found"].as_str().unwrap();
    assert!(found.contains("No space left on device"), "{found}");

    std::fs::remove_file(&filler).unwrap();
    let (_, report) = node.report();
    let state = check(&report, "state_dir");
    let found = state["found"].as_str().unwrap();
    assert_eq!(state["ok"], false, "{state}");
    assert!(
        found.contains("writable, 1.0 MiB free of 1.0 MiB"),
        "{found}"
    );
    assert!(
        state["fix"].as_str().unwrap().contains("64.0 MiB"),
        "{state}"
    );
}

#[test]
fn an_invalid_configuration_is_the_one_failed_check() {
    let mut cmd = loglynk();
    cmd.args(["doctor", "-E", "max_line_bytes=1"]);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(1));
    assert_eq!(run.lines.len(), 2, "{:?}", run.lines);
    assert!(
        run.lines[0].starts_with("✗ config: built-in defaults: ")
            && run.lines[0].contains("max_line_bytes"),
        "{:?}",
        run.lines
    );
    assert_eq!(run.lines[1], "1 of 1 checks failed");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A small tmpfs, unmounted when dropped; `None` where mounting is not allowed.
struct Tmpfs<'a>(&'a Path);

impl<'a> Tmpfs<'a> {
    fn mount(dir: &'a Path, size: &str) -> Option<Tmpfs<'a>> {
        let done = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        done.status.success().then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}
