//! Filebeat's `labels.dedot` / `annotations.dedot`.
//!
//! Elasticsearch reads a dot in a field name as a path, so the labels `app: web` and
//! `app.kubernetes.io/name: web` would make `kubernetes.labels.app` both a keyword and an object, and the
//! second document to arrive is rejected. Replacing `.` with `_` in the keys keeps each label one flat
//! field, and is what Filebeat does by default.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::event::kubernetes::Labels;

/// The key as it is written: dots replaced when `dedot` is on.
pub fn key(key: &str, dedot: bool) -> Cow<'_, str> {
    if dedot && key.contains('.') {
        Cow::Owned(key.replace('.', "_"))
    } else {
        Cow::Borrowed(key)
    }
}

/// A label (or annotation) map as it is shipped, keeping only the keys `keep` accepts. Empty when nothing
/// is left, and an empty map is never written. Two keys that dedot alike keep the value of the later one
/// in Kubernetes' (sorted) order.
pub fn object(
    map: Option<&BTreeMap<String, String>>,
    dedot: bool,
    keep: impl Fn(&str) -> bool,
) -> Labels {
    map.into_iter()
        .flatten()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (key(k, dedot).into_owned(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_become_underscores_only_when_on() {
        assert_eq!(
            key("app.kubernetes.io/name", true),
            "app_kubernetes_io/name"
        );
        assert_eq!(
            key("app.kubernetes.io/name", false),
            "app.kubernetes.io/name"
        );
        assert!(matches!(key("tier", true), Cow::Borrowed("tier")));
    }

    #[test]
    fn empty_or_filtered_out_maps_give_nothing() {
        let map = BTreeMap::from([("a.b".to_owned(), "1".to_owned())]);
        assert!(object(None, true, |_| true).is_empty());
        assert!(object(Some(&map), true, |_| false).is_empty());
        assert_eq!(
            object(Some(&map), true, |_| true),
            Labels::from([("a_b".to_owned(), "1".to_owned())])
        );
    }
}
