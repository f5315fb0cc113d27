//! The one `Event` type that flows through the pipeline, and the ECS field names it is shipped under.
//!
//! An event is built from one log line (or several joined partial lines) and carries only what varies per
//! line; what is the same for every line of a file lives once in its [`Origin`], and what is the same for
//! every line of the agent (host, agent identity) lives in the [`Encoder`]. That split is what keeps the hot
//! path free of per-line copies of metadata.

mod context;
mod data_stream;
mod encode;
mod escape;
mod flags;
mod hints;
pub mod kubernetes;
mod lookup;
mod path;
mod text;
mod timestamp;

use std::sync::Arc;

pub use crate::config::data_stream_name_error;
pub use context::{Level, TraceIds};
pub use data_stream::DataStreams;
pub use encode::{Encoder, StaticFields};
pub use flags::Flags;
pub use hints::{Hints, JsonHint};
pub use kubernetes::{FromApi, Kubernetes};
pub use path::{path_metadata, PathMetadata};
pub use text::Text;
pub use timestamp::{TimeError, Timestamp};

/// ECS names of every field loglynk emits, so the serializer, the README's field table and the tests agree.
pub mod field {
    pub const TIMESTAMP: &str = "@timestamp";
    pub const MESSAGE: &str = "message";
    pub const STREAM: &str = "stream";
    pub const LOG: &str = "log";
    pub const INPUT: &str = "input";
    pub const KUBERNETES: &str = "kubernetes";
    pub const CONTAINER: &str = "container";
    pub const HOST: &str = "host";
    pub const AGENT: &str = "agent";
    pub const ECS: &str = "ecs";
    pub const ERROR: &str = "error";

    /// Top-level keys the typed part of an event owns. A processor that writes one of these (e.g.
    /// decode_json_fields into the root) either skips it or, with overwrite_keys, replaces it.
    pub const TYPED_TOP_LEVEL: [&str; 11] = [
        TIMESTAMP, MESSAGE, STREAM, LOG, INPUT, KUBERNETES, CONTAINER, HOST, AGENT, ECS, ERROR,
    ];

    /// Top-level objects the event writes only when it has them (the trace IDs a line carried, the
    /// service and orchestrator its pod names). A processor field at one of these takes the encoder's
    /// merging path, so the document never has the key twice; unlike `TYPED_TOP_LEVEL`, decoded JSON
    /// may still write them.
    pub const DERIVED_TOP_LEVEL: [&str; 7] = [
        "trace",
        "span",
        "transaction",
        "service",
        "orchestrator",
        "event",
        "data_stream",
    ];

    /// ECS version the document layout follows; Filebeat 8 writes the same.
    pub const ECS_VERSION: &str = "8.0.0";
    /// `input.type`, as Filebeat's container input writes it.
    pub const INPUT_TYPE: &str = "container";
}

/// Which of the container's output streams a line was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Stream> {
        match bytes {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// The on-disk format a line was written in, which also names the container runtime that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<RFC3339Nano> <stream> <P|F> <message>`, written by containerd and CRI-O.
    Cri,
    /// Docker's json-file driver: `{"log":…,"stream":…,"time":…}`.
    Docker,
}

impl Format {
    /// `container.runtime`. CRI-O also writes the CRI format; Kubernetes metadata corrects this from the
    /// container ID's prefix when it is known.
    pub fn runtime(self) -> &'static str {
        match self {
            Format::Cri => "containerd",
            Format::Docker => "docker",
        }
    }
}

/// Everything that is the same for every line of one file. Shared by `Arc`, so an event costs one pointer
/// for it, and its JSON is built once when the file is opened (and again only when its pod's metadata
/// changes).
#[derive(Debug)]
pub struct Origin {
    /// `log.file.path`: the path as discovered (the /var/log/containers symlink), as Filebeat reports it.
    pub path: String,
    pub metadata: PathMetadata,
    /// Added to every event's flags when it is shipped (e.g. kube_metadata_missing).
    pub flags: Flags,
    /// What the Kubernetes API said about the file's container; `None` when only the path is known.
    kubernetes: Option<Arc<Kubernetes>>,
    /// What the pod's annotations ask of this container's logs; `None` when they ask nothing.
    hints: Option<Arc<Hints>>,
    members: encode::OriginMembers,
}

