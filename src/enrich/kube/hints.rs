//! Pod and namespace annotations -> each container's [`Hints`], as Filebeat's hints autodiscover and
//! Elastic Agent read them: `co.elastic.logs/<hint>` for every container of the pod,
//! `co.elastic.logs.<container>/<hint>` for one (it wins), the namespace's annotations as defaults
//! under the pod's own; `elastic.co/dataset`, `elastic.co/namespace` and
//! `elastic.co/preserve_original_event` as Elastic Agent's Kubernetes integration has them.
//!
//! A hint that cannot be used (a bad regex, `enabled: maybe`, a hint loglynk does not have) is left
//! out, reported with its reason, and the others apply.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Multiline;
use crate::event::Hints;

mod values;
use values::{boolean, data_stream_part, json_target, rate_limit, regexes};

/// Filebeat's hint prefix.
const LOGS: &str = "co.elastic.logs";
/// Elastic Agent's annotations.
const AGENT: &str = "elastic.co/";
/// loglynk's own annotations, named whole like Elastic Agent's (`loglynk.io/rate_limit`).
const OWN: &str = "loglynk.io/";

/// Whether an annotation is a hint: what the pod cache must keep of a pod's annotations.
pub fn is_hint_annotation(key: &str) -> bool {
    key.starts_with(LOGS) || key.starts_with(AGENT) || key.starts_with(OWN)
}

/// A hint left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintError {
    /// The annotation, as written on the pod or namespace.
    pub annotation: String,
    /// `invalid_bool`, `invalid_regex`, `invalid_name`, `invalid_multiline`, `unsupported`: the
    /// metric's label.
    pub reason: &'static str,
}

type Annotations = BTreeMap<String, String>;

/// The hints of `container`, or `None` when no annotation asks anything of it. Errors are appended
/// to `errors`.
pub fn container_hints(
    namespace: Option<&Annotations>,
    pod: Option<&Annotations>,
    container: &str,
    errors: &mut Vec<HintError>,
) -> Option<Arc<Hints>> {
    // By hint name: (value, annotation); later layers replace earlier ones.
    let mut merged: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    let specific = format!("{LOGS}.{container}/");
    for annotations in [namespace, pod].into_iter().flatten() {
        for generic in [true, false] {
            for (key, value) in annotations {
                let name = if generic {
                    key.strip_prefix(LOGS)
                        .and_then(|rest| rest.strip_prefix('/'))
                        .or_else(|| whole_name(key))
                } else {
                    key.strip_prefix(specific.as_str())
                };
                if let Some(name) = name {
                    merged.insert(name.to_owned(), (value.as_str(), key.as_str()));
                }
            }
        }
    }
    if merged.is_empty() {
        return None;
    }
    let mut hints = Hints::default();
    multiline(&mut hints, &mut merged, errors);
    for (name, (value, annotation)) in &merged {
        if let Err(reason) = apply(&mut hints, name, value) {
            errors.push(HintError {
                annotation: (*annotation).to_owned(),
                reason,
            });
            continue;
        }
        hints.source.insert(name.clone(), (*value).to_owned());
    }
    (!hints.source.is_empty()).then(|| Arc::new(hints))
}

/// Takes the `multiline.*` hints out of `merged` and reads them together, as the configuration's
/// `multiline` section: a pattern without `type` is Filebeat's default type, `pattern`. Settings that
/// do not make a valid section are all left out (one half-applied would join lines nobody asked to
/// join), each problem reported under the annotation of its key.
fn multiline(
    hints: &mut Hints,
    merged: &mut BTreeMap<String, (&str, &str)>,
    errors: &mut Vec<HintError>,
) {
    let names: Vec<String> = merged
        .keys()
        .filter(|name| name.starts_with("multiline."))
        .cloned()
        .collect();
    let taken: Vec<(String, (&str, &str))> = names
        .into_iter()
        .filter_map(|name| merged.remove_entry(&name))
        .collect();
    if taken.is_empty() {
        return;
    }
    let mut settings: Vec<(&str, &str)> = taken
        .iter()
        .map(|(name, (value, _))| (&name["multiline.".len()..], value.trim()))
        .collect();
    if !settings.iter().any(|(key, _)| *key == "type") {
        settings.push(("type", "pattern"));
    }
    match Multiline::from_settings(settings.iter().copied()) {
        Ok(multiline) => {
            hints.multiline = Some(Arc::new(multiline));
            for (name, (value, _)) in &taken {
                hints.source.insert(name.clone(), (*value).to_owned());
            }
        }
        Err(problems) => {
            // A value of the wrong type comes back without its key: the setting that fails alone.
            let unreadable = |(key, value): &&(&str, &str)| {
                Multiline::from_settings([(*key, *value)])
                    .is_err_and(|p| p.iter().any(|(k, _)| k.is_empty()))
            };
            for (key, _) in problems {
                let key = match key.as_str() {
                    "" => settings.iter().find(unreadable).map_or("", |(k, _)| *k),
                    key => key,
                };
                let annotation = taken
                    .iter()
                    .find(|(name, _)| name["multiline.".len()..] == *key)
                    .or(taken.first())
                    .map_or("", |(_, (_, annotation))| annotation);
                errors.push(HintError {
                    annotation: annotation.to_owned(),
                    reason: "invalid_multiline",
                });
            }
        }
    }
}

