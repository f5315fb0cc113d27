//! `output.elasticsearch.indices`: each event's action line from the first rule whose `when` matches
//! it, else from `index`. Each rule keeps its own cached action line (see `action_line.rs`), and a
//! condition on the fields every line of a file shares (`kubernetes.*`, …) is decided once per file
//! origin, not per line: the common case costs a pointer comparison per event.

use std::sync::Arc;

use crate::config::Condition;
use crate::event::{DataStreams, Event, Origin};

use super::action_line::{ActionLines, BulkAction};
use super::index::{IndexPattern, MissingField};

#[derive(Debug, Clone)]
pub(super) struct Routes {
    rules: Vec<Rule>,
    default: ActionLines,
    /// The origin `decided` holds the origin-only conditions' results for.
    origin: Option<Arc<Origin>>,
    /// Per rule: its result for `origin` when its condition reads origin fields only, else `None`.
    decided: Vec<Option<bool>>,
}

#[derive(Debug, Clone)]
struct Rule {
    when: Option<Condition>,
    /// Every field the condition reads is the origin's.
    per_origin: bool,
    lines: ActionLines,
}

impl Routes {
    pub(super) fn new(default: IndexPattern, action: BulkAction) -> Routes {
        Routes::to(ActionLines::new(default, action))
    }

    /// Each event to its file's data stream (`setup.mode: data_stream`), which its pod's hints name:
    /// routing there is by annotation, not by `indices`.
    pub(super) fn data_streams(streams: DataStreams) -> Routes {
        Routes::to(ActionLines::data_streams(streams))
    }

    fn to(default: ActionLines) -> Routes {
        Routes {
            rules: Vec::new(),
            default,
            origin: None,
            decided: Vec::new(),
        }
    }

    /// Events matching a rule's condition go to its pattern, the first match winning.
    pub(super) fn routed(
        mut self,
        rules: Vec<(Option<Condition>, IndexPattern)>,
        action: BulkAction,
    ) -> Routes {
        self.rules = rules
            .into_iter()
            .map(|(when, pattern)| Rule {
                per_origin: when
                    .as_ref()
                    .is_none_or(|c| c.fields().into_iter().all(Origin::holds_field)),
                when,
                lines: ActionLines::new(pattern, action),
            })
            .collect();
        self
    }

    pub(super) fn deduplicated(mut self) -> Routes {
        self.default = self.default.deduplicated();
        for rule in &mut self.rules {
            rule.lines = rule.lines.clone().deduplicated();
        }
        self
    }

    /// Appends the event's action line. On error nothing is appended.
    pub(super) fn write(&mut self, event: &Event, out: &mut Vec<u8>) -> Result<(), MissingField> {
        if self.rules.is_empty() {
            return self.default.write(event, out);
        }
        if !self
            .origin
            .as_ref()
            .is_some_and(|o| Arc::ptr_eq(o, &event.origin))
        {
            let origin = &*event.origin;
            self.decided.clear();
            self.decided.extend(self.rules.iter().map(|rule| {
                rule.per_origin.then(|| {
                    rule.when
                        .as_ref()
                        .is_none_or(|c| c.matches(&mut |path| origin.lookup(path)))
                })
            }));
            self.origin = Some(Arc::clone(&event.origin));
        }
        let decided = &self.decided;
        let chosen = self.rules.iter_mut().enumerate().find(|(i, rule)| {
            decided[*i].unwrap_or_else(|| {
                rule.when
                    .as_ref()
                    .is_none_or(|c| c.matches(&mut |path| event.lookup(path)))
            })
        });
        match chosen {
            Some((_, rule)) => rule.lines.write(event, out),
            None => self.default.write(event, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::kubernetes::Kubernetes;
    use crate::event::{PathMetadata, Text, Timestamp};

    fn condition(yaml: &str) -> Option<Condition> {
        Some(serde_yaml_ng::from_str(yaml).unwrap())
    }

    fn origin(namespace: &str) -> Arc<Origin> {
        let kubernetes = Kubernetes {
            namespace: Some(namespace.into()),
            ..Kubernetes::default()
        };
        Origin::with_pod("/c.log".into(), PathMetadata::default(), kubernetes)
    }

    fn index_of(routes: &mut Routes, origin: &Arc<Origin>, message: &str) -> String {
        let event = Event::new(
            Arc::clone(origin),
            Timestamp::parse_rfc3339("2026-11-24T10:00:00Z").unwrap(),
            Text::from(message.to_owned()),
            0,
        );
        let mut out = Vec::new();
        routes.write(&event, &mut out).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        line["index"]["_index"].as_str().unwrap().to_owned()
    }

    #[test]
    fn the_first_matching_rule_wins_else_the_default() {
        let pattern = |p: &str| IndexPattern::parse(p).unwrap();
        let mut routes = Routes::new(pattern("logs-%{+yyyy.MM.dd}"), BulkAction::Index).routed(
            vec![
                (
                    condition("contains: {message: ERROR}"),
                    pattern("errors-%{+yyyy.MM.dd}"),
                ),
                (
                    condition("equals: {kubernetes.namespace: shop}"),
                    pattern("shop-%{+yyyy.MM.dd}"),
                ),
                (
                    condition("equals: {kubernetes.namespace: shop}"),
                    pattern("never"),
                ),
            ],
            BulkAction::Index,
        );
        assert!(!routes.rules[0].per_origin && routes.rules[1].per_origin);
        let (shop, pay) = (origin("shop"), origin("pay"));
        // Alternating origins and messages: each event is decided on its own.
        for _ in 0..2 {
            assert_eq!(index_of(&mut routes, &shop, "fine"), "shop-2026.11.24");
            assert_eq!(
                index_of(&mut routes, &shop, "an ERROR"),
                "errors-2026.11.24"
            );
            assert_eq!(index_of(&mut routes, &pay, "fine"), "logs-2026.11.24");
            assert_eq!(index_of(&mut routes, &pay, "ERROR"), "errors-2026.11.24");
        }
        // A rule without `when` takes everything that reaches it.
        let mut all = Routes::new(pattern("logs"), BulkAction::Index)
            .routed(vec![(None, pattern("all"))], BulkAction::Index);
        assert_eq!(index_of(&mut all, &pay, "x"), "all");
    }
}
