//! Each Elasticsearch host: reachable, TLS verified, credentials accepted, version supported, the
//! cluster's health, loglynk's ILM policy and template as `bootstrap` would install them, and the
//! privilege to write where `run` writes (asked through the privileges API: no document is sent).

use std::time::{Duration, Instant};

use elasticsearch::http::Method;
use serde_json::Value;
use url::Url;

use super::privileges::privileges;
use super::tls::{handshake, Presented};
use super::{Check, Report};
use crate::bootstrap::{compare, objects, version_supported, Comparison, Features};
use crate::config::{Config, ElasticsearchOutput, VerificationMode};
use crate::output::elasticsearch::client::{EsClient, Reply};

/// Every question is small; a host that cannot answer one in this long is not usable.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);

pub async fn check(config: &Config, report: &mut Report) {
    let es = &config.output.elasticsearch;
    if let Err(error) = EsClient::check_files(es) {
        report.push(Check::fail(
            "elasticsearch TLS files",
            error.to_string(),
            "mount the CA (ECK: the <cluster>-es-http-certs-public secret) where \
             output.elasticsearch.ssl names it",
        ));
        return;
    }
    for host in &es.hosts {
        one_host(config, host, report).await;
    }
}

/// A host's checks, in the order each depends on the last: a later one is not run (nor reported)
/// once an earlier one failed.
async fn one_host(config: &Config, url: &Url, report: &mut Report) {
    let es = &config.output.elasticsearch;
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let host = shown.as_str().trim_end_matches('/').to_owned();
    let name = |what: &str| format!("elasticsearch {what}");

    let (reachable, check) = reach(url, &host).await;
    report.push(check);
    if !reachable {
        return;
    }
    if url.scheme() == "https" {
        let check = tls(es, url, &host).await;
        let ok = check.ok || es.ssl.verification_mode == VerificationMode::None;
        report.push(check);
        if !ok {
            return;
        }
    }
    let single = ElasticsearchOutput {
        hosts: vec![url.clone()],
        ..es.clone()
    };
    let client = match EsClient::new(&single) {
        Ok(client) => client,
        Err(e) => {
            report.push(Check::fail(
                name("client"),
                e.to_string(),
                "fix the setting it names",
            ));
            return;
        }
    };
    let Some(version) = credentials(&client, es, &host, report).await else {
        return;
    };
    let mode = config.setup.mode;
    report.push(if version_supported(&version, mode) {
        Check::pass(name("version"), format!("{host}: {version}"))
    } else {
        Check::fail(
            name("version"),
            format!("{host}: {version}"),
            "loglynk needs Elasticsearch 8.x or 9.x (7.17 only with setup.mode daily)",
        )
    });
    report.push(health(&client, &host).await);
    setup_objects(config, &client, &host, Features::of(&version), report).await;
    report.push(privileges(config, &client, &host).await);
}

async fn reach(url: &Url, host: &str) -> (bool, Check) {
    let name = "elasticsearch reachable";
    let fix =
        "check output.elasticsearch.hosts, the cluster's Service and DNS, and NetworkPolicies \
               between the agent's namespace and the cluster";
    let address = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(port)) => (
            h.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port,
        ),
        _ => {
            return (
                false,
                Check::fail(name, format!("{host}: no host and port"), fix),
            )
        }
    };
    let started = Instant::now();
    match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(stream)) => {
            let peer = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let ms = started.elapsed().as_millis();
            (
                true,
                Check::pass(name, format!("{host}: connected to {peer} in {ms} ms")),
            )
        }
        Ok(Err(e)) => (false, Check::fail(name, format!("{host}: {e}"), fix)),
        Err(_) => (
            false,
            Check::fail(
                name,
                format!("{host}: no connection within {}s", TIMEOUT.as_secs()),
                fix,
            ),
        ),
    }
}

async fn tls(es: &ElasticsearchOutput, url: &Url, host: &str) -> Check {
    let name = "elasticsearch TLS";
    let (config, target) = (es.clone(), url.clone());
    let handshake = match tokio::task::spawn_blocking(move || handshake(&config, &target)).await {
        Ok(handshake) => handshake,
        Err(_) => return Check::fail(name, format!("{host}: the check failed"), "run it again"),
    };
    let now = chrono::Utc::now().timestamp();
    let certificate = handshake.presented.as_ref().map_or_else(
        || "no certificate seen".to_owned(),
        |p: &Presented| p.describe(now),
    );
    let mode = match es.ssl.verification_mode {
        VerificationMode::Full => "chain and name verified",
        VerificationMode::Certificate => "chain verified, name not (verification_mode certificate)",
        VerificationMode::None => "NOT verified",
    };
    match handshake.error {
        Some(error) => Check::fail(
            name,
            format!("{host}: {error}; {certificate}"),
            "set output.elasticsearch.ssl.certificate_authorities to the CA that signed the \
             cluster's certificate (ECK: the <cluster>-es-http-certs-public secret), use a host \
             name the certificate is for, or renew an expired certificate",
        ),
        None if es.ssl.verification_mode == VerificationMode::None => Check::fail(
            name,
            format!("{host}: {mode} (verification_mode none); {certificate}"),
            "set output.elasticsearch.ssl.verification_mode: full and the cluster's CA: anyone \
             on the path can read and change what is shipped, the password included",
        ),
        None => Check::pass(name, format!("{host}: {mode}; {certificate}")),
    }
}

