//! The loading pipeline: text -> tree -> dotted keys merged -> `-E` overrides -> `${VAR}` expansion ->
//! typed `Config` -> environment defaults -> validation. Problems are reported with the line (or `-E`)
//! their key came from.

use serde_path_to_error::Segment;

use super::bounds::MAX_FILE_BYTES;
use super::de::{self, DeError};
use super::env::{expand_tree, Env};
use super::error::{ConfigError, Location, Problem};
use super::hosts::{self, Written};
use super::locate::Locator;
use super::merge;
use super::model::{Config, ES_PASSWORD_ENV, OWN_CONTAINER_ENV};
use super::overrides::Override;
use super::secret::Secret;
use super::tree::{Node, ParseError};
use super::validate::validate;

pub(super) fn load_str(
    yaml: &str,
    source_name: &str,
    overrides: &[String],
    env: &dyn Env,
    check: super::Check,
) -> Result<Config, ConfigError> {
    if yaml.len() > MAX_FILE_BYTES {
        return Err(too_large(source_name));
    }
    let mut report = Reporter {
        source_name,
        locator: Locator::new(yaml),
        from_overrides: Vec::new(),
        problems: Vec::new(),
    };
    let tree = Node::parse(yaml).map_err(|e| report.parse(&e))?;
    let (mut tree, conflicts) = merge::normalize(tree);
    for path in conflicts {
        report.duplicate(path);
    }
    for arg in overrides {
        match Override::parse(arg) {
            Ok(o) => {
                report.from_overrides.extend(o.leaves());
                merge::set(&mut tree, &o.path, o.value);
            }
            Err(message) => report.push(String::new(), Location::Override, message),
        }
    }
    for (path, error) in expand_tree(&mut tree, env) {
        report.invalid(&path, &error.to_string());
    }
    report.finish()?;

    hosts::default_schemes(&mut tree);
    let written = Written {
        username: tree.get(&["output", "elasticsearch", "username"]).is_some(),
        password: tree.get(&["output", "elasticsearch", "password"]).is_some(),
    };
    let es_written = tree.get(&["output", "elasticsearch"]).is_some();
    let mut config: Config = de::from_tree(tree).map_err(|e| report.typed(e))?;
    let (password_in_url, found) =
        hosts::take_credentials(&mut config.output.elasticsearch, written);
    for (key, message) in found {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        report.invalid(&path, &message);
    }
    apply_env_defaults(&mut config, written.password || password_in_url, env);

    let mut found = validate(&config, check);
    if es_written && config.output.file().is_some() {
        found.push((
            "output.file".into(),
            "cannot be used together with output.elasticsearch: enable exactly one output".into(),
        ));
    }
    for (key, message) in found {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        report.invalid(&path, &message);
    }
    report.finish()?;
    Ok(config)
}

/// A configuration is a few KB; a file past the limit is refused unparsed.
pub(super) fn too_large(source_name: &str) -> ConfigError {
    ConfigError::Invalid {
        source_name: source_name.to_owned(),
        problems: vec![Problem {
            key: String::new(),
            location: Location::Unknown,
            message: format!(
                "larger than {}MiB, which no configuration needs: refused unread",
                MAX_FILE_BYTES >> 20
            ),
        }],
    }
}

/// Settings whose default comes from the environment rather than a constant.
fn apply_env_defaults(config: &mut Config, password_written: bool, env: &dyn Env) {
    let es = &mut config.output.elasticsearch;
    // An API key in the config means the environment's password (still set in the seed's manifests) is
    // not meant to be used alongside it.
    if !password_written && es.api_key.is_none() {
        es.password = env
            .var(ES_PASSWORD_ENV)
            .filter(|p| !p.is_empty())
            .map(Secret::new);
    }
    if let Some(name) = env.var(OWN_CONTAINER_ENV) {
        let name = name.trim();
        let containers = &mut config.drop_own_logs.containers;
        if !name.is_empty() && !containers.iter().any(|c| c == name) {
            containers.push(name.to_owned());
        }
    }
}

struct Reporter<'a> {
    source_name: &'a str,
    locator: Locator,
    /// Paths set by `-E`: keys at or under them are reported as coming from the command line.
    from_overrides: Vec<Vec<String>>,
    problems: Vec<Problem>,
}

impl Reporter<'_> {
    /// Fails with the problems found so far, if any.
    fn finish(&mut self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn error(&mut self) -> ConfigError {
        ConfigError::Invalid {
            source_name: self.source_name.to_owned(),
            problems: std::mem::take(&mut self.problems),
        }
    }

    fn location(&self, path: &[String]) -> Location {
        if self.from_overrides.iter().any(|o| path.starts_with(o)) {
            return Location::Override;
        }
        match self.locator.line(path) {
            Some(line) => Location::Line(line),
            // A section the file never mentions, created by an override of a key below it.
            None if self.from_overrides.iter().any(|o| o.starts_with(path)) => Location::Override,
            None => Location::Unknown,
        }
    }

    fn push(&mut self, key: String, location: Location, message: String) {
        self.problems.push(Problem {
            key,
            location,
            message,
        });
    }

    /// `key: message`, located by the key.
    fn invalid(&mut self, path: &[String], message: &str) {
        let key = path.join(".");
        let message = if key.is_empty() {
            message.to_owned()
        } else {
            format!("{key}: {message}")
        };
        self.push(key, self.location(path), message);
    }

    fn duplicate(&mut self, path: Vec<String>) {
        let lines = self.locator.lines(&path);
        let key = path.join(".");
        let (location, message) = match lines {
            [.., last] if lines.len() > 1 => {
                let list: Vec<String> = lines.iter().map(usize::to_string).collect();
                (
                    Location::Line(*last),
                    format!("{key}: set more than once (lines {})", list.join(", ")),
                )
            }
            _ => (self.location(&path), format!("{key}: set more than once")),
        };
        self.push(key, location, message);
    }

    fn parse(&mut self, error: &ParseError) -> ConfigError {
        match error {
            ParseError::TooDeep(deep) => {
                self.push(String::new(), Location::Line(deep.line), deep.to_string());
                self.error()
            }
            ParseError::Yaml(error) => self.syntax(error),
        }
    }

    fn syntax(&mut self, error: &serde_yaml_ng::Error) -> ConfigError {
        let text = error.to_string();
        match error.location() {
            Some(at) => {
                let suffix = format!(" at line {} column {}", at.line(), at.column());
                let message = text.replacen(&suffix, "", 1);
                let message = format!("invalid YAML at column {}: {message}", at.column());
                self.push(String::new(), Location::Line(at.line()), message);
            }
            None => self.push(
                String::new(),
                Location::Unknown,
                format!("invalid YAML: {text}"),
            ),
        }
        self.error()
    }

    fn typed(&mut self, error: serde_path_to_error::Error<DeError>) -> ConfigError {
        let path: Vec<String> = error
            .path()
            .iter()
            .filter_map(|segment| match segment {
                Segment::Seq { index } => Some(index.to_string()),
                Segment::Map { key } => Some(key.clone()),
                Segment::Enum { variant } => Some(variant.clone()),
                Segment::Unknown => None,
            })
            .collect();
        match error.into_inner() {
            DeError::UnknownKey { expected, .. } => {
                let key = path.join(".");
                let message = format!(
                    "unknown key {key} (expected one of: {})",
                    expected.join(", ")
                );
                self.push(key, self.location(&path), message);
            }
            DeError::Invalid(message) => self.invalid(&path, &message),
        }
        self.error()
    }
}
