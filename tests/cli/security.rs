//! The security review, a test a point: TLS verification fails closed, no secret in logs, metrics,
//! errors or `config check`, links out of the log roots are refused unread, state files are private,
//! and the HTTP endpoint serves metrics and health only.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::elasticsearch::{EsOptions, EsServer, TestCa};
use crate::kubernetes::{KubeOptions, KubeServer};
use crate::support::{
    documents, http_get, loglynk, metrics_address, run_cmd, run_to_end, sample, wait_until,
    KubeTree, Running,
};

const PASSWORD: &str = "pa55-Secret-never-logged";
const TOKEN: &str = "bearer-Secret-never-logged";

#[test]
fn a_certificate_from_another_ca_is_refused_by_default() {
    let ca = TestCa::new("cluster CA");
    let server = EsServer::start_with(EsOptions {
        tls: Some(ca.server_identity()),
        ..EsOptions::default()
    });
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..5);
    let other = tree.root().join("other-ca.pem");
    std::fs::write(&other, TestCa::new("another CA").cert_pem()).unwrap();
    // Only the CA is set: verification_mode is left at its default, full.
    let mut cmd = run_cmd(&tree, &server.url());
    cmd.arg("-E").arg(format!(
        "output.elasticsearch.ssl.certificate_authorities=[\"{}\"]",
        other.display()
    ));
    let running = Running::spawn(cmd);
    assert!(
        wait_until(Duration::from_secs(20), || running
            .stderr_so_far()
            .contains(&format!("TLS handshake with {} failed", server.url()))),
        "{}",
        running.stderr_so_far()
    );
    assert!(server.all_documents().is_empty(), "nothing reached it");
    assert_eq!(server.requests().records.len(), 0, "no request got through");
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}

#[test]
fn no_secret_in_logs_metrics_errors_or_config_check() {
    // Wrong credentials everywhere, logging at debug: every request fails and is logged.
    let es = EsServer::start_with(EsOptions::with_basic_auth("elastic", "the-right-one"));
    let kube = KubeServer::start(KubeOptions::with_token("the-right-token"));
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..5);
    let kubeconfig = tree.root().join("kubeconfig");
    kube.write_kubeconfig(&kubeconfig).unwrap();
    let text = std::fs::read_to_string(&kubeconfig)
        .unwrap()
        .replace("the-right-token", TOKEN);
    std::fs::write(&kubeconfig, text).unwrap();
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.env("ELASTICSEARCH_PASSWORD", PASSWORD)
        .env("LOGLYNK_LOG", "debug")
        .args(["-E", "kubernetes.node_name=node-a1", "-E"])
        .arg(format!("kubernetes.kubeconfig={}", kubeconfig.display()));
    let running = Running::spawn(cmd);
    assert!(wait_until(Duration::from_secs(30), || {
        let log = running.stderr_so_far();
        log.contains("401") && log.contains("Kubernetes API watch failing")
    }));
    let address = metrics_address(&running.stderr_so_far()).expect("metrics address");
    let (_, metrics) = http_get(&address, "/metrics");
    let stopped = running.stop("TERM", Duration::from_secs(15));
    for (what, text) in [("log", &stopped.stderr), ("metrics", &metrics)] {
        assert!(!text.contains(PASSWORD), "password in the {what}");
        assert!(!text.contains(TOKEN), "bearer token in the {what}");
    }

    // config check masks them, and so does an error about the same settings.
    let mut cmd = loglynk();
    cmd.args(["config", "check", "-E"])
        .arg(format!("output.elasticsearch.password={PASSWORD}"))
        .args([
            "-E",
            "output.elasticsearch.api_key=id:key-Secret-never-logged",
        ]);
    let run = run_to_end(cmd, Duration::from_secs(30));
    assert_eq!(
        run.code,
        Some(2),
        "password and api_key together are refused"
    );
    assert!(run.stderr.contains("api_key"), "{}", run.stderr);
    let mut check = loglynk();
    check
        .env("ELASTICSEARCH_PASSWORD", PASSWORD)
        .args(["config", "check"]);
    let printed = run_to_end(check, Duration::from_secs(30));
    assert_eq!(printed.code, Some(0), "{}", printed.stderr);
    let all = [run.stderr, run.lines.join("\n"), printed.lines.join("\n")].join("\n");
    assert!(printed
        .lines
        .iter()
        .any(|l| l.contains("password: '********'")
            || l.contains("password: \"********\"")
            || l.contains("password: ********")));
    assert!(!all.contains(PASSWORD) && !all.contains("key-Secret-never-logged"));
}

