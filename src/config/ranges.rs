//! The range of every duration, size and count setting: any value that loads can be used. No deadline
//! `Instant::now() + d` overflows (a duration of `u64::MAX` seconds once loaded, then panicked the
//! reading thread), no buffer is sized past memory, and no loop over a count runs for ever.

use std::fmt;
use std::time::Duration;

use super::model::Config;
use super::{duration, size};

/// 1 KiB: below this, ordinary log lines would be cut.
pub(crate) const MIN_LINE_BYTES: u64 = 1024;
/// 64 MiB: a line is buffered whole, so this bounds memory per file.
pub(crate) const MAX_LINE_BYTES: u64 = 64 * MIB;

/// A week: longer than any of the agent's own timings is ever meant to be, so a longer one is a typo;
/// and every deadline computed from one stays far inside what `Instant` holds.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(7 * DAY);
/// Longer waits hold a file's lines back for a pod that, by then, is most likely never coming.
pub(crate) const MAX_METADATA_WAIT: Duration = Duration::from_secs(60);
/// A century, for ILM ages: longer retention is a typo, and the policy states its ages in days.
const MAX_AGE: Duration = Duration::from_secs(36_500 * DAY);

/// Elasticsearch refuses requests over its `http.max_content_length`, 100 MiB by default.
const MAX_BULK_BYTES: u64 = 100 * MIB;
/// Held in memory, so beyond what a node spares for its log agent.
const MAX_QUEUED_BYTES: u64 = 16 * GIB;
/// On the node's disk, in `state_dir`.
const MAX_DEAD_LETTER_BYTES: u64 = TIB;
/// Linux's default `fs.nr_open`: no process can open more.
const MAX_OPEN_FILES: u64 = 1 << 20;
/// Each holds a request in memory and a connection; more per node only queue up in Elasticsearch.
const MAX_WORKERS: u64 = 64;
/// Every rotation renames each kept file.
const MAX_DEAD_LETTER_KEEP: u64 = 100;
/// Elasticsearch's own limit per index.
const MAX_SHARDS: u64 = 1024;

const DAY: u64 = 86_400;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

/// A setting's value, for comparing with its bounds and showing them.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Amount {
    Time(Duration),
    Bytes(u64),
    Count(u64),
}

impl Amount {
    fn is_zero(self) -> bool {
        matches!(
            self,
            Amount::Time(Duration::ZERO) | Amount::Bytes(0) | Amount::Count(0)
        )
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Amount::Time(d) => write!(f, "{}", duration::Shown(d)),
            Amount::Bytes(n) if n < 1024 || n % 1024 != 0 => write!(f, "{n} bytes"),
            Amount::Bytes(n) => write!(f, "{}", size::Shown(n)),
            Amount::Count(n) => write!(f, "{n}"),
        }
    }
}

/// One setting and what it may be, both bounds included.
struct Limit {
    key: &'static str,
    value: Amount,
    min: Amount,
    max: Amount,
    /// Why the nearer bound is where it is.
    why: &'static str,
}

/// Adds a problem for every setting outside its range, in the order of the configuration file.
pub(crate) fn check(config: &Config, problem: &mut impl FnMut(String, String)) {
    for limit in limits(config) {
        if limit.value < limit.min {
            let message = if limit.min == positive(limit.min) && limit.value.is_zero() {
                "must be greater than 0".to_owned()
            } else {
                format!("must be at least {}, not {}", limit.min, limit.value)
            };
            problem(limit.key.into(), message);
        } else if limit.value > limit.max {
            problem(
                limit.key.into(),
                format!(
                    "must be at most {} ({}), not {}",
                    limit.max, limit.why, limit.value
                ),
            );
        }
    }
}

/// The smallest amount above zero of `amount`'s kind.
fn positive(amount: Amount) -> Amount {
    match amount {
        Amount::Time(_) => Amount::Time(Duration::from_nanos(1)),
        Amount::Bytes(_) => Amount::Bytes(1),
        Amount::Count(_) => Amount::Count(1),
    }
}

