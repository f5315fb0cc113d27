//! Multiline through the binary: the real runtimes' traces in `fixtures/multiline/` each come out as one
//! document, and a trace open when the agent is killed is read again whole after the restart.

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::support::{
    documents, loglynk, repo_root, run_to_end, wait_until, Budget, KubeTree, Running,
};

const BUDGET: Duration = Duration::from_secs(40);

fn flags(doc: &Value) -> Vec<&str> {
    doc["log"]["flags"]
        .as_array()
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn each_fixture_trace_is_one_document_and_every_ordinary_line_its_own() {
    let dir = repo_root().join("fixtures/multiline");
    let mut cmd = loglynk();
    cmd.current_dir(repo_root())
        .args(["tail", "--no-follow", "-E", "multiline.max_lines=5000"])
        .arg(dir.join("containers/*.log"));
    let run = run_to_end(cmd, BUDGET);
    assert_eq!(run.code, Some(0), "stderr:\n{}", run.stderr);
    let docs = documents(run.lines.join("\n").as_bytes());

    let mut expected_docs = 0;
    for entry in std::fs::read_dir(dir.join("expected")).unwrap() {
        let expected: Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        for event in expected.as_array().unwrap() {
            expected_docs += 1;
            let message = event["message"].as_str().unwrap();
            let found = docs
                .iter()
                .find(|d| d["message"] == message)
                .unwrap_or_else(|| panic!("no document is {message:.200?}"));
            let joined = event["joined"].as_bool().unwrap();
            assert_eq!(
                flags(found).contains(&"multiline"),
                joined,
                "{message:.200?}"
            );
        }
    }
    assert_eq!(
        docs.len(),
        expected_docs,
        "nothing joined that should not be"
    );
}

/// The trace's lines, as a JVM writes them to stderr.
const TRACE: [&str; 6] = [
    "java.lang.IllegalStateException: charge failed",
    "\tat com.funlynk.billing.Charge.run(Charge.java:42)",
    "\tat com.funlynk.billing.Worker.loop(Worker.java:17)",
    "Caused by: java.io.IOException: connection refused",
    "\tat com.funlynk.billing.Client.connect(Client.java:88)",
    "\t... 2 more",
];

fn cri(stream: &str, lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("2026-12-06T10:00:00.000000000Z {stream} F {l}\n"))
        .collect()
}

#[test]
fn a_trace_open_when_the_agent_is_killed_is_read_again_whole() {
    let budget = Budget::new(BUDGET);
    let tree = KubeTree::new();
    let c = tree.container("shop", "billing-5c8d9f7b6-k8s2p", "billing");
    let mut file = c.open_append();
    file.write_all(cri("stdout", &["before the trace"]).as_bytes())
        .unwrap();
    file.write_all(cri("stderr", &TRACE[..3]).as_bytes())
        .unwrap();

    // A long timeout: the trace stays open until the kill.
    let running =
        Running::spawn(tree.tail(&["-E", "registry_flush=100ms", "-E", "multiline.timeout=1m"]));
    let first = running
        .next_document(budget.left())
        .expect("the line before the trace");
    assert_eq!(first["message"], "before the trace");
    // The registry is written with the line before the trace delivered, and stops at the trace.
    assert!(wait_until(budget.left(), || tree.registry().is_file()));
    std::thread::sleep(Duration::from_millis(300));
    let killed = running.kill();
    assert!(
        killed.lines.is_empty(),
        "no part of the open trace was shipped: {:?}",
        killed.lines
    );

    file.write_all(cri("stderr", &TRACE[3..]).as_bytes())
        .unwrap();
    file.write_all(cri("stdout", &["after the trace"]).as_bytes())
        .unwrap();
    let again = tree.read_once("after the kill", budget.left());
    let docs = documents(again.lines.join("\n").as_bytes());
    let mut messages: Vec<&str> = docs.iter().filter_map(|d| d["message"].as_str()).collect();
    messages.sort();
    let trace = TRACE.join("\n");
    assert_eq!(
        messages,
        ["after the trace", trace.as_str()],
        "the whole trace, read again from its first line, and nothing before it"
    );
    let joined = docs
        .iter()
        .find(|d| d["message"] == trace.as_str())
        .unwrap();
    assert_eq!(flags(joined), ["multiline"]);
}
