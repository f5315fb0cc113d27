//! target `""`: a decoded object's keys become top-level fields of the event.

use serde_json::Value;

use crate::event::{field, Event, Field, FieldValue};

pub(super) const NOT_AN_OBJECT: &str = "cannot merge a non-object into the root";

/// Never written from decoded JSON, even with overwrite_keys: the time the runtime wrote on the line stays
/// the event's time, and `@metadata` is the pipeline's, not the document's.
const PROTECTED: [&str; 2] = [field::TIMESTAMP, "@metadata"];

/// Typed objects the event fills only in part, with the members it fills. A dotted key naming another
/// member adds to the object: ECS loggers write `"log.level"` at the top level, and Filebeat ships it next
/// to its own `log.offset`. Every other typed top-level key is owned whole.
const PARTLY_TYPED: [(&str, &[&str]); 4] = [
    (field::LOG, &["offset", "file", "flags"]),
    (field::CONTAINER, &["id", "runtime"]),
    (field::INPUT, &["type"]),
    (field::ECS, &["version"]),
];

/// Adds the members of `value` as fields. A key that collides with what the event already has (a typed
/// field, or a field an earlier processor or decoded field wrote) is skipped, or with `overwrite` added
/// after it so the encoder lets it win.
pub(super) fn into_root(
    event: &mut Event,
    value: Value,
    overwrite: bool,
) -> Result<(), &'static str> {
    let Value::Object(members) = value else {
        return Err(NOT_AN_OBJECT);
    };
    let existing = event.fields.len();
    for (key, value) in members {
        if PROTECTED.contains(&head(&key)) {
            continue;
        }
        let collides = || {
            owned_by_typed(&key)
                || event
                    .fields
                    .iter()
                    .take(existing)
                    .any(|f| overlaps(&f.path, &key))
        };
        if !overwrite && collides() {
            continue;
        }
        event.fields.push(Field {
            path: key.into(),
            value: FieldValue::Json(value),
        });
    }
    Ok(())
}

fn head(path: &str) -> &str {
    path.split_once('.').map_or(path, |(head, _)| head)
}

fn owned_by_typed(key: &str) -> bool {
    let head = head(key);
    if !field::TYPED_TOP_LEVEL.contains(&head) {
        return false;
    }
    let Some((_, rest)) = key.split_once('.') else {
        return true;
    };
    match PARTLY_TYPED.iter().find(|(object, _)| *object == head) {
        Some((_, members)) => members.iter().any(|member| overlaps(member, rest)),
        None => true,
    }
}

/// Whether writing one dotted path would touch what the other holds: equal, or one inside the other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_by_whole_segments() {
        assert!(overlaps("a", "a"));
        assert!(overlaps("a.b", "a"));
        assert!(overlaps("a", "a.b.c"));
        assert!(!overlaps("ab", "a"));
        assert!(!overlaps("a.b", "a.c"));
    }

    #[test]
    fn typed_ownership_follows_what_the_event_writes() {
        for key in [
            "message",
            "log",
            "log.offset",
            "log.file.path",
            "kubernetes.pod.name",
            "ecs",
        ] {
            assert!(owned_by_typed(key), "{key}");
        }
        for key in [
            "log.level",
            "logger",
            "container.image.name",
            "service.name",
            "ecs_x",
        ] {
            assert!(!owned_by_typed(key), "{key}");
        }
    }
}
