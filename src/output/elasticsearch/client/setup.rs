//! What the client is set up with: TLS material read from the configured files, and credentials.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use elasticsearch::http::headers::HeaderValue;

use super::error::{chain, ClientError};
use crate::config::{ElasticsearchOutput, VerificationMode, DEFAULT_ES_CA};

const CA_KEY: &str = "output.elasticsearch.ssl.certificate_authorities";
const CERTIFICATE_KEY: &str = "output.elasticsearch.ssl.certificate";
const KEY_KEY: &str = "output.elasticsearch.ssl.key";

/// The TLS material, read once for all hosts.
pub(super) struct Tls {
    pub(super) mode: VerificationMode,
    /// PEM of every CA file, concatenated; empty: the built-in roots.
    pub(super) roots: Vec<u8>,
    /// Key and certificate chain, concatenated, as both clients take an identity.
    pub(super) identity: Option<Vec<u8>>,
}

pub(super) fn read_tls(config: &ElasticsearchOutput) -> Result<Tls, ClientError> {
    let ssl = &config.ssl;
    let mut roots = Vec::new();
    if ssl.verification_mode != VerificationMode::None {
        for path in &ssl.certificate_authorities {
            let error = |reason: &str| ClientError::File {
                key: CA_KEY,
                path: path.clone(),
                reason: reason.to_owned(),
                // The default path is the seed's ECK secret mount, absent anywhere else.
                default: path.as_os_str() == DEFAULT_ES_CA,
            };
            let pem = read_pem(path).map_err(|reason| error(&reason))?;
            // Checked here so the error names the file rather than just "a certificate".
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => {}
                _ => return Err(error("no PEM certificate in it")),
            }
            roots.extend_from_slice(&pem);
            roots.push(b'\n');
        }
    }
    let identity = match (&ssl.certificate, &ssl.key) {
        (None, None) => None,
        (Some(certificate), Some(key)) => {
            let mut pem = read_pem(key).map_err(|reason| file_error(KEY_KEY, key, reason))?;
            pem.push(b'\n');
            let certificates = read_pem(certificate)
                .map_err(|reason| file_error(CERTIFICATE_KEY, certificate, reason))?;
            pem.extend_from_slice(&certificates);
            // Building a client is what checks that the key belongs to the certificate; done here
            // so the error names both files rather than a host.
            let checked = reqwest::Identity::from_pem(&pem)
                .and_then(|identity| reqwest::Client::builder().identity(identity).build());
            if let Err(e) = checked {
                return Err(ClientError::ClientCertificate {
                    certificate: certificate.clone(),
                    key: key.clone(),
                    reason: chain(&e),
                });
            }
            Some(pem)
        }
        _ => return Err(ClientError::CertificateWithoutKey),
    };
    Ok(Tls {
        mode: ssl.verification_mode,
        roots,
        identity,
    })
}

/// The file's bytes, or why they cannot be PEM.
fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err("not a PEM file".to_owned());
    }
    Ok(bytes)
}

/// The client certificate and key have no default.
fn file_error(key: &'static str, path: &Path, reason: String) -> ClientError {
    ClientError::File {
        key,
        path: path.to_owned(),
        reason,
        default: false,
    }
}

/// `Authorization` for every request: an API key wins over basic auth, as in Filebeat. The API key is
/// Filebeat's `id:key`, base64-encoded here; a value without a colon is taken as already encoded.
pub(super) fn authorization(
    config: &ElasticsearchOutput,
) -> Result<Option<HeaderValue>, ClientError> {
    let value = match (&config.api_key, &config.username, &config.password) {
        (Some(key), _, _) if key.expose().contains(':') => {
            format!("ApiKey {}", BASE64.encode(key.expose()))
        }
        (Some(key), _, _) => format!("ApiKey {}", key.expose().trim()),
        (None, Some(user), Some(password)) => {
            format!(
                "Basic {}",
                BASE64.encode(format!("{user}:{}", password.expose()))
            )
        }
        _ => return Ok(None),
    };
    let mut header = HeaderValue::from_str(&value).map_err(|_| ClientError::Setup {
        host: "every host".to_owned(),
        reason: "the credentials contain characters an HTTP header cannot carry".to_owned(),
    })?;
    // Keeps the value out of reqwest's and hyper's debug output.
    header.set_sensitive(true);
    Ok(Some(header))
}
