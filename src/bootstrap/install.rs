//! Installing the objects: each one read back first, and written only when missing, or when it
//! differs and `--force` says so.

use std::io::Write;
use std::time::Duration;

use elasticsearch::http::Method;
use serde_json::Value;

use super::bodies::{self, mode_name, objects, Object};
use super::compare::{compare, Comparison};
use super::features::Features;
use super::normalize;
use super::BootstrapError;
use crate::config::{Config, IndexMode};
use crate::output::elasticsearch::client::{EsClient, Reply};

/// Each request is small; a cluster that cannot answer one in this long is not usable for setup.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// Print the bodies, send nothing.
    pub dry_run: bool,
    /// Overwrite objects that differ from loglynk's.
    pub force: bool,
}

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Unchanged,
    /// Differed, and was overwritten (`--force`).
    Updated,
    /// Differs, and was left as it is.
    Differs,
    /// `--dry-run`: shown, not sent.
    Shown,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Unchanged => "unchanged",
            Outcome::Updated => "updated",
            Outcome::Differs => "differs, not changed (--force overwrites it)",
            Outcome::Shown => "shown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub outcomes: Vec<(&'static str, String, Outcome)>,
}

impl Report {
    /// Some object differs and was left alone: the cluster is not as loglynk expects.
    pub fn differs(&self) -> bool {
        self.outcomes.iter().any(|(_, _, o)| *o == Outcome::Differs)
    }
}

/// Installs (or with `dry_run` prints) what `config.setup` describes, reporting each step on `out`.
pub async fn bootstrap(
    config: &Config,
    options: BootstrapOptions,
    out: &mut (dyn Write + Send),
) -> Result<Report, BootstrapError> {
    let setup = &config.setup;
    if !setup.enabled {
        return Err(BootstrapError::Disabled);
    }
    let mut report = Report::default();
    if options.dry_run {
        for object in &objects(setup, Features::newest()) {
            let body = serde_json::to_string_pretty(&object.body).expect("JSON values serialize");
            write(out, format_args!("PUT {}\n{body}\n\n", object.path))?;
            report
                .outcomes
                .push((object.kind, object.name.clone(), Outcome::Shown));
        }
        return Ok(report);
    }

    let client = EsClient::new(&config.output.elasticsearch)?;
    let info = client.info().await.map_err(BootstrapError::from_send)?;
    check_version(&info.version, setup.mode, &info.host)?;
    let features = Features::of(&info.version);
    if let Some((setting, needs)) = features.missing(setup) {
        return Err(BootstrapError::Feature {
            host: info.host,
            version: info.version,
            setting,
            needs,
        });
    }
    write(
        out,
        format_args!(
            "Elasticsearch {} at {}; mode {}\n",
            info.version,
            info.host,
            mode_name(setup.mode)
        ),
    )?;
    for object in &objects(setup, features) {
        let outcome = match object.kind {
            "write index" => write_index(&client, object, out).await?,
            _ => install(&client, object, options.force, out).await?,
        };
        if object.kind == "index template" {
            write(out, format_args!("  {}\n", covers(config)))?;
        }
        report
            .outcomes
            .push((object.kind, object.name.clone(), outcome));
    }
    Ok(report)
}

/// What the template shapes, and so where `run` writes.
fn covers(config: &Config) -> String {
    let setup = &config.setup;
    let what = match setup.mode {
        IndexMode::Daily => "the daily indices".to_owned(),
        IndexMode::Rollover => format!("the indices behind the write alias {}", setup.name),
        IndexMode::DataStream => format!(
            "the data streams logs-<dataset>-<namespace>, each created by its first document \
             (pods without elastic.co/dataset and elastic.co/namespace: logs-{}-{})",
            config.data_stream.dataset, config.data_stream.namespace
        ),
    };
    format!(
        "covers {} at priority {}: {what}",
        bodies::pattern(setup),
        bodies::priority(setup)
    )
}

/// 8.x and 9.x; 7.17 also for daily indices (its composable templates, ILM and `flattened` are the
/// same, and the 8.x client headers are understood in its compatibility mode).
fn check_version(version: &str, mode: IndexMode, host: &str) -> Result<(), BootstrapError> {
    if version_supported(version, mode) {
        Ok(())
    } else {
        Err(BootstrapError::Version {
            host: host.to_owned(),
            version: version.to_owned(),
            mode: mode_name(mode),
        })
    }
}

/// Whether loglynk can set up and ship to a cluster of `version` in `mode` (see `check_version`).
pub fn version_supported(version: &str, mode: IndexMode) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    major == 8 || major == 9 || (major == 7 && minor == 17 && mode == IndexMode::Daily)
}

/// The ILM policy or the index template.
async fn install(
    client: &EsClient,
    object: &Object,
    force: bool,
    out: &mut (dyn Write + Send),
) -> Result<Outcome, BootstrapError> {
    let outcome = match compare(client, object).await? {
        Comparison::Missing => Outcome::Created,
        Comparison::Equal => {
            report_line(out, object, Outcome::Unchanged)?;
            return Ok(Outcome::Unchanged);
        }
        Comparison::Differs(changes) => {
            let outcome = if force {
                Outcome::Updated
            } else {
                Outcome::Differs
            };
            report_line(out, object, outcome)?;
            for line in changes {
                write(out, format_args!("  {line}\n"))?;
            }
            if !force {
                return Ok(outcome);
            }
            outcome
        }
    };
    let body = serde_json::to_vec(&object.body).expect("JSON values serialize");
    let reply = call(client, Method::Put, &object.path, Some(body), object).await?;
    if reply.status != 200 {
        return Err(rejected(&reply, object, reply.status));
    }
    if outcome == Outcome::Created {
        report_line(out, object, outcome)?;
    }
    Ok(outcome)
}

