//! `loglynk doctor` against the test servers: every check passing on a healthy node, and the cluster
//! checks failing the way they fail on a node: a wrong password, an expired or foreign certificate, a
//! missing or changed template, a refused privilege or RBAC verb, a red cluster, an unknown node. The
//! node's own checks are in `doctor_local.rs`, on the harness here.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::bootstrap::bootstrap_cmd;
use crate::elasticsearch::{EsOptions, EsServer, Grants, TestCa};
use crate::kubernetes::{seeded, KubeOptions, KubeServer, Rule};
use crate::support::{loglynk, run_to_end, KubeTree, Stopped};

/// A node's set-up, every part of which a test can break.
pub struct Node {
    pub tree: KubeTree,
    pub es: EsServer,
    pub kube: KubeServer,
    /// -E settings and environment for doctor and bootstrap alike.
    settings: Vec<String>,
}

impl Node {
    pub fn new(es: EsServer) -> Node {
        let tree = KubeTree::new();
        let c = tree.container("shop", "web-1", "app");
        std::fs::write(c.log(), "2026-11-24T00:00:00.000000001Z stdout F hello\n").unwrap();
        let kube = seeded(KubeOptions::default());
        let kubeconfig = tree.root().join("kubeconfig");
        kube.write_kubeconfig(&kubeconfig).unwrap();
        let mut settings = vec![
            format!("paths=[\"{}\"]", tree.glob()),
            format!("state_dir={}", tree.state_dir().display()),
            format!("output.elasticsearch.hosts=[\"{}\"]", es.url()),
            format!("kubernetes.kubeconfig={}", kubeconfig.display()),
            "kubernetes.node_name=node-a1".to_owned(),
        ];
        if !es.url().starts_with("https") {
            settings.push("output.elasticsearch.ssl.certificate_authorities=[]".to_owned());
        }
        Node {
            tree,
            es,
            kube,
            settings,
        }
    }

    pub fn set(&mut self, setting: &str) -> &mut Node {
        self.settings.push(setting.to_owned());
        self
    }

    fn with_settings(&self, mut cmd: Command) -> Command {
        for setting in &self.settings {
            cmd.args(["-E", setting]);
        }
        cmd.env("ELASTICSEARCH_PASSWORD", "changeme");
        cmd
    }

    pub fn bootstrap(&self) {
        let cmd = self.with_settings(bootstrap_cmd(&self.es.url(), &[]));
        let run = run_to_end(cmd, Duration::from_secs(60));
        assert_eq!(
            run.code,
            Some(0),
            "bootstrap: {}\n{:?}",
            run.stderr,
            run.lines
        );
    }

    pub fn doctor(&self, args: &[&str]) -> Stopped {
        let mut cmd = loglynk();
        cmd.arg("doctor").args(args);
        run_to_end(self.with_settings(cmd), Duration::from_secs(60))
    }

    /// The report as JSON: the checks by name (a name that repeats keeps its first).
    pub fn report(&self) -> (Option<i32>, Value) {
        let run = self.doctor(&["--format", "json"]);
        let report: Value = serde_json::from_str(&run.lines.join("\n"))
            .unwrap_or_else(|e| panic!("{e}: {:?} {}", run.lines, run.stderr));
        (run.code, report)
    }
}

pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
}

