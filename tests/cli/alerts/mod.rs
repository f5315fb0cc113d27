//! Alerts travel from deploy/'s rules to their receivers, with the real servers: Debian's Prometheus
//! evaluates the shipped rules (time compressed by the overlay, a minute to a second) over a stand-in
//! backend and a running `loglynk run`, and Debian's Alertmanager routes what fires with the shipped
//! configuration to an SMTP relay and a Slack webhook that the test runs. The test drives the
//! backend and the agent and reads what arrived where.

mod backend;
mod overlay;
mod sinks;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use backend::{Backend, Traffic};
use overlay::Targets;
use sinks::{Mail, SlackPost, SlackSink, SmtpSink};

use crate::elasticsearch::EsServer;
use crate::support::{free_port, metrics_address, run_cmd, wait_until, KubeTree, Running, Server};

const CRITICAL_MAIL: &str = "devops@funlynk.com";
const WARNING_MAIL: &str = "team@funlynk.com";
const CRITICAL_SLACK: &str = "/slack-critical-url";
const WARNING_SLACK: &str = "/slack-warning-url";
const RUNBOOKS: &str = "https://github.com/funlynk/loglynk/blob/main/deploy/runbooks/";

fn spawn(binary: &str, args: &[String], log: &std::path::Path) -> Server {
    if Command::new(binary).arg("--version").output().is_err() {
        panic!("{binary} not found: deploy/install-tools installs it (.ci/run runs it)");
    }
    let log = std::fs::File::create(log).unwrap();
    Server(
        Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}")),
    )
}

/// `GET path` over HTTP/1.0 (so the answer is never chunked): status and body, or `None` when the
/// server does not answer yet.
fn get(address: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Fresh CRI lines, stamped now, so they are delivered within the log-delivery SLO.
fn fresh_lines(n: usize, padding: usize) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let pad = "x".repeat(padding);
    (0..n)
        .map(|i| format!("{now} stdout F line {i} {pad}\n"))
        .collect()
}

fn append(path: &std::path::Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap();
}

/// Everything that arrived, for the checks and for the failure messages.
struct Received<'a> {
    smtp: &'a SmtpSink,
    slack: &'a SlackSink,
}

impl Received<'_> {
    fn mails(&self, subject: &str) -> Vec<Mail> {
        let mails = self.smtp.mails();
        mails
            .into_iter()
            .filter(|m| m.subject() == Some(subject))
            .collect()
    }

    fn posts(&self, title: &str) -> Vec<SlackPost> {
        let posts = self.slack.posts();
        posts
            .into_iter()
            .filter(|p| p.attachment("title") == title)
            .collect()
    }

    /// A notification of `alertname` with `status` (`CRITICAL`, `WARNING`, `RESOLVED`) reached both
    /// the email and the Slack receiver of its severity, and only those.
    fn arrived(&self, status: &str, alertname: &str, mail_to: &str, slack_path: &str) -> bool {
        let title = format!("{status}: {alertname}");
        let mails = self.mails(&title);
        let posts = self.posts(&title);
        for mail in &mails {
            assert_eq!(mail.to, [mail_to], "{title} mailed to the wrong receiver");
        }
        for post in &posts {
            assert_eq!(post.path, slack_path, "{title} posted to the wrong channel");
        }
        !mails.is_empty() && !posts.is_empty()
    }

    fn any_mentions(&self, alertname: &str) -> bool {
        self.smtp.mails().iter().any(|m| {
            m.subject()
                .is_some_and(|s| s.ends_with(&format!(": {alertname}")))
        }) || self
            .slack
            .posts()
            .iter()
            .any(|p| p.attachment("title").ends_with(&format!(": {alertname}")))
    }

    fn describe(&self) -> String {
        let mails: Vec<String> = self
            .smtp
            .mails()
            .iter()
            .map(|m| format!("mail to {:?}: {:?}", m.to, m.subject()))
            .collect();
        let posts: Vec<String> = self
            .slack
            .posts()
            .iter()
            .map(|p| format!("slack {}: {:?}", p.path, p.attachment("title")))
            .collect();
        format!("{}\n{}", mails.join("\n"), posts.join("\n"))
    }
}

