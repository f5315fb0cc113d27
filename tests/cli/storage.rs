//! LogsDB, the failure store and snapshot policies with the binary: what `bootstrap` installs on each
//! version, what `run` makes of a document kept in the failure store, and that a second bootstrap
//! changes nothing while a changed setting is reported and, with `--force`, applied.

use std::io::Write;
use std::time::Duration;

use crate::bootstrap::run_bootstrap;
use crate::elasticsearch::{EsOptions, EsServer};
use crate::support::{
    http_get, metrics_address, run_cmd, sample, wait_until, KubeTree, Running, Stopped,
};

fn server(version: &str) -> EsServer {
    EsServer::start_with(EsOptions {
        version: version.into(),
        ..EsOptions::default()
    })
}

const FAILURE_STORE: [&str; 6] = [
    "-E",
    "setup.mode=data_stream",
    "-E",
    "setup.failure_store=true",
    "-E",
    "setup.json_mapping=dynamic",
];

fn text(run: &Stopped) -> String {
    format!("{}\n{}", run.lines.join("\n"), run.stderr)
}

#[test]
fn bootstrap_uses_logsdb_where_the_cluster_has_it_and_refuses_what_it_lacks() {
    for (version, mode) in [
        ("8.16.1", None),
        ("8.17.0", Some("logsdb")),
        ("9.1.0", Some("logsdb")),
        ("9.2.0", Some("logsdb")),
    ] {
        let es = server(version);
        let run = run_bootstrap(&es.url(), &[]);
        assert_eq!(run.code, Some(0), "{version}: {}", text(&run));
        let template = es.index_template("funlynk-logs").expect("installed");
        assert_eq!(
            template["template"]["settings"]["index"]["mode"].as_str(),
            mode,
            "{version}"
        );
        // A second run finds it as it installed it.
        let again = run_bootstrap(&es.url(), &[]);
        assert_eq!(again.code, Some(0), "{version}: {}", text(&again));
        assert!(
            text(&again).contains("index template funlynk-logs: unchanged"),
            "{}",
            text(&again)
        );
    }
    let es = server("8.16.1");
    let run = run_bootstrap(&es.url(), &["-E", "setup.index_mode=logsdb"]);
    assert_eq!(run.code, Some(1), "{}", text(&run));
    assert!(
        run.stderr
            .contains("runs Elasticsearch 8.16.1; setup.index_mode logsdb needs 8.17 or later"),
        "{}",
        run.stderr
    );
    let es = server("9.0.3");
    let run = run_bootstrap(&es.url(), &FAILURE_STORE);
    assert_eq!(run.code, Some(1), "{}", text(&run));
    assert!(
        run.stderr
            .contains("setup.failure_store needs 9.1 or later"),
        "{}",
        run.stderr
    );
    // Standard on a cluster that has LogsDB: asked for, so the template says nothing of a mode.
    let es = server("9.1.0");
    let run = run_bootstrap(&es.url(), &["-E", "setup.index_mode=standard"]);
    assert_eq!(run.code, Some(0), "{}", text(&run));
    let template = es.index_template("funlynk-logs").unwrap();
    assert!(template["template"]["settings"]["index"]
        .get("mode")
        .is_none());
    // A failure store outside data_stream mode is invalid configuration.
    let run = run_bootstrap(&es.url(), &["-E", "setup.failure_store=true"]);
    assert_eq!(run.code, Some(2), "{}", text(&run));
    assert!(run.stderr.contains("setup.failure_store"), "{}", run.stderr);
}

