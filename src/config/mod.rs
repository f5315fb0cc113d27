//! Configuration: YAML with Filebeat's conventions (`${VAR}` expansion, dotted keys, `-E` overrides),
//! typed, defaulted and validated.
//!
//! - Dotted keys: `output.elasticsearch: {hosts: …}` is `output: {elasticsearch: {hosts: …}}`, at any
//!   level; both spellings merge, and one key set twice is an error.
//! - `-E KEY=VALUE` overrides are applied after the file; VALUE is read as YAML.
//! - `${VAR}`, `${VAR:default}` expand in every string after overrides; `$${` is a literal `${`. A typed field also accepts its value as a string, so `max_line_bytes: ${MAX:1048576}`
//!   works; an empty string in an optional field means "not set".
//! - Unknown keys are errors. Every error names its key and the line it is on (or `(from -E)`).

mod bounds;
mod condition;
mod data_stream;
mod de;
mod duration;
mod env;
mod error;
mod file_output;
pub mod filebeat_import;
mod hosts;
mod load;
mod locate;
mod merge;
mod model;
mod multiline;
mod overrides;
mod ranges;
mod rate_limit;
mod secret;
mod selector;
mod size;
mod storage;
mod tree;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use condition::{Condition, IndexRule};
pub use data_stream::*;
pub use duration::deadline;
pub use env::{Env, ProcessEnv};
pub use error::{ConfigError, Location, Problem};
pub use file_output::*;
pub use model::*;
pub use multiline::*;
pub use rate_limit::*;
pub use secret::Secret;
pub use selector::{name_matches, selected, LabelSelector, PodSelector};
pub use storage::*;
pub use validate::TYPED_TOP_LEVEL_FIELDS;

/// Shown in errors when there is no config file.
const NO_FILE: &str = "(no config file)";

/// A check a stage makes on its own settings, which only it understands (an index pattern, say): the
/// problems it finds, each as the dotted key it is about and what is wrong. Config runs it after its
/// own checks and reports its problems with the line of their key, as its own; so config knows no
/// stage, and each stage checks its settings where they are used.
pub type Check = fn(&Config) -> Vec<(String, String)>;

fn no_check(_: &Config) -> Vec<(String, String)> {
    Vec::new()
}

/// Every problem of a typed configuration, config's own and `check`'s, as dotted key and message.
pub fn validate_with(config: &Config, check: Check) -> Vec<(String, String)> {
    validate::validate(config, check)
}

/// Loads the configuration from `file` (all defaults when `None`), then applies `overrides` (`-E`
/// arguments, `KEY=VALUE`) and the environment. Checks only what config itself knows; the commands
/// load through [`load_checked`] with the stages' checks.
pub fn load(
    file: Option<&Path>,
    overrides: &[String],
    env: &dyn Env,
) -> Result<Config, ConfigError> {
    load_checked(file, overrides, env, no_check)
}

/// [`load`], then `check`'s problems reported as config's own.
pub fn load_checked(
    file: Option<&Path>,
    overrides: &[String],
    env: &dyn Env,
    check: Check,
) -> Result<Config, ConfigError> {
    match file {
        Some(path) => {
            let name = path.display().to_string();
            let text = read_bounded(path).map_err(|cause| ConfigError::Read {
                path: path.to_owned(),
                cause,
            })?;
            match text {
                Some(text) => load::load_str(&text, &name, overrides, env, check),
                None => Err(load::too_large(&name)),
            }
        }
        None => load::load_str("", NO_FILE, overrides, env, check),
    }
}

/// The file's text, or `None` when it is larger than a configuration can be: only that much is read,
/// so `/dev/zero` or a log file given by mistake costs nothing.
fn read_bounded(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(bounds::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > bounds::MAX_FILE_BYTES {
        return Ok(None);
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// [`load`] from text; `source_name` names it in errors.
pub fn load_str(
    yaml: &str,
    source_name: &str,
    overrides: &[String],
    env: &dyn Env,
) -> Result<Config, ConfigError> {
    load::load_str(yaml, source_name, overrides, env, no_check)
}

/// [`load_str`], then `check`'s problems reported as config's own.
pub fn load_str_checked(
    yaml: &str,
    source_name: &str,
    overrides: &[String],
    env: &dyn Env,
    check: Check,
) -> Result<Config, ConfigError> {
    load::load_str(yaml, source_name, overrides, env, check)
}
