//! `max_depth` beyond 1: JSON carried as a string inside the decoded JSON, decoded in turn.

use serde_json::Value;

use super::{looks_like_json, trim_json_space};

/// Decodes the string members of `value` that hold a JSON object (or array, with `process_array`), then
/// theirs, `levels` levels down. As in Filebeat only the direct members of each decoded value are
/// looked at, not strings deeper in its structure, and a member that fails to decode stays the string it
/// was, without an error: the event's own field decoded fine.
///
/// Filebeat decodes an array found at the last level even without process_array; here process_array
/// means the same at every level.
pub(super) fn expand(value: &mut Value, levels: usize, process_array: bool) {
    if levels == 0 {
        return;
    }
    let decode = |member: &mut Value| {
        let Value::String(text) = member else {
            return;
        };
        let text = trim_json_space(text);
        if !looks_like_json(text, process_array) {
            return;
        }
        if let Ok(mut inner) = serde_json::from_str::<Value>(text) {
            expand(&mut inner, levels - 1, process_array);
            *member = inner;
        }
    };
    match value {
        Value::Object(members) => members.values_mut().for_each(decode),
        Value::Array(items) if process_array => items.iter_mut().for_each(decode),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expanded(mut value: Value, levels: usize, process_array: bool) -> Value {
        expand(&mut value, levels, process_array);
        value
    }

    #[test]
    fn decodes_one_level_per_level() {
        let two = json!({"a": r#"{"b":"{\"c\":1}"}"#, "n": 1});
        assert_eq!(expanded(two.clone(), 0, false), two);
        assert_eq!(
            expanded(two.clone(), 1, false),
            json!({"a": {"b": r#"{"c":1}"#}, "n": 1})
        );
        assert_eq!(
            expanded(two, 2, false),
            json!({"a": {"b": {"c": 1}}, "n": 1})
        );
    }

    #[test]
    fn leaves_scalars_invalid_text_and_deeper_strings_alone() {
        let value = json!({"num": "42", "bad": "{nope", "obj": {"s": "{\"x\":1}"}});
        assert_eq!(expanded(value.clone(), 5, true), value);
    }

    #[test]
    fn arrays_follow_process_array() {
        let value = json!({"list": "[1,\"{\\\"y\\\":2}\"]"});
        assert_eq!(expanded(value.clone(), 3, false), value);
        assert_eq!(expanded(value, 3, true), json!({"list": [1, {"y": 2}]}));
        let top = json!([" {\"z\":true} "]);
        assert_eq!(expanded(top.clone(), 1, false), top);
        assert_eq!(expanded(top, 1, true), json!([{"z": true}]));
    }
}
