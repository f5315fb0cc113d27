//! A raw HTTP/1.1 client, one connection per request, so tests see exactly what the server sent (or
//! that it sent nothing).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use crate::elasticsearch::EsServer;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One request on its own connection; `Err` when the server answered nothing.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap_or_default()
        .split(' ')
        .nth(1)
        .unwrap_or("0");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Reply {
        status: status.parse().unwrap_or(0),
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

pub const NDJSON: (&str, &str) = ("Content-Type", "application/x-ndjson");

pub fn get(server: &EsServer, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(
        server.addr(),
        "GET",
        path,
        headers,
        b"",
        Duration::from_secs(10),
    )
    .expect("an answer")
}

pub fn bulk_to(server: &EsServer, path: &str, body: &str) -> Reply {
    send(
        server.addr(),
        "POST",
        path,
        &[NDJSON],
        body.as_bytes(),
        Duration::from_secs(10),
    )
    .expect("an answer")
}

pub fn bulk(server: &EsServer, body: &str) -> Reply {
    bulk_to(server, "/_bulk", body)
}

pub fn error_type(reply: &Reply) -> String {
    reply.json()["error"]["type"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn error_reason(reply: &Reply) -> String {
    reply.json()["error"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Each item's (status, error type, error reason).
pub fn items(reply: &Reply) -> Vec<(u64, String, String)> {
    let body = reply.json();
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let (_, inner) = item
                .as_object()
                .and_then(|o| o.iter().next())
                .expect("one action");
            (
                inner["status"].as_u64().unwrap_or_default(),
                inner["error"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                inner["error"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// A bulk of one action that the server must refuse with `status` and error `kind`; the reason.
pub fn bulk_refused(server: &EsServer, body: &str, status: u64, kind: &str) -> String {
    let (got_status, got_kind, reason) = items(&bulk(server, body))
        .into_iter()
        .next()
        .expect("one item");
    assert_eq!((got_status, got_kind.as_str()), (status, kind), "{reason}");
    reason
}
