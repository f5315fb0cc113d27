//! The TLS handshake with an Elasticsearch host, made apart from the client so the certificate can be
//! shown: its subject, issuer, names and expiry, also when verification fails (expired, another CA,
//! another name), which is when the person on call needs them.
//!
//! The handshake verifies as the output does: the configured CAs (else the same built-in roots),
//! `verification_mode`, and the client certificate when one is configured (a cluster that requires
//! one ends a handshake without it).

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
};
use url::Url;

use crate::config::{ElasticsearchOutput, VerificationMode};

/// What the server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of its subjectAltName.
    pub names: Vec<String>,
    /// Unix seconds.
    pub not_after: i64,
}

impl Presented {
    /// `subject CN=es, issued by CN=ca, for es.local, 10.0.0.1, expires 2027-01-01 (in 120 days)`.
    pub fn describe(&self, now: i64) -> String {
        let expiry = chrono::DateTime::from_timestamp(self.not_after, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| self.not_after.to_string());
        let days = (self.not_after - now).div_euclid(86_400);
        let when = if self.not_after < now {
            format!("expired {expiry} ({} days ago)", -days)
        } else {
            format!("expires {expiry} (in {days} days)")
        };
        let names = if self.names.is_empty() {
            String::new()
        } else {
            format!(", for {}", self.names.join(", "))
        };
        format!(
            "subject {}, issued by {}{names}, {when}",
            self.subject, self.issuer
        )
    }
}

/// How the handshake went: the certificate (when one came) and the failure, if any.
#[derive(Debug)]
pub struct Handshake {
    pub presented: Option<Presented>,
    pub error: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url` and completes a TLS handshake, blocking (run it off the runtime's threads).
pub fn handshake(config: &ElasticsearchOutput, url: &Url) -> Handshake {
    let seen = Arc::new(Mutex::new(None));
    let outcome = try_handshake(config, url, &seen);
    let presented = seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|der: &CertificateDer<'static>| parse(der));
    Handshake {
        presented,
        error: outcome.err(),
    }
}

fn try_handshake(
    config: &ElasticsearchOutput,
    url: &Url,
    seen: &Arc<Mutex<Option<CertificateDer<'static>>>>,
) -> Result<(), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = roots(config)?;
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .map_err(|e| format!("no usable CA: {e}"))?;
    let verifier = Arc::new(Recording {
        inner,
        mode: config.ssl.verification_mode,
        seen: Arc::clone(seen),
        provider: Arc::clone(&provider),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let tls = match (&config.ssl.certificate, &config.ssl.key) {
        (Some(certificate), Some(key)) => {
            let chain = certificates(certificate)?;
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    let host = url.host_str().unwrap_or_default();
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .map_err(|e| format!("{host}: {e}"))?;
    let port = url.port_or_known_default().unwrap_or(9200);
    let address = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    let mut socket = TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    socket
        .set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut connection = ClientConnection::new(Arc::new(tls), name).map_err(|e| e.to_string())?;
    while connection.is_handshaking() {
        connection
            .complete_io(&mut socket)
            .map_err(|e| e.to_string())?;
    }
    // TLS 1.3 servers send their verdict on a client certificate after the handshake: a short read
    // shows a refusal. Anything else (a timeout, the server waiting for a request) is fine.
    let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
    let mut stream = rustls::Stream::new(&mut connection, &mut socket);
    let _ = stream.write_all(b"");
    let mut buffer = [0u8; 1];
    match stream.read(&mut buffer) {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(e.to_string()),
        _ => Ok(()),
    }
}

fn roots(config: &ElasticsearchOutput) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if config.ssl.certificate_authorities.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        return Ok(roots);
    }
    for path in &config.ssl.certificate_authorities {
        for cert in certificates(path)? {
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(roots)
}

/// Every certificate of a PEM file (a CA bundle, or a client certificate's chain); the error names it.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn parse(der: &CertificateDer<'_>) -> Option<Presented> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => names.push(dns.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                    4 => names
                        .push(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).ok()?).to_string()),
                    16 => names.push(
                        std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).ok()?).to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Some(Presented {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// Verifies as `verification_mode` says, keeping the server's certificate to show.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    mode: VerificationMode,
    seen: Arc<Mutex<Option<CertificateDer<'static>>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(end_entity.clone().into_owned());
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match (self.mode, verdict) {
            (VerificationMode::None, _) => Ok(ServerCertVerified::assertion()),
            (
                VerificationMode::Certificate,
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ) => Ok(ServerCertVerified::assertion()),
            (_, verdict) => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