impl Origin {
    /// An origin known from its path alone.
    pub fn new(path: String, metadata: PathMetadata) -> Arc<Origin> {
        Origin::build(path, metadata, None, Flags::empty())
    }

    /// An origin whose pod the Kubernetes API described.
    pub fn with_kubernetes(path: String, metadata: PathMetadata, api: FromApi<'_>) -> Arc<Origin> {
        Origin::build(path, metadata, Some(api), Flags::empty())
    }

    /// An origin known from its path alone, whose every event says so with `flags`.
    pub fn flagged(path: String, metadata: PathMetadata, flags: Flags) -> Arc<Origin> {
        Origin::build(path, metadata, None, flags)
    }

    /// A file whose pod's annotations ask `hints` of it, and the API said nothing else: what the tests
    /// of the stages that follow hints start from.
    #[cfg(test)]
    pub(crate) fn with_hints(path: String, hints: Hints) -> Arc<Origin> {
        Origin::from_api(
            path,
            PathMetadata::default(),
            Kubernetes::default(),
            Some(hints),
        )
    }

    /// A file whose pod the API described as `kubernetes`, and said nothing else (no container id,
    /// runtime or hints): what the tests of the fields read from pod metadata start from.
    #[cfg(test)]
    pub(crate) fn with_pod(
        path: String,
        metadata: PathMetadata,
        kubernetes: Kubernetes,
    ) -> Arc<Origin> {
        Origin::from_api(path, metadata, kubernetes, None)
    }

    #[cfg(test)]
    fn from_api(
        path: String,
        metadata: PathMetadata,
        kubernetes: Kubernetes,
        hints: Option<Hints>,
    ) -> Arc<Origin> {
        let (kubernetes, hints) = (Arc::new(kubernetes), hints.map(Arc::new));
        let api = FromApi {
            kubernetes: &kubernetes,
            container_id: None,
            runtime: None,
            hints: hints.as_ref(),
        };
        Origin::with_kubernetes(path, metadata, api)
    }

    fn build(
        path: String,
        metadata: PathMetadata,
        api: Option<FromApi<'_>>,
        flags: Flags,
    ) -> Arc<Origin> {
        let members = encode::OriginMembers::new(&path, &metadata, api);
        Arc::new(Origin {
            path,
            metadata,
            flags,
            kubernetes: api.map(|api| Arc::clone(api.kubernetes)),
            hints: api.and_then(|api| api.hints.cloned()),
            members,
        })
    }

    /// Whether the Kubernetes API described this file's pod.
    pub fn has_kubernetes_metadata(&self) -> bool {
        self.kubernetes.is_some()
    }

    /// The `kubernetes` object the API gave for this file's container, when it did.
    pub fn kubernetes(&self) -> Option<&Kubernetes> {
        self.kubernetes.as_deref()
    }

    /// The container's hints, when its pod (or namespace) annotates any.
    pub fn hints(&self) -> Option<&Hints> {
        self.hints.as_deref()
    }

    pub(crate) fn members(&self) -> &encode::OriginMembers {
        &self.members
    }
}

/// A field a processor added, addressed by its dotted path from the document root.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: Arc<str>,
    pub value: FieldValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Text already validated as one JSON value and shipped as-is: decoding a message into `json` costs a
    /// validation pass and no tree, and the bytes are shared with `message`.
    RawJson(Text),
    Json(serde_json::Value),
}

/// `error.*`, as Filebeat's processors set it (e.g. `error.type: json` from decode_json_fields).
#[derive(Debug, Clone, PartialEq)]
pub struct EventError {
    pub message: String,
    pub kind: &'static str,
}