fn apply(hints: &mut Hints, name: &str, value: &str) -> Result<(), &'static str> {
    match name {
        "enabled" => hints.enabled = boolean(value)?,
        "include_lines" => hints.include_lines = Some(regexes(value)?),
        "exclude_lines" => hints.exclude_lines = Some(regexes(value)?),
        "json.keys_under_root" => {
            hints.json.target = boolean(value)?.then(|| Arc::from(""));
        }
        "json.overwrite_keys" => hints.json.overwrite_keys = Some(boolean(value)?),
        "json.add_error_key" => hints.json.add_error_key = Some(boolean(value)?),
        "elastic.co/dataset" => hints.dataset = Some(data_stream_part(value)?),
        "elastic.co/namespace" => hints.namespace = Some(data_stream_part(value)?),
        "elastic.co/preserve_original_event" => hints.preserve_original_event = boolean(value)?,
        "loglynk.io/rate_limit" => hints.rate_limit = Some(rate_limit(value)?),
        _ => match decode_json_option(name) {
            Some("enabled") => hints.json.enabled = Some(boolean(value)?),
            Some("target") => hints.json.target = Some(json_target(value)?),
            Some("overwrite_keys") => hints.json.overwrite_keys = Some(boolean(value)?),
            Some("add_error_key") => hints.json.add_error_key = Some(boolean(value)?),
            // `fields: message` is what loglynk decodes anyway.
            Some("fields") if value.trim() == "message" => {}
            _ => return Err("unsupported"),
        },
    }
    Ok(())
}

/// Elastic Agent's and loglynk's annotations are named by their whole key.
fn whole_name(key: &str) -> Option<&str> {
    (key.starts_with(AGENT) || key.starts_with(OWN)).then_some(key)
}

