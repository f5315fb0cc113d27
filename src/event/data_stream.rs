//! `setup.mode: data_stream`: each file's lines go to `logs-<dataset>-<namespace>`, the dataset and
//! namespace its container's hints name (`elastic.co/dataset`, `elastic.co/namespace`) or else the
//! configured ones. The encoder writes them into the document (`data_stream.*`, `event.dataset`) and
//! the Elasticsearch output names the data stream from the same answer, so the two always agree.

use std::sync::Arc;

use crate::config::{self, DATA_STREAM_TYPE};

use super::Origin;

/// The configured dataset and namespace, for origins whose hints name neither. Both were validated
/// when the configuration was loaded, as the hints were when they were parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataStreams {
    dataset: Arc<str>,
    namespace: Arc<str>,
}

impl DataStreams {
    pub fn new(settings: &config::DataStream) -> DataStreams {
        DataStreams {
            dataset: settings.dataset.as_str().into(),
            namespace: settings.namespace.as_str().into(),
        }
    }

    /// The dataset and namespace of `origin`'s lines.
    #[inline]
    pub fn of<'a>(&'a self, origin: &'a Origin) -> (&'a str, &'a str) {
        match origin.hints() {
            Some(hints) => (
                hints.dataset.as_deref().unwrap_or(&self.dataset),
                hints.namespace.as_deref().unwrap_or(&self.namespace),
            ),
            None => (&self.dataset, &self.namespace),
        }
    }

    /// Appends the name of `origin`'s data stream: `logs-<dataset>-<namespace>`.
    pub fn write_name(&self, origin: &Origin, out: &mut String) {
        let (dataset, namespace) = self.of(origin);
        out.push_str(DATA_STREAM_TYPE);
        out.push('-');
        out.push_str(dataset);
        out.push('-');
        out.push_str(namespace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Hints;

    #[test]
    fn hints_name_the_data_stream_and_the_settings_fill_what_they_leave() {
        let streams = DataStreams::new(&config::DataStream {
            dataset: "kubernetes.container_logs".into(),
            namespace: "staging".into(),
        });
        let name = |origin: &Origin| {
            let mut out = String::new();
            streams.write_name(origin, &mut out);
            out
        };
        let plain = Origin::new("/a.log".into(), Default::default());
        assert_eq!(name(&plain), "logs-kubernetes.container_logs-staging");
        let both = Origin::with_hints(
            "/b.log".into(),
            Hints {
                dataset: Some("shop.orders".into()),
                namespace: Some("prod".into()),
                ..Hints::default()
            },
        );
        assert_eq!(name(&both), "logs-shop.orders-prod");
        let dataset_only = Origin::with_hints(
            "/c.log".into(),
            Hints {
                dataset: Some("nginx.access".into()),
                ..Hints::default()
            },
        );
        assert_eq!(streams.of(&dataset_only), ("nginx.access", "staging"));
        // Hints that say nothing of data streams leave both to the settings.
        let other = Origin::with_hints("/d.log".into(), Hints::default());
        assert_eq!(streams.of(&other), ("kubernetes.container_logs", "staging"));
    }
}
