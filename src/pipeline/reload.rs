//! Reloading the configuration while the agent runs: on SIGHUP, when the configuration file changes
//! (a ConfigMap update swaps a symlink in its directory), or on `POST /reload`.
//!
//! A new configuration is loaded and checked as at start (the same file, `-E` overrides and
//! environment). Refused, it changes nothing: the running configuration stays and the error, with its
//! key and line, is logged. Accepted, the running pipeline is stopped as at SIGTERM — reading stops,
//! what was read is delivered and acknowledged, the registry is written — and a pipeline built from
//! the new configuration resumes every file at its acknowledged offset: no line is lost or read twice.
//! What is fixed for the life of the process (`state_dir`, the HTTP endpoint, the Kubernetes watch) is
//! kept as it was, and named in the log.

use std::path::PathBuf;

use super::control::Control;
use crate::config::{self, Config, Kubernetes, ProcessEnv};
use crate::telemetry::{self, set_log_level, ReloadRequest, Telemetry};

/// Where the configuration comes from, so it can be read again.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    /// The file; `None` runs on built-in defaults (and `-E`), which a reload reads again too.
    pub file: Option<PathBuf>,
    /// `-E KEY=VALUE`, applied again at every reload.
    pub overrides: Vec<String>,
}

impl ConfigSource {
    /// Loads and checks the configuration as at start: the error names the key and its line.
    pub fn load(&self) -> Result<Config, String> {
        let config = config::load_checked(
            self.file.as_deref(),
            &self.overrides,
            &ProcessEnv,
            crate::output::check,
        )
        .map_err(|e| e.to_string())?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&config.logging.level) {
            return Err(format!(
                "logging.level: not a log level or tracing filter: {e}"
            ));
        }
        crate::output::check_files(&config).map_err(|e| e.to_string())?;
        Ok(config)
    }
}

/// What a reload changes, worked out before anything is stopped.
#[derive(Debug)]
pub(super) struct Change {
    /// The configuration to run: the new one, with the fixed settings of the running one.
    pub config: Config,
    /// Keys whose value changed and is applied.
    pub changed: Vec<String>,
    /// Settings that changed in the file but are fixed until a restart.
    pub kept: Vec<&'static str>,
}

/// Compares `new` with `running`. `None` when nothing would change.
pub(super) fn plan(running: &Config, new: Config) -> Option<Change> {
    let (config, kept) = keep_fixed(running, new);
    if config == *running {
        return (!kept.is_empty()).then(|| Change {
            config,
            changed: Vec::new(),
            kept,
        });
    }
    let changed = changed_keys(running, &config);
    Some(Change {
        config,
        changed,
        kept,
    })
}

/// Restores what cannot change without a restart and names it: the registry's directory (which holds
/// the agent's identity), the HTTP endpoint (its port is what Prometheus scrapes) and the Kubernetes
/// API watch.
fn keep_fixed(running: &Config, mut new: Config) -> (Config, Vec<&'static str>) {
    let mut kept = Vec::new();
    if new.state_dir != running.state_dir {
        kept.push("state_dir");
        new.state_dir = running.state_dir.clone();
    }
    if new.http != running.http {
        kept.push("http");
        new.http = running.http.clone();
    }
    // Which containers are read is decided by the reading side, rebuilt at each reload; the rest of
    // the section is the API watch's.
    let watch = |k: &Kubernetes| Kubernetes {
        include: Vec::new(),
        exclude: Vec::new(),
        ..k.clone()
    };
    if watch(&new.kubernetes) != watch(&running.kubernetes) {
        kept.push("kubernetes");
        new.kubernetes = Kubernetes {
            include: std::mem::take(&mut new.kubernetes.include),
            exclude: std::mem::take(&mut new.kubernetes.exclude),
            ..running.kubernetes.clone()
        };
    }
    (new, kept)
}

/// The dotted keys whose values differ (secrets compare as masked, so a changed password shows as its
/// section).
fn changed_keys(a: &Config, b: &Config) -> Vec<String> {
    let (Ok(a), Ok(b)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    diff(&a, &b, String::new(), &mut changed);
    if changed.is_empty() {
        changed.push("output.elasticsearch (credentials)".into());
    }
    changed
}

fn diff(a: &serde_json::Value, b: &serde_json::Value, at: String, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => diff(p, q, path, out),
                    _ => out.push(path),
                }
            }
        }
        _ if a != b => out.push(at),
        _ => {}
    }
}

