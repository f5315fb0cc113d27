//! The configuration loader: YAML text, `-E` overrides and an environment in (`${VAR}` expansion and
//! all), a `Config` or an error out, never a panic. A configuration that loads is printed as `config
//! check` prints it, and that text must load back, in the same environment, to the same `Config`
//! (secrets aside: they print masked).
//!
//! Input: `<yaml>\0<one -E override per line>\0<one VAR=value per line>`; the last two are optional.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use loglynk::config::{load_str, Config, Secret};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let yaml = parts.next().unwrap_or_default();
    let overrides: Vec<String> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let env: HashMap<String, String> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();

    let Ok(config) = load_str(yaml, "/etc/loglynk/loglynk.yml", &overrides, &env) else {
        return;
    };
    let printed = config.to_masked_yaml();
    let reloaded = load_str(&printed, "(printed)", &[], &env)
        .unwrap_or_else(|e| panic!("the printed config does not load back: {e}\n{printed}"));
    let (reloaded, config) = (masked(reloaded), masked(config));
    if reloaded != config {
        let (was, is) = (format!("{config:#?}"), format!("{reloaded:#?}"));
        let changed: Vec<String> = was
            .lines()
            .zip(is.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("{} -> {}", a.trim(), b.trim()))
            .collect();
        panic!("the printed config loads back different: {changed:#?}\n{printed}");
    }
});

fn masked(mut config: Config) -> Config {
    let es = &mut config.output.elasticsearch;
    for secret in [&mut es.password, &mut es.api_key].into_iter().flatten() {
        *secret = Secret::new("********");
    }
    config
}
