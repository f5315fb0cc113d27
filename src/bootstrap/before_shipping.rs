//! The set-up `run` does before its first bulk request, handed to the Elasticsearch output as the step
//! it waits for (the output does not know bootstrap; the pipeline wires the two).

use std::time::Duration;

use super::{bootstrap, BootstrapOptions};
use crate::config::Config;

/// What `loglynk bootstrap` installs, created if missing before the first bulk request, as Filebeat's
/// `setup.template`/`setup.ilm` do at start: otherwise an agent that reaches the cluster before the
/// bootstrap Job creates the day's index without its mappings and policy. Never overwrites: an object
/// that differs is reported, and `loglynk bootstrap --force` is the way to replace it. Returns once
/// shipping may start: set up, or given up on for good (retried while the failure is transient).
pub async fn set_up_before_shipping(config: Config) {
    let mut delay = Duration::from_secs(1);
    let mut warned = false;
    loop {
        let mut report = Vec::new();
        match bootstrap(&config, BootstrapOptions::default(), &mut report).await {
            Ok(outcome) => {
                for line in String::from_utf8_lossy(&report).lines() {
                    tracing::info!(step = line.trim(), "cluster set-up");
                }
                if outcome.differs() {
                    tracing::warn!(
                        "the cluster's index template or ILM policy differs from loglynk's; \
                         `loglynk bootstrap` shows how, `--force` replaces them"
                    );
                }
                return;
            }
            Err(error) if error.is_transient() => {
                if !warned {
                    tracing::warn!(%error, "cannot set up the cluster yet; retrying before shipping");
                    warned = true;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(error) => {
                tracing::error!(%error, "cannot set up the cluster; shipping without it");
                return;
            }
        }
    }
}
