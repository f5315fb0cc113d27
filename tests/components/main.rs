//! loglynk's library against the test servers (testkit/), over real HTTP: the Elasticsearch client and
//! delivery loop, the pod cache and per-file enrichment. What runs the built binary belongs in
//! `tests/cli/`; what tests a server itself, in that server's crate.
//!
//! One test binary with a module per component, so the library and the servers are linked once.

mod es_client;
mod es_delivery;
mod kube_cache;
mod kube_enrich;
