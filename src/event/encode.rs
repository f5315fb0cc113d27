//! Events to JSON documents, in the ECS layout Filebeat's container input writes.
//!
//! Every document has the same shape, and most of it does not change from line to line: the file's
//! Kubernetes identity is serialized once per file (in its `Origin`), the host and agent once per process
//! (in the `Encoder`). Per line only the time, message, stream, offset and flags are written, directly into
//! the output buffer. A processor field that would collide with a typed field, or with another processor
//! field, takes a slower path through a `serde_json` tree so the document never has a duplicate key
//! (Elasticsearch rejects those).
//!
//! Over 400 lines: the encoder's ~420 (every member of the ECS document, the slow path for colliding
//! fields, raw JSON kept on one line) and its tests below them, each shape of document tested next
//! to the code that writes it. The static members (`Encoder::new`) and the slow path could be files
//! of their own if it grows further.

use serde_json::{Map, Value};

use super::escape::plain;
pub(super) use super::escape::string;
use super::{
    field, DataStreams, Event, FieldValue, FromApi, Kubernetes, Level, PathMetadata, Stream,
    TraceIds,
};

/// What is the same on every event this agent ships: `host.*` (when add_host_metadata is on) and
/// `agent.*`, as JSON objects.
#[derive(Debug, Clone)]
pub struct StaticFields {
    pub host: Option<Value>,
    pub agent: Value,
}

/// Writes events as JSON documents. Cheap to share: build one per pipeline.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// `,"input":…,"host":…,"agent":…,"ecs":…`, ready to append.
    static_members: Vec<u8>,
    /// In `setup.mode: data_stream`: each document's `data_stream.*` and `event.dataset`.
    data_streams: Option<DataStreams>,
}

impl Encoder {
    pub fn new(fields: &StaticFields) -> Encoder {
        let mut out = Vec::new();
        static_member(&mut out, field::INPUT);
        out.extend_from_slice(b"{\"type\":");
        string(&mut out, field::INPUT_TYPE);
        out.push(b'}');
        if let Some(host) = &fields.host {
            static_member(&mut out, field::HOST);
            json(&mut out, host);
        }
        static_member(&mut out, field::AGENT);
        json(&mut out, &fields.agent);
        static_member(&mut out, field::ECS);
        out.extend_from_slice(b"{\"version\":");
        string(&mut out, field::ECS_VERSION);
        out.push(b'}');
        Encoder {
            static_members: out,
            data_streams: None,
        }
    }

    /// Documents carry `data_stream.{type,dataset,namespace}` and `event.dataset`, as Elastic Agent
    /// writes them, from their container's hints or `streams`' defaults.
    pub fn with_data_streams(self, streams: DataStreams) -> Encoder {
        Encoder {
            data_streams: Some(streams),
            ..self
        }
    }

    /// Where the documents go in `setup.mode: data_stream`, when they carry its fields.
    pub fn data_streams(&self) -> Option<&DataStreams> {
        self.data_streams.as_ref()
    }

    /// Appends the event's document (one line of JSON, no newline) to `out`.
    pub fn encode(&self, event: &Event, out: &mut Vec<u8>) {
        if fields_fit_fast_path(event) {
            self.encode_fast(event, out);
        } else {
            self.encode_merged(event, out);
        }
    }

    fn encode_fast(&self, event: &Event, out: &mut Vec<u8>) {
        self.encode_typed(event, out);
        for f in &event.fields {
            member(out, &f.path);
            field_value(out, &f.value);
        }
        out.push(b'}');
    }

