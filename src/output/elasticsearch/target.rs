//! Where `run` writes (the index pattern, `setup.name`, or the data streams), and the checks of those settings, which
//! only this output can make: config reports their problems with their lines (see `config::Check`).

use super::bulk::{BulkAction, BulkBuilder};
use super::index::{IndexPattern, IndexPatternError};
use super::output::EsOutputError;
use crate::config::{self, Config, IndexMode, Setup};
use crate::event::{Encoder, Event, Origin, Text, Timestamp};

/// Where `run` writes, as `loglynk bootstrap` set the cluster up for.
#[derive(Debug, Clone)]
pub enum WriteTarget {
    /// Daily indices by name (`output.elasticsearch.index`, routed by `indices`), or the rollover
    /// write alias `setup.name`.
    Index(IndexPattern, BulkAction),
    /// `setup.mode: data_stream`: each file's lines to `logs-<dataset>-<namespace>`, its pod's hints
    /// or `data_stream.*` naming both, with `create`, the only operation a data stream takes.
    DataStreams,
}

pub fn write_target(
    es: &config::ElasticsearchOutput,
    setup: &Setup,
) -> Result<WriteTarget, IndexPatternError> {
    match (setup.enabled, setup.mode) {
        (true, IndexMode::DataStream) => Ok(WriteTarget::DataStreams),
        (true, IndexMode::Rollover) => Ok(WriteTarget::Index(
            IndexPattern::parse(&setup.name)?,
            BulkAction::Index,
        )),
        (false, _) | (true, IndexMode::Daily) => Ok(WriteTarget::Index(
            IndexPattern::parse(&es.index)?,
            BulkAction::Index,
        )),
    }
}

/// What builds `run`'s bulk bodies, each event's action line naming where it goes: what the output
/// sends and what `tail --bulk` prints.
pub fn bulk_builder(
    es: &config::ElasticsearchOutput,
    setup: &Setup,
    encoder: Encoder,
) -> Result<BulkBuilder, EsOutputError> {
    let builder = match write_target(es, setup)? {
        WriteTarget::Index(pattern, action) => {
            BulkBuilder::new(pattern, action, encoder).routed(routes(es)?, action)
        }
        WriteTarget::DataStreams => {
            let streams = encoder
                .data_streams()
                .cloned()
                .ok_or(EsOutputError::NoDataStreams)?;
            BulkBuilder::data_streams(streams, encoder)
        }
    };
    Ok(if es.deduplicate {
        builder.deduplicated()
    } else {
        builder
    })
}

/// `output.elasticsearch.indices`, each rule's condition and parsed pattern, in order.
pub fn routes(
    es: &config::ElasticsearchOutput,
) -> Result<Vec<(Option<config::Condition>, IndexPattern)>, IndexPatternError> {
    es.indices
        .iter()
        .map(|rule| Ok((rule.when.clone(), IndexPattern::parse(&rule.index)?)))
        .collect()
}

/// The index pattern must parse, and what `loglynk bootstrap` installs must fit what `loglynk run`
/// writes, or the template never applies and ILM fails on the indices.
pub fn check(config: &Config) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let es = &config.output.elasticsearch;
    if let Err(e) = IndexPattern::parse(&es.index) {
        found.push(("output.elasticsearch.index".into(), e.to_string()));
    }
    for (i, rule) in es.indices.iter().enumerate() {
        if let Err(e) = IndexPattern::parse(&rule.index) {
            found.push((
                format!("output.elasticsearch.indices.{i}.index"),
                e.to_string(),
            ));
        }
    }
    let setup = &config.setup;
    if !setup.enabled {
        return found;
    }
    match IndexPattern::parse(&setup.name) {
        Ok(name) if name.is_static() => {}
        Ok(_) => found.push((
            "setup.name".into(),
            "must be a fixed name, without %{…}".into(),
        )),
        Err(e) => found.push(("setup.name".into(), e.to_string())),
    }
    if setup.mode == IndexMode::Daily {
        if let Some(reason) = daily_index_problem(&es.index, &setup.name) {
            found.push(("output.elasticsearch.index".into(), reason));
        }
        // Routed indices must fit the template as `index` does: bootstrap's `<name>-*` covers them.
        for (i, rule) in es.indices.iter().enumerate() {
            if let Some(reason) = daily_index_problem(&rule.index, &setup.name) {
                found.push((format!("output.elasticsearch.indices.{i}.index"), reason));
            }
        }
    } else if !es.indices.is_empty() {
        found.push((
            "output.elasticsearch.indices".into(),
            format!(
                "{}; use setup.mode daily (or setup.enabled: false)",
                if setup.mode == IndexMode::DataStream {
                    "setup.mode data_stream routes by the pods' elastic.co/dataset and \
                     elastic.co/namespace annotations"
                } else {
                    "routes by index name, and setup.mode rollover writes to setup.name"
                }
            ),
        ));
    }
    found
}

