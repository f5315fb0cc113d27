//! `loglynk doctor`: every check of a node's set-up that can fail, each one line with what was found
//! and, when it failed, the fix. The person on call runs it in the agent's pod (`kubectl exec … loglynk
//! doctor`) when logs go missing; a script runs it with `--format json`.
//!
//! Nothing is changed: files are read, a probe file is written and removed in `state_dir`, and the
//! clusters are only asked (the write privilege through Elasticsearch's privileges API, never a
//! document; RBAC through `SelfSubjectAccessReview`s, never a watch).

mod elasticsearch;
mod kubernetes;
mod local;
mod privileges;
mod report;
mod tls;

pub use report::{Check, Report};

use crate::config::Config;

/// Runs every check `config` calls for. `source` says where the configuration came from.
pub async fn diagnose(config: &Config, source: &str, node_name_env: Option<String>) -> Report {
    let mut report = Report::default();
    report.push(Check::pass("config", format!("{source}: valid")));
    local::paths(config, &mut report);
    local::state_dir(config, &mut report);
    local::inotify(config, &mut report);
    match config.output.file() {
        Some(file) => local::file_output(file, &mut report),
        None => elasticsearch::check(config, &mut report).await,
    }
    kubernetes::check(config, node_name_env, &mut report).await;
    report
}
