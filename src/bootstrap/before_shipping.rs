//! The set-up `run` does before its first bulk request, handed to the Elasticsearch output as the step
//! it waits for (the output does not know bootstrap; the pipeline wires the two).

use std::sync::Arc;
use std::time::Duration;

use super::{bootstrap, BootstrapOptions};
use crate::config::Config;
use crate::telemetry::Telemetry;

/// What `loglynk bootstrap` installs, created if missing before the first bulk request, as Filebeat's
/// `setup.template`/`setup.ilm` do at start: otherwise an agent that reaches the cluster before the
/// bootstrap Job creates the day's index without its mappings and policy. Never overwrites: an object
/// that differs is reported, and `loglynk bootstrap --force` is the way to replace it. Returns once
/// shipping may start: set up, or given up on for good (retried while the failure is transient).
pub async fn set_up_before_shipping(config: Config, telemetry: Arc<Telemetry>) {
    let mut delay = Duration::from_secs(1);
    let mut warned = false;
    loop {
        let mut report = Vec::new();
        match bootstrap(&config, BootstrapOptions::default(), &mut report).await {
            Ok(outcome) => {
                for line in String::from_utf8_lossy(&report).lines() {
                    telemetry.cluster_set_up(line.trim());
                }
                if outcome.differs() {
                    telemetry.cluster_differs();
                }
                return;
            }
            Err(error) if error.is_transient() => {
                if !warned {
                    telemetry.cluster_set_up_retrying(&error);
                    warned = true;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(error) => {
                telemetry.cluster_set_up_failed(&error);
                return;
            }
        }
    }
}