/// Loads the configuration again and decides what a reload changes. `None`: nothing changes (counted
/// as a success). `Err`: refused, logged with its key and line, counted; the running one stays.
pub(super) fn consider(
    source: &ConfigSource,
    running: &Config,
    cause: &str,
    telemetry: &Telemetry,
) -> Option<Result<Change, Result<String, String>>> {
    let new = match source.load() {
        Ok(new) => new,
        Err(error) => {
            telemetry.config_refused(cause, &error);
            return Some(Err(Err(error)));
        }
    };
    match plan(running, new) {
        None => {
            telemetry.config_unchanged(cause);
            None
        }
        Some(change) if change.changed.is_empty() => {
            telemetry.config_kept(&change.kept);
            Some(Err(Ok(describe(&change.changed, &change.kept))))
        }
        Some(change) => {
            telemetry::reloading(cause, &change.changed);
            Some(Ok(change))
        }
    }
}

/// What applies to the process rather than a pipeline: the log level, the shutdown timeout.
pub(super) fn apply(change: &Change, control: &Control) {
    let config = &change.config;
    if let Err(error) = set_log_level(&config.logging.level) {
        telemetry::log_level_kept(&error);
    }
    control.set_shutdown_timeout(config.shutdown_timeout);
    telemetry::settings_kept(&change.kept);
}

pub(super) fn describe(changed: &[String], kept: &[&str]) -> String {
    let mut text = if changed.is_empty() {
        "nothing applied".to_owned()
    } else {
        format!("applied: {}", changed.join(", "))
    };
    if !kept.is_empty() {
        text.push_str(&format!("; kept until a restart: {}", kept.join(", ")));
    }
    text
}

pub(super) fn reply(request: ReloadRequest, outcome: Result<String, String>) {
    if let Some(reply) = request.reply {
        let _ = reply.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fixed_settings_are_kept_and_named_and_the_rest_applies() {
        let running = Config::default();
        let mut new = Config {
            state_dir: PathBuf::from("/elsewhere"),
            ..Config::default()
        };
        new.http.port = 1;
        new.paths = vec!["/x/*.log".into()];
        new.output.elasticsearch.bulk_max_bytes = 1 << 20;
        let change = plan(&running, new).expect("a change");
        assert_eq!(change.kept, ["state_dir", "http"]);
        assert_eq!(change.config.state_dir, running.state_dir);
        assert_eq!(change.config.http, running.http);
        assert_eq!(change.config.paths, ["/x/*.log"]);
        assert_eq!(
            change.changed,
            ["output.elasticsearch.bulk_max_bytes", "paths"]
        );
    }

    #[test]
    fn the_same_configuration_changes_nothing() {
        assert!(plan(&Config::default(), Config::default()).is_none());
    }

    #[test]
    fn a_fixed_setting_alone_is_reported_with_nothing_applied() {
        let mut new = Config::default();
        new.kubernetes.metadata_wait = Duration::from_secs(1);
        let change = plan(&Config::default(), new).expect("reported");
        assert!(change.changed.is_empty());
        assert_eq!(change.kept, ["kubernetes"]);
    }

    #[test]
    fn which_containers_are_read_changes_without_a_restart() {
        let mut new = Config::default();
        new.kubernetes.exclude = vec![crate::config::PodSelector {
            namespaces: vec!["kube-system".into()],
            ..crate::config::PodSelector::default()
        }];
        let change = plan(&Config::default(), new.clone()).expect("a change");
        assert!(change.kept.is_empty());
        assert_eq!(change.changed, ["kubernetes.exclude"]);
        // Beside a fixed setting, it still applies.
        new.kubernetes.metadata_wait = Duration::from_secs(1);
        let change = plan(&Config::default(), new.clone()).expect("a change");
        assert_eq!(change.kept, ["kubernetes"]);
        assert_eq!(change.config.kubernetes.exclude, new.kubernetes.exclude);
        assert_eq!(
            change.config.kubernetes.metadata_wait,
            Config::default().kubernetes.metadata_wait
        );
    }
}
