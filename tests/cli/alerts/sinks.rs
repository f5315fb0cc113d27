//! What Alertmanager's receivers reach in the test: an SMTP server that takes mail (with `AUTH
//! PLAIN`, as a relay such as Gmail's asks) and a web server that takes Slack incoming-webhook
//! posts. Each keeps what it received, for the test to read.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `AUTH PLAIN` credentials as sent: base64 of `\0user\0password`.
    pub auth: Option<String>,
    pub to: Vec<String>,
    /// Headers and body, with the body's quoted-printable soft line breaks (`=` at the end of a line,
    /// which Alertmanager's encoding puts in lines over 76 characters) joined. Other `=XX` escapes
    /// stay: the texts the test reads have none.
    pub data: String,
}

impl Mail {
    pub fn subject(&self) -> Option<&str> {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .map(str::trim)
    }
}

/// One Slack post: the path of the webhook URL it went to and its JSON body.
#[derive(Debug, Clone)]
pub struct SlackPost {
    pub path: String,
    pub body: serde_json::Value,
}

impl SlackPost {
    /// The first attachment's `field` (`title`, `text`), as Alertmanager's Slack notifier sends them.
    pub fn attachment(&self, field: &str) -> &str {
        self.body["attachments"][0][field].as_str().unwrap_or("")
    }
}

/// Accepts connections on a loopback port, each handled on a thread of its own with `state`, until
/// the test ends (the listener thread is detached and dies with the test binary; each connection has
/// a read timeout). Returns the `host:port`.
pub fn serve<S: Send + Sync + 'static>(
    state: &Arc<S>,
    handle: fn(TcpStream, &S) -> std::io::Result<()>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = listener.local_addr().unwrap().to_string();
    let state = Arc::clone(state);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let _ = handle(stream, &state);
            });
        }
    });
    address
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    /// Starts listening; returns the sink and its `host:port`.
    pub fn start() -> (SmtpSink, String) {
        let sink = SmtpSink::default();
        let address = serve(&sink.mails, smtp_session);
        (sink, address)
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// RFC 5321's happy path: greeting, EHLO, AUTH, MAIL, RCPT, DATA, QUIT.
fn smtp_session(stream: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let (mut auth, mut to) = (None, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")?,
            "HELO" | "MAIL" | "RSET" | "NOOP" => out.write_all(b"250 ok\r\n")?,
            "AUTH" => {
                auth = command.split(' ').nth(2).map(str::to_owned);
                out.write_all(b"235 2.7.0 authenticated\r\n")?;
            }
            "RCPT" => {
                let address = command
                    .split(['<', '>'])
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                to.push(address);
                out.write_all(b"250 ok\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 end with .\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                mails.lock().unwrap().push(Mail {
                    auth: auth.clone(),
                    to: std::mem::take(&mut to),
                    data: data.replace("=\r\n", ""),
                });
                out.write_all(b"250 queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 not implemented\r\n")?,
        }
    }
}

#[derive(Clone, Default)]
pub struct SlackSink {
    posts: Arc<Mutex<Vec<SlackPost>>>,
}

impl SlackSink {
    /// Starts listening; returns the sink and its base URL (`http://127.0.0.1:PORT`).
    pub fn start() -> (SlackSink, String) {
        let sink = SlackSink::default();
        let address = serve(&sink.posts, slack_connection);
        (sink, format!("http://{address}"))
    }

    pub fn posts(&self) -> Vec<SlackPost> {
        self.posts.lock().unwrap().clone()
    }
}

/// HTTP/1.1 requests on one connection (Alertmanager keeps it alive), answered `200 ok` as Slack
/// answers a good post. A body that is not JSON is kept as a string, so the test sees it.
fn slack_connection(stream: TcpStream, posts: &Mutex<Vec<SlackPost>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let body = serde_json::from_slice(&body)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
        posts.lock().unwrap().push(SlackPost { path, body });
        out.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
        )?;
    }
}
