//! An event's fields by dotted path, as a condition reads them (`output.elasticsearch.indices`'
//! `when`): what the encoder writes, looked up where it lives, with no copy. Fields that are the same
//! for every line of a file are read from its [`Origin`], so a caller can decide on them once per file.

use super::{Event, Origin};

impl Origin {
    /// Whether `path` is a field every event of one origin has alike (`kubernetes.*`, `service.*`,
    /// `orchestrator.*`, `log.file.path`): a condition on those alone is decided once per origin.
    pub fn holds_field(path: &str) -> bool {
        path == "log.file.path"
            || ["kubernetes.", "service.", "orchestrator."]
                .iter()
                .any(|prefix| path.starts_with(prefix))
    }

    /// The text of an origin field (see [`Origin::holds_field`]); `None` when absent.
    pub fn lookup(&self, path: &str) -> Option<&str> {
        if path == "log.file.path" {
            return Some(&self.path);
        }
        let meta = &self.metadata;
        let Some(k) = self.kubernetes() else {
            return match path {
                "kubernetes.namespace" | "orchestrator.namespace" => meta.namespace.as_deref(),
                "kubernetes.pod.name" | "orchestrator.resource.name" => meta.pod_name.as_deref(),
                "kubernetes.pod.uid" => meta.pod_uid.as_deref(),
                "kubernetes.container.name" => meta.container_name.as_deref(),
                _ => None,
            };
        };
        match path {
            "kubernetes.namespace" | "orchestrator.namespace" => k.namespace.as_deref(),
            "kubernetes.namespace_uid" => k.namespace_uid.as_deref(),
            "kubernetes.pod.name" | "orchestrator.resource.name" => k.pod.name.as_deref(),
            "kubernetes.pod.uid" => k.pod.uid.as_deref(),
            "kubernetes.pod.ip" => k.pod.ip.as_deref(),
            "kubernetes.container.name" => k.container.name.as_deref(),
            "kubernetes.container.image" => k.container.image.as_deref(),
            "kubernetes.node.name" => k.node.as_ref().map(|n| n.name.as_str()),
            "service.name" => k.service.name.as_deref(),
            "service.version" => k.service.version.as_deref(),
            "orchestrator.cluster.name" => k.cluster_name.as_deref(),
            _ => entry(path, "kubernetes.labels.", &k.labels)
                .or_else(|| entry(path, "kubernetes.annotations.", &k.annotations))
                .or_else(|| entry(path, "kubernetes.namespace_labels.", &k.namespace_labels))
                .or_else(|| {
                    let kind = path.strip_prefix("kubernetes.")?.strip_suffix(".name")?;
                    k.workloads
                        .names()
                        .find(|(n, _)| *n == kind)
                        .map(|(_, v)| v)
                }),
        }
    }
}

/// `map[key]` when `path` is `prefix` + key.
fn entry<'a>(path: &str, prefix: &str, map: &'a super::kubernetes::Labels) -> Option<&'a str> {
    map.get(path.strip_prefix(prefix)?).map(String::as_str)
}

impl Event {
    /// The text of a field as the document has it: `message`, `stream`, `log.level`, a field a
    /// processor added (`json.*`), or an origin field. `None` when absent or not text.
    pub fn lookup(&self, path: &str) -> Option<&str> {
        match path {
            "message" => Some(self.message.as_str()),
            "stream" => self.stream.map(|s| s.as_str()),
            "log.level" => self.level.as_ref().map(|l| l.as_str()),
            _ if Origin::holds_field(path) => self.origin.lookup(path),
            _ => self.get_str(path),
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::event::kubernetes::{Kubernetes, Pod, Workloads};
    use crate::event::{PathMetadata, Stream, Text, Timestamp};

    #[test]
    fn fields_are_found_where_the_encoder_writes_them_from() {
        let meta = PathMetadata {
            namespace: Some("shop".into()),
            container_name: Some("app".into()),
            ..PathMetadata::default()
        };
        let path_only = Origin::new("/c.log".into(), meta.clone());
        assert_eq!(path_only.lookup("kubernetes.namespace"), Some("shop"));
        assert_eq!(path_only.lookup("kubernetes.labels.app"), None);

        let kubernetes = Kubernetes {
            namespace: Some("shop".into()),
            pod: Pod {
                name: Some("web-1".into()),
                ..Pod::default()
            },
            labels: [("app".to_owned(), "web".to_owned())].into(),
            workloads: Workloads {
                deployment: Some("web".into()),
                ..Workloads::default()
            },
            ..Kubernetes::default()
        };
        let origin = Origin::with_pod("/c.log".into(), meta, kubernetes);
        let mut event = Event::new(origin, Timestamp::from_nanos(0), Text::from("hi"), 0);
        event.stream = Some(Stream::Stderr);
        for (path, want) in [
            ("message", Some("hi")),
            ("stream", Some("stderr")),
            ("log.file.path", Some("/c.log")),
            ("kubernetes.pod.name", Some("web-1")),
            ("kubernetes.labels.app", Some("web")),
            ("kubernetes.deployment.name", Some("web")),
            ("kubernetes.statefulset.name", None),
            ("log.level", None),
            ("json.x", None),
        ] {
            assert_eq!(event.lookup(path), want, "{path}");
        }
        assert!(Origin::holds_field("kubernetes.labels.app") && !Origin::holds_field("json.a"));
    }
}
