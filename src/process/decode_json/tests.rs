mod properties;

use serde_json::{json, Value};

use super::*;
use crate::event::{Encoder, Origin, PathMetadata, StaticFields, Text, Timestamp};

pub(super) fn config() -> DecodeJsonFields {
    DecodeJsonFields {
        enabled: true,
        fields: vec!["message".into()],
        target: "json".into(),
        overwrite_keys: false,
        max_depth: 1,
        add_error_key: true,
        process_array: false,
    }
}

pub(super) fn event(message: &str) -> Event {
    Event::new(
        Origin::new("/x.log".into(), PathMetadata::default()),
        Timestamp::from_nanos(1_000_000_000),
        Text::from(message.to_owned()),
        0,
    )
}

/// The event after decoding, and how many errors were counted.
fn decoded(config: &DecodeJsonFields, message: &str) -> (Event, u64) {
    let mut ev = event(message);
    let errors = DecodeJson::new(config).run(&mut ev);
    (ev, errors)
}

pub(super) fn doc(ev: &Event) -> Value {
    let encoder = Encoder::new(&StaticFields {
        host: None,
        agent: json!({}),
    });
    let mut out = Vec::new();
    encoder.encode(ev, &mut out);
    serde_json::from_slice(&out).expect("the encoder writes JSON")
}

fn error_of(ev: &Event) -> Option<(&str, &str)> {
    ev.error.as_ref().map(|e| (e.kind, e.message.as_str()))
}

#[test]
fn plain_text_is_left_alone() {
    for message in [
        "hello world",
        "",
        "   ",
        "42",
        "true",
        "\"x\"",
        "null",
        "} {",
    ] {
        let (ev, errors) = decoded(&config(), message);
        assert!(ev.fields.is_empty(), "{message}");
        assert_eq!((errors, error_of(&ev)), (0, None), "{message}");
    }
}

#[test]
fn object_goes_to_target_sharing_the_message_bytes() {
    let (ev, errors) = decoded(&config(), " \t{\"a\":1,\"n\":1.50}\r\n");
    assert_eq!(errors, 0);
    assert_eq!(ev.fields.len(), 1);
    assert_eq!(&*ev.fields[0].path, "json");
    let FieldValue::RawJson(raw) = &ev.fields[0].value else {
        panic!("expected raw JSON, got {:?}", ev.fields[0].value);
    };
    assert_eq!(raw.as_str(), "{\"a\":1,\"n\":1.50}");
    assert_eq!(raw.as_bytes().as_ptr(), ev.message.as_bytes()[2..].as_ptr());
    let doc = doc(&ev);
    assert_eq!(doc["json"], json!({"a": 1, "n": 1.5}));
    assert_eq!(doc["message"], " \t{\"a\":1,\"n\":1.50}\r\n");
}

#[test]
fn invalid_json_sets_an_error_only_with_add_error_key() {
    for message in ["{\"a\":", "{\"a\":1} x", "{} {}", "[1,]"] {
        let config = DecodeJsonFields {
            process_array: true,
            ..config()
        };
        let (ev, errors) = decoded(&config, message);
        assert_eq!(errors, 1, "{message}");
        assert!(ev.fields.is_empty(), "{message}");
        assert_eq!(ev.message.as_str(), message);
        let (kind, text) = error_of(&ev).expect("an error");
        assert_eq!(kind, "json");
        assert!(text.starts_with("parsing input as JSON: "), "{text}");
        let doc = doc(&ev);
        assert_eq!(doc["error"]["type"], "json");

        let quiet = DecodeJsonFields {
            add_error_key: false,
            ..config
        };
        let (ev, errors) = decoded(&quiet, message);
        assert_eq!((errors, error_of(&ev)), (1, None), "{message}");
    }
}

#[test]
fn arrays_need_process_array() {
    let (ev, errors) = decoded(&config(), "[1,{\"a\":2}]");
    assert!(ev.fields.is_empty());
    assert_eq!((errors, error_of(&ev)), (0, None));

    let config = DecodeJsonFields {
        process_array: true,
        ..config()
    };
    let (ev, errors) = decoded(&config, "[1,{\"a\":2}]");
    assert_eq!(errors, 0);
    assert_eq!(doc(&ev)["json"], json!([1, {"a": 2}]));
}

#[test]
fn duplicate_keys_keep_the_last_value_and_ship_one_key() {
    for (message, expected) in [
        (r#"{"a":1,"b":0,"a":2}"#, json!({"a": 2, "b": 0})),
        (r#"{"a":{"b":1,"b":2}}"#, json!({"a": {"b": 2}})),
    ] {
        let (ev, errors) = decoded(&config(), message);
        assert_eq!(errors, 0);
        assert!(matches!(ev.fields[0].value, FieldValue::Json(_)));
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: json!({}),
        });
        let mut out = Vec::new();
        encoder.encode(&ev, &mut out);
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text.matches("\"b\":").count(), 1, "{text}");
        assert_eq!(doc(&ev)["json"], expected);
    }
}

#[test]
fn max_depth_decodes_json_held_in_strings() {
    let message = r#"{"inner":"{\"x\":1}"}"#;
    let (ev, _) = decoded(&config(), message);
    assert_eq!(doc(&ev)["json"], json!({"inner": "{\"x\":1}"}));

    let deeper = DecodeJsonFields {
        max_depth: 2,
        ..config()
    };
    let (ev, errors) = decoded(&deeper, message);
    assert_eq!(errors, 0);
    assert_eq!(doc(&ev)["json"], json!({"inner": {"x": 1}}));
}

