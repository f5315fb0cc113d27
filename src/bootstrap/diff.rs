//! What differs between the object in the cluster and the one loglynk would install, one line a
//! leaf: `- path: value` only in the cluster, `+ path: value` only in loglynk's, `~ path: old -> new`.

use serde_json::Value;

pub fn diff(installed: &Value, wanted: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    walk("", installed, wanted, &mut lines);
    lines
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(old_map), Value::Object(new_map)) => {
            for (key, old_value) in old_map {
                let child = join(path, key);
                match new_map.get(key) {
                    Some(new_value) => walk(&child, old_value, new_value, out),
                    None => out.push(format!("- {child}: {old_value}")),
                }
            }
            for (key, new_value) in new_map {
                if !old_map.contains_key(key) {
                    out.push(format!("+ {}: {new_value}", join(path, key)));
                }
            }
        }
        _ if old != new => out.push(format!("~ {}: {old} -> {new}", display(path))),
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn display(path: &str) -> &str {
    if path.is_empty() {
        "(root)"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_changed_leaf() {
        let old = json!({"a": {"b": 1, "gone": true}, "list": [1, 2], "same": "x"});
        let new = json!({"a": {"b": 2}, "list": [1, 2, 3], "same": "x", "added": {"c": null}});
        assert_eq!(
            diff(&old, &new),
            [
                "~ a.b: 1 -> 2",
                "- a.gone: true",
                "~ list: [1,2] -> [1,2,3]",
                "+ added: {\"c\":null}",
            ]
        );
        assert!(diff(&new, &new).is_empty());
    }
}
