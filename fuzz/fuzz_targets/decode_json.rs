//! decode_json_fields (through `Processors`, in every configuration) over an event whose message is the
//! input, then the event encoded as the output ships it: always one valid JSON document without a
//! duplicate key, with the message intact.

#![no_main]

use libfuzzer_sys::fuzz_target;
use loglynk::config::{DecodeJsonFields, DropOwnLogs};
use loglynk::event::{Encoder, Event, Origin, PathMetadata, StaticFields, Text, Timestamp};
use loglynk::process::{Processors, Verdict};
use loglynk_fuzz::json_document;
use serde_json::json;

/// Targets that exercise each path: a plain key, a dotted one, a typed field's name, the root.
const TARGETS: [&str; 4] = ["json", "app.data", "log", ""];

fuzz_target!(|data: &[u8]| {
    let [options, message @ ..] = data else {
        return;
    };
    let options = *options;
    let config = DecodeJsonFields {
        enabled: true,
        // A second field decodes a string the first one produced (`json.msg`, or `msg` at the root).
        fields: match options & 0b11 {
            0 | 1 => vec!["message".into()],
            2 => vec!["message".into(), "json.msg".into()],
            _ => vec!["message".into(), "msg".into()],
        },
        target: TARGETS[usize::from(options >> 2 & 0b11)].into(),
        overwrite_keys: options & 0b1_0000 != 0,
        max_depth: 1 + usize::from(options >> 5 & 0b11),
        add_error_key: options & 0b1000_0000 != 0,
        process_array: options & 0b11 == 1,
    };
    let processors = Processors::new(
        &config,
        &DropOwnLogs {
            enabled: true,
            containers: vec!["loglynk".into()],
        },
    );
    let origin = Origin::new(
        "/var/log/containers/web-1_shop_app-abc.log".into(),
        PathMetadata {
            pod_name: Some("web-1".into()),
            namespace: Some("shop".into()),
            pod_uid: None,
            container_name: Some("app".into()),
            container_id: Some("abc".into()),
        },
    );
    let message = String::from_utf8_lossy(message).into_owned();
    let timestamp = Timestamp::from_nanos(1_795_504_500_123_456_789);
    let mut event = Event::new(origin, timestamp, Text::from(message.clone()), 42);
    let mut batch = vec![event.clone()];
    assert_eq!(processors.run(&mut event), Verdict::Keep);
    // The batch form does the same to the same event.
    let outcome = processors.run_batch(&mut batch);
    assert_eq!(outcome.dropped_own_logs, 0);
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].fields, event.fields);
    assert_eq!(batch[0].error, event.error);
    if outcome.decode_errors == 0 || !config.add_error_key {
        assert_eq!(event.error, None);
    } else {
        assert!(event.error.is_some());
    }
    assert_eq!(
        event.message.as_str(),
        message,
        "decoding never changes the message"
    );

    let encoder = Encoder::new(&StaticFields {
        host: Some(json!({"name": "node-1"})),
        agent: json!({"type": "loglynk", "version": "0.1.0"}),
    });
    let mut out = Vec::new();
    encoder.encode(&event, &mut out);
    let doc = json_document(&out);
    // The timestamp is the line's whatever the message says, and the message is intact unless a
    // decoded `message` key was let overwrite it.
    let mut written = Vec::new();
    timestamp.write_rfc3339(&mut written);
    assert_eq!(
        doc["@timestamp"].as_str().map(str::as_bytes),
        Some(&written[..])
    );
    if !(config.target.is_empty() && config.overwrite_keys) {
        assert_eq!(doc["message"].as_str(), Some(message.as_str()));
    }
});
