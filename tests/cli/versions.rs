//! Elasticsearch 8 and 9: `loglynk run` and `bootstrap` work against either major, chosen from
//! `GET /`, each node asked for the REST API version it answers natively (`compatible-with=8` or 9),
//! which the test server checks as a node of that version does.

use std::time::Duration;

use crate::bootstrap::run_bootstrap;
use crate::elasticsearch::{EsOptions, EsServer};
use crate::support::{run_cmd, seq_of, wait_until, KubeTree, Running};

fn indexed(es: &EsServer) -> usize {
    es.all_documents()
        .iter()
        .filter(|(_, doc)| seq_of(doc).is_some())
        .count()
}

#[test]
fn run_and_bootstrap_work_against_8_and_9_with_the_headers_each_answers_natively() {
    // The oldest 8.x loglynk supports, the first with LogsDB, and 9.x before and after templates
    // carried their dates.
    for (version, asked) in [
        ("8.8.0", "compatible-with=8"),
        ("8.17.0", "compatible-with=8"),
        ("9.1.0", "compatible-with=9"),
        ("9.2.0", "compatible-with=9"),
    ] {
        let es = EsServer::start_with(EsOptions {
            version: version.into(),
            ..EsOptions::default()
        });
        let setup = run_bootstrap(&es.url(), &["-E", "setup.mode=data_stream"]);
        assert_eq!(setup.code, Some(0), "{version}: {}", setup.stderr);
        let again = run_bootstrap(&es.url(), &["-E", "setup.mode=data_stream"]);
        assert_eq!(again.code, Some(0), "{version}: {}", again.stderr);
        assert!(
            again
                .lines
                .iter()
                .skip(1)
                .filter(|l| !l.starts_with(' '))
                .all(|l| l.ends_with(": unchanged")),
            "{version}: a second bootstrap changes nothing: {:?}",
            again.lines
        );
        assert!(
            setup
                .lines
                .join("\n")
                .contains(&format!("Elasticsearch {version}")),
            "{version}: {:?}",
            setup.lines
        );

        let tree = KubeTree::new();
        let c = tree.container("shop", "api-5c8d9f7b6-k8s2p", "api");
        c.append(0..200);
        let mut cmd = run_cmd(&tree, &es.url());
        cmd.args(["-E", "setup.mode=data_stream"]);
        let running = Running::spawn(cmd);
        assert!(
            wait_until(Duration::from_secs(60), || indexed(&es) == 200),
            "{version}: indexed {}; {}",
            indexed(&es),
            running.stderr_so_far()
        );
        // Sent once `GET /` has long answered.
        c.append(200..400);
        assert!(
            wait_until(Duration::from_secs(60), || indexed(&es) == 400),
            "{version}: indexed {}; {}",
            indexed(&es),
            running.stderr_so_far()
        );
        let stopped = running.stop("TERM", Duration::from_secs(15));
        assert_eq!(stopped.code, Some(0), "{version}: {}", stopped.stderr);

        let log = es.requests();
        let bulks = log.bulk();
        assert!(
            bulks.iter().all(|r| r.status == Some(200)),
            "{version}: every bulk accepted"
        );
        let last = bulks.last().expect("bulk requests");
        let content_type = last.content_type.clone().unwrap_or_default();
        assert!(
            content_type.ends_with(asked),
            "{version}: the last bulk was sent as {content_type}"
        );
    }
}