/// `processors.decode_json_fields.<option>` or Filebeat's numbered `processors.1.decode_json_fields.<option>`.
fn decode_json_option(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("processors.")?;
    let rest = match rest.split_once('.') {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => rest,
        _ => rest,
    };
    rest.strip_prefix("decode_json_fields.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Annotations {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_pod_overrides_its_namespace_and_the_container_the_pod() {
        let ns = map(&[
            ("co.elastic.logs/enabled", "false"),
            ("co.elastic.logs/exclude_lines", "^DEBUG"),
            ("elastic.co/dataset", "shop.default"),
        ]);
        let pod = map(&[
            ("co.elastic.logs/enabled", "true"),
            ("co.elastic.logs.sidecar/enabled", "false"),
            (
                "co.elastic.logs/processors.1.decode_json_fields.target",
                "app",
            ),
            ("elastic.co/namespace", "prod"),
            ("unrelated/annotation", "x"),
        ]);
        let mut errors = Vec::new();
        let app = container_hints(Some(&ns), Some(&pod), "app", &mut errors).unwrap();
        assert!(app.enabled);
        assert!(!app.keeps_line("DEBUG noisy") && app.keeps_line("INFO fine"));
        assert_eq!(app.json.target.as_deref(), Some("app"));
        assert_eq!(app.dataset.as_deref(), Some("shop.default"));
        assert_eq!(app.namespace.as_deref(), Some("prod"));
        let sidecar = container_hints(Some(&ns), Some(&pod), "sidecar", &mut errors).unwrap();
        assert!(!sidecar.enabled);
        assert_ne!(*app, *sidecar);
        assert!(errors.is_empty(), "{errors:?}");

        // The namespace's defaults alone, and nothing at all.
        let only_ns = container_hints(Some(&ns), None, "app", &mut errors).unwrap();
        assert!(!only_ns.enabled);
        assert!(container_hints(None, Some(&map(&[("a/b", "c")])), "app", &mut errors).is_none());
    }

    #[test]
    fn a_malformed_hint_is_left_out_with_its_reason_and_the_rest_apply() {
        let pod = map(&[
            ("co.elastic.logs/enabled", "maybe"),
            ("co.elastic.logs/include_lines", "^ERROR, ^WARN"),
            ("co.elastic.logs/exclude_lines", "(unclosed"),
            ("co.elastic.logs/module", "nginx"),
            ("elastic.co/dataset", "Not-Valid"),
            ("elastic.co/preserve_original_event", "true"),
            ("co.elastic.logs/json.keys_under_root", "true"),
        ]);
        let mut errors = Vec::new();
        let hints = container_hints(None, Some(&pod), "app", &mut errors).unwrap();
        assert!(hints.enabled, "the default stays");
        assert!(hints.keeps_line("WARN x") && !hints.keeps_line("INFO x"));
        assert!(hints.exclude_lines.is_none());
        assert!(hints.dataset.is_none());
        assert!(hints.preserve_original_event);
        assert_eq!(hints.json.target.as_deref(), Some(""));
        let mut reasons: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.annotation.as_str(), e.reason))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                ("co.elastic.logs/enabled", "invalid_bool"),
                ("co.elastic.logs/exclude_lines", "invalid_regex"),
                ("co.elastic.logs/module", "unsupported"),
                ("elastic.co/dataset", "invalid_name"),
            ]
        );
    }

    #[test]
    fn a_rate_limit_comes_from_the_pod_or_its_namespace_and_a_malformed_one_is_left_out() {
        use crate::config::{LimitPolicy, RateUnit};
        let ns = map(&[("loglynk.io/rate_limit", "1MiB/s")]);
        let pod = map(&[("loglynk.io/rate_limit", "100/s drop")]);
        let mut errors = Vec::new();
        let limit = container_hints(Some(&ns), Some(&pod), "app", &mut errors)
            .unwrap()
            .rate_limit
            .unwrap();
        assert_eq!((limit.rate.amount, limit.rate.unit), (100, RateUnit::Lines));
        assert_eq!(limit.policy, LimitPolicy::Drop);
        let limit = container_hints(Some(&ns), None, "app", &mut errors)
            .unwrap()
            .rate_limit
            .unwrap();
        assert_eq!(
            (limit.rate.unit, limit.policy),
            (RateUnit::Bytes, LimitPolicy::Delay)
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(is_hint_annotation("loglynk.io/rate_limit"));

        let bad = map(&[
            ("loglynk.io/rate_limit", "lots"),
            ("co.elastic.logs/enabled", "true"),
        ]);
        let hints = container_hints(Some(&ns), Some(&bad), "app", &mut errors).unwrap();
        assert!(
            hints.rate_limit.is_none(),
            "the malformed pod's limit is not the namespace's"
        );
        assert_eq!(
            errors,
            [HintError {
                annotation: "loglynk.io/rate_limit".into(),
                reason: "invalid_rate_limit",
            }]
        );
        let mut errors = Vec::new();
        container_hints(
            None,
            Some(&map(&[("loglynk.io/other", "x")])),
            "app",
            &mut errors,
        );
        assert_eq!(errors[0].reason, "unsupported");
    }

    #[test]
    fn multiline_hints_read_as_the_configuration_section() {
        use crate::config::MultilineType;
        let ns = map(&[("co.elastic.logs/multiline.max_lines", "50")]);
        let pod = map(&[
            ("co.elastic.logs/multiline.pattern", r"^\["),
            ("co.elastic.logs/multiline.negate", "true"),
            ("co.elastic.logs/multiline.match", "after"),
            ("co.elastic.logs.sidecar/multiline.type", "none"),
        ]);
        let mut errors = Vec::new();
        let app = container_hints(Some(&ns), Some(&pod), "app", &mut errors).unwrap();
        let m = app.multiline.as_deref().expect("multiline");
        // No `type`: Filebeat's default, pattern.
        assert_eq!(m.kind, MultilineType::Pattern);
        assert_eq!(m.pattern.as_ref().map(|p| p.as_str()), Some(r"^\["));
        assert!(m.negate);
        assert_eq!(m.max_lines, 50, "the namespace's default under the pod's");
        let sidecar = container_hints(Some(&ns), Some(&pod), "sidecar", &mut errors).unwrap();
        assert_eq!(
            sidecar.multiline.as_ref().unwrap().kind,
            MultilineType::None
        );
        assert!(errors.is_empty(), "{errors:?}");

        // One bad setting leaves every multiline hint out; the others apply.
        let bad = map(&[
            ("co.elastic.logs/multiline.pattern", "(unclosed"),
            ("co.elastic.logs/multiline.negate", "true"),
            ("co.elastic.logs/exclude_lines", "^DEBUG"),
        ]);
        let hints = container_hints(None, Some(&bad), "app", &mut errors).unwrap();
        assert!(hints.multiline.is_none() && hints.exclude_lines.is_some());
        assert!(!hints.source.contains_key("multiline.negate"));
        assert_eq!(
            errors,
            [HintError {
                annotation: "co.elastic.logs/multiline.pattern".into(),
                reason: "invalid_multiline"
            }]
        );
        errors.clear();
        let count = map(&[("co.elastic.logs/multiline.type", "count")]);
        container_hints(None, Some(&count), "app", &mut errors);
        assert_eq!(
            errors[0].reason, "invalid_multiline",
            "count_lines is missing"
        );
    }
}