/// One log line on its way to the output.
#[derive(Debug, Clone)]
pub struct Event {
    /// `@timestamp`: the time the runtime wrote on the line (nanoseconds kept); the read time for a line
    /// that carried none.
    pub timestamp: Timestamp,
    pub message: Text,
    pub stream: Option<Stream>,
    pub format: Option<Format>,
    pub origin: Arc<Origin>,
    /// `log.offset`: the byte offset of the line's start in the file.
    pub offset: u64,
    /// Where reading resumes once this event is acknowledged. Not shipped. Never past the start of a
    /// partial line still being joined in the same file, so a checkpoint never skips a half-joined line.
    pub checkpoint: u64,
    pub flags: Flags,
    /// `log.original_timestamp`: the time as the runtime wrote it, when `@timestamp` cannot hold it
    /// (flagged `timestamp_out_of_range`). Rare, so boxed rather than a slice of the line.
    pub original_timestamp: Option<Box<str>>,
    /// Fields added by processors, in the order they were added.
    pub fields: Vec<Field>,
    pub error: Option<Box<EventError>>,
    /// `log.level`, from the decoded message or the line's text (see `process`).
    pub level: Option<Level>,
    /// `trace.id`, `span.id`, `transaction.id`, lifted from the decoded message.
    pub trace: Option<Box<TraceIds>>,
}

impl Event {
    /// An event with no processor output yet.
    pub fn new(origin: Arc<Origin>, timestamp: Timestamp, message: Text, offset: u64) -> Event {
        Event {
            timestamp,
            message,
            stream: None,
            format: None,
            origin,
            offset,
            checkpoint: offset,
            flags: Flags::empty(),
            original_timestamp: None,
            fields: Vec::new(),
            error: None,
            level: None,
            trace: None,
        }
    }

    /// The text of a field processors may read, by its dotted path: `message`, or a string a processor
    /// added. `None` when it is absent or not a string.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        if path == field::MESSAGE {
            return Some(self.message.as_str());
        }
        let (head, rest) = match path.split_once('.') {
            Some((head, rest)) => (head, Some(rest)),
            None => (path, None),
        };
        // Later fields shadow earlier ones at the same path, as a second write would.
        self.fields.iter().rev().find_map(|f| {
            if &*f.path == path {
                match &f.value {
                    FieldValue::Json(serde_json::Value::String(s)) => Some(s.as_str()),
                    _ => None,
                }
            } else if &*f.path == head {
                let FieldValue::Json(value) = &f.value else {
                    return None;
                };
                rest?
                    .split('.')
                    .try_fold(value, |v, key| v.get(key))?
                    .as_str()
            } else {
                None
            }
        })
    }

    pub fn set_error(&mut self, kind: &'static str, message: String) {
        self.error = Some(Box::new(EventError { message, kind }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Event {
        Event::new(
            Origin::new("/x.log".into(), PathMetadata::default()),
            Timestamp::from_nanos(0),
            Text::from("hello"),
            0,
        )
    }

    #[test]
    fn an_origin_keeps_what_the_api_said_and_a_path_origin_nothing() {
        let kubernetes = Kubernetes {
            namespace: Some("shop".into()),
            ..Kubernetes::default()
        };
        let origin = Origin::with_pod("/x.log".into(), PathMetadata::default(), kubernetes.clone());
        assert_eq!(origin.kubernetes(), Some(&kubernetes));
        assert!(origin.has_kubernetes_metadata());
        assert_eq!(event().origin.kubernetes(), None);
    }

    #[test]
    fn get_str_reads_message_and_nested_fields() {
        let mut ev = event();
        ev.fields.push(Field {
            path: "app".into(),
            value: FieldValue::Json(json!({"inner": {"msg": "deep"}, "n": 1})),
        });
        assert_eq!(ev.get_str("message"), Some("hello"));
        assert_eq!(ev.get_str("app.inner.msg"), Some("deep"));
        assert_eq!(ev.get_str("app.n"), None);
        assert_eq!(ev.get_str("missing"), None);
    }
}