fn failing(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

fn secured(options: EsOptions, ca: &TestCa) -> EsServer {
    EsServer::start_with(EsOptions {
        tls: Some(ca.server_identity()),
        ..options
    })
}

fn trust(node: &mut Node, ca: &TestCa) {
    let path = node.tree.root().join("ca.crt");
    std::fs::write(&path, ca.cert_pem()).unwrap();
    node.set(&format!(
        "output.elasticsearch.ssl.certificate_authorities=[{}]",
        path.display()
    ));
}

#[test]
fn a_healthy_node_passes_every_check_and_exits_0() {
    let ca = TestCa::new("cluster CA");
    let es = secured(EsOptions::with_basic_auth("elastic", "changeme"), &ca);
    let mut node = Node::new(es);
    trust(&mut node, &ca);
    node.set("setup.replicas=0");
    node.bootstrap();
    let run = node.doctor(&[]);
    assert_eq!(run.code, Some(0), "{:#?}", run.lines);
    let text = run.lines.join("\n");
    for line in &run.lines[..run.lines.len() - 1] {
        assert!(line.starts_with("✓ "), "{text}");
    }
    assert!(run.lines.last().unwrap().starts_with("all "), "{text}");
    for expected in [
        "✓ paths ",
        "1 file, all readable",
        "✓ elasticsearch TLS: https://",
        "chain and name verified; subject CN=loglynk test, issued by CN=cluster CA, for localhost, 127.0.0.1, expires ",
        "✓ elasticsearch credentials: ",
        "accepted user elastic",
        "✓ elasticsearch version: ",
        "8.15.0",
        "✓ elasticsearch cluster health: ",
        "✓ elasticsearch ILM policy funlynk-logs: ",
        "✓ elasticsearch index template funlynk-logs: ",
        "elastic holds index and auto_configure on funlynk-logs-*",
        "✓ kubernetes API: answered: Kubernetes v1.31.4",
        "✓ kubernetes node: node-a1: known, 5 pods scheduled on it",
        "✓ kubernetes RBAC pods: get, list, watch allowed",
        "✓ kubernetes RBAC namespaces: get, list, watch allowed",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
    let reviews = node
        .kube
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/selfsubjectaccessreviews") && r.status == 201)
        .count();
    assert_eq!(reviews, 6, "one review per verb and resource");
    let writes = node
        .es
        .requests()
        .records
        .iter()
        .filter(|r| r.path.contains("_bulk") || r.method == "PUT")
        .count();
    let (_, report) = node.report();
    assert_eq!(report["ok"], true);
    assert_eq!(
        node.es
            .requests()
            .records
            .iter()
            .filter(|r| r.path.contains("_bulk") || r.method == "PUT")
            .count(),
        writes,
        "doctor writes nothing"
    );
}

#[test]
fn wrong_password_expired_and_foreign_certificates_fail_with_their_fix() {
    let ca = TestCa::new("cluster CA");
    let es = secured(EsOptions::with_basic_auth("elastic", "other"), &ca);
    let mut node = Node::new(es);
    trust(&mut node, &ca);
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    let credentials = check(&report, "elasticsearch credentials");
    assert_eq!(credentials["ok"], false);
    let found = credentials["found"].as_str().unwrap();
    assert!(found.contains("refused user elastic (HTTP 401)"), "{found}");
    assert!(
        found.contains("unable to authenticate user [elastic]"),
        "{found}"
    );
    assert!(
        credentials["fix"]
            .as_str()
            .unwrap()
            .contains("ELASTICSEARCH_PASSWORD"),
        "{credentials}"
    );
    assert!(!found.contains("changeme"), "no secret in the report");

    let expired = EsServer::start_with(EsOptions {
        tls: Some(ca.expired_server_identity()),
        ..EsOptions::with_basic_auth("elastic", "changeme")
    });
    let mut node = Node::new(expired);
    trust(&mut node, &ca);
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    let tls = check(&report, "elasticsearch TLS");
    let found = tls["found"].as_str().unwrap();
    assert_eq!(tls["ok"], false);
    assert!(found.to_lowercase().contains("expired"), "{found}");
    assert!(
        found.contains("subject CN=loglynk expired test") && found.contains("expired 2021-01-01"),
        "{found}"
    );
    assert_eq!(
        failing(&report),
        ["elasticsearch TLS"],
        "later checks are not run"
    );

    let es = secured(EsOptions::with_basic_auth("elastic", "changeme"), &ca);
    let mut node = Node::new(es);
    trust(&mut node, &TestCa::new("another CA"));
    let (_, report) = node.report();
    let tls = check(&report, "elasticsearch TLS");
    let found = tls["found"].as_str().unwrap();
    assert!(
        found.contains("UnknownIssuer") || found.contains("unknown issuer"),
        "{found}"
    );
    assert!(found.contains("issued by CN=cluster CA"), "{found}");
}

#[test]
fn a_missing_or_changed_template_and_a_refused_privilege_fail() {
    let es = EsServer::start_with(EsOptions {
        grants: Some(Grants::on_indices(&["other-*"], &["write"])),
        ..EsOptions::with_basic_auth("elastic", "changeme")
    });
    let mut node = Node::new(es);
    node.set("output.elasticsearch.username=elastic");
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    assert_eq!(
        failing(&report),
        [
            "elasticsearch ILM policy funlynk-logs",
            "elasticsearch index template funlynk-logs",
            "elasticsearch write privilege"
        ]
    );
    assert!(
        check(&report, "elasticsearch ILM policy funlynk-logs")["found"]
            .as_str()
            .unwrap()
            .ends_with("missing")
    );
    let privilege = check(&report, "elasticsearch write privilege");
    let found = privilege["found"].as_str().unwrap();
    assert!(
        found.contains("elastic lacks index, auto_configure (or create_index) on funlynk-logs-*"),
        "{found}"
    );

    node.bootstrap();
    let mut template = get(&node.es, "/_index_template/funlynk-logs")["index_templates"][0]
        ["index_template"]
        .clone();
    template["priority"] = json!(150);
    template["template"]["settings"]["index"]["refresh_interval"] = json!("30s");
    put(&node.es, "/_index_template/funlynk-logs", &template);
    let (_, report) = node.report();
    let differs = check(&report, "elasticsearch index template funlynk-logs");
    assert_eq!(differs["ok"], false);
    let details: Vec<&str> = differs["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(details.contains(&"~ priority: 150 -> 200"), "{details:?}");
    assert!(
        details.iter().any(|d| d.contains("refresh_interval")),
        "{details:?}"
    );
    assert!(differs["fix"].as_str().unwrap().contains("--force"));
    assert_eq!(
        check(&report, "elasticsearch ILM policy funlynk-logs")["ok"],
        true
    );

    // The text report shows the diff under its line.
    let run = node.doctor(&[]);
    let text = run.lines.join("\n");
    assert!(
        text.contains("✗ elasticsearch index template funlynk-logs: ")
            && text.contains("\n    ~ priority: 150 -> 200"),
        "{text}"
    );
}

#[test]
fn refused_rbac_a_red_cluster_and_an_unknown_node_fail() {
    let es = EsServer::start();
    let mut node = Node::new(es);
    node.bootstrap();
    node.kube
        .set_rules(Some(vec![Rule::core(&["pods"], &["get", "list"])]));
    node.es.faults().set(|f| f.health = Some("red".into()));
    node.set("kubernetes.node_name=node-z9");
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    assert_eq!(
        failing(&report),
        [
            "elasticsearch cluster health",
            "kubernetes node",
            "kubernetes RBAC pods",
            "kubernetes RBAC namespaces"
        ],
        "{report:#}"
    );
    let pods = check(&report, "kubernetes RBAC pods");
    assert_eq!(pods["found"], "watch refused (get, list, watch needed)");
    assert!(pods["fix"].as_str().unwrap().contains("ClusterRole"));
    assert_eq!(
        check(&report, "kubernetes node")["found"],
        "no node named node-z9"
    );
    assert_eq!(
        check(&report, "elasticsearch write privilege")["found"],
        format!(
            "{}: security is off on the cluster: anyone may write to funlynk-logs-*",
            node.es.url()
        )
    );
}

fn get(server: &EsServer, path: &str) -> Value {
    serde_json::from_str(&call(server, "GET", path, "")).unwrap()
}

fn put(server: &EsServer, path: &str, body: &Value) {
    call(server, "PUT", path, &body.to_string());
}

/// A request as the elastic user; the answer's body, which must come with a 200.
fn call(server: &EsServer, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let address = server.url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nAuthorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{method} {path}: {answer}"
    );
    answer.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[test]
fn an_unreachable_host_an_old_version_no_verification_and_a_down_api_fail() {
    let old = EsServer::start_with(EsOptions {
        version: "7.10.2".into(),
        ..EsOptions::default()
    });
    let mut node = Node::new(old);
    node.kube.faults().set_down(true);
    let (code, report) = node.report();
    assert_eq!(code, Some(1));
    let version = check(&report, "elasticsearch version");
    assert_eq!(version["ok"], false);
    assert!(
        version["fix"].as_str().unwrap().contains("8.x"),
        "{version}"
    );
    let api = check(&report, "kubernetes API");
    assert_eq!(api["ok"], false, "{api}");
    assert!(
        !report.to_string().contains("kubernetes RBAC"),
        "nothing more is asked of an API that does not answer"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    node.set(&format!(
        "output.elasticsearch.hosts=[\"http://127.0.0.1:{port}\"]"
    ));
    let (_, report) = node.report();
    let reachable = check(&report, "elasticsearch reachable");
    assert_eq!(reachable["ok"], false);
    assert!(
        reachable["found"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{reachable}"
    );
    assert!(
        !report.to_string().contains("elasticsearch credentials"),
        "later checks of that host are not run"
    );

    let ca = TestCa::new("cluster CA");
    let es = secured(EsOptions::default(), &ca);
    let mut node = Node::new(es);
    node.set("output.elasticsearch.ssl.verification_mode=none");
    node.set("output.elasticsearch.ssl.certificate_authorities=[]");
    node.bootstrap();
    let (_, report) = node.report();
    let tls = check(&report, "elasticsearch TLS");
    assert_eq!(tls["ok"], false);
    assert!(
        tls["found"].as_str().unwrap().contains("NOT verified"),
        "{tls}"
    );
    assert_eq!(
        check(&report, "elasticsearch credentials")["ok"],
        true,
        "the other checks still run"
    );
}