/// The alerts Alertmanager holds, as its API v2 gives them.
fn alertmanager_alerts(alertmanager: &str) -> Vec<serde_json::Value> {
    get(alertmanager, "/api/v2/alerts")
        .and_then(|(_, body)| serde_json::from_str::<Vec<serde_json::Value>>(&body).ok())
        .unwrap_or_default()
}

/// The state Alertmanager gives `alertname` (`active`, `suppressed`) and what suppresses it.
fn alert_state(alertmanager: &str, alertname: &str) -> Option<serde_json::Value> {
    alertmanager_alerts(alertmanager)
        .into_iter()
        .find(|a| a["labels"]["alertname"] == alertname)
        .map(|a| a["status"].clone())
}

#[test]
fn alerts_reach_the_receivers_their_route_names_grouped_silenced_inhibited_and_resolved() {
    let dir = tempfile::tempdir().unwrap();

    // The agent, shipping a live container log to the test Elasticsearch. A small queue and no
    // compression, so that with Elasticsearch stopped it soon stops reading and falls behind.
    let es = EsServer::start();
    let tree = KubeTree::new();
    let app = tree.container("shop", "web-1", "app");
    append(&app.log(), &fresh_lines(100, 0));
    let mut cmd = run_cmd(&tree, &es.url());
    cmd.args([
        "-E",
        "max_queued_bytes=128KiB",
        "-E",
        "output.elasticsearch.bulk_max_bytes=64KiB",
        "-E",
        "output.elasticsearch.compression_level=0",
    ]);
    let agent = Running::spawn(cmd);
    let serving = wait_until(Duration::from_secs(20), || {
        metrics_address(&agent.stderr_so_far()).is_some()
    });
    assert!(serving, "{}", agent.stderr_so_far());
    let agent_address = metrics_address(&agent.stderr_so_far()).unwrap();

    // The backend: two busy instances and a quiet one.
    let quiet = Traffic {
        per_second: 1.0,
        ..Traffic::HEALTHY
    };
    let (a, b, c) = (
        Backend::start(Traffic::HEALTHY),
        Backend::start(Traffic::HEALTHY),
        Backend::start(quiet),
    );

    let (smtp, smtp_address) = SmtpSink::start();
    let (slack, slack_url) = SlackSink::start();
    let received = Received {
        smtp: &smtp,
        slack: &slack,
    };

    let alertmanager = format!("127.0.0.1:{}", free_port());
    let am_config = overlay::write_alertmanager_config(dir.path(), &smtp_address, &slack_url);
    let _alertmanager = spawn(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", am_config.display()),
            format!("--storage.path={}", dir.path().join("am-data").display()),
            format!("--web.listen-address={alertmanager}"),
            // No gossip port: it would bind 0.0.0.0:9094, once per machine.
            "--cluster.listen-address=".into(),
        ],
        &dir.path().join("alertmanager.log"),
    );
    let am_log =
        || std::fs::read_to_string(dir.path().join("alertmanager.log")).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(20), || get(&alertmanager, "/-/ready")
            .is_some_and(|(s, _)| s == 200)),
        "Alertmanager not ready:\n{}",
        am_log()
    );

    // A silence set the way an operator sets it, before the incident it is for.
    let silenced = Command::new("amtool")
        .args([
            "silence",
            "add",
            "alertname=HighLatency",
            "--author=e2e",
            "--comment=known slow instance",
            "--duration=1h",
        ])
        .arg(format!("--alertmanager.url=http://{alertmanager}"))
        .output()
        .expect("amtool (prometheus-alertmanager) runs");
    assert!(
        silenced.status.success(),
        "{}",
        String::from_utf8_lossy(&silenced.stderr)
    );

    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let alerts = overlay::write_rules(&rules);
    for name in [
        "HighErrorRate",
        "BackendAvailabilityFastBurn",
        "LoglynkShippingStalled",
    ] {
        assert!(alerts.iter().any(|a| a == name), "{name} not in {alerts:?}");
    }
    let prometheus = format!("127.0.0.1:{}", free_port());
    let prom_config = overlay::write_prometheus_config(
        dir.path(),
        &rules,
        &Targets {
            agent: &agent_address,
            backends: &[("a", &a.address), ("b", &b.address), ("c", &c.address)],
            alertmanager: &alertmanager,
        },
    );
    let _prometheus = spawn(
        "prometheus",
        &[
            format!("--config.file={}", prom_config.display()),
            format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom-data").display()
            ),
            format!("--web.listen-address={prometheus}"),
            // Firing alerts are sent again every minute by default; a second keeps up with the test.
            "--rules.alert.resend-delay=1s".into(),
        ],
        &dir.path().join("prometheus.log"),
    );
    let prom_log =
        || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let scraping = wait_until(Duration::from_secs(30), || {
        get(&prometheus, "/api/v1/query?query=count(up%3D%3D1)")
            .is_some_and(|(_, body)| body.contains("\"value\":[") && body.contains(",\"4\"]"))
    });
    assert!(
        scraping,
        "Prometheus does not scrape the 4 targets:\n{}",
        prom_log()
    );

    // The incident: both busy instances answer 3% of requests with a 500 (HighErrorRate on each,
    // 30 times the availability budget) and 4% slowly (under HighLatency's p95, 4 times the latency
    // budget); the quiet instance is slow (HighLatency, silenced).
    let incident = Traffic {
        per_second: 100.0,
        errors: 0.03,
        slow: 0.04,
    };
    a.set(incident);
    b.set(incident);
    c.set(Traffic { slow: 1.0, ..quiet });

    // Both instances' HighErrorRate, grouped by alertname into one message (the first, or the next
    // after group_interval if one instance crossed a little later). Waits are generous: on a loaded
    // machine Prometheus evaluates late; on an idle one this takes about 15 s.
    let grouped = |text: &str, each: &str| text.matches(each).count() == 2;
    let grouped_mail = || {
        received
            .mails("CRITICAL: HighErrorRate")
            .into_iter()
            .find(|m| grouped(&m.data, "Alert: High error rate detected\r\n"))
    };
    let grouped_post = || {
        received
            .posts("CRITICAL: HighErrorRate")
            .into_iter()
            .find(|p| grouped(p.attachment("text"), "High error rate detected ("))
    };
    let arrived = wait_until(Duration::from_secs(90), || {
        received.arrived("CRITICAL", "HighErrorRate", CRITICAL_MAIL, CRITICAL_SLACK)
            && received.arrived(
                "CRITICAL",
                "BackendAvailabilityFastBurn",
                CRITICAL_MAIL,
                CRITICAL_SLACK,
            )
            && received.arrived(
                "WARNING",
                "BackendLatencySlowBurn",
                WARNING_MAIL,
                WARNING_SLACK,
            )
            && grouped_mail().is_some()
            && grouped_post().is_some()
    });
    assert!(
        arrived,
        "received:\n{}\nHighErrorRate mails: {:#?}\nAlertmanager holds: {:#?}\n{}",
        received.describe(),
        received.mails("CRITICAL: HighErrorRate"),
        alertmanager_alerts(&alertmanager),
        am_log()
    );

    // Templated as shipped: summary, description and runbook of each alert.
    let mail = grouped_mail().unwrap();
    // The description's value: each instance fails 3 requests a second.
    let rates: Vec<f64> = mail
        .data
        .lines()
        .filter_map(|l| l.strip_prefix("Description: Error rate is "))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert!(
        rates.len() == 2 && rates.iter().all(|r| (2.5..3.5).contains(r)),
        "{rates:?} {}",
        mail.data
    );
    assert!(
        mail.data
            .contains(&format!("Runbook: {RUNBOOKS}HighErrorRate.md")),
        "{}",
        mail.data
    );
    // The relay got the shipped smtp_auth_username and the password from smtp_auth_password_file:
    // base64 of "\0alerts@funlynk.com\0" and overlay::SMTP_PASSWORD.
    assert_eq!(overlay::SMTP_PASSWORD, "e2e-smtp-password");
    assert_eq!(
        mail.auth.as_deref(),
        Some("AGFsZXJ0c0BmdW5seW5rLmNvbQBlMmUtc210cC1wYXNzd29yZA==")
    );
    let post = grouped_post().unwrap();
    assert_eq!(post.body["channel"], "#alerts-critical");
    assert!(post
        .attachment("text")
        .contains(&format!("({RUNBOOKS}HighErrorRate.md)")));

    // The silence holds back HighLatency, which fires; the fast burn inhibits the slow burn of the
    // same SLO, which fires too; neither reached anyone. The latency SLO's slow burn (another SLO)
    // and every other alert went through: checked above.
    let firing = |name: &str| {
        wait_until(Duration::from_secs(20), || {
            alert_state(&alertmanager, name).is_some()
        });
        alert_state(&alertmanager, name).unwrap_or_else(|| panic!("{name} does not fire"))
    };
    let state = firing("HighLatency");
    assert_eq!(state["state"], "suppressed", "{state}");
    assert!(
        !state["silencedBy"].as_array().unwrap().is_empty(),
        "{state}"
    );
    let state = firing("BackendAvailabilitySlowBurn");
    assert_eq!(state["state"], "suppressed", "{state}");
    assert!(
        !state["inhibitedBy"].as_array().unwrap().is_empty(),
        "{state}"
    );
    for held in ["HighLatency", "BackendAvailabilitySlowBurn"] {
        assert!(
            !received.any_mentions(held),
            "{held} arrived:\n{}",
            received.describe()
        );
    }

    // The errors stop: the resolved notification follows, to the same receivers.
    a.set(Traffic {
        slow: 0.04,
        ..Traffic::HEALTHY
    });
    b.set(Traffic {
        slow: 0.04,
        ..Traffic::HEALTHY
    });
    let resolved = wait_until(Duration::from_secs(45), || {
        received.arrived("RESOLVED", "HighErrorRate", CRITICAL_MAIL, CRITICAL_SLACK)
    });
    assert!(resolved, "received:\n{}", received.describe());

    // Elasticsearch stops. The agent keeps what it read in flight, stops reading once its queue is
    // full, and the log grows past 64MiB unread.
    es.faults().set_down(true);
    let log = app.log();
    let writer_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = std::sync::Arc::clone(&writer_stop);
        std::thread::spawn(move || {
            let chunk = fresh_lines(1024, 1000); // about 1MiB
            for _ in 0..70 {
                append(&log, &chunk);
            }
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                append(&log, &chunk[..chunk.len() / 4]);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let agent_alerts = wait_until(Duration::from_secs(90), || {
        received.arrived(
            "CRITICAL",
            "LoglynkShippingStalled",
            CRITICAL_MAIL,
            CRITICAL_SLACK,
        ) && received.arrived(
            "WARNING",
            "LoglynkBytesBehindGrowing",
            WARNING_MAIL,
            WARNING_SLACK,
        )
    });
    writer_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        agent_alerts,
        "received:\n{}\nagent:\n{}",
        received.describe(),
        agent.stderr_so_far()
    );
    let stalled = &received.mails("CRITICAL: LoglynkShippingStalled")[0];
    assert!(
        stalled
            .data
            .contains("Alert: loglynk on node-e2e ships nothing while events wait"),
        "{}",
        stalled.data
    );

    // The agent dies: nothing answers its scrapes.
    agent.kill();
    let down = wait_until(Duration::from_secs(45), || {
        received.arrived(
            "CRITICAL",
            "LoglynkAgentDown",
            CRITICAL_MAIL,
            CRITICAL_SLACK,
        )
    });
    assert!(down, "received:\n{}", received.describe());
    let mail = &received.mails("CRITICAL: LoglynkAgentDown")[0];
    assert!(
        mail.data.contains("Alert: loglynk on node-e2e is down"),
        "{}",
        mail.data
    );
}
