//! What a cluster can store, from the version its `GET /` reports: which index mode the template gets
//! and whether it may enable the failure store.

use crate::config::{Setup, SetupIndexMode};

/// LogsDB is generally available from 8.17 (a technical preview in 8.15 and 8.16, which loglynk
/// does not rely on).
const LOGSDB_SINCE: (u32, u32) = (8, 17);
/// The failure store and the template's `data_stream_options` are generally available from 9.1.
const FAILURE_STORE_SINCE: (u32, u32) = (9, 1);

/// A cluster's version, as far as the objects loglynk installs depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    version: (u32, u32),
}

impl Features {
    /// From `GET /`'s `version.number` (`8.17.0`, `9.1.0-SNAPSHOT`).
    pub fn of(version: &str) -> Features {
        let mut parts = version
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().unwrap_or(0));
        Features {
            version: (parts.next().unwrap_or(0), parts.next().unwrap_or(0)),
        }
    }

    /// What `--dry-run` shows, with no cluster to ask: a current one.
    pub fn newest() -> Features {
        Features { version: (9, 1) }
    }

    pub fn logsdb(self) -> bool {
        self.version >= LOGSDB_SINCE
    }

    pub fn failure_store(self) -> bool {
        self.version >= FAILURE_STORE_SINCE
    }

    /// Whether the template gets `index.mode: logsdb`.
    pub fn uses_logsdb(self, setup: &Setup) -> bool {
        match setup.index_mode {
            SetupIndexMode::Auto => self.logsdb(),
            SetupIndexMode::Logsdb => true,
            SetupIndexMode::Standard => false,
        }
    }

    /// A setting asks for what this cluster does not have: the setting and what it needs.
    pub fn missing(self, setup: &Setup) -> Option<(&'static str, &'static str)> {
        if setup.index_mode == SetupIndexMode::Logsdb && !self.logsdb() {
            return Some((
                "setup.index_mode logsdb",
                "8.17 or later (leave it out, or set auto, for LogsDB wherever the cluster has it)",
            ));
        }
        if setup.failure_store && !self.failure_store() {
            return Some(("setup.failure_store", "9.1 or later"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logsdb_from_8_17_and_the_failure_store_from_9_1() {
        let cases = [
            ("7.17.25", false, false),
            ("8.15.0", false, false),
            ("8.16.6", false, false),
            ("8.17.0", true, false),
            ("8.19.3", true, false),
            ("9.0.0", true, false),
            ("9.1.0-SNAPSHOT", true, true),
            ("10.0.0", true, true),
        ];
        for (version, logsdb, failure_store) in cases {
            let features = Features::of(version);
            assert_eq!(features.logsdb(), logsdb, "{version}");
            assert_eq!(features.failure_store(), failure_store, "{version}");
        }
    }

    #[test]
    fn an_explicit_setting_the_cluster_lacks_is_named() {
        let mut setup = Setup::default();
        assert!(!Features::of("8.15.0").uses_logsdb(&setup));
        assert!(Features::of("8.17.0").uses_logsdb(&setup));
        assert_eq!(Features::of("8.15.0").missing(&setup), None);
        setup.index_mode = SetupIndexMode::Logsdb;
        let (what, _) = Features::of("8.16.0").missing(&setup).unwrap();
        assert_eq!(what, "setup.index_mode logsdb");
        setup.index_mode = SetupIndexMode::Standard;
        assert!(!Features::of("9.1.0").uses_logsdb(&setup));
        setup.failure_store = true;
        assert_eq!(
            Features::of("9.0.3").missing(&setup),
            Some(("setup.failure_store", "9.1 or later"))
        );
        assert_eq!(Features::of("9.1.0").missing(&setup), None);
    }
}