fn limits(c: &Config) -> Vec<Limit> {
    let es = &c.output.elasticsearch;
    let setup = &c.setup;
    let no_wait = Duration::ZERO;
    let some_wait = Duration::from_nanos(1);
    let wait = |key, value, min| Limit {
        key,
        value: Amount::Time(value),
        min: Amount::Time(min),
        max: Amount::Time(MAX_WAIT),
        why: "a week; longer is taken for a typo",
    };
    let age = |key, value, min| Limit {
        key,
        value: Amount::Time(value),
        min: Amount::Time(min),
        max: Amount::Time(MAX_AGE),
        why: "a century",
    };
    let bytes = |key, value, min, max, why| Limit {
        key,
        value: Amount::Bytes(value),
        min: Amount::Bytes(min),
        max: Amount::Bytes(max),
        why,
    };
    let count = |key, value: usize, min, max, why| Limit {
        key,
        value: Amount::Count(value as u64),
        min: Amount::Count(min),
        max: Amount::Count(max),
        why,
    };
    vec![
        bytes(
            "max_line_bytes",
            c.max_line_bytes,
            MIN_LINE_BYTES,
            MAX_LINE_BYTES,
            "a line is buffered whole, so this bounds memory per file",
        ),
        wait("scan_frequency", c.scan_frequency, some_wait),
        wait("poll_interval", c.poll_interval, some_wait),
        wait("partial_timeout", c.partial_timeout, some_wait),
        wait("close_removed_after", c.close_removed_after, no_wait),
        wait("close_inactive", c.close_inactive, some_wait),
        count(
            "max_open_files",
            c.max_open_files,
            1,
            MAX_OPEN_FILES,
            "Linux's fs.nr_open",
        ),
        wait("registry_flush", c.registry_flush, some_wait),
        wait("shutdown_timeout", c.shutdown_timeout, no_wait),
        bytes(
            "max_queued_bytes",
            c.max_queued_bytes,
            0,
            MAX_QUEUED_BYTES,
            "held in memory",
        ),
        wait(
            "kubernetes.cleanup_timeout",
            c.kubernetes.cleanup_timeout,
            no_wait,
        ),
        Limit {
            key: "kubernetes.metadata_wait",
            value: Amount::Time(c.kubernetes.metadata_wait),
            min: Amount::Time(no_wait),
            max: Amount::Time(MAX_METADATA_WAIT),
            why: "a file's lines would wait that long for a pod that may never be found",
        },
        bytes(
            "output.elasticsearch.bulk_max_bytes",
            es.bulk_max_bytes,
            1024,
            MAX_BULK_BYTES,
            "Elasticsearch's default http.max_content_length",
        ),
        wait(
            "output.elasticsearch.flush_interval",
            es.flush_interval,
            some_wait,
        ),
        count(
            "output.elasticsearch.workers",
            es.workers,
            1,
            MAX_WORKERS,
            "each holds a request in memory",
        ),
        Limit {
            key: "output.elasticsearch.compression_level",
            value: Amount::Count(u64::from(es.compression_level)),
            min: Amount::Count(0),
            max: Amount::Count(9),
            why: "gzip's levels; 0 is none",
        },
        wait("output.elasticsearch.timeout", es.timeout, some_wait),
        wait(
            "output.elasticsearch.backoff.init",
            es.backoff.init,
            some_wait,
        ),
        wait(
            "output.elasticsearch.backoff.max",
            es.backoff.max,
            some_wait,
        ),
        bytes(
            "output.elasticsearch.dead_letter.max_bytes",
            es.dead_letter.max_bytes,
            1024,
            MAX_DEAD_LETTER_BYTES,
            "on the node's disk",
        ),
        count(
            "output.elasticsearch.dead_letter.keep",
            es.dead_letter.keep,
            0,
            MAX_DEAD_LETTER_KEEP,
            "each rotation renames every kept file",
        ),
        Limit {
            key: "setup.shards",
            value: Amount::Count(u64::from(setup.shards)),
            min: Amount::Count(1),
            max: Amount::Count(MAX_SHARDS),
            why: "Elasticsearch's limit per index",
        },
        wait("setup.refresh_interval", setup.refresh_interval, some_wait),
        age("setup.ilm.warm_after", setup.ilm.warm_after, no_wait),
        age("setup.ilm.delete_after", setup.ilm.delete_after, no_wait),
        age(
            "setup.ilm.rollover_max_age",
            setup.ilm.rollover_max_age,
            some_wait,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(config: &Config) -> Vec<(String, String)> {
        let mut found = Vec::new();
        check(config, &mut |key, message| found.push((key, message)));
        found
    }

    #[test]
    fn defaults_are_in_range() {
        assert_eq!(problems(&Config::default()), []);
    }

    #[test]
    fn every_duration_size_and_count_has_an_upper_bound() {
        let mut c = Config::default();
        let forever = Duration::from_secs(u64::MAX);
        for d in [
            &mut c.scan_frequency,
            &mut c.poll_interval,
            &mut c.partial_timeout,
            &mut c.close_removed_after,
            &mut c.close_inactive,
            &mut c.registry_flush,
            &mut c.shutdown_timeout,
            &mut c.kubernetes.cleanup_timeout,
            &mut c.kubernetes.metadata_wait,
            &mut c.output.elasticsearch.flush_interval,
            &mut c.output.elasticsearch.timeout,
            &mut c.output.elasticsearch.backoff.init,
            &mut c.output.elasticsearch.backoff.max,
            &mut c.setup.refresh_interval,
            &mut c.setup.ilm.warm_after,
            &mut c.setup.ilm.delete_after,
            &mut c.setup.ilm.rollover_max_age,
        ] {
            *d = forever;
        }
        for n in [
            &mut c.max_line_bytes,
            &mut c.max_queued_bytes,
            &mut c.output.elasticsearch.bulk_max_bytes,
            &mut c.output.elasticsearch.dead_letter.max_bytes,
        ] {
            *n = u64::MAX;
        }
        for n in [
            &mut c.max_open_files,
            &mut c.output.elasticsearch.workers,
            &mut c.output.elasticsearch.dead_letter.keep,
        ] {
            *n = usize::MAX;
        }
        c.output.elasticsearch.compression_level = u32::MAX;
        c.setup.shards = u32::MAX;
        let found = problems(&c);
        // Every setting the table knows, each once.
        assert_eq!(found.len(), limits(&c).len(), "{found:#?}");
        for (key, message) in &found {
            assert!(message.starts_with("must be at most "), "{key}: {message}");
        }
        let poll = found.iter().find(|(k, _)| k == "poll_interval").unwrap();
        assert_eq!(
            poll.1,
            format!(
                "must be at most 7d (a week; longer is taken for a typo), not {}",
                duration::Shown(forever)
            )
        );
        let line = found.iter().find(|(k, _)| k == "max_line_bytes").unwrap();
        assert!(
            line.1
                .starts_with("must be at most 64MiB (a line is buffered whole"),
            "{}",
            line.1
        );
    }

    #[test]
    fn lower_bounds_are_zero_or_just_above() {
        let mut c = Config {
            poll_interval: Duration::ZERO,
            close_removed_after: Duration::ZERO,
            max_line_bytes: 10,
            ..Config::default()
        };
        c.output.elasticsearch.workers = 0;
        c.output.elasticsearch.backoff.init = Duration::ZERO;
        assert_eq!(
            problems(&c),
            [
                (
                    "max_line_bytes".to_owned(),
                    "must be at least 1KiB, not 10 bytes".to_owned()
                ),
                ("poll_interval".into(), "must be greater than 0".into()),
                (
                    "output.elasticsearch.workers".into(),
                    "must be greater than 0".into()
                ),
                (
                    "output.elasticsearch.backoff.init".into(),
                    "must be greater than 0".into()
                ),
            ]
        );
        let mut c = Config {
            poll_interval: MAX_WAIT,
            max_line_bytes: MAX_LINE_BYTES,
            ..Config::default()
        };
        c.kubernetes.metadata_wait = MAX_METADATA_WAIT;
        assert_eq!(problems(&c), [], "both bounds are allowed");
    }
}