    /// The typed members, leaving the object open so fields can follow.
    fn encode_typed(&self, event: &Event, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"@timestamp\":\"");
        event.timestamp.write_rfc3339(out);
        out.push(b'"');
        out.extend_from_slice(MESSAGE_MEMBER);
        string(out, event.message.as_str());
        if let Some(stream) = event.stream {
            out.extend_from_slice(match stream {
                Stream::Stdout => STDOUT_MEMBER,
                Stream::Stderr => STDERR_MEMBER,
            });
        }
        out.extend_from_slice(LOG_MEMBER);
        out.extend_from_slice(b"{\"offset\":");
        out.extend_from_slice(itoa::Buffer::new().format(event.offset).as_bytes());
        out.extend_from_slice(b",\"file\":{\"path\":");
        let origin = event.origin.members();
        out.extend_from_slice(origin.path());
        out.push(b'}');
        let flags = event.flags | event.origin.flags;
        if !flags.is_empty() {
            out.extend_from_slice(b",\"flags\":[");
            for (i, name) in flags.names().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                plain(out, name);
            }
            out.push(b']');
        }
        if let Some(original) = &event.original_timestamp {
            out.extend_from_slice(b",\"original_timestamp\":");
            string(out, original);
        }
        match &event.level {
            Some(Level::Known(level)) => {
                out.extend_from_slice(b",\"level\":");
                plain(out, level);
            }
            Some(Level::Other(level)) => {
                out.extend_from_slice(b",\"level\":");
                string(out, level);
            }
            None => {}
        }
        out.push(b'}');
        if let Some(trace) = &event.trace {
            write_trace(out, trace);
        }
        out.extend_from_slice(origin.kubernetes());
        let container = origin.container();
        let runtime = origin.runtime();
        if !container.is_empty() || runtime.is_some() || event.format.is_some() {
            static_member(out, field::CONTAINER);
            out.push(b'{');
            out.extend_from_slice(container);
            let comma = !container.is_empty();
            if let Some(runtime) = runtime {
                if comma {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"runtime\":");
                out.extend_from_slice(runtime);
            } else if let Some(format) = event.format {
                if comma {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"runtime\":");
                plain(out, format.runtime());
            }
            out.push(b'}');
        }
        out.extend_from_slice(&self.static_members);
        let dataset = self.data_streams.as_ref().map(|streams| {
            let (dataset, namespace) = streams.of(&event.origin);
            out.extend_from_slice(DATA_STREAM_OPEN);
            name_string(out, dataset);
            out.extend_from_slice(b",\"namespace\":");
            name_string(out, namespace);
            out.extend_from_slice(b"},\"event\":{\"dataset\":");
            name_string(out, dataset);
            dataset
        });
        // `elastic.co/preserve_original_event`: the line as read, before any processor.
        let original = event
            .origin
            .hints()
            .is_some_and(|h| h.preserve_original_event);
        if original {
            if dataset.is_some() {
                out.push(b',');
            } else {
                static_member(out, "event");
                out.push(b'{');
            }
            out.extend_from_slice(b"\"original\":");
            string(out, event.message.as_str());
        }
        if dataset.is_some() || original {
            out.push(b'}');
        }
        if let Some(error) = &event.error {
            static_member(out, field::ERROR);
            out.extend_from_slice(b"{\"message\":");
            string(out, &error.message);
            out.extend_from_slice(b",\"type\":");
            string(out, error.kind);
            out.push(b'}');
        }
    }

    /// Typed members first, then each field in order, replacing what it collides with: the semantics of
    /// writing the fields into the document one after the other.
    fn encode_merged(&self, event: &Event, out: &mut Vec<u8>) {
        let mut typed = Vec::with_capacity(512);
        self.encode_typed(event, &mut typed);
        typed.push(b'}');
        let mut doc: Map<String, Value> =
            serde_json::from_slice(&typed).expect("the encoder writes valid JSON");
        for f in &event.fields {
            let value = match &f.value {
                FieldValue::RawJson(text) => {
                    serde_json::from_str(text.as_str()).expect("raw JSON is validated when made")
                }
                FieldValue::Json(value) => value.clone(),
            };
            put_path(&mut doc, &f.path, value);
        }
        json(out, &Value::Object(doc));
    }
}

/// `,"data_stream":{"type":"logs","dataset":`: what every document of `setup.mode: data_stream`
/// starts its data stream's fields with (`DATA_STREAM_TYPE`, checked by the tests).
const DATA_STREAM_OPEN: &[u8] = b",\"data_stream\":{\"type\":\"logs\",\"dataset\":";