#[test]
fn credentials_in_a_host_url_are_used_and_never_shown() {
    // Filebeat takes user:password from a host URL; this one needs percent-encoding there.
    const URL_PASSWORD: &str = "url/Secret@never-shown";
    const ENCODED: &str = "url%2FSecret%40never-shown";
    let es = EsServer::start_with(EsOptions::with_basic_auth("shipper", URL_PASSWORD));
    let url = es
        .url()
        .replacen("://", &format!("://shipper:{ENCODED}@"), 1);
    let hosts = format!("output.elasticsearch.hosts=[\"{url}\"]");
    let shown = |text: &str| {
        [
            "url/Secret",
            "url%2FSecret",
            "Secret@never",
            "Secret%40never",
        ]
        .iter()
        .any(|form| text.contains(form))
    };

    let mut check = loglynk();
    check.args(["config", "check", "-E", &hosts]);
    let printed = run_to_end(check, Duration::from_secs(30));
    assert_eq!(printed.code, Some(0), "{}", printed.stderr);
    let text = printed.lines.join("\n");
    assert!(!shown(&text) && !shown(&printed.stderr), "{text}");
    assert!(text.contains(&format!("- {}/", es.url())), "{text}");
    assert!(text.contains("username: shipper"), "{text}");
    assert!(text.contains("password: '********'"), "{text}");

    // run sends them: every line is indexed, where the server answers 401 without them.
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..5);
    let mut cmd = run_cmd(&tree, &url);
    cmd.env("LOGLYNK_LOG", "debug");
    let running = Running::spawn(cmd);
    let indexed = wait_until(Duration::from_secs(30), || es.all_documents().len() == 5);
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert!(indexed, "not indexed:\n{}", stopped.stderr);
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(!shown(&stopped.stderr), "{}", stopped.stderr);

    // Other credentials beside them are refused, naming the key, never the password.
    for (other, key) in [
        (
            "output.elasticsearch.username=someone",
            "output.elasticsearch.username",
        ),
        (
            "output.elasticsearch.password=another",
            "output.elasticsearch.password",
        ),
        (
            "output.elasticsearch.api_key=id:key",
            "output.elasticsearch.api_key",
        ),
    ] {
        let mut check = loglynk();
        check.args(["config", "check", "-E", &hosts, "-E", other]);
        let refused = run_to_end(check, Duration::from_secs(30));
        assert_eq!(refused.code, Some(2), "{other}: {}", refused.stderr);
        assert!(
            refused.stderr.contains(&format!("(from -E): {key}: ")),
            "{other}: {}",
            refused.stderr
        );
        assert!(!shown(&refused.stderr), "{}", refused.stderr);
    }
    // A malformed URL is not echoed with its password either.
    let bad = format!("output.elasticsearch.hosts=[\"http://shipper:{ENCODED}@es:port\"]");
    let mut check = loglynk();
    check.args(["config", "check", "-E", &bad]);
    let refused = run_to_end(check, Duration::from_secs(30));
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("invalid URL"), "{}", refused.stderr);
    assert!(!shown(&refused.stderr), "{}", refused.stderr);
}

#[test]
fn links_out_of_the_log_roots_are_refused_unread_and_reported() {
    let tree = KubeTree::new();
    let app = tree.container("shop", "web-1", "app");
    app.append(0..3);
    let secret = tree.root().join("secret.log");
    std::fs::write(
        &secret,
        "2026-11-24T10:00:00.000000000Z stdout F TOPSECRET\n",
    )
    .unwrap();
    let containers = tree.containers_dir();
    let id = "e".repeat(64);
    for (name, target) in [
        ("shadow", std::path::Path::new("/etc/shadow")),
        ("secret", secret.as_path()),
    ] {
        let link = containers.join(format!("{name}-1_shop_{name}-{id}.log"));
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    let run = run_to_end(tree.tail(&["--no-follow"]), Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let docs = documents(run.lines.join("\n").as_bytes());
    assert_eq!(docs.len(), 3, "only the container's own lines");
    assert!(!run.lines.join("\n").contains("TOPSECRET"));
    for target in ["/etc/shadow", &secret.display().to_string()] {
        assert!(
            run.stderr.contains(target) && run.stderr.contains("outside the log roots"),
            "{target} not reported:\n{}",
            run.stderr
        );
    }

    // The agent counts them.
    let es = EsServer::start();
    let running = Running::spawn(run_cmd(&tree, &es.url()));
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();
    assert!(wait_until(Duration::from_secs(20), || {
        sample(
            &http_get(&address, "/metrics").1,
            "loglynk_files_refused_total",
        ) == Some(2.0)
    }));
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    assert!(!es
        .all_documents()
        .iter()
        .any(|(_, d)| d.to_string().contains("TOPSECRET")));
}

#[test]
fn the_state_directory_and_dead_letters_are_private() {
    let es = EsServer::start();
    es.faults().set_item_fraction_400(1.0);
    let tree = KubeTree::new();
    tree.container("shop", "web-1", "app").append(0..5);
    let state = tree.root().join("fresh-state");
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.arg("-E").arg(format!("state_dir={}", state.display()));
    let running = Running::spawn(cmd);
    let dead = state.join("dead-letter.ndjson");
    assert!(wait_until(Duration::from_secs(30), || {
        std::fs::read_to_string(&dead).is_ok_and(|t| t.lines().count() == 5)
    }));
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700, "state directory");
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

#[test]
fn the_http_endpoint_serves_metrics_and_health_only() {
    let es = EsServer::start();
    let tree = KubeTree::new();
    let running = Running::spawn(run_cmd(&tree, &es.url()));
    assert!(wait_until(Duration::from_secs(20), || metrics_address(
        &running.stderr_so_far()
    )
    .is_some()));
    let address = metrics_address(&running.stderr_so_far()).unwrap();
    for path in ["/metrics", "/healthz"] {
        assert_eq!(http_get(&address, path).0, 200, "{path}");
    }
    for path in [
        "/",
        "/metrics/",
        "/debug/pprof",
        "/../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/state",
        "/config",
    ] {
        let (status, body) = http_get(&address, path);
        assert_eq!(status, 404, "{path}: {body}");
    }
    let stopped = running.stop("TERM", Duration::from_secs(15));
    assert_eq!(stopped.code, Some(0), "{}", stopped.stderr);
}
