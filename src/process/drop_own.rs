//! Dropping the logs of the agent itself (and of the shippers it replaces), which would otherwise feed
//! back: every line shipped can cause a line logged, which is shipped in turn.

use crate::config::DropOwnLogs;
use crate::event::Event;

#[derive(Debug, Clone)]
pub(super) struct DropOwn {
    /// Empty when disabled. A handful of names, so a linear scan beats hashing.
    containers: Box<[Box<str>]>,
}

impl DropOwn {
    pub(super) fn new(config: &DropOwnLogs) -> DropOwn {
        let containers = if config.enabled {
            config
                .containers
                .iter()
                .map(|c| c.as_str().into())
                .collect()
        } else {
            Box::default()
        };
        DropOwn { containers }
    }

    /// Whether the event came from one of the listed containers. The name must match exactly: the
    /// Filebeat configuration this replaces matched by substring, so `filebeat` also dropped a user's
    /// `filebeat-exporter` container, silently losing its logs.
    pub(super) fn matches(&self, event: &Event) -> bool {
        if self.containers.is_empty() {
            return false;
        }
        event
            .origin
            .metadata
            .container_name
            .as_deref()
            .is_some_and(|name| self.containers.iter().any(|c| **c == *name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Origin, PathMetadata, Text, Timestamp};

    fn event_from(container: Option<&str>) -> Event {
        let metadata = PathMetadata {
            container_name: container.map(String::from),
            ..PathMetadata::default()
        };
        Event::new(
            Origin::new("/x.log".into(), metadata),
            Timestamp::from_nanos(0),
            Text::from("line"),
            0,
        )
    }

    fn drop_own(enabled: bool) -> DropOwn {
        DropOwn::new(&DropOwnLogs {
            enabled,
            containers: vec!["loglynk".into(), "filebeat".into()],
        })
    }

    #[test]
    fn matches_exact_names_only() {
        let own = drop_own(true);
        assert!(own.matches(&event_from(Some("filebeat"))));
        assert!(own.matches(&event_from(Some("loglynk"))));
        assert!(!own.matches(&event_from(Some("filebeat-exporter"))));
        assert!(!own.matches(&event_from(Some("file"))));
        assert!(!own.matches(&event_from(Some("app"))));
        assert!(!own.matches(&event_from(None)));
    }

    #[test]
    fn disabled_never_matches() {
        assert!(!drop_own(false).matches(&event_from(Some("filebeat"))));
    }
}
