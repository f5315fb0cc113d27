//! Reading a running agent's `/status` and `/metrics` over plain HTTP/1.1: the endpoint the agent
//! serves (and `kubectl port-forward` forwards) speaks nothing else, so a few lines of client do.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::TopError;

/// One request may take this long: the agent answers from memory.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Where the agent listens.
#[derive(Debug, Clone)]
pub struct Agent {
    url: Url,
    host: String,
    port: u16,
}

impl Agent {
    pub fn new(url: &str) -> Result<Agent, TopError> {
        let bad = |reason: &str| TopError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if parsed.scheme() != "http" {
            return Err(bad("the agent's endpoint is plain http://"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(Agent {
            url: parsed,
            host,
            port,
        })
    }

    pub fn url(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    pub fn status(&self) -> Result<Value, TopError> {
        let body = self.get("/status")?;
        serde_json::from_str(&body).map_err(|e| self.error(format!("/status is not JSON: {e}")))
    }

    pub fn metrics(&self) -> Result<String, TopError> {
        self.get("/metrics")
    }

    fn get(&self, path: &str) -> Result<String, TopError> {
        let address = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| self.error(e.to_string()))?
            .next()
            .ok_or_else(|| self.error("no address".into()))?;
        let mut stream =
            TcpStream::connect_timeout(&address, TIMEOUT).map_err(|e| self.error(e.to_string()))?;
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\nUser-Agent: loglynk-top\r\n\r\n",
            self.host, self.port
        )
        .map_err(|e| self.error(e.to_string()))?;
        let mut answer = Vec::new();
        stream
            .read_to_end(&mut answer)
            .map_err(|e| self.error(e.to_string()))?;
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .ok_or_else(|| self.error("not an HTTP answer".into()))?;
        let status = head.split(' ').nth(1).unwrap_or("");
        if status != "200" {
            let hint = if status == "404" && path == "/status" {
                " (an agent older than /status?)"
            } else {
                ""
            };
            return Err(self.error(format!("GET {path} answered {status}{hint}")));
        }
        Ok(body.to_owned())
    }

    fn error(&self, reason: String) -> TopError {
        TopError::Agent {
            url: self.url().to_owned(),
            reason,
        }
    }
}