/// The installed object and loglynk's, both as Elasticsearch would return them.
pub(super) fn comparable(object: &Object, answer: &Value) -> Option<(Value, Value)> {
    match object.kind {
        "ILM policy" => Some((
            normalize::policy(answer.get(&object.name)?.get("policy")?),
            normalize::policy(object.body.get("policy")?),
        )),
        // SLM answers the policy as it was given.
        "snapshot policy" => Some((
            answer.get(&object.name)?.get("policy")?.clone(),
            object.body.clone(),
        )),
        _ => {
            let templates = answer.get("index_templates")?.as_array()?;
            let installed = templates
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some(&object.name))?;
            Some((
                normalize::template(installed.get("index_template")?),
                normalize::template(&object.body),
            ))
        }
    }
}

/// Rollover mode's first index behind the write alias, unless the alias already exists (ILM has
/// rolled it over since, and the alias is what matters).
async fn write_index(
    client: &EsClient,
    object: &Object,
    out: &mut (dyn Write + Send),
) -> Result<Outcome, BootstrapError> {
    let alias = format!("/_alias/{}", object.name);
    let reply = call(client, Method::Get, &alias, None, object).await?;
    match reply.status {
        200 => {
            let answer = parse(&reply, object)?;
            let indices: Vec<&str> = answer
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            report_line(out, object, Outcome::Unchanged)?;
            write(out, format_args!("  alias over {}\n", indices.join(", ")))?;
            return Ok(Outcome::Unchanged);
        }
        404 => {}
        status => return Err(rejected(&reply, object, status)),
    }
    let body = serde_json::to_vec(&object.body).expect("JSON values serialize");
    let path = encode_path(&object.path);
    let reply = call(client, Method::Put, &path, Some(body), object).await?;
    if reply.status != 200 {
        return Err(rejected(&reply, object, reply.status));
    }
    let created = parse(&reply, object)?;
    report_line(out, object, Outcome::Created)?;
    if let Some(index) = created.get("index").and_then(Value::as_str) {
        write(out, format_args!("  {index}\n"))?;
    }
    Ok(Outcome::Created)
}

/// Date math in an index name (`<name-{now/d}-000001>`) must be percent-encoded in the path.
fn encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len() + 16);
    for c in path.chars() {
        match c {
            '<' => encoded.push_str("%3C"),
            '>' => encoded.push_str("%3E"),
            '{' => encoded.push_str("%7B"),
            '}' => encoded.push_str("%7D"),
            '/' if !encoded.is_empty() => encoded.push_str("%2F"),
            c => encoded.push(c),
        }
    }
    encoded
}

pub(super) async fn call(
    client: &EsClient,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
    object: &Object,
) -> Result<Reply, BootstrapError> {
    let reply = client
        .request(method, path, body, REQUEST_TIMEOUT)
        .await
        .map_err(BootstrapError::from_send)?;
    if matches!(reply.status, 401 | 403) {
        return Err(BootstrapError::Auth {
            host: reply.host,
            status: reply.status,
            what: format!("{} {}", object.kind, object.name),
        });
    }
    Ok(reply)
}

pub(super) fn parse(reply: &Reply, object: &Object) -> Result<Value, BootstrapError> {
    serde_json::from_slice(&reply.body).map_err(|e| BootstrapError::Unexpected {
        host: reply.host.clone(),
        what: format!("{} {}", object.kind, object.name),
        reason: format!("the answer is not JSON: {e}"),
    })
}

pub(super) fn rejected(reply: &Reply, object: &Object, status: u16) -> BootstrapError {
    let reason = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| {
            let error = v.get("error")?;
            let reason = error.get("reason").and_then(Value::as_str);
            let kind = error.get("type").and_then(Value::as_str);
            Some(match (kind, reason, error.as_str()) {
                (Some(kind), Some(reason), _) => format!("{kind}: {reason}"),
                (_, _, Some(text)) => text.to_owned(),
                _ => error.to_string(),
            })
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&reply.body).into_owned());
    BootstrapError::Rejected {
        host: reply.host.clone(),
        what: format!("{} {}", object.kind, object.name),
        status,
        reason,
    }
}

fn report_line(
    out: &mut (dyn Write + Send),
    object: &Object,
    outcome: Outcome,
) -> Result<(), BootstrapError> {
    write(
        out,
        format_args!("{} {}: {}\n", object.kind, object.name, outcome.as_str()),
    )
}

fn write(
    out: &mut (dyn Write + Send),
    text: std::fmt::Arguments<'_>,
) -> Result<(), BootstrapError> {
    out.write_fmt(text).map_err(BootstrapError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(check_version("8.15.0", IndexMode::DataStream, "h").is_ok());
        assert!(check_version("7.17.25", IndexMode::Daily, "h").is_ok());
        let old = check_version("7.17.25", IndexMode::Rollover, "h").unwrap_err();
        assert!(old.to_string().contains("7.17.25"), "{old}");
        assert!(check_version("7.10.2", IndexMode::Daily, "h").is_err());
        assert!(check_version("9.1.0", IndexMode::DataStream, "h").is_ok());
        assert!(check_version("9.0.0", IndexMode::Rollover, "h").is_ok());
        assert!(check_version("10.0.0", IndexMode::Daily, "h").is_err());
    }

    #[test]
    fn date_math_is_encoded() {
        assert_eq!(
            encode_path("/<funlynk-logs-{now/d}-000001>"),
            "/%3Cfunlynk-logs-%7Bnow%2Fd%7D-000001%3E"
        );
    }
}