/// A dataset or namespace as a JSON string, copied: only names that passed
/// `config::data_stream_name_error` get here (the configured ones at load, the hints' when parsed),
/// and it refuses `"`, `\` and control characters, so none needs escaping.
fn name_string(out: &mut Vec<u8>, name: &str) {
    debug_assert!(
        crate::config::data_stream_name_error(name).is_none(),
        "{name:?} reached the encoder unvalidated"
    );
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

/// `,"span":{"id":…},"trace":{"id":…},"transaction":{"id":…}`, those present.
fn write_trace(out: &mut Vec<u8>, trace: &TraceIds) {
    let ids = [
        ("span", &trace.span_id),
        ("trace", &trace.trace_id),
        ("transaction", &trace.transaction_id),
    ];
    for (name, id) in ids {
        if let Some(id) = id {
            member(out, name);
            out.extend_from_slice(b"{\"id\":");
            string(out, id);
            out.push(b'}');
        }
    }
}

/// True when every field is a distinct top-level key the typed part does not write.
fn fields_fit_fast_path(event: &Event) -> bool {
    let fields = &event.fields;
    fields.iter().enumerate().all(|(i, f)| {
        !f.path.contains('.')
            && !field::TYPED_TOP_LEVEL.contains(&&*f.path)
            && !field::DERIVED_TOP_LEVEL.contains(&&*f.path)
            && !fields[..i].iter().any(|earlier| earlier.path == f.path)
    })
}

/// Sets `value` at a dotted path, making objects on the way and replacing anything that is not one.
fn put_path(doc: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut map = doc;
    while let Some(key) = parts.next() {
        if parts.peek().is_none() {
            map.insert(key.to_owned(), value);
            return;
        }
        let slot = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        map = slot.as_object_mut().expect("made an object just above");
    }
}

fn field_value(out: &mut Vec<u8>, value: &FieldValue) {
    match value {
        FieldValue::RawJson(text) => {
            let start = out.len();
            // JSON's whitespace is ASCII: no need for `str::trim`'s Unicode.
            out.extend_from_slice(text.as_str().as_bytes().trim_ascii());
            keep_on_one_line(&mut out[start..]);
        }
        FieldValue::Json(value) => json(out, value),
    }
}

/// A document is one line of NDJSON (a bulk body, `loglynk tail`'s output). Strings are escaped and
/// serde_json writes no whitespace, but raw JSON is copied as it was found, and JSON allows newlines
/// between tokens; outside strings a raw newline can only be such whitespace, so a space means the
/// same. Only raw JSON is scanned, not the whole document.
fn keep_on_one_line(json: &mut [u8]) {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\n', &json[from..]) {
        json[from + at] = b' ';
        from += at + 1;
    }
}

/// The members every event starts with, each written as one copy of a constant: through
/// `static_member` and `plain` they were five growth checks and a call to `memcpy` each, 3 % of the
/// `pipeline` bench's instructions. `the_constant_members_are_what_static_member_writes` holds them
/// to the names in `field`.
const MESSAGE_MEMBER: &[u8] = b",\"message\":";
const STDOUT_MEMBER: &[u8] = b",\"stream\":\"stdout\"";
const STDERR_MEMBER: &[u8] = b",\"stream\":\"stderr\"";
const LOG_MEMBER: &[u8] = b",\"log\":";

/// `,"name":` for a field name of the agent's own.
fn static_member(out: &mut Vec<u8>, name: &'static str) {
    out.push(b',');
    plain(out, name);
    out.push(b':');
}

fn member(out: &mut Vec<u8>, name: &str) {
    out.push(b',');
    string(out, name);
    out.push(b':');
}

fn json(out: &mut Vec<u8>, value: &Value) {
    serde_json::to_writer(&mut *out, value).expect("writing to a Vec cannot fail");
}

/// What an origin contributes to each document, serialized once: the path as a JSON string,
/// `,"kubernetes":{…}` (empty when nothing is known) and, from the API, `,"orchestrator":{…}` and
/// `,"service":{…}`, the members of `container` other than its runtime
/// (`"id":…,"image":{…}`, no braces), and the runtime as a JSON string when the API named it. One
/// allocation, cut at recorded offsets.
#[derive(Debug)]
pub(crate) struct OriginMembers {
    buf: Box<[u8]>,
    path_end: usize,
    kubernetes_end: usize,
    container_end: usize,
}

impl OriginMembers {
    pub(crate) fn new(path: &str, meta: &PathMetadata, api: Option<FromApi<'_>>) -> OriginMembers {
        let mut buf = Vec::with_capacity(256);
        string(&mut buf, path);
        let path_end = buf.len();

        let from_path;
        let kubernetes = match api {
            Some(api) => &**api.kubernetes,
            None => {
                from_path = Kubernetes::from_path(meta);
                &from_path
            }
        };
        if !kubernetes.is_empty() {
            static_member(&mut buf, field::KUBERNETES);
            kubernetes.write_json(&mut buf);
        }
        if api.is_some() {
            kubernetes.write_derived(&mut buf);
        }
        let kubernetes_end = buf.len();

        let id = meta
            .container_id
            .as_deref()
            .or(api.and_then(|a| a.container_id));
        if let Some(id) = id {
            buf.extend_from_slice(b"\"id\":");
            string(&mut buf, id);
        }
        let image = api.and_then(|a| a.kubernetes.container.image.as_deref());
        if let Some(image) = image {
            if buf.len() > kubernetes_end {
                buf.push(b',');
            }
            buf.extend_from_slice(b"\"image\":{\"name\":");
            string(&mut buf, image);
            buf.push(b'}');
        }
        let container_end = buf.len();
        if let Some(runtime) = api.and_then(|a| a.runtime) {
            string(&mut buf, runtime);
        }
        OriginMembers {
            buf: buf.into_boxed_slice(),
            path_end,
            kubernetes_end,
            container_end,
        }
    }

