//! `loglynk tail --no-follow` over the bundled fixture tree gives exactly the expected documents.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{documents, loglynk, repo_root};

const FIXTURE_GLOB: &str = "fixtures/var/log/containers/*.log";
const EXPECTED: &str = "fixtures/expected/tail.ndjson";

/// Replaces what differs between runs and machines (the agent's ids and version, the host, and the read
/// time given to lines that carried no time of their own, or one `@timestamp` cannot hold) with
/// placeholders, after checking it is there.
fn normalise(mut doc: Value) -> Value {
    let obj = doc.as_object_mut().expect("a document is an object");
    let agent = obj["agent"].as_object_mut().expect("agent");
    for key in ["id", "ephemeral_id"] {
        let id = agent[key].as_str().expect("agent id is a string");
        assert_eq!(id.len(), 36, "agent.{key} is a UUID: {id}");
        agent.insert(key.into(), "<uuid>".into());
    }
    assert!(agent["name"].as_str().is_some_and(|n| !n.is_empty()));
    agent.insert("name".into(), "<hostname>".into());
    assert_eq!(agent["version"], env!("CARGO_PKG_VERSION"));
    agent.insert("version".into(), "<version>".into());
    let host = obj["host"].as_object().expect("host");
    assert!(host["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(host["os"]["type"], "linux");
    obj.insert("host".into(), "<host>".into());
    let read_time = obj["log"]["flags"].as_array().is_some_and(|f| {
        f.iter()
            .any(|f| f == "unparsed" || f == "timestamp_out_of_range")
    });
    if read_time {
        let ts = obj["@timestamp"].as_str().expect("@timestamp");
        assert!(ts.ends_with('Z') && ts.len() == 30, "{ts}");
        obj.insert("@timestamp".into(), "<read time>".into());
    }
    doc
}

fn key(doc: &Value) -> (String, u64) {
    (
        doc["log"]["file"]["path"].as_str().unwrap().to_owned(),
        doc["log"]["offset"].as_u64().unwrap(),
    )
}

/// Compares field by field, so a failure names the field that differs rather than dumping two documents.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => diff(&format!("{path}.{k}"), ev, av, out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k}: unexpected"));
            }
        }
        _ if expected != actual => {
            let shorten = |v: &Value| {
                let s = v.to_string();
                if s.len() > 120 {
                    format!("{}… ({} bytes)", &s[..120], s.len())
                } else {
                    s
                }
            };
            out.push(format!(
                "{path}: expected {}, got {}",
                shorten(expected),
                shorten(actual)
            ));
        }
        _ => {}
    }
}

#[test]
fn fixture_tree_gives_the_expected_documents() {
    let output = loglynk()
        .args(["tail", "--from-beginning", "--no-follow", FIXTURE_GLOB])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let actual: BTreeMap<_, _> = documents(&output.stdout)
        .into_iter()
        .map(|d| (key(&d), normalise(d)))
        .collect();
    // LOGLYNK_BLESS=1 rewrites the expected file from this run; review its diff before committing it.
    if std::env::var_os("LOGLYNK_BLESS").is_some() {
        let text: String = actual.values().map(|d| format!("{d}\n")).collect();
        std::fs::write(repo_root().join(EXPECTED), text).unwrap();
        return;
    }
    let expected_text = std::fs::read(repo_root().join(EXPECTED)).unwrap();
    let expected: BTreeMap<_, _> = documents(&expected_text)
        .into_iter()
        .map(|d| (key(&d), d))
        .collect();

    let mut problems = Vec::new();
    for (k, e) in &expected {
        match actual.get(k) {
            Some(a) => diff(&format!("{}@{}", k.0, k.1), e, a, &mut problems),
            None => problems.push(format!("missing document {}@{}", k.0, k.1)),
        }
    }
    for k in actual.keys().filter(|k| !expected.contains_key(*k)) {
        problems.push(format!("unexpected document {}@{}", k.0, k.1));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_agents_own_container_is_dropped_and_bad_lines_are_kept() {
    let output = loglynk()
        .args(["tail", "--no-follow", FIXTURE_GLOB])
        .output()
        .unwrap();
    let docs = documents(&output.stdout);
    assert!(docs
        .iter()
        .all(|d| d["kubernetes"]["container"]["name"] != "loglynk"));
    let flagged = |flag: &str| {
        docs.iter()
            .filter(|d| {
                d["log"]["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == flag))
            })
            .count()
    };
    assert!(
        flagged("unparsed") >= 3,
        "malformed lines are shipped flagged"
    );
    assert!(flagged("invalid_utf8") >= 1);
    assert!(flagged("truncated") >= 1);
    assert!(flagged("partial") >= 1);
    let big = docs
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("BEGIN-DUMP"))
        })
        .expect("the 2 MiB line is shipped, cut");
    assert!(big["message"].as_str().unwrap().len() <= 1024 * 1024);
}

#[test]
fn a_line_dated_before_1970_ships_at_its_read_time_with_its_own_time_kept() {
    let started = chrono::Utc::now();
    let output = loglynk()
        .args(["tail", "--no-follow", FIXTURE_GLOB])
        .output()
        .unwrap();
    let ended = chrono::Utc::now();
    assert!(output.status.success());
    let docs = documents(&output.stdout);
    let dated: Vec<&Value> = docs
        .iter()
        .filter(|d| d["log"]["original_timestamp"].is_string())
        .collect();
    assert_eq!(dated.len(), 1, "the nginx fixture's last line");
    let doc = dated[0];
    assert_eq!(
        doc["log"]["original_timestamp"],
        "1969-12-31T23:59:59.999999999Z"
    );
    assert_eq!(
        doc["log"]["flags"],
        serde_json::json!(["timestamp_out_of_range"])
    );
    assert!(doc["message"]
        .as_str()
        .unwrap()
        .starts_with("10.42.1.17 - - [31/Dec/1969:23:59:59 +0000]"));
    let at = chrono::DateTime::parse_from_rfc3339(doc["@timestamp"].as_str().unwrap()).unwrap();
    assert!(
        started <= at && at <= ended,
        "read at {at}, between {started} and {ended}"
    );
}

/// The `key=value` fields of the line of `stderr` that holds `message`.
fn log_fields(stderr: &str, message: &str) -> BTreeMap<String, u64> {
    let line = stderr
        .lines()
        .find(|l| l.contains(message))
        .unwrap_or_else(|| panic!("no {message:?} in:\n{stderr}"));
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect()
}

#[test]
fn the_finishing_line_counts_files_lines_and_unparsed_lines_as_telemetry_did() {
    let output = loglynk()
        .args(["tail", "--no-follow", FIXTURE_GLOB])
        .output()
        .unwrap();
    assert!(output.status.success());
    let docs = documents(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let fields = log_fields(&stderr, "tail finished");
    let files = std::fs::read_dir(repo_root().join("fixtures/var/log/containers"))
        .unwrap()
        .count() as u64;
    assert_eq!(fields["files"], files, "{stderr}");
    let unparsed = docs
        .iter()
        .filter(|d| {
            d["log"]["flags"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "unparsed"))
        })
        .count() as u64;
    assert_eq!(fields["unparsed"], unparsed, "{stderr}");
    assert_eq!(fields["shipped"], docs.len() as u64, "{stderr}");
    assert_eq!(
        fields["lines"],
        fields["shipped"] + fields["dropped"],
        "{stderr}"
    );
    assert_eq!((fields["kube_found"], fields["kube_missing"]), (0, 0));
}
