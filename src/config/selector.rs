//! [`PodSelector`]: which pods' containers a setting is about, by namespace, pod labels and container
//! name. `kubernetes.include` and `kubernetes.exclude` use it to decide which containers' files are
//! read at all; any setting that applies to some pods only can take the same type.
//!
//! Matching takes plain values (config imports no stage): the caller looks them up where it knows
//! them, from the log path or the Kubernetes API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A set of containers, as Kubernetes selectors read: every criterion set must hold (namespaces *and*
/// labels *and* containers); a list means any of its entries. Names are exact, or a prefix ending in
/// `*` (`kube-*`), as `kubernetes.include_annotations` reads them; labels are a [`LabelSelector`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodSelector {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(skip_serializing_if = "LabelSelector::is_empty")]
    pub labels: LabelSelector,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

/// A Kubernetes label selector as `kubectl -l` writes it (`app.kubernetes.io/name=web,tier!=debug`,
/// `tier in (web, api)`, `tier notin (debug)`, `canary`, `!canary`): every requirement must hold.
/// A string rather than a map because the configuration splits dotted keys, and label keys have dots.
/// Keys are the labels as written on the pod, whatever `dedot` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    /// `in`/`=`: one of `values`; `notin`/`!=`: none of them (or no such label); `values` empty:
    /// the label exists (`in`) or does not (`notin`).
    negated: bool,
    values: Vec<String>,
}

impl Requirement {
    fn holds(&self, labels: &BTreeMap<String, String>) -> bool {
        let found = match labels.get(&self.key) {
            Some(value) => self.values.is_empty() || self.values.contains(value),
            None => false,
        };
        found != self.negated
    }
}

impl LabelSelector {
    /// Parses a selector; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("{text:?}: an empty requirement"));
            }
            requirements.push(requirement(part).ok_or_else(|| {
                format!("{part:?} is not `key=value`, `key!=value`, `key in (a, b)`, `key notin (a)`, `key` or `!key`")
            })?);
        }
        Ok(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a pod with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.holds(labels))
    }
}

/// Splits at the commas that are not inside `( )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text.trim().is_empty() {
        parts.push(&text[start..]);
    }
    parts
}

fn requirement(part: &str) -> Option<Requirement> {
    let key_ok =
        |k: &str| !k.is_empty() && !k.contains(|c: char| c.is_whitespace() || "=!(),".contains(c));
    let value_ok = |v: &str| !v.contains(|c: char| c.is_whitespace() || "=!(),".contains(c));
    let made = |key: &str, negated: bool, values: Vec<String>| {
        (key_ok(key) && values.iter().all(|v| value_ok(v))).then(|| Requirement {
            key: key.to_owned(),
            negated,
            values,
        })
    };
    if let Some((key, value)) = part.split_once("!=") {
        return made(key.trim(), true, vec![value.trim().to_owned()]);
    }
    if let Some((key, value)) = part.split_once('=') {
        let value = value.strip_prefix('=').unwrap_or(value);
        return made(key.trim(), false, vec![value.trim().to_owned()]);
    }
    if let Some(key) = part.strip_prefix('!') {
        return made(key.trim(), true, Vec::new());
    }
    let Some((head, list)) = part.split_once('(') else {
        return made(part, false, Vec::new());
    };
    let list = list.strip_suffix(')')?;
    let mut words = head.split_whitespace();
    let (key, op) = (words.next()?, words.next()?);
    let negated = match (op, words.next()) {
        ("in", None) => false,
        ("notin", None) => true,
        _ => return None,
    };
    let values: Vec<String> = list.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(String::is_empty) {
        return None;
    }
    made(key, negated, values)
}

impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match (r.negated, r.values.as_slice()) {
                (false, []) => write!(f, "{}", r.key)?,
                (true, []) => write!(f, "!{}", r.key)?,
                (false, [one]) => write!(f, "{}={one}", r.key)?,
                (true, [one]) => write!(f, "{}!={one}", r.key)?,
                (negated, values) => {
                    let op = if negated { "notin" } else { "in" };
                    write!(f, "{} {op} ({})", r.key, values.join(","))?
                }
            }
        }
        Ok(())
    }
}

impl Serialize for LabelSelector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LabelSelector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LabelSelector::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl PodSelector {
    /// Whether a container is one of this set. A criterion whose value is unknown (`None`: a path
    /// that names no namespace, a pod the API did not describe) does not hold.
    pub fn matches(
        &self,
        namespace: Option<&str>,
        labels: Option<&BTreeMap<String, String>>,
        container: Option<&str>,
    ) -> bool {
        let listed = |patterns: &[String], name: Option<&str>| {
            patterns.is_empty()
                || name.is_some_and(|name| patterns.iter().any(|p| name_matches(p, name)))
        };
        let labelled =
            self.labels.is_empty() || labels.is_some_and(|labels| self.labels.matches(labels));
        listed(&self.namespaces, namespace) && labelled && listed(&self.containers, container)
    }

    /// Whether matching needs the pod's labels, which only the Kubernetes API knows.
    pub fn uses_labels(&self) -> bool {
        !self.labels.is_empty()
    }

    fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.labels.is_empty() && self.containers.is_empty()
    }
}