    pub(crate) fn path(&self) -> &[u8] {
        &self.buf[..self.path_end]
    }

    pub(crate) fn kubernetes(&self) -> &[u8] {
        &self.buf[self.path_end..self.kubernetes_end]
    }

    pub(crate) fn container(&self) -> &[u8] {
        &self.buf[self.kubernetes_end..self.container_end]
    }

    pub(crate) fn runtime(&self) -> Option<&[u8]> {
        let runtime = &self.buf[self.container_end..];
        (!runtime.is_empty()).then_some(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::event::kubernetes::{Container, Pod, Workloads};
    use crate::event::{Field, Flags, Format, Origin, Text, Timestamp};
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn the_constant_members_are_what_static_member_writes() {
        let written = |name: &'static str, value: Option<&'static str>| {
            let mut out = Vec::new();
            static_member(&mut out, name);
            if let Some(value) = value {
                plain(&mut out, value);
            }
            out
        };
        assert_eq!(MESSAGE_MEMBER, written(field::MESSAGE, None));
        assert_eq!(LOG_MEMBER, written(field::LOG, None));
        for (stream, constant) in [
            (Stream::Stdout, STDOUT_MEMBER),
            (Stream::Stderr, STDERR_MEMBER),
        ] {
            assert_eq!(constant, written(field::STREAM, Some(stream.as_str())));
        }
    }

    fn encoder() -> Encoder {
        Encoder::new(&StaticFields {
            host: Some(json!({"name": "node-1"})),
            agent: json!({"type": "loglynk", "version": "0.1.0"}),
        })
    }

    fn event() -> Event {
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
        let mut ev = Event::new(
            origin,
            Timestamp::parse_rfc3339("2026-11-24T06:54:58.000000001Z").unwrap(),
            Text::from("say \"hi\"\t"),
            42,
        );
        ev.stream = Some(Stream::Stderr);
        ev.format = Some(Format::Cri);
        ev
    }

    fn doc(ev: &Event) -> Value {
        let mut out = Vec::new();
        encoder().encode(ev, &mut out);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn writes_the_ecs_layout() {
        let mut ev = event();
        ev.flags.insert(Flags::TRUNCATED);
        assert_eq!(
            doc(&ev),
            json!({
                "@timestamp": "2026-11-24T06:54:58.000000001Z",
                "message": "say \"hi\"\t",
                "stream": "stderr",
                "log": {"offset": 42, "file": {"path": "/var/log/containers/web-1_shop_app-abc.log"},
                        "flags": ["truncated"]},
                "input": {"type": "container"},
                "kubernetes": {"pod": {"name": "web-1"}, "namespace": "shop", "container": {"name": "app"}},
                "container": {"id": "abc", "runtime": "containerd"},
                "host": {"name": "node-1"},
                "agent": {"type": "loglynk", "version": "0.1.0"},
                "ecs": {"version": "8.0.0"},
            })
        );
    }

    #[test]
    fn api_metadata_replaces_the_path_kubernetes_and_keeps_the_path_container_id() {
        let path = event().origin.metadata.clone();
        let kubernetes = Arc::new(Kubernetes {
            pod: Pod {
                name: Some("web-1".into()),
                uid: Some("u-1".into()),
                ip: None,
            },
            namespace: Some("shop".into()),
            workloads: Workloads {
                deployment: Some("web".into()),
                ..Workloads::default()
            },
            container: Container {
                name: Some("app".into()),
                image: Some("app:2".into()),
            },
            ..Kubernetes::default()
        });
        let members = |container_id| FromApi {
            kubernetes: &kubernetes,
            container_id,
            runtime: Some("cri-o"),
            hints: None,
        };
        let mut ev = event();
        ev.origin =
            Origin::with_kubernetes(ev.origin.path.clone(), path.clone(), members(Some("new")));
        let d = doc(&ev);
        assert_eq!(d["kubernetes"]["deployment"]["name"], "web");
        assert_eq!(d["kubernetes"]["pod"]["uid"], "u-1");
        assert_eq!(
            d["container"],
            json!({"id": "abc", "image": {"name": "app:2"}, "runtime": "cri-o"})
        );
        assert!(ev.origin.has_kubernetes_metadata());

        let no_path_id = PathMetadata {
            container_id: None,
            ..path
        };
        ev.origin = Origin::with_kubernetes(ev.origin.path.clone(), no_path_id, members(None));
        assert_eq!(
            doc(&ev)["container"],
            json!({"image": {"name": "app:2"}, "runtime": "cri-o"})
        );
    }

    #[test]
    fn origin_flags_join_the_event_flags() {
        let mut ev = event();
        ev.flags.insert(Flags::PARTIAL);
        let meta = ev.origin.metadata.clone();
        ev.origin = Origin::flagged(ev.origin.path.clone(), meta, Flags::KUBE_METADATA_MISSING);
        let d = doc(&ev);
        assert_eq!(
            d["log"]["flags"],
            json!(["partial", "kube_metadata_missing"])
        );
        assert_eq!(d["kubernetes"]["pod"]["name"], "web-1");
        assert_eq!(
            d["container"],
            json!({"id": "abc", "runtime": "containerd"})
        );
        assert!(!ev.origin.has_kubernetes_metadata());
    }

    #[test]
    fn a_time_timestamp_cannot_hold_is_kept_in_log() {
        let mut ev = event();
        ev.flags.insert(Flags::TIMESTAMP_OUT_OF_RANGE);
        ev.original_timestamp = Some("1969-12-31T23:59:59Z".into());
        assert_eq!(
            doc(&ev)["log"],
            json!({"offset": 42, "file": {"path": "/var/log/containers/web-1_shop_app-abc.log"},
                   "flags": ["timestamp_out_of_range"],
                   "original_timestamp": "1969-12-31T23:59:59Z"})
        );
    }

    #[test]
    fn level_goes_in_log_and_trace_ids_at_the_top() {
        let mut ev = event();
        ev.level = Some(crate::event::Level::Known("error"));
        ev.trace = Some(Box::new(TraceIds {
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
            transaction_id: None,
        }));
        let d = doc(&ev);
        assert_eq!(d["log"]["level"], "error");
        assert_eq!(
            d["trace"],
            json!({"id": "4bf92f3577b34da6a3ce929d0e0e4736"})
        );
        assert_eq!(d["span"], json!({"id": "00f067aa0ba902b7"}));
        assert!(d.get("transaction").is_none());

        // A processor field at one of those names replaces it rather than doubling the key.
        ev.fields.push(Field {
            path: "trace".into(),
            value: FieldValue::Json(json!({"id": "from-json"})),
        });
        let mut out = Vec::new();
        encoder().encode(&ev, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\"trace\"").count(), 1, "{text}");
        assert_eq!(doc(&ev)["trace"]["id"], "from-json");
    }

    #[test]
    fn api_metadata_adds_orchestrator_and_service_once_per_file() {
        let kubernetes = Kubernetes {
            pod: Pod {
                name: Some("web-1".into()),
                ..Pod::default()
            },
            namespace: Some("shop".into()),
            service: crate::event::kubernetes::Service {
                name: Some("web".into()),
                version: Some("2.1".into()),
            },
            ..Kubernetes::default()
        };
        let mut ev = event();
        ev.origin = Origin::with_pod(ev.origin.path.clone(), PathMetadata::default(), kubernetes);
        let d = doc(&ev);
        assert_eq!(d["service"], json!({"name": "web", "version": "2.1"}));
        assert_eq!(
            d["orchestrator"],
            json!({"type": "kubernetes", "namespace": "shop",
                   "resource": {"type": "pod", "name": "web-1"}})
        );
        // The path alone names no service, and says nothing of the orchestrator.
        let d = doc(&event());
        assert!(d.get("service").is_none() && d.get("orchestrator").is_none());
    }

    #[test]
    fn preserve_original_event_keeps_the_line_as_read() {
        let hints = crate::event::Hints {
            preserve_original_event: true,
            ..crate::event::Hints::default()
        };
        let mut ev = event();
        ev.origin = Origin::with_hints(ev.origin.path.clone(), hints);
        assert_eq!(doc(&ev)["event"], json!({"original": "say \"hi\"\t"}));
        assert!(doc(&event()).get("event").is_none());
    }

    #[test]
    fn data_stream_mode_names_the_dataset_and_namespace_in_the_document() {
        let encoder = encoder().with_data_streams(crate::event::DataStreams::new(
            &crate::config::DataStream::default(),
        ));
        let doc = |ev: &Event| -> Value {
            let mut out = Vec::new();
            encoder.encode(ev, &mut out);
            serde_json::from_slice(&out).unwrap()
        };
        let plain = doc(&event());
        assert_eq!(
            plain["data_stream"],
            json!({"type": "logs", "dataset": "kubernetes.container_logs", "namespace": "default"})
        );
        assert_eq!(
            plain["event"],
            json!({"dataset": "kubernetes.container_logs"})
        );
        let hints = crate::event::Hints {
            dataset: Some("shop.orders".into()),
            preserve_original_event: true,
            ..crate::event::Hints::default()
        };
        let mut ev = event();
        ev.origin = Origin::with_hints(ev.origin.path.clone(), hints);
        let hinted = doc(&ev);
        assert_eq!(hinted["data_stream"]["dataset"], "shop.orders");
        assert_eq!(hinted["data_stream"]["namespace"], "default");
        assert_eq!(
            hinted["event"],
            json!({"dataset": "shop.orders", "original": "say \"hi\"\t"})
        );
        // A processor's `event.*` field merges into the same object rather than repeating the key.
        ev.fields.push(Field {
            path: "event.kind".into(),
            value: FieldValue::Json(json!("alert")),
        });
        let mut out = Vec::new();
        encoder.encode(&ev, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\"event\"").count(), 1, "{text}");
        assert_eq!(doc(&ev)["event"]["kind"], "alert");
        assert_eq!(doc(&ev)["event"]["dataset"], "shop.orders");
    }

    #[test]
    fn raw_json_fields_are_copied_verbatim() {
        let mut ev = event();
        ev.fields.push(Field {
            path: "json".into(),
            value: FieldValue::RawJson(Text::from(" {\"a\":[1,2.50]} ")),
        });
        let mut out = Vec::new();
        encoder().encode(&ev, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with(",\"json\":{\"a\":[1,2.50]}}"), "{text}");
    }

    #[test]
    fn a_document_with_raw_json_spread_over_lines_is_one_line() {
        let mut ev = event();
        ev.message = Text::from("{\"a\":\n[1,\r\n2]}\nrest");
        ev.fields.push(Field {
            path: "json".into(),
            value: FieldValue::RawJson(Text::from("{\"a\":\n[1,\r\n2]}")),
        });
        let mut out = Vec::new();
        encoder().encode(&ev, &mut out);
        assert!(!out.contains(&b'\n'), "{}", String::from_utf8_lossy(&out));
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["json"], json!({"a": [1, 2]}));
        assert_eq!(
            doc["message"], "{\"a\":\n[1,\r\n2]}\nrest",
            "strings keep theirs"
        );
    }