fn root(overwrite_keys: bool) -> DecodeJsonFields {
    DecodeJsonFields {
        target: String::new(),
        overwrite_keys,
        ..config()
    }
}

#[test]
fn root_merge_skips_what_the_event_has() {
    let message = r#"{"@timestamp":"2001-01-01T00:00:00Z","message":"inner","level":"warn","log.level":"warn","log.offset":9}"#;
    let (ev, errors) = decoded(&root(false), message);
    assert_eq!(errors, 0);
    let doc = doc(&ev);
    assert_eq!(doc["@timestamp"], "1970-01-01T00:00:01.000000000Z");
    assert_eq!(doc["message"], message);
    assert_eq!(doc["level"], "warn");
    assert_eq!(doc["log"]["level"], "warn");
    assert_eq!(doc["log"]["offset"], 0);
}

#[test]
fn root_merge_with_overwrite_keys_replaces_all_but_the_timestamp() {
    let message = r#"{"@timestamp":"2001-01-01T00:00:00Z","message":"inner","log.offset":9}"#;
    let (ev, errors) = decoded(&root(true), message);
    assert_eq!(errors, 0);
    let doc = doc(&ev);
    assert_eq!(doc["@timestamp"], "1970-01-01T00:00:01.000000000Z");
    assert_eq!(doc["message"], "inner");
    assert_eq!(doc["log"]["offset"], 9);
}

#[test]
fn root_merge_respects_fields_written_before() {
    let mut ev = event(r#"{"app":{"new":1},"other":2}"#);
    ev.fields.push(Field {
        path: "app.old".into(),
        value: FieldValue::Json(json!(0)),
    });
    DecodeJson::new(&root(false)).run(&mut ev);
    let doc = doc(&ev);
    assert_eq!(doc["app"], json!({"old": 0}));
    assert_eq!(doc["other"], 2);
}

#[test]
fn root_merge_rejects_non_objects() {
    let config = DecodeJsonFields {
        process_array: true,
        ..root(false)
    };
    let (ev, errors) = decoded(&config, "[1]");
    assert_eq!(errors, 1);
    assert!(ev.fields.is_empty());
    assert_eq!(
        error_of(&ev),
        Some(("json", "cannot merge a non-object into the root"))
    );
}

#[test]
fn other_fields_are_read_as_strings_and_missing_ones_skipped() {
    let config = DecodeJsonFields {
        fields: vec!["missing".into(), "app.payload".into(), "app.n".into()],
        ..config()
    };
    let mut ev = event("{\"not\":\"decoded\"}");
    ev.fields.push(Field {
        path: "app".into(),
        value: FieldValue::Json(json!({"payload": "{\"k\":[1]}", "n": 5})),
    });
    let errors = DecodeJson::new(&config).run(&mut ev);
    assert_eq!((errors, error_of(&ev)), (0, None));
    assert_eq!(ev.fields.len(), 2);
    assert_eq!(ev.fields[1].value, FieldValue::Json(json!({"k": [1]})));
    assert_eq!(doc(&ev)["json"], json!({"k": [1]}));
}

#[test]
fn disabled_does_nothing() {
    let config = DecodeJsonFields {
        enabled: false,
        ..config()
    };
    let (ev, errors) = decoded(&config, "{\"a\":");
    assert!(ev.fields.is_empty());
    assert_eq!((errors, error_of(&ev)), (0, None));
}

#[test]
fn nesting_beyond_the_parser_limit_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let config = DecodeJsonFields {
        process_array: true,
        ..config()
    };
    let (ev, errors) = decoded(&config, &deep);
    assert_eq!(errors, 1);
    assert!(ev.fields.is_empty());
}

#[test]
fn only_json_whitespace_is_trimmed_from_the_ends() {
    for (text, trimmed) in [
        ("", ""),
        (" \t\r\n", ""),
        ("\n {\"a\": 1}\r\n", "{\"a\": 1}"),
        ("{} []", "{} []"),
        // Not JSON's whitespace: kept, so the text is not taken for JSON.
        ("\u{a0}{}", "\u{a0}{}"),
        ("\x0c{}\x0b", "\x0c{}\x0b"),
        ("é {} é", "é {} é"),
    ] {
        assert_eq!(trim_json_space(text), trimmed, "{text:?}");
    }
}

#[test]
fn trace_ids_share_the_message_bytes_unless_escaped_or_numbers() {
    let within = |ev: &Event, id: &Text| {
        let message = ev.message.as_bytes().as_ptr_range();
        message.contains(&id.as_bytes().as_ptr())
    };
    let (ev, errors) = decoded(
        &config(),
        r#"{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"a\u0062c","dd":{"trace_id":7}}"#,
    );
    assert_eq!(errors, 0);
    let trace = ev.trace.as_deref().expect("trace IDs found");
    let id = trace.trace_id.as_ref().unwrap();
    assert_eq!(id.as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(within(&ev, id), "a slice of the message, not a copy");
    let escaped = trace.span_id.as_ref().unwrap();
    assert_eq!(escaped.as_str(), "abc", "unescaped");
    assert!(
        !within(&ev, escaped),
        "copied: the message holds it escaped"
    );

    let (ev, _) = decoded(&config(), r#"{"dd":{"trace_id":1234567890123}}"#);
    let number = ev.trace.as_deref().unwrap().trace_id.as_ref().unwrap();
    assert_eq!(number.as_str(), "1234567890123");
    assert!(!within(&ev, number));
}
