//! `loglynk bootstrap`: the exact bodies per mode (golden files), and its failures: credentials,
//! connection, versions. The installs against the test server are in `bootstrap_install.rs`.

use std::process::Command;
use std::time::Duration;

use crate::elasticsearch::{EsOptions, EsServer, TestCa};
use crate::support::{loglynk, repo_root, run_to_end, Stopped};

const MODES: [&str; 3] = ["daily", "data_stream", "rollover"];

/// `loglynk bootstrap <args>` against `url`, without TLS.
pub fn bootstrap_cmd(url: &str, args: &[&str]) -> Command {
    let mut cmd = loglynk();
    cmd.arg("bootstrap")
        .args(["-E", &format!("output.elasticsearch.hosts=[\"{url}\"]")])
        .args(["-E", "output.elasticsearch.ssl.certificate_authorities=[]"])
        .args(args);
    cmd
}

pub fn run_bootstrap(url: &str, args: &[&str]) -> Stopped {
    run_to_end(bootstrap_cmd(url, args), Duration::from_secs(60))
}

#[test]
fn dry_run_prints_the_golden_bodies_of_each_mode_and_sends_nothing() {
    let server = EsServer::start();
    for mode in MODES {
        let run = run_bootstrap(
            &server.url(),
            &["--dry-run", "-E", &format!("setup.mode={mode}")],
        );
        assert_eq!(run.code, Some(0), "{mode}: {}", run.stderr);
        let printed = run.lines.join("\n") + "\n";
        let golden = repo_root().join(format!("fixtures/bootstrap/{mode}.txt"));
        // LOGLYNK_BLESS=1 rewrites the golden files from this run; review their diff before committing.
        if std::env::var_os("LOGLYNK_BLESS").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &printed).unwrap();
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (LOGLYNK_BLESS=1 writes it)", golden.display()));
        assert_eq!(printed, expected, "{mode}: the bodies changed");
        // Every body is the JSON it claims to be.
        for block in printed.split("\n\n").filter(|b| !b.trim().is_empty()) {
            let (request, body) = block.split_once('\n').expect("a request line and a body");
            assert!(request.starts_with("PUT /"), "{request}");
            let _: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        }
    }
    assert_eq!(
        server.requests().records.len(),
        0,
        "a dry run sends nothing"
    );
}

#[test]
fn wrong_credentials_name_the_host_and_say_what_to_check() {
    let server = EsServer::start_with(EsOptions::with_basic_auth("elastic", "right"));
    let mut cmd = bootstrap_cmd(&server.url(), &[]);
    cmd.env("ELASTICSEARCH_PASSWORD", "wrong");
    let run = run_to_end(cmd, Duration::from_secs(60));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains(&server.url()), "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert!(
        run.stderr.contains("username and password"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("wrong"),
        "no secret in errors: {}",
        run.stderr
    );
}

#[test]
fn an_unreachable_cluster_is_named() {
    let url = {
        let server = EsServer::start();
        server.url()
    };
    let run = run_bootstrap(&url, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot connect to {url}")),
        "{}",
        run.stderr
    );
}

#[test]
fn versions_outside_8_are_refused_but_7_17_for_daily_indices() {
    let server = EsServer::start_with(EsOptions {
        version: "7.10.2".into(),
        ..EsOptions::default()
    });
    let run = run_bootstrap(&server.url(), &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("Elasticsearch 7.10.2"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().records.len(), 1, "nothing after GET /");

    let server = EsServer::start_with(EsOptions {
        version: "7.17.25".into(),
        ..EsOptions::default()
    });
    let run = run_bootstrap(&server.url(), &["-E", "setup.mode=data_stream"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("7.17 only for setup.mode daily"),
        "{}",
        run.stderr
    );
}

#[test]
fn setup_disabled_refuses_to_run() {
    let server = EsServer::start();
    let run = run_bootstrap(&server.url(), &["-E", "setup.enabled=false"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("setup.enabled is false"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().records.len(), 0);
}

#[test]
fn a_certificate_from_another_ca_fails_closed_naming_the_host() {
    let server_ca = TestCa::new("cluster CA");
    let server = EsServer::start_with(EsOptions {
        tls: Some(server_ca.server_identity()),
        ..EsOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let trusting = |name: &str, ca: &TestCa| {
        let path = dir.path().join(name);
        std::fs::write(&path, ca.cert_pem()).unwrap();
        let mut cmd = loglynk();
        cmd.arg("bootstrap")
            .args([
                "-E",
                &format!("output.elasticsearch.hosts=[\"{}\"]", server.url()),
            ])
            .arg("-E")
            .arg(format!(
                "output.elasticsearch.ssl.certificate_authorities=[\"{}\"]",
                path.display()
            ));
        run_to_end(cmd, Duration::from_secs(60))
    };
    let run = trusting("other-ca.pem", &TestCa::new("some other CA"));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("TLS handshake with {} failed", server.url())),
        "{}",
        run.stderr
    );

    // The right CA: the same command gets through.
    let run = trusting("ca.pem", &server_ca);
    assert!(!run.stderr.contains("TLS"), "{}", run.stderr);
    assert_eq!(server.requests().count_status("/", 200), 1);
}
