//! `data_stream.dataset` and `data_stream.namespace`: where `setup.mode: data_stream` sends the lines of
//! a container whose pod names neither (Elastic Agent's input keys of the same names; its Kubernetes
//! integration's defaults), and the rules Elasticsearch's data stream naming scheme sets on both.

use serde::{Deserialize, Serialize};

/// Elastic Agent's Kubernetes integration ships container logs under this dataset.
pub const DEFAULT_DATASET: &str = "kubernetes.container_logs";
/// Elastic Agent's default namespace.
pub const DEFAULT_NAMESPACE: &str = "default";
/// Every data stream loglynk writes is of this type: `logs-<dataset>-<namespace>`.
pub const DATA_STREAM_TYPE: &str = "logs";
/// Every name `logs-<dataset>-<namespace>` can take: what bootstrap's template covers.
pub const DATA_STREAM_PATTERN: &str = "logs-*-*";
/// Longest dataset or namespace Elasticsearch's data stream naming scheme allows.
pub const DATA_STREAM_PART_MAX_BYTES: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataStream {
    /// Used where the pod has no `elastic.co/dataset` annotation.
    pub dataset: String,
    /// Used where the pod (or its namespace) has no `elastic.co/namespace` annotation.
    pub namespace: String,
}

impl Default for DataStream {
    fn default() -> DataStream {
        DataStream {
            dataset: DEFAULT_DATASET.to_owned(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

impl DataStream {
    /// Whether `run` writes to data streams: `setup.mode: data_stream`, with setup on.
    pub fn used(setup: &super::Setup) -> bool {
        setup.enabled && setup.mode == super::IndexMode::DataStream
    }

    /// Each setting that is not a valid part of a data stream name, with why.
    pub fn problems(&self) -> Vec<(String, String)> {
        [("dataset", &self.dataset), ("namespace", &self.namespace)]
            .into_iter()
            .filter_map(|(key, value)| {
                data_stream_name_error(value)
                    .map(|why| (format!("data_stream.{key}"), format!("{value:?} {why}")))
            })
            .collect()
    }
}

/// Why `name` cannot be the dataset or namespace of a `logs-<dataset>-<namespace>` data stream, by
/// Elasticsearch's rules for those names (lower case; none of `\ / * ? " < > | , # :`, space or `-`;
/// not starting with `_`, `+` or `.`; at most 100 bytes); `None` when it can.
pub fn data_stream_name_error(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > DATA_STREAM_PART_MAX_BYTES {
        return Some("is longer than 100 bytes");
    }
    if name.chars().any(char::is_uppercase) {
        return Some("has upper-case letters");
    }
    if name.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\\' | '/' | '*' | '?' | '"' | '<' | '>' | '|' | ',' | '#' | ':' | ' ' | '-'
            )
    }) {
        return Some("has one of \\ / * ? \" < > | , # : space, - or a control character");
    }
    if name.starts_with(['_', '+', '.']) {
        return Some("starts with _, + or .");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_stream_names_follow_elasticsearchs_rules() {
        for good in [
            "kubernetes.container_logs",
            "nginx.access",
            "prod",
            "a1",
            "é",
        ] {
            assert_eq!(data_stream_name_error(good), None, "{good}");
        }
        for bad in [
            "",
            "Prod",
            "a-b",
            "a b",
            "a:b",
            "a\tb",
            "_x",
            ".x",
            "+x",
            "a*",
            "a#b",
            &"x".repeat(101),
        ] {
            assert!(data_stream_name_error(bad).is_some(), "{bad}");
        }
        assert_eq!(data_stream_name_error(&"x".repeat(100)), None);
    }

    #[test]
    fn each_bad_setting_is_named() {
        assert!(DataStream::default().problems().is_empty());
        let bad = DataStream {
            dataset: "My-App".into(),
            namespace: "prod".into(),
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "data_stream.dataset");
        assert!(problems[0].1.contains("upper-case"), "{problems:?}");
    }
}
