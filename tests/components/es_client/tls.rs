//! The client over HTTPS: which certificates each verification mode accepts, client certificates, and
//! that a refused handshake never turns into a plaintext request.

use std::path::PathBuf;

use loglynk::config::{Secret, VerificationMode};
use loglynk::output::elasticsearch::client::{ClientError, EsClient, SendError};
use tempfile::TempDir;

use super::elasticsearch::{EsOptions, EsServer, TestCa, TlsIdentity};
use super::{config, request, INDEX, TIMEOUT};

const PASSWORD: &str = "tls-hunter2";

fn https_server(identity: TlsIdentity) -> EsServer {
    EsServer::start_with(EsOptions {
        tls: Some(identity),
        ..EsOptions::default()
    })
}

fn write(dir: &TempDir, name: &str, pem: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, pem).expect("write PEM");
    path
}

/// A client for `server` trusting `ca_pem`, with basic auth so the no-leak checks have a password.
fn client(server: &EsServer, dir: &TempDir, ca_pem: &str, mode: VerificationMode) -> EsClient {
    let mut cfg = config(&[server.url()]);
    cfg.username = Some("elastic".to_owned());
    cfg.password = Some(Secret::new(PASSWORD));
    cfg.ssl.certificate_authorities = vec![write(dir, "ca.pem", ca_pem)];
    cfg.ssl.verification_mode = mode;
    EsClient::new(&cfg).expect("client")
}

#[tokio::test]
async fn the_right_ca_is_accepted() {
    let ca = TestCa::new("right CA");
    let server = https_server(ca.server_identity());
    assert!(server.url().starts_with("https://"));
    let dir = TempDir::new().expect("tempdir");
    // The CA file may hold several certificates; an unrelated one first must not matter.
    let bundle = format!("{}{}", TestCa::new("other").cert_pem(), ca.cert_pem());
    let client = client(&server, &dir, &bundle, VerificationMode::Full);
    assert_eq!(client.info().await.expect("info").version, "8.15.0");
    let reply = client.bulk(&request(2, 6), TIMEOUT).await.expect("bulk");
    assert_eq!(reply.status, 200);
    assert_eq!(server.documents(INDEX).len(), 2);
}

#[tokio::test]
async fn a_wrong_ca_is_a_tls_error_and_nothing_goes_out_in_plaintext() {
    let server = https_server(TestCa::new("server CA").server_identity());
    let dir = TempDir::new().expect("tempdir");
    let wrong = TestCa::new("wrong CA").cert_pem();
    for mode in [VerificationMode::Full, VerificationMode::Certificate] {
        let client = client(&server, &dir, &wrong, mode);
        let error = client
            .bulk(&request(1, 0), TIMEOUT)
            .await
            .expect_err("refused");
        assert!(matches!(error, SendError::Tls { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("TLS") && text.contains(&server.url()),
            "{text}"
        );
        assert!(text.contains("UnknownIssuer"), "{text}");
        let debug = format!("{error:?}");
        assert!(
            !text.contains(PASSWORD) && !debug.contains(PASSWORD),
            "{debug}"
        );
    }
    assert!(
        server.requests().records.is_empty(),
        "{:?}",
        server.requests()
    );
}

#[tokio::test]
async fn certificate_mode_accepts_a_hostname_mismatch_that_full_refuses() {
    let ca = TestCa::new("CA");
    let server = https_server(ca.identity_for(&["elsewhere.example"]));
    let dir = TempDir::new().expect("tempdir");
    let full = client(&server, &dir, &ca.cert_pem(), VerificationMode::Full);
    let error = full.info().await.expect_err("hostname mismatch");
    assert!(matches!(error, SendError::Tls { .. }), "{error:?}");
    let chain_only = client(&server, &dir, &ca.cert_pem(), VerificationMode::Certificate);
    assert_eq!(chain_only.info().await.expect("info").version, "8.15.0");
    let reply = chain_only
        .bulk(&request(1, 0), TIMEOUT)
        .await
        .expect("bulk");
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn none_accepts_any_certificate() {
    let server = https_server(TestCa::new("unknown").identity_for(&["elsewhere.example"]));
    let dir = TempDir::new().expect("tempdir");
    let unrelated = TestCa::new("unrelated").cert_pem();
    let client = client(&server, &dir, &unrelated, VerificationMode::None);
    assert_eq!(client.info().await.expect("info").version, "8.15.0");
}

#[tokio::test]
async fn a_client_certificate_is_presented_when_configured() {
    let ca = TestCa::new("CA");
    let mut identity = ca.server_identity();
    identity.client_ca = Some(ca.cert_pem());
    let server = https_server(identity);
    let dir = TempDir::new().expect("tempdir");
    let without = client(&server, &dir, &ca.cert_pem(), VerificationMode::Full);
    without.info().await.expect_err("no client certificate");

    let leaf = ca.issue(&["loglynk-agent"]);
    let mut cfg = config(&[server.url()]);
    cfg.username = Some("elastic".to_owned());
    cfg.password = Some(Secret::new(PASSWORD));
    cfg.ssl.certificate_authorities = vec![write(&dir, "ca.pem", &ca.cert_pem())];
    cfg.ssl.certificate = Some(write(&dir, "client.pem", &leaf.cert));
    cfg.ssl.key = Some(write(&dir, "client.key", &leaf.key));
    for mode in [VerificationMode::Full, VerificationMode::Certificate] {
        cfg.ssl.verification_mode = mode;
        let client = EsClient::new(&cfg).expect("client");
        assert_eq!(client.info().await.expect("info").version, "8.15.0");
    }
}

#[test]
fn unreadable_or_invalid_files_are_named_without_the_password() {
    let dir = TempDir::new().expect("tempdir");
    let mut cfg = config(&["https://127.0.0.1:9200".to_owned()]);
    cfg.password = Some(Secret::new(PASSWORD));
    let missing = dir.path().join("missing-ca.pem");
    cfg.ssl.certificate_authorities = vec![missing.clone()];
    let error = EsClient::new(&cfg).err().expect("missing CA");
    assert!(matches!(error, ClientError::File { .. }), "{error:?}");
    assert!(error.to_string().contains("missing-ca.pem"), "{error}");

    let garbage = write(&dir, "garbage.pem", "not a certificate");
    cfg.ssl.certificate_authorities = vec![garbage];
    let error = EsClient::new(&cfg).err().expect("invalid CA");
    assert!(error.to_string().contains("garbage.pem"), "{error}");

    let ca = TestCa::new("CA");
    cfg.ssl.certificate_authorities = vec![write(&dir, "ca.pem", &ca.cert_pem())];
    cfg.ssl.certificate = Some(write(&dir, "client.pem", &ca.issue(&["a"]).cert));
    cfg.ssl.key = Some(write(&dir, "other.key", &ca.issue(&["b"]).key));
    let error = EsClient::new(&cfg)
        .err()
        .expect("certificate and key do not match");
    let text = format!("{error} / {error:?}");
    assert!(
        text.contains("client.pem") && !text.contains(PASSWORD),
        "{text}"
    );
}
