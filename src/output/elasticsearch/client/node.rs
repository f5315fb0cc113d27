//! One configured host: its transport (the `elasticsearch` crate's, or reqwest's for
//! `verification_mode: certificate`), the headers its requests carry, and whether it is passed over
//! after a failure. The client round-robins over these.

use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use elasticsearch::auth::{ClientCertificate, Credentials};
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::headers::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE,
};
use elasticsearch::http::transport::{SingleNodeConnectionPool, Transport, TransportBuilder};
use elasticsearch::http::Method;
use url::Url;

use super::compat::Compat;
use super::error::{chain, classify, ClientError, SendError};
use super::setup::Tls;
use crate::config::VerificationMode;

/// What a request body is, for its `Content-Type`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Body {
    Json,
    /// A bulk body, gzip-compressed or not.
    Ndjson {
        gzip: bool,
    },
}

pub(super) struct Node {
    /// The URL without user info, as shown in logs and errors.
    pub(super) host: String,
    /// The REST API version asked of this node, learnt from its `GET /`.
    pub(super) compat: Compat,
    backend: Backend,
    down_until: Mutex<Option<Instant>>,
}

enum Backend {
    Es(Transport),
    /// `verification_mode: certificate`: the crate offers chain-only validation only with native-tls
    /// (`CertificateValidation::Certificate`), and its transport keeps its reqwest client private, so
    /// this one mode uses the same reqwest, set up the same way, with hostname checks off.
    Reqwest {
        client: reqwest::Client,
        base: Url,
    },
}

impl Node {
    pub(super) fn new(
        url: &Url,
        tls: Option<&Tls>,
        authorization: Option<&HeaderValue>,
    ) -> Result<Node, ClientError> {
        let mut url = url.clone();
        // Loading moved any credentials in the URL to username/password (config::hosts); a config
        // built in code may still have some, and in the URL they would end up in logs.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let host = url.as_str().trim_end_matches('/').to_owned();
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ClientError::InvalidHost {
                host,
                reason: "expected http://host:port or https://host:port".to_owned(),
            });
        }
        let setup = |e: &dyn StdError| ClientError::Setup {
            host: host.clone(),
            reason: chain(e),
        };
        let tls = tls.filter(|_| url.scheme() == "https");
        let backend = match tls {
            Some(tls) if tls.mode == VerificationMode::Certificate => {
                let mut builder = reqwest::Client::builder().danger_accept_invalid_hostnames(true);
                if !tls.roots.is_empty() {
                    builder = builder.tls_built_in_root_certs(false);
                    for cert in
                        reqwest::Certificate::from_pem_bundle(&tls.roots).map_err(|e| setup(&e))?
                    {
                        builder = builder.add_root_certificate(cert);
                    }
                }
                if let Some(pem) = &tls.identity {
                    builder =
                        builder.identity(reqwest::Identity::from_pem(pem).map_err(|e| setup(&e))?);
                }
                if let Some(value) = authorization {
                    builder = builder
                        .default_headers(HeaderMap::from_iter([(AUTHORIZATION, value.clone())]));
                }
                let client = builder.build().map_err(|e| setup(&e))?;
                Backend::Reqwest { client, base: url }
            }
            _ => {
                let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url));
                if let Some(tls) = tls {
                    builder = builder.cert_validation(match tls.mode {
                        VerificationMode::None => CertificateValidation::None,
                        _ if tls.roots.is_empty() => CertificateValidation::Default,
                        _ => CertificateValidation::Full(
                            Certificate::from_pem(&tls.roots).map_err(|e| setup(&e))?,
                        ),
                    });
                }
                // The crate holds one `Credentials`: a client certificate takes that slot, so basic
                // auth or an API key next to it goes in as a (sensitive) default header instead.
                match (tls.and_then(|t| t.identity.clone()), authorization) {
                    (Some(pem), auth) => {
                        builder =
                            builder.auth(Credentials::Certificate(ClientCertificate::Pem(pem)));
                        if let Some(value) = auth {
                            builder = builder.header(AUTHORIZATION, value.clone());
                        }
                    }
                    (None, Some(value)) => builder = builder.header(AUTHORIZATION, value.clone()),
                    (None, None) => {}
                }
                Backend::Es(builder.build().map_err(|e| setup(&e))?)
            }
        };
        Ok(Node {
            host,
            compat: Compat::default(),
            backend,
            down_until: Mutex::new(None),
        })
    }

    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Option<Bytes>,
        timeout: Duration,
    ) -> Result<(u16, Bytes), SendError> {
        let fail = |e: &(dyn StdError + 'static)| classify(&self.host, e, timeout);
        match &self.backend {
            Backend::Es(transport) => {
                let response = transport
                    .send(method, path, headers, None::<&()>, body, Some(timeout))
                    .await
                    .map_err(|e| fail(&e))?;
                let status = response.status_code().as_u16();
                let bytes = response.bytes().await.map_err(|e| fail(&e))?;
                Ok((status, bytes))
            }
            Backend::Reqwest { client, base } => {
                let url = base
                    .join(path.trim_start_matches('/'))
                    .map_err(|e| fail(&e))?;
                let method = match method {
                    Method::Post => reqwest::Method::POST,
                    Method::Put => reqwest::Method::PUT,
                    Method::Delete => reqwest::Method::DELETE,
                    Method::Head => reqwest::Method::HEAD,
                    Method::Get => reqwest::Method::GET,
                };
                let mut request = client
                    .request(method, url)
                    .headers(headers)
                    .timeout(timeout);
                if let Some(body) = body {
                    request = request.body(body);
                }
                let response = request.send().await.map_err(|e| fail(&e))?;
                let status = response.status().as_u16();
                let bytes = response.bytes().await.map_err(|e| fail(&e))?;
                Ok((status, bytes))
            }
        }
    }

    /// `Accept` always, `Content-Type` (and `Content-Encoding`) with a body, in the version this
    /// node answers.
    pub(super) fn headers(&self, body: Option<Body>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, self.compat.json());
        match body {
            None => {}
            Some(Body::Json) => {
                headers.insert(CONTENT_TYPE, self.compat.json());
            }
            Some(Body::Ndjson { gzip }) => {
                headers.insert(CONTENT_TYPE, self.compat.ndjson());
                if gzip {
                    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
            }
        }
        headers
    }

    pub(super) fn is_up(&self, now: Instant) -> bool {
        let until = *self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_none_or(|until| until <= now)
    }

    pub(super) fn mark(&self, down_until: Option<Instant>) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = down_until;
    }
}