/// In daily mode the template matches `<name>-*` and ILM reads the index's age from its name
/// (`parse_origination_date`), which must end in `-yyyy.MM.dd`.
fn daily_index_problem(index: &str, name: &str) -> Option<String> {
    let pattern = IndexPattern::parse(index).ok()?;
    let event = Event::new(
        Origin::new(String::new(), Default::default()),
        Timestamp::parse_rfc3339("2026-11-24T00:00:00Z")?,
        Text::from(""),
        0,
    );
    let mut rendered = String::new();
    if pattern.render(&event, &mut rendered).is_err() {
        return Some(format!(
            "{index:?} names a field; in setup.mode daily the index must be {name}-%{{+yyyy.MM.dd}}"
        ));
    }
    let Some(date) = rendered.strip_prefix(&format!("{name}-")) else {
        return Some(format!(
            "{index:?} does not start with \"{name}-\", so the {name} template (pattern {name}-*) \
             would not apply to it"
        ));
    };
    // Rendered for 2026-11-24: year, month and day in that order, any one-character separators, at
    // the end, after a `-` (ILM reads `.*-<date>`), so `<name>-shop-<date>` is dated too.
    let (head, date) = date.split_at(date.len().saturating_sub(10));
    let dated = date.len() == 10
        && (head.is_empty() || head.ends_with('-'))
        && date.get(0..4) == Some("2026")
        && date.get(5..7) == Some("11")
        && date.get(8..10) == Some("24");
    (!dated).then(|| {
        format!(
            "{index:?} must end in -%{{+yyyy.MM.dd}}: ILM ages daily indices by the date in \
             their name (index.lifecycle.parse_origination_date)"
        )
    })
}