/// `GET /` with the configured credentials; the version when they were accepted.
async fn credentials(
    client: &EsClient,
    es: &ElasticsearchOutput,
    host: &str,
    report: &mut Report,
) -> Option<String> {
    let name = "elasticsearch credentials";
    let who = match (&es.api_key, &es.username, &es.password) {
        (Some(_), _, _) => "the API key".to_owned(),
        (None, Some(user), Some(_)) => format!("user {user}"),
        (None, Some(user), None) => format!("user {user}, without a password"),
        _ => "no credentials".to_owned(),
    };
    let reply = match client.request(Method::Get, "/", None, TIMEOUT).await {
        Ok(reply) => reply,
        Err(e) => {
            report.push(Check::fail(
                name,
                e.to_string(),
                "the host accepts connections but does not answer HTTP: check the scheme and port",
            ));
            return None;
        }
    };
    if matches!(reply.status, 401 | 403) {
        report.push(Check::fail(
            name,
            format!(
                "{host} refused {who} (HTTP {}): {}",
                reply.status,
                reason(&reply)
            ),
            "set the password the cluster expects (ELASTICSEARCH_PASSWORD, from ECK's \
             <cluster>-es-elastic-user secret), or output.elasticsearch.api_key",
        ));
        return None;
    }
    let info: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let version = info
        .as_ref()
        .and_then(|v| v.pointer("/version/number"))
        .and_then(Value::as_str);
    match (reply.status, version) {
        (200, Some(version)) => {
            report.push(Check::pass(name, format!("{host} accepted {who}")));
            Some(version.to_owned())
        }
        (status, _) => {
            report.push(Check::fail(
                name,
                format!(
                    "{host} answered GET / with HTTP {status}: {}",
                    reason(&reply)
                ),
                "point output.elasticsearch.hosts at Elasticsearch itself (port 9200)",
            ));
            None
        }
    }
}

async fn health(client: &EsClient, host: &str) -> Check {
    let name = "elasticsearch cluster health";
    let answer = get_json(client, "/_cluster/health").await;
    let Ok(health) = answer else {
        return Check::fail(
            name,
            format!("{host}: {}", answer.err().unwrap_or_default()),
            "the user needs the cluster privilege monitor to show it",
        );
    };
    let status = health["status"].as_str().unwrap_or("unknown");
    let found = format!(
        "{host}: {status}, {} nodes, {} unassigned shards",
        health["number_of_nodes"], health["unassigned_shards"]
    );
    match status {
        "green" => Check::pass(name, found),
        "yellow" => Check::pass(
            name,
            format!("{found} (replicas unassigned; writes still succeed)"),
        ),
        _ => Check::fail(
            name,
            found,
            "a primary shard is unassigned: writes to its index fail until it is back; see GET \
             _cluster/allocation/explain",
        ),
    }
}

async fn setup_objects(
    config: &Config,
    client: &EsClient,
    host: &str,
    features: Features,
    report: &mut Report,
) {
    if !config.setup.enabled {
        report.push(Check::pass(
            "elasticsearch setup",
            "setup.enabled is false: templates and policies are managed elsewhere, not checked",
        ));
        return;
    }
    for object in objects(&config.setup, features) {
        let name = format!("elasticsearch {} {}", object.kind, object.name);
        let check = match compare(client, &object).await {
            Ok(Comparison::Equal) => {
                Check::pass(name, format!("{host}: as loglynk bootstrap installs it"))
            }
            Ok(Comparison::Missing) => Check::fail(
                name,
                format!("{host}: missing"),
                "run loglynk bootstrap (run also creates it before its first request, given the \
                 privileges manage_ilm and manage_index_templates, and manage_slm for the snapshot \
                 policy)",
            ),
            Ok(Comparison::Differs(lines)) => Check::fail(
                name,
                format!("{host}: differs from loglynk's ({} changes)", lines.len()),
                "loglynk bootstrap --force replaces it (see the diff: - in the cluster, + \
                 loglynk's)",
            )
            .with_details(lines),
            Err(e) => Check::fail(
                name,
                e.to_string(),
                "the user needs read_ilm, manage_index_templates and read_slm to read them",
            ),
        };
        report.push(check);
    }
}

async fn get_json(client: &EsClient, path: &str) -> Result<Value, String> {
    let reply = client
        .request(Method::Get, path, None, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("HTTP {}: {}", reply.status, reason(&reply)));
    }
    serde_json::from_slice(&reply.body).map_err(|e| format!("not JSON: {e}"))
}

/// The error's reason in an Elasticsearch answer, else its first bytes.
pub(super) fn reason(reply: &Reply) -> String {
    let value: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let reason = value.as_ref().and_then(|v| {
        v.pointer("/error/reason")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    reason.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&reply.body);
        text.chars().take(200).collect()
    })
}
