use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{config, doc, event};
use crate::config::DecodeJsonFields;
use crate::event::{Field, FieldValue};
use crate::process::decode_json::DecodeJson;

fn configs() -> Vec<DecodeJsonFields> {
    let base = config();
    vec![
        base.clone(),
        DecodeJsonFields {
            process_array: true,
            max_depth: 3,
            ..base.clone()
        },
        DecodeJsonFields {
            target: String::new(),
            process_array: true,
            ..base.clone()
        },
        DecodeJsonFields {
            target: String::new(),
            overwrite_keys: true,
            max_depth: 2,
            ..base
        },
    ]
}

/// Text near JSON, where the decoder's edge cases are, as well as anything at all.
fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\[\\]{}\":,.0-9aeflnrstu\\\\-]{0,40}",
        json_value().prop_map(|v| v.to_string()),
        (
            json_value(),
            any::<prop::sample::Index>(),
            "[\\[\\]{}\":,\\\\ ]"
        )
            .prop_map(|(v, at, noise)| {
                let mut text = v.to_string();
                let mut cut = at.index(text.len() + 1);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.insert_str(cut, &noise);
                text
            }),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[ab\"\\\\\u{e9}\u{1f600}.@]{0,4}"
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Eighths print and parse back exactly, whatever the float parser's rounding.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 8.0)),
        "[ a{}\\[\\]\"\\\\\n\u{0}\u{e9}\u{1f600}]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(key(), json_value(), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #[test]
    fn any_message_is_processed_and_encoded_without_panicking(message in message()) {
        for config in configs() {
            let mut ev = event(&message);
            DecodeJson::new(&config).run(&mut ev);
            doc(&ev);
            // A colliding field sends the encoder down its tree path, which re-parses raw JSON.
            ev.fields.push(Field { path: "kubernetes.x".into(), value: FieldValue::Json(Value::Null) });
            doc(&ev);
        }
    }

    #[test]
    fn serialized_json_round_trips_into_the_target(object in json_object(), pad in "[ \t\r\n]{0,2}") {
        let mut ev = event(&format!("{pad}{object}{pad}"));
        let errors = DecodeJson::new(&config()).run(&mut ev);
        prop_assert_eq!(errors, 0);
        prop_assert!(matches!(ev.fields[0].value, FieldValue::RawJson(_)));
        prop_assert_eq!(&doc(&ev)["json"], &object);
    }
}
