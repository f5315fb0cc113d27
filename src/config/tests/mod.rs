//! End-to-end tests of `load_str`: text, overrides and environment in, `Config` or errors out.

mod errors;
mod values;

use std::collections::HashMap;

use super::*;

const FILE: &str = "/etc/loglynk/loglynk.yml";

fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load_with(yaml: &str, overrides: &[&str], vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
    load_str(yaml, FILE, &overrides, &env(vars))
}

fn ok(yaml: &str) -> Config {
    load_with(yaml, &[], &[]).unwrap()
}

fn err(yaml: &str, overrides: &[&str], vars: &[(&str, &str)]) -> String {
    load_with(yaml, overrides, vars).unwrap_err().to_string()
}
