//! `loglynk bootstrap` against the test server, which stores and checks templates and policies as
//! Elasticsearch does: per mode, install, install again (nothing changes), ship a day's events through
//! `loglynk run`, and find no index in ILM's ERROR step.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::bootstrap::run_bootstrap;
use crate::elasticsearch::EsServer;
use crate::support::{http_get, run_cmd, wait_until, KubeTree, Running};

/// A CRI line written at `time` with `message`.
fn cri(time: &str, message: &str) -> String {
    format!("{time} stdout F {message}\n")
}

/// A day of events, one every 20 minutes from midnight, and one late event from the day before;
/// their JSON messages give `json.status` a string in some and an object in others.
fn a_days_lines() -> Vec<String> {
    let mut lines = vec![cri(
        "2026-11-23T23:59:59.999999999Z",
        r#"{"msg":"late","status":"ok"}"#,
    )];
    for i in 0..72 {
        let (hour, minute) = (i / 3, (i % 3) * 20);
        let status = if i % 2 == 0 {
            r#""ok""#
        } else {
            r#"{"code":200}"#
        };
        lines.push(cri(
            &format!("2026-11-24T{hour:02}:{minute:02}:00.000000001Z"),
            &format!(r#"{{"msg":"event {i}","status":{status}}}"#),
        ));
    }
    lines
}

fn outcomes(stdout: &[String]) -> Vec<String> {
    stdout
        .iter()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("Elasticsearch "))
        .cloned()
        .collect()
}

fn puts(server: &EsServer) -> usize {
    server
        .requests()
        .records
        .iter()
        .filter(|r| r.method == "PUT")
        .count()
}

