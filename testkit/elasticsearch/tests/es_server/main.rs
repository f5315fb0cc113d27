//! The test Elasticsearch server, exercised over real HTTP so its strictness is proven before an
//! output is tested against it. The tests live next to the server in `tests/support/es_server/`.

use testkit_elasticsearch as elasticsearch;

#[path = "support/es_server/bulk.rs"]
mod bulk;
#[path = "support/es_server/client.rs"]
mod client;
#[path = "support/es_server/faults.rs"]
mod faults;
#[path = "support/es_server/rules.rs"]
mod rules;
#[path = "support/es_server/setup.rs"]
mod setup;
#[path = "support/es_server/setup_documents.rs"]
mod setup_documents;
#[path = "support/es_server/setup_explain.rs"]
mod setup_explain;
#[path = "support/es_server/setup_streams.rs"]
mod setup_streams;
#[path = "support/es_server/setup_templates.rs"]
mod setup_templates;

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
