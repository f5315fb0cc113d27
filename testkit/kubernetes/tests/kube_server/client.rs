//! A raw HTTP/1.1 client over a TcpStream, one connection per request, so tests see exactly what the
//! server sent: whole answers, and watch streams chunk by chunk (telling a clean end from a cut).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

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

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn open(
    addr: SocketAddr,
    path: &str,
    method: &str,
    token: Option<&str>,
) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    Ok(stream)
}

fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// One chunk of a chunked body: `Ok(None)` at the terminating zero-size chunk.
fn read_chunk(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Vec<u8>>> {
    let mut size_line = String::new();
    if reader.read_line(&mut size_line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let size = usize::from_str_radix(size_line.trim(), 16)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, size_line.clone()))?;
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk)?;
    chunk.truncate(size);
    Ok((size > 0).then_some(chunk))
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> std::io::Result<Reply> {
    let mut reader = BufReader::new(open(addr, path, method, token)?);
    let (status, headers) = read_head(&mut reader)?;
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        while let Some(chunk) = read_chunk(&mut reader)? {
            body.extend(chunk);
        }
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

pub fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, None).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// How a watch stream ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The terminating chunk arrived.
    Clean,
    /// The connection closed (or failed) mid-body.
    Cut,
}

pub struct Watch {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    reader: BufReader<TcpStream>,
    pending: Vec<u8>,
}

impl Watch {
    pub fn open(addr: SocketAddr, path: &str, token: Option<&str>) -> std::io::Result<Watch> {
        let mut reader = BufReader::new(open(addr, path, "GET", token)?);
        let (status, headers) = read_head(&mut reader)?;
        Ok(Watch {
            status,
            headers,
            reader,
            pending: Vec::new(),
        })
    }

    /// The next event, or how the stream ended.
    pub fn next(&mut self) -> Result<Value, End> {
        loop {
            if let Some(newline) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=newline).collect();
                return serde_json::from_slice(&line).map_err(|_| End::Cut);
            }
            match read_chunk(&mut self.reader) {
                Ok(Some(chunk)) => self.pending.extend(chunk),
                Ok(None) => return Err(End::Clean),
                Err(_) => return Err(End::Cut),
            }
        }
    }

    /// The next `n` events, failing the test if the stream ends first.
    pub fn take(&mut self, n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| {
                self.next()
                    .unwrap_or_else(|end| panic!("stream ended ({end:?}) before event {i}"))
            })
            .collect()
    }

    pub fn set_timeout(&self, timeout: Duration) {
        let _ = self.reader.get_ref().set_read_timeout(Some(timeout));
    }
}

/// A POST with a JSON body, as a client creating an object sends it.
pub fn post(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let body = body.to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body.as_bytes()).expect("write body");
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader).expect("answer");
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).expect("body");
    Reply {
        status,
        headers,
        body: bytes,
    }
}
