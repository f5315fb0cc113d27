//! The test Elasticsearch server, exercised over real HTTP so its strictness is proven before an
//! output is tested against it. One module per concern; `client.rs` is the raw HTTP client they share.

use testkit_elasticsearch as elasticsearch;

mod bulk;
mod client;
mod faults;
mod rules;
mod security;
mod setup;
mod setup_builtin;
mod setup_documents;
mod setup_explain;
mod setup_storage;
mod setup_streams;
mod setup_templates;
mod versions;

use std::time::Duration;

use client::{get, send};
use elasticsearch::EsServer;

#[test]
fn root_identifies_as_elasticsearch_8() {
    let server = EsServer::start();
    let reply = get(&server, "/", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("X-Elastic-Product"), ["Elasticsearch"]);
    let info = reply.json();
    assert_eq!(info["version"]["number"], "8.15.0");
    assert_eq!(info["version"]["build_flavor"], "default");
    assert_eq!(info["tagline"], "You Know, for Search");
    for key in [
        "lucene_version",
        "minimum_wire_compatibility_version",
        "minimum_index_compatibility_version",
    ] {
        assert!(info["version"][key].is_string(), "{key}");
    }
    assert!(info["cluster_uuid"].is_string() && info["name"].is_string());
    let head = send(server.addr(), "HEAD", "/", &[], b"", Duration::from_secs(5)).expect("answer");
    assert_eq!(
        (head.status, head.header("X-Elastic-Product")),
        (200, vec!["Elasticsearch"])
    );
}
