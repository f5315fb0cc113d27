//! Malformed requests get Status answers, never a dropped connection (a panicking handler would
//! show up as one).

use std::time::Duration;

use crate::client::{request, Watch};
use crate::kubernetes::KubeOptions;
use crate::seeded;

#[test]
fn odd_queries_get_status_answers() {
    let server = seeded(KubeOptions::default());
    let cases = [
        ("/api/v1/pods?limit=-5", 200),
        ("/api/v1/pods?limit=abc", 400),
        ("/api/v1/pods?limit=99999999999999999999", 400),
        ("/api/v1/pods?continue=%ZZ%", 400),
        ("/api/v1/pods?continue=eyJ2IjoxfQ", 400),
        ("/api/v1/pods?labelSelector=app+in+(a,b)", 400),
        ("/api/v1/pods?labelSelector=%21", 400),
        ("/api/v1/pods?fieldSelector=nonsense", 400),
        ("/api/v1/pods?resourceVersion=abc", 400),
        (
            "/api/v1/pods?resourceVersion=1&resourceVersionMatch=Sometimes",
            422,
        ),
        (
            "/api/v1/pods?resourceVersion=0&resourceVersionMatch=Exact",
            422,
        ),
        ("/api/v1/pods?watch=1&resourceVersion=-1", 400),
        ("/api/v1/pods?watch=1&timeoutSeconds=x", 400),
        ("/api/v1/pods?watch=1&fieldSelector=spec.x%3D1", 400),
        ("/api/v1/namespaces/", 404),
        ("/api/v1/namespaces//pods", 404),
        ("//", 404),
        ("/api/v1/nodes/nope", 404),
    ];
    for (path, status) in cases {
        let reply = request(server.addr(), "GET", path, None)
            .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
        assert_eq!(reply.status, status, "{path}");
        if status != 200 {
            let body = reply.json();
            assert_eq!(
                (body["kind"].as_str(), body["code"].as_u64()),
                (Some("Status"), Some(u64::from(status))),
                "{path}"
            );
        }
    }
    // A timeout too large to add to the clock is no timeout at all, not a crash.
    let path = "/api/v1/pods?watch=1&timeoutSeconds=18446744073709551615";
    let mut watch = Watch::open(server.addr(), path, None).expect("watch");
    watch.set_timeout(Duration::from_secs(5));
    assert_eq!(watch.take(5).len(), 5);
}