/// Moved from config's tests with the checks they test; their assertions are unchanged.
#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::config::{ConfigError, Location, Secret};

    const FILE: &str = "/etc/loglynk/loglynk.yml";

    fn keys(config: &Config) -> Vec<String> {
        config::validate_with(config, check)
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    fn load_with(
        yaml: &str,
        overrides: &[&str],
        _vars: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
        config::load_str_checked(yaml, FILE, &overrides, &HashMap::new(), check)
    }

    fn ok(yaml: &str) -> Config {
        load_with(yaml, &[], &[]).unwrap()
    }

    #[test]
    fn collects_every_problem() {
        let mut c = Config {
            paths: vec!["/var/log/[*.log".into(), String::new()],
            max_line_bytes: 10,
            poll_interval: Duration::ZERO,
            ..Config::default()
        };
        c.decode_json_fields.fields.clear();
        c.decode_json_fields.max_depth = 0;
        c.decode_json_fields.target = "kubernetes.extra".into();
        let es = &mut c.output.elasticsearch;
        es.hosts = vec!["ftp://x".parse().unwrap()];
        es.ssl.key = Some("/k".into());
        es.password = Some(Secret::new("p"));
        es.api_key = Some(Secret::new("k"));
        es.index = "Logs".into();
        c.logging.level = " ".into();
        assert_eq!(
            keys(&c),
            [
                "paths.0",
                "paths.1",
                "max_line_bytes",
                "poll_interval",
                "decode_json_fields.fields",
                "decode_json_fields.max_depth",
                "decode_json_fields.target",
                "output.elasticsearch.hosts.0",
                "output.elasticsearch.ssl.key",
                "output.elasticsearch.api_key",
                "output.elasticsearch.index",
                "logging.level",
            ]
        );
    }

    #[test]
    fn validation_reports_every_problem_with_its_line() {
        let yaml = "\
paths: []
max_line_bytes: 10
decode_json_fields:
  target: message
output.elasticsearch:
  hosts: ['ftp://es']
  index: Logs-%{+yyyy}
  ssl.certificate: /c.pem
";
        let e = load_with(yaml, &["poll_interval=0"], &[]).unwrap_err();
        let found: Vec<(&str, Location)> = e
            .problems()
            .iter()
            .map(|p| (p.key.as_str(), p.location))
            .collect();
        assert_eq!(
            found,
            [
                ("paths", Location::Line(1)),
                ("max_line_bytes", Location::Line(2)),
                ("poll_interval", Location::Override),
                ("decode_json_fields.target", Location::Line(4)),
                ("output.elasticsearch.hosts.0", Location::Line(6)),
                ("output.elasticsearch.ssl.certificate", Location::Line(8)),
                ("output.elasticsearch.index", Location::Line(7)),
            ]
        );
        let text = e.to_string();
        assert_eq!(text.lines().count(), 7);
        assert!(text.contains(
            "line 7: output.elasticsearch.index: invalid index pattern \"Logs-%{+yyyy}\": uppercase 'L'"
        ));
    }

    #[test]
    fn setup_must_fit_what_run_writes() {
        let problems = |yaml: &str| -> String {
            load_with(yaml, &[], &[])
                .unwrap_err()
                .problems()
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        };
        // Daily indices must be matched by the template and carry their date for ILM.
        let found = problems("output.elasticsearch.index: \"logs-%{+yyyy.MM.dd}\"\n");
        assert!(
            found.contains("does not start with \"funlynk-logs-\""),
            "{found}"
        );
        let found = problems("output.elasticsearch.index: \"funlynk-logs-%{+yyyy.MM}\"\n");
        assert!(found.contains("must end in -%{+yyyy.MM.dd}"), "{found}");
        let found =
            problems("output.elasticsearch.index: \"funlynk-logs-%{[kubernetes.namespace]}\"\n");
        assert!(found.contains("names a field"), "{found}");
        assert_eq!(
            ok("output.elasticsearch.index: \"funlynk-logs-%{+yyyy-MM-dd}\"\n")
                .setup
                .mode,
            IndexMode::Daily
        );
        // Other modes write to setup.name; the index setting is not used.
        let c = ok("setup.mode: data_stream\noutput.elasticsearch.index: anything\n");
        assert_eq!(c.setup.mode, IndexMode::DataStream);
        // Turned off, nothing is checked.
        assert!(
            !ok("setup.enabled: false\noutput.elasticsearch.index: anything\n")
                .setup
                .enabled
        );

        let found = problems(
            "setup: {name: Funlynk, ilm: {warm_after: 30d, delete_after: 7d, rollover_max_size: 5 gigs}}\n",
        );
        for key in [
            "setup.name",
            "setup.ilm.delete_after",
            "setup.ilm.rollover_max_size",
        ] {
            assert!(found.contains(key), "{key} not in {found}");
        }
        // Routed indices fit the template as `index` does; other modes write to setup.name.
        let found = problems(
            "output.elasticsearch.indices:\n  - index: other-%{+yyyy.MM.dd}\n  - index: funlynk-logs-x\n",
        );
        assert!(
            found.contains(
                "output.elasticsearch.indices.0.index: \"other-%{+yyyy.MM.dd}\" does not start"
            ) && found
                .contains("output.elasticsearch.indices.1.index: \"funlynk-logs-x\" must end in"),
            "{found}"
        );
        ok("output.elasticsearch.indices: [{index: 'funlynk-logs-shop-%{+yyyy.MM.dd}', when: {equals: {a: b}}}]\n");
        let found =
            problems("setup.mode: data_stream\noutput.elasticsearch.indices: [{index: x}]\n");
        assert!(
            found.contains("setup.mode data_stream routes by the pods' elastic.co/dataset"),
            "{found}"
        );
        let found = problems("setup.mode: hourly\n");
        assert!(found.contains("setup.mode"), "{found}");
    }
}
