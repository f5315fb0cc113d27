//! Talking to what the agent serves (`GET`, samples of a Prometheus exposition, where it listens) and
//! preparing the test servers for a tree (a pod for a container).

use std::time::Duration;

use super::Container;

/// `GET path` over plain HTTP/1.1: the status code and the body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    http_request(address, "GET", path)
}

/// One HTTP/1.1 request without a body (`POST /reload`, a `GET`): the status code and the body.
pub fn http_request(address: &str, method: &str, path: &str) -> (u16, String) {
    http_request_body(address, method, path, "")
}

/// One HTTP/1.1 request with a JSON body (none when empty): the status code and the body.
pub fn http_request_body(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{content_type}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a header");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// The value of a sample in a Prometheus text exposition.
pub fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// Where the agent's metrics endpoint listens, from its JSON log on stderr.
pub fn metrics_address(stderr: &str) -> Option<String> {
    stderr.lines().find_map(|line| {
        let entry: serde_json::Value = serde_json::from_str(line).ok()?;
        if entry["message"] != "serving /metrics, /healthz and /readyz" {
            return None;
        }
        entry["address"].as_str().map(str::to_owned)
    })
}

/// A pod for `container` on node-a1, made from the web fixture.
pub fn pod_for(
    container: &Container,
    namespace: &str,
    name: &str,
    container_name: &str,
) -> serde_json::Value {
    let dir = container.pod_dir.file_name().unwrap().to_str().unwrap();
    let uid = dir.rsplit('_').next().unwrap();
    let mut pod = crate::kubernetes::fixture("pod-shop-web-7d9f8b6c5-x2x4q.json");
    pod["metadata"]["name"] = serde_json::json!(name);
    pod["metadata"]["namespace"] = serde_json::json!(namespace);
    pod["metadata"]["uid"] = serde_json::json!(uid);
    pod["spec"]["containers"][0]["name"] = serde_json::json!(container_name);
    pod["status"]["containerStatuses"][0]["name"] = serde_json::json!(container_name);
    pod["status"]["containerStatuses"][0]["containerID"] =
        serde_json::json!(format!("containerd://{}", container.id));
    pod
}

/// A server process the test started (Prometheus, Alertmanager), killed when the test ends however
/// it ends.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free now, for a server that takes its address as a flag.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