    #[test]
    fn colliding_fields_replace_what_they_collide_with() {
        let mut ev = event();
        ev.fields.push(Field {
            path: "message".into(),
            value: FieldValue::Json(json!("replaced")),
        });
        ev.fields.push(Field {
            path: "kubernetes.extra".into(),
            value: FieldValue::Json(json!(1)),
        });
        ev.fields.push(Field {
            path: "json".into(),
            value: FieldValue::RawJson(Text::from("{\"x\":1}")),
        });
        ev.fields.push(Field {
            path: "json".into(),
            value: FieldValue::Json(json!({"y": 2})),
        });
        let doc = doc(&ev);
        assert_eq!(doc["message"], "replaced");
        assert_eq!(doc["kubernetes"]["extra"], 1);
        assert_eq!(doc["kubernetes"]["namespace"], "shop");
        assert_eq!(doc["json"], json!({"y": 2}));
    }

    #[test]
    fn no_host_and_no_metadata_leave_those_members_out() {
        let encoder = Encoder::new(&StaticFields {
            host: None,
            agent: json!({}),
        });
        let ev = Event::new(
            Origin::new("plain.log".into(), PathMetadata::default()),
            Timestamp::from_nanos(0),
            Text::from("x"),
            0,
        );
        let mut out = Vec::new();
        encoder.encode(&ev, &mut out);
        let doc: Value = serde_json::from_slice(&out).unwrap();
        let mut keys: Vec<_> = doc.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["@timestamp", "agent", "ecs", "input", "log", "message"]
        );
    }
}
