//! The test overlay: deploy/'s rules and Alertmanager configuration as shipped, read from the
//! repository at test time, with time compressed (a minute becomes a second: every `for:` and every
//! range of every expression) and Alertmanager's receivers pointed at the sinks. The shipped files are
//! never edited; nothing else in them changes (routes, matchers, inhibitions, templates, thresholds).

use std::path::Path;

use serde_yaml_ng::Value;

use crate::support::repo_root;

/// Parses a Prometheus duration with one unit (`5m`, `1h`, `30d`) into seconds.
fn seconds(duration: &str) -> Option<u64> {
    let split = duration.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = duration.split_at(split);
    let n: u64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    Some(n * unit)
}

/// A duration sixty times shorter, in milliseconds so nothing rounds to zero.
fn compressed(duration: &str) -> Option<String> {
    seconds(duration).map(|s| format!("{}ms", s * 1000 / 60))
}

/// `expr` with every range (`[10m]`) sixty times shorter.
fn compress_ranges(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..=open]);
        let inside = &rest[open + 1..close];
        out.push_str(&compressed(inside).unwrap_or_else(|| inside.to_owned()));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Every rule file of deploy/monitoring/prometheus/rules, compressed, written into `dir`; returns the
/// names of the alerts they define.
pub fn write_rules(dir: &Path) -> Vec<String> {
    let shipped = repo_root().join("deploy/monitoring/prometheus/rules");
    let mut alerts = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&shipped)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rules in {}", shipped.display());
    for path in files {
        let mut doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for group in doc["groups"].as_sequence_mut().expect("groups") {
            for rule in group["rules"].as_sequence_mut().expect("rules") {
                let rule = rule.as_mapping_mut().unwrap();
                if let Some(Value::String(expr)) = rule.get_mut("expr") {
                    *expr = compress_ranges(expr);
                }
                if let Some(Value::String(hold)) = rule.get_mut("for") {
                    *hold = compressed(hold).expect("a for: duration");
                }
                if let Some(Value::String(name)) = rule.get("alert") {
                    alerts.push(name.clone());
                }
            }
        }
        let name = path.file_name().unwrap();
        std::fs::write(dir.join(name), serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
    }
    alerts
}

/// Where the test's Prometheus scrapes: the agent, and the backend's instances by name.
pub struct Targets<'a> {
    pub agent: &'a str,
    pub backends: &'a [(&'a str, &'a str)],
    pub alertmanager: &'a str,
}

/// A prometheus.yml with the shipped job names (the rules select on them) and static targets, a
/// scrape and an evaluation every second.
pub fn write_prometheus_config(
    dir: &Path,
    rules_dir: &Path,
    targets: &Targets,
) -> std::path::PathBuf {
    let backends: Vec<String> = targets
        .backends
        .iter()
        .map(|(instance, address)| {
            format!(
                "      - targets: [\"{address}\"]\n        labels: {{instance: \"{instance}\"}}\n"
            )
        })
        .collect();
    let config = format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
         rule_files: [\"{rules}/*.yml\"]\n\
         alerting:\n  alertmanagers:\n    - static_configs: [{{targets: [\"{am}\"]}}]\n\
         scrape_configs:\n\
         \x20 - job_name: funlynk-backend\n    static_configs:\n{backends}\
         \x20 - job_name: loglynk\n    static_configs:\n\
         \x20     - targets: [\"{agent}\"]\n        labels: {{node: node-e2e, pod: loglynk-e2e}}\n",
        rules = rules_dir.display(),
        am = targets.alertmanager,
        backends = backends.concat(),
        agent = targets.agent,
    );
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The SMTP password the overlay's secret file holds.
pub const SMTP_PASSWORD: &str = "e2e-smtp-password";

/// deploy/'s alertmanager.yml with its SMTP relay and Slack webhook URLs (the `*_file` secrets)
/// pointed at the sinks, and the route's waits shortened; returns its path.
pub fn write_alertmanager_config(dir: &Path, smtp: &str, slack: &str) -> std::path::PathBuf {
    let shipped = repo_root().join("deploy/monitoring/alertmanager/alertmanager.yml");
    let mut doc: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    std::fs::write(secrets.join("smtp-password"), SMTP_PASSWORD).unwrap();

    let global = doc["global"].as_mapping_mut().expect("global");
    global.insert("smtp_smarthost".into(), smtp.into());
    global.insert(
        "smtp_auth_password_file".into(),
        secrets.join("smtp-password").display().to_string().into(),
    );
    // The sink speaks plain SMTP on loopback; Alertmanager's default asks for STARTTLS.
    global.insert("smtp_require_tls".into(), false.into());

    let route = doc["route"].as_mapping_mut().expect("route");
    // Long enough to gather alerts that fire in the same second into one notification.
    route.insert("group_wait".into(), "3s".into());
    route.insert("group_interval".into(), "2s".into());

    for receiver in doc["receivers"].as_sequence_mut().expect("receivers") {
        for slack_config in receiver["slack_configs"]
            .as_sequence_mut()
            .into_iter()
            .flatten()
        {
            let file = slack_config["api_url_file"]
                .as_str()
                .expect("a Slack URL from a file")
                .to_owned();
            // /etc/alertmanager/secrets/slack-critical-url -> the sink's /slack-critical-url
            let name = Path::new(&file)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            std::fs::write(secrets.join(&name), format!("{slack}/{name}")).unwrap();
            slack_config["api_url_file"] = secrets.join(&name).display().to_string().into();
        }
    }
    let path = dir.join("alertmanager.yml");
    std::fs::write(&path, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_become_seconds_in_ranges_and_holds() {
        assert_eq!(compressed("5m").as_deref(), Some("5000ms"));
        assert_eq!(compressed("1h").as_deref(), Some("60000ms"));
        assert_eq!(compressed("3d").as_deref(), Some("4320000ms"));
        assert_eq!(
            compress_ranges("rate(a{x=\"[y]\"}[5m]) > 0 and deriv(b[15m])"),
            "rate(a{x=\"[y]\"}[5000ms]) > 0 and deriv(b[15000ms])"
        );
    }
}
