//! Environment variables: where they come from, and `${VAR}` expansion in config strings.
//!
//! Syntax, as Filebeat's:
//! - `${VAR}`: the variable's value; an error when it is not set.
//! - `${VAR:default}`: the default when VAR is not set (`${VAR:}` gives an empty string). The default may
//!   itself hold references: `${A:${B:x}}`.
//! - `$${`: a literal `${`, for a value that must contain one.
//!
//! A variable's value is used as it is, never expanded again, so a value containing `${` cannot pull in
//! other variables.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;

use thiserror::Error;

use super::tree::Node;

/// Where variables are read from: the process environment in the agent, a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<S: BuildHasher> Env for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(crate) enum ExpandError {
    #[error("environment variable {0} is not set")]
    Unset(String),
    #[error("`${{` without a closing `}}` (write `$${{` for a literal `${{`)")]
    Unterminated,
    #[error("`${{}}` names no variable")]
    EmptyName,
}

/// Expands every string in the tree, returning each failure with the key path of its string.
pub(crate) fn expand_tree(node: &mut Node, env: &dyn Env) -> Vec<(Vec<String>, ExpandError)> {
    let mut errors = Vec::new();
    expand_at(node, env, &mut Vec::new(), &mut errors);
    errors
}

fn expand_at(
    node: &mut Node,
    env: &dyn Env,
    path: &mut Vec<String>,
    errors: &mut Vec<(Vec<String>, ExpandError)>,
) {
    match node {
        Node::Str(s) => match expand(s, env) {
            Ok(Cow::Borrowed(_)) => {}
            Ok(Cow::Owned(expanded)) => *s = expanded,
            Err(e) => errors.push((path.clone(), e)),
        },
        Node::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                expand_at(item, env, path, errors);
                path.pop();
            }
        }
        Node::Map(entries) => {
            for (key, value) in entries {
                path.push(key.clone());
                expand_at(value, env, path, errors);
                path.pop();
            }
        }
        Node::Null | Node::Bool(_) | Node::Int(_) | Node::UInt(_) | Node::Float(_) => {}
    }
}

/// Expands the references in one string; borrowed when it has none.
pub(crate) fn expand<'a>(s: &'a str, env: &dyn Env) -> Result<Cow<'a, str>, ExpandError> {
    if !s.contains('$') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = closing_brace(after).ok_or(ExpandError::Unterminated)?;
            resolve(&after[..end], env, &mut out)?;
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// `body` is what is between `${` and its `}`: `NAME` or `NAME:default`.
fn resolve(body: &str, env: &dyn Env, out: &mut String) -> Result<(), ExpandError> {
    let (name, default) = match body.split_once(':') {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    if name.is_empty() {
        return Err(ExpandError::EmptyName);
    }
    match (env.var(name), default) {
        (Some(value), _) => out.push_str(&value),
        (None, Some(default)) => out.push_str(&expand(default, env)?),
        (None, None) => return Err(ExpandError::Unset(name.to_owned())),
    }
    Ok(())
}

/// The inverse of [`expand_tree`] for a rendered configuration: every string written so that expanding it
/// gives it back, so text that `config check` prints loads back to the same values.
pub(crate) fn escape_yaml(value: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) => {
            if let Cow::Owned(escaped) = escape(s) {
                *s = escaped;
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(escape_yaml),
        Value::Mapping(entries) => entries.values_mut().for_each(escape_yaml),
        Value::Tagged(tagged) => escape_yaml(&mut tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `s` as it must be written for [`expand`] to give it back: a literal `${` (one written `$${`, or that
/// came from a variable) becomes `$${` again.
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if s.contains("${") {
        Cow::Owned(s.replace("${", "$${"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The index of the `}` closing a reference whose body starts `s`, skipping nested `${…}`.
fn closing_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        [
            ("A", "alpha"),
            ("B", "beta"),
            ("EMPTY", ""),
            ("TRICKY", "${A}"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn ok(s: &str) -> String {
        expand(s, &env()).unwrap().into_owned()
    }

    #[test]
    fn expands_references_with_and_without_defaults() {
        assert_eq!(ok("${A}"), "alpha");
        assert_eq!(ok("${A}-${B:x}"), "alpha-beta");
        assert_eq!(ok("x${NOPE:dflt}y"), "xdflty");
        assert_eq!(ok("${NOPE:}"), "");
        assert_eq!(ok("${EMPTY:fallback}"), "");
        assert_eq!(ok("${NOPE:${B}}"), "beta");
        assert_eq!(ok("${NOPE:a:b}"), "a:b");
        assert_eq!(ok("${NOPE:http://h:9200}"), "http://h:9200");
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(ok("${TRICKY}"), "${A}");
    }

    #[test]
    fn dollars_without_a_brace_and_escapes_are_literal() {
        assert_eq!(ok("cost $5 $"), "cost $5 $");
        assert_eq!(ok("$${A}"), "${A}");
        assert_eq!(ok("$$${A}"), "$${A}");
        assert!(matches!(
            expand("plain", &env()),
            Ok(Cow::Borrowed("plain"))
        ));
    }

    #[test]
    fn escaped_text_expands_back_to_itself() {
        for s in [
            "plain",
            "${A}",
            "$${A}",
            "$$",
            "a$",
            "${${",
            "$",
            "x${NOPE:y}z",
            "$$${A}",
        ] {
            assert_eq!(expand(&escape(s), &env()).unwrap(), s, "{s}");
        }
        assert!(matches!(escape("cost $5"), Cow::Borrowed("cost $5")));
    }

    #[test]
    fn reports_unset_empty_and_unterminated_references() {
        assert_eq!(
            expand("${NOPE}", &env()),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert_eq!(
            expand("${NOPE:${ALSO_NOPE}}", &env()),
            Err(ExpandError::Unset("ALSO_NOPE".into()))
        );
        assert_eq!(expand("${}", &env()), Err(ExpandError::EmptyName));
        assert_eq!(expand("${A", &env()), Err(ExpandError::Unterminated));
    }

    #[test]
    fn expands_every_string_in_a_tree_and_names_failing_keys() {
        let mut tree =
            Node::parse("a: ${A}\nb: ['${B}', '${NOPE}']\nc:\n  d: ${GONE}\nn: 1\n").unwrap();
        let errors = expand_tree(&mut tree, &env());
        assert_eq!(tree.get(&["a"]), Some(&Node::Str("alpha".into())));
        let failed: Vec<_> = errors
            .iter()
            .map(|(p, e)| (p.join("."), e.clone()))
            .collect();
        assert_eq!(
            failed,
            [
                ("b.1".to_owned(), ExpandError::Unset("NOPE".into())),
                ("c.d".to_owned(), ExpandError::Unset("GONE".into())),
            ]
        );
    }
}