#[test]
fn a_document_kept_in_the_failure_store_is_settled_as_failure_stored_never_shipped() {
    let es = server("9.1.0");
    let setup = run_bootstrap(&es.url(), &FAILURE_STORE);
    assert_eq!(setup.code, Some(0), "{}", text(&setup));
    let tree = KubeTree::new();
    let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
    let mut log = c.open_append();
    // json.status a keyword first, then an object: the mapping refuses the second.
    for message in [
        r#"{"status":"ok"}"#,
        r#"{"status":{"code":200}}"#,
        r#"{"status":"fine"}"#,
    ] {
        writeln!(log, "2026-11-24T10:00:00.000000000Z stdout F {message}").unwrap();
    }
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args(FAILURE_STORE);
    let running = Running::spawn(cmd);
    let address = wait_for_address(&running);
    let metric = |name: &str| sample(&http_get(&address, "/metrics").1, name).unwrap_or(-1.0);
    assert!(
        wait_until(Duration::from_secs(60), || {
            metric("loglynk_events_failure_stored_total") == 1.0
                && metric("loglynk_events_shipped_total") == 2.0
        }),
        "failure_stored {} shipped {}; {}",
        metric("loglynk_events_failure_stored_total"),
        metric("loglynk_events_shipped_total"),
        running.stderr_so_far()
    );
    assert_eq!(metric("loglynk_events_dead_lettered_total"), 0.0);
    assert_eq!(metric("loglynk_events_in_flight"), 0.0);
    let status: serde_json::Value = serde_json::from_str(&http_get(&address, "/status").1).unwrap();
    assert_eq!(status["ledger"]["failure_stored"], 1);
    let stream = "logs-kubernetes.container_logs-default";
    assert_eq!(es.documents(stream).len(), 2);
    let failures = es.failure_store_documents(stream);
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0]["document"]["source"]["json"]["status"]["code"],
        200
    );
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(
        !tree.state_dir().join("dead-letter.ndjson").exists()
            || std::fs::read_to_string(tree.state_dir().join("dead-letter.ndjson"))
                .unwrap()
                .is_empty(),
        "nothing dead-lettered"
    );

    // Its offset was recorded like a shipped line's: a restart sends nothing of it again.
    writeln!(
        log,
        r#"2026-11-24T10:00:01.000000000Z stdout F {{"status":"later"}}"#
    )
    .unwrap();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args(FAILURE_STORE);
    let running = Running::spawn(cmd);
    assert!(
        wait_until(Duration::from_secs(60), || es.documents(stream).len() == 3),
        "{}",
        running.stderr_so_far()
    );
    running.stop("TERM", Duration::from_secs(15));
    assert_eq!(es.failure_store_documents(stream).len(), 1);
}

fn wait_for_address(running: &Running) -> String {
    let mut address = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            address = metrics_address(&running.stderr_so_far());
            address.is_some()
        }),
        "{}",
        running.stderr_so_far()
    );
    address.unwrap()
}

#[test]
fn the_snapshot_policy_is_installed_once_and_a_changed_setting_is_reported_then_forced() {
    let es = server("9.1.0");
    let snapshot = ["-E", "setup.snapshot.repository=backups"];
    let refused = run_bootstrap(&es.url(), &snapshot);
    assert_eq!(refused.code, Some(1), "{}", text(&refused));
    assert!(
        refused.stderr.contains("no such repository [backups]"),
        "{}",
        refused.stderr
    );

    let (status, body) = crate::support::http_request_body(
        &es.addr().to_string(),
        "PUT",
        "/_snapshot/backups",
        r#"{"type":"fs","settings":{"location":"/snapshots"}}"#,
    );
    assert_eq!(status, 200, "{body}");
    let first = run_bootstrap(&es.url(), &snapshot);
    assert_eq!(first.code, Some(0), "{}", text(&first));
    assert!(
        text(&first).contains("snapshot policy funlynk-logs: created"),
        "{}",
        text(&first)
    );
    let policy = es.slm_policy("funlynk-logs").expect("installed");
    assert_eq!(policy["repository"], "backups");
    assert_eq!(
        policy["config"]["indices"],
        serde_json::json!(["funlynk-logs-*"])
    );
    assert_eq!(policy["retention"]["expire_after"], "30d");

    let second = run_bootstrap(&es.url(), &snapshot);
    assert_eq!(second.code, Some(0), "{}", text(&second));
    assert!(
        text(&second).contains("snapshot policy funlynk-logs: unchanged"),
        "{}",
        text(&second)
    );
    let puts = es
        .requests()
        .records
        .iter()
        .filter(|r| r.method == "PUT" && r.path == "/_slm/policy/funlynk-logs")
        .filter(|r| r.status == Some(200))
        .count();
    assert_eq!(puts, 1, "the second run wrote nothing");

    let changed = [
        "-E",
        "setup.snapshot.repository=backups",
        "-E",
        "setup.snapshot.expire_after=14d",
    ];
    let differs = run_bootstrap(&es.url(), &changed);
    assert_eq!(differs.code, Some(3), "{}", text(&differs));
    assert!(
        text(&differs).contains("snapshot policy funlynk-logs: differs"),
        "{}",
        text(&differs)
    );
    assert!(text(&differs).contains("14d"), "{}", text(&differs));
    assert_eq!(
        es.slm_policy("funlynk-logs").unwrap()["retention"]["expire_after"],
        "30d"
    );
    let mut forced: Vec<&str> = changed.to_vec();
    forced.push("--force");
    let forced = run_bootstrap(&es.url(), &forced);
    assert_eq!(forced.code, Some(0), "{}", text(&forced));
    assert_eq!(
        es.slm_policy("funlynk-logs").unwrap()["retention"]["expire_after"],
        "14d"
    );
}