fn get_json(server: &EsServer, path: &str) -> Value {
    let address = server.url().trim_start_matches("http://").to_owned();
    let (status, body) = http_get(&address, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Ships `lines` through `loglynk run` in `mode`; returns how many were dead-lettered.
fn ship(server: &EsServer, mode: &str, extra: &[&str], lines: &[String]) -> usize {
    let tree = KubeTree::new();
    let c = tree.container("shop", "web-1", "app");
    std::fs::write(c.log(), lines.concat()).unwrap();
    let before = server.all_documents().len();
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.args(["-E", &format!("setup.mode={mode}")]).args(extra);
    let running = Running::spawn(cmd);
    let dead = |dir: &Path| {
        std::fs::read_to_string(dir.join("dead-letter.ndjson"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let done = wait_until(Duration::from_secs(30), || {
        server.all_documents().len() - before + dead(&tree.state_dir()) >= lines.len()
    });
    assert!(
        done,
        "{mode}: {} of {} shipped; stderr:\n{}",
        server.all_documents().len() - before,
        lines.len(),
        running.stderr_so_far()
    );
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    dead(&tree.state_dir())
}

/// Every index `_ilm/explain` reports for `target`, none in the ERROR step.
fn assert_healthy(server: &EsServer, target: &str) -> Vec<(String, Value)> {
    let explain = get_json(server, &format!("/{target}/_ilm/explain"));
    let indices: Vec<(String, Value)> = explain["indices"]
        .as_object()
        .expect("indices")
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(!indices.is_empty(), "no index for {target}");
    for (name, state) in &indices {
        assert_eq!(state["managed"], true, "{name}: {state}");
        assert_eq!(state["policy"], "funlynk-logs", "{name}: {state}");
        assert_ne!(state["step"], "ERROR", "{name}: {state}");
    }
    indices
}

fn install_twice(server: &EsServer, mode: &str, expected: &[&str]) {
    let first = run_bootstrap(&server.url(), &["-E", &format!("setup.mode={mode}")]);
    assert_eq!(first.code, Some(0), "{mode}: {}", first.stderr);
    assert_eq!(
        outcomes(&first.lines),
        expected,
        "{mode}: {:?}",
        first.lines
    );
    let sent = puts(server);

    let again = run_bootstrap(&server.url(), &["-E", &format!("setup.mode={mode}")]);
    assert_eq!(again.code, Some(0), "{mode}: {}", again.stderr);
    for line in outcomes(&again.lines) {
        assert!(line.ends_with(": unchanged"), "{mode}: {line}");
    }
    assert_eq!(puts(server), sent, "{mode}: a second run changes nothing");
}

#[test]
fn daily_mode_installs_once_and_ages_indices_by_their_date() {
    let server = EsServer::start();
    install_twice(
        &server,
        "daily",
        &[
            "ILM policy funlynk-logs: created",
            "index template funlynk-logs: created",
        ],
    );
    let lines = a_days_lines();
    assert_eq!(ship(&server, "daily", &[], &lines), 0, "nothing refused");
    let indices = assert_healthy(&server, "funlynk-logs-*");
    let names: Vec<&str> = indices.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["funlynk-logs-2026.11.23", "funlynk-logs-2026.11.24"]
    );
    assert_eq!(
        server.documents("funlynk-logs-2026.11.23").len(),
        1,
        "the late event"
    );
    assert_eq!(server.documents("funlynk-logs-2026.11.24").len(), 72);

    // The same day's events with json mapped as ordinary objects: `status` as an object after it
    // was a string is refused, which is why flattened is the default.
    let server = EsServer::start();
    let dynamic = ["-E", "setup.json_mapping=dynamic"];
    let run = run_bootstrap(&server.url(), &dynamic);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let refused = ship(&server, "daily", &dynamic, &lines);
    assert!(
        refused > 0,
        "dynamic json mapping accepted conflicting types"
    );
}

#[test]
fn data_stream_mode_writes_with_create_and_rolls_over_without_an_alias() {
    let server = EsServer::start();
    install_twice(
        &server,
        "data_stream",
        &[
            "ILM policy funlynk-logs: created",
            "index template funlynk-logs: created",
        ],
    );
    assert_eq!(ship(&server, "data_stream", &[], &a_days_lines()), 0);
    // A pod that names no dataset or namespace: Elastic Agent's defaults.
    let name = "logs-kubernetes.container_logs-default";
    let stream = get_json(&server, &format!("/_data_stream/{name}"));
    assert_eq!(
        stream["data_streams"][0]["template"], "funlynk-logs",
        "{stream}"
    );
    let indices = assert_healthy(&server, name);
    assert!(
        indices[0].0.starts_with(&format!(".ds-{name}-")),
        "{indices:?}"
    );
    assert_eq!(server.documents(name).len(), 73);
}

#[test]
fn rollover_mode_creates_the_write_alias_once() {
    let server = EsServer::start();
    install_twice(
        &server,
        "rollover",
        &[
            "ILM policy funlynk-logs: created",
            "index template funlynk-logs: created",
            "write index funlynk-logs: created",
        ],
    );
    assert_eq!(ship(&server, "rollover", &[], &a_days_lines()), 0);
    let indices = assert_healthy(&server, "funlynk-logs-*");
    assert_eq!(indices.len(), 1, "{indices:?}");
    assert!(indices[0].0.ends_with("-000001"), "{indices:?}");
    assert_eq!(server.documents(&indices[0].0).len(), 73);
}

#[test]
fn a_differing_object_is_shown_and_overwritten_only_with_force() {
    let server = EsServer::start();
    let run = run_bootstrap(&server.url(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let sent = puts(&server);

    let changed = ["-E", "setup.replicas=0", "-E", "setup.ilm.delete_after=14d"];
    let run = run_bootstrap(&server.url(), &changed);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let text = run.lines.join("\n");
    assert!(
        text.contains("index template funlynk-logs: differs, not changed"),
        "{text}"
    );
    assert!(
        text.contains("~ template.settings.index.number_of_replicas: \"1\" -> \"0\""),
        "{text}"
    );
    assert!(
        text.contains("~ phases.delete.min_age: \"30d\" -> \"14d\""),
        "{text}"
    );
    assert_eq!(puts(&server), sent, "nothing overwritten without --force");

    let mut forced = changed.to_vec();
    forced.push("--force");
    let run = run_bootstrap(&server.url(), &forced);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.lines
            .iter()
            .any(|l| l == "index template funlynk-logs: updated"),
        "{:?}",
        run.lines
    );
    let run = run_bootstrap(&server.url(), &changed);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        outcomes(&run.lines)
            .iter()
            .all(|l| l.ends_with(": unchanged")),
        "{:?}",
        run.lines
    );
}

#[test]
fn run_sets_up_a_bare_cluster_before_its_first_bulk_request() {
    // No bootstrap Job has run: the agent installs what is missing before the day's index exists,
    // so that index gets the template's mappings and policy.
    let server = EsServer::start();
    assert_eq!(ship(&server, "daily", &[], &a_days_lines()), 0);
    let template = server
        .index_template("funlynk-logs")
        .expect("installed by run");
    assert_eq!(template["priority"], 200, "{template}");
    assert!(server.ilm_policy("funlynk-logs").is_some());
    assert_healthy(&server, "funlynk-logs-*");
    let first_bulk = server
        .requests()
        .records
        .iter()
        .position(|r| r.path == "/_bulk")
        .expect("bulk requests");
    let template_put = server
        .requests()
        .records
        .iter()
        .position(|r| r.method == "PUT" && r.path == "/_index_template/funlynk-logs")
        .expect("the template was put");
    assert!(
        template_put < first_bulk,
        "the template came after the first bulk"
    );

    // Turned off, the agent leaves the cluster alone, and the day's index takes Elasticsearch's
    // dynamic mappings: `json.status` as an object after a string is refused.
    let server = EsServer::start();
    let refused = ship(
        &server,
        "daily",
        &["-E", "setup.enabled=false"],
        &a_days_lines(),
    );
    assert_eq!(refused, 36, "every other line of the day");
    assert!(server.index_template("funlynk-logs").is_none());
}

/// `output.elasticsearch.indices`: each event to the first rule its fields match, else `index`; the
/// routed indices are covered by the template bootstrap installed (their policy applies, ILM ages
/// them by their date).
#[test]
fn routed_indices_are_covered_by_the_installed_template() {
    let server = EsServer::start();
    let run = run_bootstrap(&server.url(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let tree = KubeTree::new();
    let shop = tree.container("shop", "web-1", "app");
    let pay = tree.container("payments", "pay-1", "app");
    let at = "2026-11-24T10:00:00.000000001Z";
    std::fs::write(shop.log(), [cri(at, "fine"), cri(at, "an ERROR")].concat()).unwrap();
    std::fs::write(pay.log(), [cri(at, "fine"), cri(at, "ERROR too")].concat()).unwrap();
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.args([
        "-E",
        "output.elasticsearch.indices=[\
         {index: 'funlynk-logs-errors-%{+yyyy.MM.dd}', when: {contains: {message: ERROR}}},\
         {index: 'funlynk-logs-shop-%{+yyyy.MM.dd}', when: {equals: {kubernetes.namespace: shop}}}]",
    ]);
    let running = Running::spawn(cmd);
    let done = wait_until(Duration::from_secs(30), || {
        server.all_documents().len() >= 4
    });
    assert!(done, "stderr:\n{}", running.stderr_so_far());
    let stopped = running.stop("TERM", Duration::from_secs(10));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    let messages = |index: &str| {
        let mut got: Vec<String> = server
            .documents(index)
            .iter()
            .map(|d| d["message"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        got
    };
    assert_eq!(
        messages("funlynk-logs-errors-2026.11.24"),
        ["ERROR too", "an ERROR"]
    );
    assert_eq!(messages("funlynk-logs-shop-2026.11.24"), ["fine"]);
    assert_eq!(messages("funlynk-logs-2026.11.24"), ["fine"]);
    let indices = assert_healthy(&server, "funlynk-logs-*");
    assert_eq!(indices.len(), 3, "{indices:?}");
}