/// `pattern` is `name`, or a prefix of it ending in `*`.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// `kubernetes.include` then `kubernetes.exclude`: a container is read when `include` is empty or one
/// of its selectors matches, and none of `exclude`'s does.
pub fn selected(
    include: &[PodSelector],
    exclude: &[PodSelector],
    namespace: Option<&str>,
    labels: Option<&BTreeMap<String, String>>,
    container: Option<&str>,
) -> bool {
    let any = |selectors: &[PodSelector]| {
        selectors
            .iter()
            .any(|s| s.matches(namespace, labels, container))
    };
    (include.is_empty() || any(include)) && !any(exclude)
}

/// Problems of the selectors under `key` (`kubernetes.include`); `labels_known`: whether pod labels can
/// be known at all (`kubernetes.enabled` is not `false`).
pub(crate) fn validate(
    key: &str,
    selectors: &[PodSelector],
    labels_known: bool,
    problem: &mut impl FnMut(String, String),
) {
    for (i, selector) in selectors.iter().enumerate() {
        let at = format!("{key}.{i}");
        if selector.is_empty() {
            problem(
                at.clone(),
                "must name namespaces, labels or containers (an empty selector would be every pod)"
                    .into(),
            );
        }
        for (field, names) in [
            ("namespaces", &selector.namespaces),
            ("containers", &selector.containers),
        ] {
            for (j, name) in names.iter().enumerate() {
                if name.trim().is_empty() {
                    problem(format!("{at}.{field}.{j}"), "must not be empty".into());
                }
            }
        }
        if selector.uses_labels() && !labels_known {
            problem(
                format!("{at}.labels"),
                "pod labels come from the Kubernetes API, and kubernetes.enabled is false".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn selector(namespaces: &[&str], label: &str, containers: &[&str]) -> PodSelector {
        PodSelector {
            namespaces: namespaces.iter().map(|s| (*s).to_owned()).collect(),
            labels: LabelSelector::parse(label).unwrap(),
            containers: containers.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn every_criterion_set_must_hold() {
        let s = selector(&["shop", "kube-*"], "app.kubernetes.io/name=web", &[]);
        let web = labels(&[("app.kubernetes.io/name", "web"), ("tier", "front")]);
        assert!(s.matches(Some("shop"), Some(&web), Some("app")));
        assert!(s.matches(Some("kube-system"), Some(&web), None));
        assert!(!s.matches(Some("shopping"), Some(&web), Some("app")));
        assert!(!s.matches(Some("shop"), Some(&labels(&[("tier", "front")])), None));
        assert!(!s.matches(Some("shop"), None, None), "labels not known");
        assert!(!s.matches(None, Some(&web), None), "namespace not known");

        let sidecar = selector(&[], "", &["istio-proxy"]);
        assert!(sidecar.matches(None, None, Some("istio-proxy")));
        assert!(!sidecar.matches(Some("shop"), None, Some("app")));
        assert!(!sidecar.uses_labels() && s.uses_labels());
    }

    #[test]
    fn include_then_exclude() {
        let include = [selector(&["shop"], "", &[]), selector(&["pay"], "", &[])];
        let exclude = [selector(&[], "", &["istio-proxy"])];
        assert!(selected(&include, &exclude, Some("pay"), None, Some("app")));
        assert!(!selected(
            &include,
            &exclude,
            Some("shop"),
            None,
            Some("istio-proxy")
        ));
        assert!(!selected(
            &include,
            &exclude,
            Some("kube-system"),
            None,
            Some("app")
        ));
        assert!(selected(
            &[],
            &exclude,
            Some("kube-system"),
            None,
            Some("app")
        ));
        assert!(selected(&[], &[], None, None, None));
    }

    #[test]
    fn a_selector_must_say_something() {
        let mut found = Vec::new();
        let selectors = [
            PodSelector::default(),
            selector(&[""], "", &[]),
            selector(&[], "app=x", &[]),
        ];
        validate("kubernetes.exclude", &selectors, false, &mut |k, _| {
            found.push(k)
        });
        assert_eq!(
            found,
            [
                "kubernetes.exclude.0",
                "kubernetes.exclude.1.namespaces.0",
                "kubernetes.exclude.2.labels",
            ]
        );
    }

    #[test]
    fn label_selectors_read_as_kubectl_writes_them() {
        let pod = labels(&[("app.kubernetes.io/name", "web"), ("tier", "front")]);
        for (text, selected) in [
            ("app.kubernetes.io/name=web", true),
            ("app.kubernetes.io/name==web, tier=front", true),
            ("tier!=debug", true),
            ("tier!=front", false),
            ("canary!=yes", true),
            ("tier in (back, front)", true),
            ("tier notin (back,front)", false),
            ("tier", true),
            ("!tier", false),
            ("!canary", true),
            ("canary", false),
            ("tier in (front),app.kubernetes.io/name notin (api)", true),
        ] {
            let selector = LabelSelector::parse(text).unwrap();
            assert_eq!(selector.matches(&pod), selected, "{text}");
            // Printed as `config check` shows it, it reads back the same.
            let printed = selector.to_string();
            assert_eq!(
                LabelSelector::parse(&printed).unwrap(),
                selector,
                "{printed}"
            );
        }
        for bad in [
            "a=b,",
            "a b",
            "tier in front",
            "tier in (a,)",
            "=x",
            "a=(b)",
            "tier within (a)",
        ] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
        assert!(LabelSelector::parse("").unwrap().is_empty());
    }
}
