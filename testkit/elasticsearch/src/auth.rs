//! Basic and API-key authentication as Elasticsearch's security layer answers it.

use serde_json::json;

use super::errors::EsError;
use super::EsOptions;

/// The challenges a default 8.x node sends with a 401.
pub const CHALLENGES: [&str; 2] = ["Basic realm=\"security\" charset=\"UTF-8\"", "ApiKey"];

/// `Err` is the 401's exception; `uri` is the request's path and query, as quoted in the reason.
pub fn check(options: &EsOptions, authorization: Option<&str>, uri: &str) -> Result<(), EsError> {
    let basic = match (&options.username, &options.password) {
        (Some(user), Some(password)) => Some(format!("{user}:{password}")),
        _ => None,
    };
    if basic.is_none() && options.api_key.is_none() {
        return Ok(());
    }
    let Some(header) = authorization else {
        return Err(unauthorized(format!(
            "missing authentication credentials for REST request [{uri}]"
        )));
    };
    let (scheme, credentials) = header.trim().split_once(' ').unwrap_or((header, ""));
    let decoded = decode_base64(credentials.trim()).and_then(|b| String::from_utf8(b).ok());
    if scheme.eq_ignore_ascii_case("basic") {
        let Some(decoded) = decoded else {
            return Err(unauthorized(format!(
                "missing authentication credentials for REST request [{uri}]"
            )));
        };
        if basic.as_deref() == Some(decoded.as_str()) {
            return Ok(());
        }
        let user = decoded.split(':').next().unwrap_or_default();
        return Err(unauthorized(format!(
            "unable to authenticate user [{user}] for REST request [{uri}]"
        )));
    }
    if scheme.eq_ignore_ascii_case("apikey") {
        if options.api_key.is_some() && decoded == options.api_key {
            return Ok(());
        }
        return Err(unauthorized(
            "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
                .to_string(),
        ));
    }
    Err(unauthorized(format!(
        "missing authentication credentials for REST request [{uri}]"
    )))
}

fn unauthorized(reason: String) -> EsError {
    EsError::new("security_exception", reason)
        .with("header", json!({ "WWW-Authenticate": CHALLENGES }))
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}
