//! How the log indices store documents and are backed up: `setup.index_mode` (LogsDB),
//! `setup.failure_store` and `setup.snapshot` (a snapshot lifecycle policy).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration;

/// SLM's cron, in UTC: every day at 01:30, after the day's index stopped taking most writes.
pub const DEFAULT_SNAPSHOT_SCHEDULE: &str = "0 30 1 * * ?";
/// As long as the ILM policy keeps the indices: a snapshot is what is left once they are deleted.
pub const DEFAULT_SNAPSHOT_EXPIRE_AFTER: Duration = Duration::from_secs(30 * 86_400);
/// Elastic's example retention: at least 5 snapshots, however old, at most 50.
pub const DEFAULT_SNAPSHOT_MIN_COUNT: u32 = 5;
pub const DEFAULT_SNAPSHOT_MAX_COUNT: u32 = 50;

/// `setup.index_mode`: the template's `index.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupIndexMode {
    /// LogsDB where the cluster has it generally available (8.17 and later), standard before.
    #[default]
    Auto,
    /// Sorted by `host.name` and `@timestamp`, synthetic `_source`, best compression: log indices
    /// about half the size or less. Refused by `bootstrap` on a cluster older than 8.17.
    Logsdb,
    /// Elasticsearch's ordinary indices.
    Standard,
}

/// `setup.snapshot`: a snapshot lifecycle policy over the log indices, installed by `bootstrap` when
/// `repository` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Snapshot {
    /// A snapshot repository registered in the cluster (`PUT _snapshot/<name>`); unset: no policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// When snapshots are taken: SLM's cron (`sec min hour day-of-month month day-of-week [year]`, UTC).
    pub schedule: String,
    /// Snapshots older than this are deleted by SLM's retention ...
    #[serde(with = "duration")]
    pub expire_after: Duration,
    /// ... unless fewer than this many would be left ...
    pub min_count: u32,
    /// ... and the oldest beyond this many are deleted whatever their age.
    pub max_count: u32,
}

impl Default for Snapshot {
    fn default() -> Snapshot {
        Snapshot {
            repository: None,
            schedule: DEFAULT_SNAPSHOT_SCHEDULE.to_owned(),
            expire_after: DEFAULT_SNAPSHOT_EXPIRE_AFTER,
            min_count: DEFAULT_SNAPSHOT_MIN_COUNT,
            max_count: DEFAULT_SNAPSHOT_MAX_COUNT,
        }
    }
}

/// The problems of these settings, as dotted key and message.
pub(super) fn problems(setup: &super::Setup) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if setup.failure_store && setup.mode != super::IndexMode::DataStream {
        found.push((
            "setup.failure_store".into(),
            "needs setup.mode data_stream: Elasticsearch keeps a failure store per data stream"
                .into(),
        ));
    }
    let snapshot = &setup.snapshot;
    if snapshot.repository.as_deref().is_some_and(str::is_empty) {
        found.push((
            "setup.snapshot.repository".into(),
            "must not be empty; leave it out for no snapshot policy".into(),
        ));
    }
    let fields = snapshot.schedule.split_whitespace().count();
    if !(6..=7).contains(&fields) {
        found.push((
            "setup.snapshot.schedule".into(),
            format!(
                "{:?} is not a cron expression of Elasticsearch's (6 or 7 fields: second minute \
                 hour day-of-month month day-of-week [year], such as \"{DEFAULT_SNAPSHOT_SCHEDULE}\")",
                snapshot.schedule
            ),
        ));
    }
    if snapshot.min_count == 0 {
        found.push((
            "setup.snapshot.min_count".into(),
            "must be at least 1".into(),
        ));
    }
    if snapshot.max_count == 0 || snapshot.min_count > snapshot.max_count {
        found.push((
            "setup.snapshot.max_count".into(),
            format!(
                "{} must be at least 1 and at least min_count ({})",
                snapshot.max_count, snapshot.min_count
            ),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{IndexMode, Setup};

    fn keys(setup: &Setup) -> Vec<String> {
        problems(setup).into_iter().map(|(key, _)| key).collect()
    }

    #[test]
    fn the_failure_store_needs_a_data_stream_and_snapshots_a_usable_policy() {
        let mut setup = Setup::default();
        assert_eq!(keys(&setup), Vec::<String>::new());
        setup.failure_store = true;
        assert_eq!(keys(&setup), ["setup.failure_store"]);
        setup.mode = IndexMode::DataStream;
        assert_eq!(keys(&setup), Vec::<String>::new());

        setup.snapshot.repository = Some(String::new());
        setup.snapshot.schedule = "@daily".into();
        setup.snapshot.min_count = 0;
        setup.snapshot.max_count = 0;
        assert_eq!(
            keys(&setup),
            [
                "setup.snapshot.repository",
                "setup.snapshot.schedule",
                "setup.snapshot.min_count",
                "setup.snapshot.max_count"
            ]
        );
        setup.snapshot = Snapshot {
            repository: Some("backups".into()),
            schedule: "0 0 2 * * ? 2027".into(),
            min_count: 10,
            max_count: 5,
            ..Snapshot::default()
        };
        assert_eq!(keys(&setup), ["setup.snapshot.max_count"]);
    }

    #[test]
    fn index_mode_reads_as_written() {
        let read = |text: &str| serde_json::from_str::<SetupIndexMode>(text).unwrap();
        assert_eq!(read("\"logsdb\""), SetupIndexMode::Logsdb);
        assert_eq!(read("\"standard\""), SetupIndexMode::Standard);
        assert_eq!(read("\"auto\""), SetupIndexMode::Auto);
    }
}
