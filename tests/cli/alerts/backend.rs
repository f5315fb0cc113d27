//! A stand-in for the funlynk backend's `/metrics`: one instance per port, serving
//! `http_requests_total{status}` and the `http_request_duration_seconds` histogram with the metric
//! names the backend's rules use. The test sets each instance's traffic; the counters grow at that
//! pace, computed when scraped.

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::sinks::serve;

/// An instance's traffic: requests a second, the share answered 500, the share slower than 0.5 s
/// (in the 1 s bucket; the rest in the 0.1 s bucket).
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub per_second: f64,
    pub errors: f64,
    pub slow: f64,
}

impl Traffic {
    pub const HEALTHY: Traffic = Traffic {
        per_second: 100.0,
        errors: 0.0,
        slow: 0.0,
    };
}

#[derive(Debug)]
struct Counters {
    traffic: Traffic,
    since: Instant,
    ok: f64,
    failed: f64,
    fast: f64,
    slow: f64,
    seconds: f64,
}

impl Counters {
    /// Adds what the traffic made since the last call.
    fn advance(&mut self) {
        let now = Instant::now();
        let n = self.traffic.per_second * now.duration_since(self.since).as_secs_f64();
        self.since = now;
        self.ok += n * (1.0 - self.traffic.errors);
        self.failed += n * self.traffic.errors;
        self.fast += n * (1.0 - self.traffic.slow);
        self.slow += n * self.traffic.slow;
        self.seconds += n * (0.05 * (1.0 - self.traffic.slow) + 0.8 * self.traffic.slow);
    }

    fn exposition(&self) -> String {
        let (fast, count) = (self.fast, self.fast + self.slow);
        format!(
            "# TYPE http_requests_total counter\n\
             http_requests_total{{status=\"200\"}} {ok}\n\
             http_requests_total{{status=\"500\"}} {failed}\n\
             # TYPE http_request_duration_seconds histogram\n\
             http_request_duration_seconds_bucket{{le=\"0.1\"}} {fast}\n\
             http_request_duration_seconds_bucket{{le=\"0.5\"}} {fast}\n\
             http_request_duration_seconds_bucket{{le=\"1\"}} {count}\n\
             http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             http_request_duration_seconds_sum {seconds}\n\
             http_request_duration_seconds_count {count}\n",
            ok = self.ok,
            failed = self.failed,
            seconds = self.seconds,
        )
    }
}

/// One backend instance, listening on its own loopback port.
#[derive(Clone)]
pub struct Backend {
    counters: Arc<Mutex<Counters>>,
    pub address: String,
}

impl Backend {
    pub fn start(traffic: Traffic) -> Backend {
        let counters = Arc::new(Mutex::new(Counters {
            traffic,
            since: Instant::now(),
            ok: 0.0,
            failed: 0.0,
            fast: 0.0,
            slow: 0.0,
            seconds: 0.0,
        }));
        let address = serve(&counters, serve_scrapes);
        Backend { counters, address }
    }

    /// From now on the instance serves `traffic`.
    pub fn set(&self, traffic: Traffic) {
        let mut counters = self.counters.lock().unwrap();
        counters.advance();
        counters.traffic = traffic;
    }
}

/// Every request on the connection gets the exposition (Prometheus asks only for /metrics).
fn serve_scrapes(stream: std::net::TcpStream, counters: &Mutex<Counters>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        while !line.trim().is_empty() {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
        }
        let body = {
            let mut counters = counters.lock().unwrap();
            counters.advance();
            counters.exposition()
        };
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
    }
}
