//! The client's errors, and how a transport failure is sorted into one.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("output.elasticsearch.hosts is empty")]
    NoHosts,
    #[error("invalid Elasticsearch host {host}: {reason}")]
    InvalidHost { host: String, reason: String },
    /// A file a setting names cannot be used. `default`: nobody wrote the value, so the message says
    /// where it came from and how to change it.
    #[error("{key}: cannot use {}: {reason}{}", path.display(), default_note(key, *default))]
    File {
        key: &'static str,
        path: PathBuf,
        reason: String,
        default: bool,
    },
    #[error("ssl.certificate and ssl.key must be set together")]
    CertificateWithoutKey,
    #[error("client certificate {} and key {} cannot be used: {reason}", certificate.display(), key.display())]
    ClientCertificate {
        certificate: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot set up the HTTP client for {host}: {reason}")]
    Setup { host: String, reason: String },
}

impl ClientError {
    /// The settings are at fault (exit code 2), not the network or the cluster: a file they name, a
    /// host, a half-configured client certificate.
    pub fn is_invalid_config(&self) -> bool {
        matches!(
            self,
            ClientError::NoHosts
                | ClientError::InvalidHost { .. }
                | ClientError::File { .. }
                | ClientError::CertificateWithoutKey
                | ClientError::ClientCertificate { .. }
        )
    }
}

/// Only the CA list has a default that names a file.
fn default_note(key: &str, default: bool) -> String {
    if !default {
        return String::new();
    }
    format!(
        " (the built-in default; set {key} in the configuration, or with -E '{key}=[/path/to/ca.crt]', \
         or [] for the system's roots)"
    )
}

/// Every variant names the host; none carries a header, so no credential can reach the text.
#[derive(Debug, Error)]
pub enum SendError {
    /// Nothing was sent: the request can go to another host as it is.
    #[error("cannot connect to {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("request to {host} timed out after {timeout:?}")]
    Timeout { host: String, timeout: Duration },
    /// Reset or closed mid-request: the request may or may not have been applied.
    #[error("connection to {host} failed: {reason}")]
    Connection { host: String, reason: String },
    #[error("{host} answered GET / with HTTP {status}")]
    Status { host: String, status: u16 },
    #[error("unexpected answer from {host}: {reason}")]
    Other { host: String, reason: String },
}

/// Sorts a transport error into what the caller acts on. The text comes from the innermost cause: the
/// outer ones repeat the URL and say "error sending request" without the reason.
pub(super) fn classify(
    host: &str,
    error: &(dyn StdError + 'static),
    timeout: Duration,
) -> SendError {
    let host = host.to_owned();
    let mut reqwest_error = None;
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(tls) = as_rustls(e) {
            return SendError::Tls {
                host,
                reason: tls.to_string(),
            };
        }
        if reqwest_error.is_none() {
            reqwest_error = e.downcast_ref::<reqwest::Error>();
        }
        cause = e.source();
    }
    let reason = innermost(error);
    match reqwest_error {
        Some(e) if e.is_timeout() => SendError::Timeout { host, timeout },
        Some(e) if e.is_connect() => SendError::Connect { host, reason },
        Some(e) if e.is_request() || e.is_body() => SendError::Connection { host, reason },
        _ => SendError::Other { host, reason },
    }
}

/// rustls errors travel inside `io::Error`s (sometimes nested), whose `source()` skips the payload.
fn as_rustls<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    let inner: &(dyn StdError + 'static) = inner;
    as_rustls(inner)
}

/// Every message of the chain, for errors whose outer messages say nothing ("builder error").
pub(super) fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

pub(super) fn innermost(error: &dyn StdError) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}
