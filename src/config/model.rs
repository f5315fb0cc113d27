//! The typed configuration: every key loglynk reads, and its default.
//!
//! Key names follow Filebeat's where Filebeat has one, so a filebeat.yml maps over line by line.
//! Every default is a named constant with the reason for its value.
//!
//! Over 400 lines on purpose: the whole configuration in one file is the one place a reader sees every
//! key loglynk reads, as README's annotated config does.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use super::{duration, hosts, size};

/// The glob kubelet's container log symlinks live under; Filebeat's container input reads the same.
pub const DEFAULT_PATHS: &str = "/var/log/containers/*.log";
/// Where Docker's json-file logs are, which /var/log/pods links into on nodes running Docker.
pub const DEFAULT_DOCKER_LOGS: &str = "/var/lib/docker/containers";
/// A hostPath on the node, so offsets survive the agent's pod being replaced.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/loglynk";
/// 1 MiB: far above any sane log line, and it bounds memory per file (a line is buffered whole).
pub const DEFAULT_MAX_LINE_BYTES: u64 = 1024 * 1024;
/// Filebeat's scan_frequency default: how often globs are expanded again in case inotify missed a file.
pub const DEFAULT_SCAN_FREQUENCY: Duration = Duration::from_secs(10);
/// How often files are checked for growth when no inotify event came (watch limit hit, or a missed
/// event); 1 s keeps latency low and idle cost at a few syscalls per file per second.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// A partial line whose final part has not come after this long is shipped flagged `partial`: runtimes
/// write the parts of one line within microseconds, so 5 s means the rest is not coming.
pub const DEFAULT_PARTIAL_TIMEOUT: Duration = Duration::from_secs(5);
/// Long enough for a writer's last lines to the deleted file to be read, short enough that a deleted
/// file's disk space is freed promptly (a held descriptor keeps it allocated).
pub const DEFAULT_CLOSE_REMOVED_AFTER: Duration = Duration::from_secs(5);
/// Filebeat's close_inactive default.
pub const DEFAULT_CLOSE_INACTIVE: Duration = Duration::from_secs(5 * 60);
/// The usual soft RLIMIT_NOFILE; a node rarely has more active container logs than this.
pub const DEFAULT_MAX_OPEN_FILES: usize = 1024;
/// Filebeat's registry.flush default: at most a second of acknowledged lines is re-read after a crash.
pub const DEFAULT_REGISTRY_FLUSH: Duration = Duration::from_secs(1);
/// Below Kubernetes' default 30 s grace period, so the agent exits on its own before SIGKILL.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The seed's Filebeat decoded `message` into `json`.
pub const DEFAULT_DECODE_FIELDS: &str = "message";
pub const DEFAULT_DECODE_TARGET: &str = "json";
/// Flag a message that looks like JSON but is not, so a broken structured logger shows in Kibana
/// (`error.message`). Only JSON-looking text is ever decoded, so plain-text lines never get it.
pub const DEFAULT_DECODE_ADD_ERROR_KEY: bool = true;
/// Filebeat's default: decode the field itself, not JSON strings nested in it.
pub const DEFAULT_DECODE_MAX_DEPTH: usize = 1;
/// Containers whose logs are the agent's own (or the shippers it replaces): shipping them would feed back.
pub const DEFAULT_OWN_CONTAINERS: [&str; 3] = ["loglynk", "filebeat", "metricbeat"];
/// Environment variable naming the agent's own container, added to the drop list when set.
pub const OWN_CONTAINER_ENV: &str = "LOGLYNK_CONTAINER_NAME";
/// The ECK service of the seed's `funlynk-logs` cluster.
pub const DEFAULT_ES_HOST: &str = "https://funlynk-logs-es-http:9200";
/// Elasticsearch's HTTP port: Filebeat's default for a host written without a port.
pub const DEFAULT_ES_PORT: u16 = 9200;
/// ECK's built-in superuser, as the seed used; a dedicated writer role is better (see README).
pub const DEFAULT_ES_USERNAME: &str = "elastic";
/// Where the seed mounted the ECK HTTP CA.
pub const DEFAULT_ES_CA: &str = "/mnt/elastic/tls.crt";
/// Environment variable the password is read from by default, as in the seed.
pub const ES_PASSWORD_ENV: &str = "ELASTICSEARCH_PASSWORD";
/// The seed's daily indices.
pub const DEFAULT_ES_INDEX: &str = "funlynk-logs-%{+yyyy.MM.dd}";
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// 5 MiB: large enough to amortise a request, well under Elasticsearch's 100 MiB http.max_content_length.
pub const DEFAULT_BULK_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Filebeat's default latency: at most a second between a line and its request.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Two requests in flight keep a 2-core node's share of the cluster busy without piling up.
pub const DEFAULT_WORKERS: usize = 2;
/// Level 1 gets most of gzip's ratio on log text at a fraction of level 6's CPU.
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 1;
/// Filebeat's output timeout.
pub const DEFAULT_BULK_TIMEOUT: Duration = Duration::from_secs(90);
/// Filebeat's backoff.init and backoff.max.
pub const DEFAULT_BACKOFF_INIT: Duration = Duration::from_secs(1);
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(60);
/// Refused documents kept before the oldest are rotated away: bounded disk on the node.
pub const DEFAULT_DEAD_LETTER_MAX_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_DEAD_LETTER_KEEP: usize = 3;
/// Filebeat's add_kubernetes_metadata cleanup_timeout: a deleted pod's last lines, read after the
/// deletion, still get its metadata.
pub const DEFAULT_KUBE_CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);
/// A new file's pod usually reaches the watch within milliseconds of its first line; 2 s covers a
/// lagging watch without delaying a file's lines noticeably.
pub const DEFAULT_KUBE_METADATA_WAIT: Duration = Duration::from_secs(2);
/// Environment variable the node name comes from when `kubernetes.node_name` is not set: the
/// DaemonSet sets it from the downward API (spec.nodeName).
pub const NODE_NAME_ENV: &str = "NODE_NAME";
/// The seed's template, policy and index names.
pub const DEFAULT_SETUP_NAME: &str = "funlynk-logs";
/// One shard: a node's daily logs are far below the ~50 GB a shard should stay under.
pub const DEFAULT_SETUP_SHARDS: u32 = 1;
pub const DEFAULT_SETUP_REPLICAS: u32 = 1;
/// Logs are searched seconds after they happen, not milliseconds; a longer interval makes indexing
/// cheaper than the 1 s default.
pub const DEFAULT_SETUP_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
/// The seed's policy: warm at 7 days (no replicas), deleted at 30, hot rollover at 5 GB or a day.
pub const DEFAULT_ILM_WARM_AFTER: Duration = Duration::from_secs(7 * 86_400);
pub const DEFAULT_ILM_WARM_REPLICAS: u32 = 0;
pub const DEFAULT_ILM_DELETE_AFTER: Duration = Duration::from_secs(30 * 86_400);
pub const DEFAULT_ILM_ROLLOVER_MAX_SIZE: &str = "5gb";
pub const DEFAULT_ILM_ROLLOVER_MAX_AGE: Duration = Duration::from_secs(86_400);
/// Filebeat's HTTP monitoring port, so scrape annotations and firewall rules carry over.
pub const DEFAULT_HTTP_PORT: u16 = 5066;
/// Every interface: Prometheus scrapes the pod IP, and the kubelet probes it.
pub const DEFAULT_HTTP_HOST: &str = "0.0.0.0";
/// Memory for events between reading and Elasticsearch's acknowledgement; beyond it, reading pauses
/// and the files on disk are the buffer. With `compression_level: 0` the budget fills (two 5 MiB
/// requests in flight, one being built, delivered ones kept to write the next into): run_throughput
/// peaked at 44–47 MiB with 20 MiB. Delivered bodies are kept while they leave a request's worth of
/// the budget (recycle.rs): at 20 MiB two fit, so a request seldom starts in a fresh buffer that is
/// page-faulted in. Gzipped, a request is a seventh as large and the budget is not what bounds
/// memory while Elasticsearch answers; during an outage 20 MiB still holds ~150 MiB of lines
/// compressed.
pub const DEFAULT_MAX_QUEUED_BYTES: u64 = 20 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub paths: Vec<String>,
    /// Where else a discovered file may resolve to (besides the directories of `paths` and kubelet's
    /// `pods` beside `containers`): a symlink pointing anywhere else is refused, never read.
    pub log_roots: Vec<PathBuf>,
    pub state_dir: PathBuf,
    pub start_at: StartAt,
    #[serde(
        serialize_with = "size::serialize",
        deserialize_with = "size::deserialize"
    )]
    pub max_line_bytes: u64,
    #[serde(with = "duration")]
    pub scan_frequency: Duration,
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    #[serde(with = "duration")]
    pub partial_timeout: Duration,
    /// A file deleted while open is closed this long after its deletion, once read to its end.
    #[serde(with = "duration")]
    pub close_removed_after: Duration,
    /// A file with no new data for this long is closed, and reopened when it changes.
    #[serde(with = "duration")]
    pub close_inactive: Duration,
    /// Open log files never exceed this (README, "Bounded descriptors").
    pub max_open_files: usize,
    /// How often acknowledged offsets are written to the registry.
    #[serde(with = "duration")]
    pub registry_flush: Duration,
    /// On SIGTERM: how long in-flight events may take to be delivered before the agent exits anyway.
    #[serde(with = "duration")]
    pub shutdown_timeout: Duration,
    /// Bound on the memory of events read and not yet acknowledged.
    #[serde(
        serialize_with = "size::serialize",
        deserialize_with = "size::deserialize"
    )]
    pub max_queued_bytes: u64,
    pub decode_json_fields: DecodeJsonFields,
    pub drop_own_logs: DropOwnLogs,
    pub add_host_metadata: bool,
    pub kubernetes: Kubernetes,
    pub output: Output,
    pub setup: Setup,
    /// Where `setup.mode: data_stream` writes a container's lines when its pod does not say.
    pub data_stream: super::DataStream,
    pub http: Http,
    pub logging: Logging,
    /// Joining the lines of one event (a stack trace); see `multiline.rs`.
    pub multiline: super::Multiline,
    /// Limits on how fast the node, a namespace or a pod ships; see `rate_limit.rs`.
    pub rate_limit: Vec<super::RateLimitRule>,
}

/// What `loglynk bootstrap` installs, and so where `loglynk run` writes (Filebeat's `setup.template.*`
/// and `setup.ilm.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Setup {
    /// `false`: templates and policies are managed elsewhere; `bootstrap` refuses to run and `run`
    /// writes to `output.elasticsearch.index` as it is.
    pub enabled: bool,
    pub mode: IndexMode,
    /// The index template's and ILM policy's name; in `data_stream` mode the data stream's, in
    /// `rollover` mode the write alias's.
    pub name: String,
    pub shards: u32,
    pub replicas: u32,
    #[serde(with = "duration")]
    pub refresh_interval: Duration,
    pub json_mapping: JsonMapping,
    pub ilm: Ilm,
    /// The template's `index.mode` (see `storage.rs`).
    pub index_mode: super::SetupIndexMode,
    /// Documents the data stream's mappings refuse are kept in its failure store (9.1+).
    pub failure_store: bool,
    pub snapshot: super::Snapshot,
}

/// How logs are laid out in indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexMode {
    /// `output.elasticsearch.index` (`funlynk-logs-%{+yyyy.MM.dd}`): one index a day, aged by the date
    /// in its name, no rollover.
    Daily,
    /// Each container's data stream `logs-<dataset>-<namespace>` (`data_stream.*`, the pods' hints),
    /// written with bulk `create`, rolled over by ILM; `setup.name` names the template and policy.
    DataStream,
    /// A write alias `setup.name` over `<name-{now/d}-000001>` indices, rolled over by ILM.
    Rollover,
}

/// How the decoded `json` object is mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonMapping {
    /// One `flattened` field: any application's keys, of any type, never conflict.
    Flattened,
    /// Ordinary objects: searchable by type, but the first application to write `json.status` as a
    /// string makes another's object there fail to index.
    Dynamic,
}

/// The ILM policy's phases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ilm {
    #[serde(with = "duration")]
    pub warm_after: Duration,
    /// Replicas once warm (`allocate.number_of_replicas`).
    pub warm_replicas: u32,
    #[serde(with = "duration")]
    pub delete_after: Duration,
    /// Hot rollover, in the `data_stream` and `rollover` modes: an ES byte size.
    pub rollover_max_size: String,
    #[serde(with = "duration")]
    pub rollover_max_age: Duration,
}

/// The agent's `/metrics` and `/healthz` endpoint (Filebeat's `http.*` monitoring settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub enabled: bool,
    pub host: String,
    /// 0 picks a free port (logged at start).
    pub port: u16,
    /// `POST /reload` reloads the configuration (off by default: anyone who reaches the port could).
    pub reload: HttpReload,
}

/// `http.reload`: the endpoint that reloads the configuration, as SIGHUP does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpReload {
    pub enabled: bool,
}

/// Pod metadata from the Kubernetes API, as Filebeat's add_kubernetes_metadata adds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Kubernetes {
    pub enabled: KubernetesMode,
    /// Only this node's pods are watched. Default: `$NODE_NAME`.
    pub node_name: Option<String>,
    /// A kubeconfig to use instead of the pod's service account (or `$KUBECONFIG`, `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// How long a deleted pod's metadata is still found.
    #[serde(with = "duration")]
    pub cleanup_timeout: Duration,
    /// How long a file whose pod is not cached yet waits before its lines ship with the path's
    /// metadata, flagged `kube_metadata_missing`. Per file: other files are read meanwhile.
    #[serde(with = "duration")]
    pub metadata_wait: Duration,
    /// Annotation keys shipped as `kubernetes.annotations.*`: exact keys or prefixes ending in `*`.
    pub include_annotations: Vec<String>,
    /// `.` -> `_` in label and annotation keys, so `app` and `app.kubernetes.io/name` never collide.
    pub dedot: bool,
    /// `kubernetes.namespace_labels.*` and `namespace_uid`, from a watch on namespaces.
    pub namespace_labels: bool,
    /// `kubernetes.node.{uid,labels.*}`, from one GET of this node (RBAC: nodes get).
    pub node_metadata: bool,
    /// `orchestrator.cluster.name` on every event with pod metadata. The API has no name for its own
    /// cluster (Filebeat reads kubeadm's ConfigMap); the DaemonSet sets it.
    pub cluster_name: Option<String>,
    /// Pods' `co.elastic.logs/*` and `elastic.co/*` annotations (Filebeat's kubernetes provider's
    /// `hints.enabled`).
    pub hints: HintSettings,
    /// When not empty, only the containers one of these selects are read (see `selector.rs`).
    pub include: Vec<super::PodSelector>,
    /// The containers one of these selects are not read, whatever `include` says.
    pub exclude: Vec<super::PodSelector>,
}

/// `kubernetes.hints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HintSettings {
    pub enabled: bool,
}

impl Default for HintSettings {
    /// On: a pod's owners steer its logs without touching the DaemonSet.
    fn default() -> HintSettings {
        HintSettings { enabled: true }
    }
}

/// `kubernetes.enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubernetesMode {
    /// On inside a cluster or with a kubeconfig; otherwise off, with one warning.
    Auto,
    /// On; no usable configuration is a start-up error.
    On,
    Off,
}

/// Where to start reading a file the registry has no record of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartAt {
    Beginning,
    End,
}

/// Filebeat's decode_json_fields processor, with its option names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeJsonFields {
    pub enabled: bool,
    pub fields: Vec<String>,
    /// Dotted path the decoded value is written to; `""` merges a decoded object into the document root.
    pub target: String,
    /// With target `""`: whether decoded keys replace keys the event already has.
    pub overwrite_keys: bool,
    pub max_depth: usize,
    /// On a decoding error, set `error.message` and `error.type: json` on the event.
    pub add_error_key: bool,
    pub process_array: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DropOwnLogs {
    pub enabled: bool,
    /// `kubernetes.container.name` values whose events are dropped.
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Output {
    pub elasticsearch: ElasticsearchOutput,
    /// When set (and enabled), events go to files instead of Elasticsearch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<super::FileOutput>,
}

impl Output {
    /// `output.file`, when it is the output.
    pub fn file(&self) -> Option<&super::FileOutput> {
        self.file.as_ref().filter(|f| f.enabled)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticsearchOutput {
    /// A host written without a scheme gets one at load (https when a CA is configured), and one
    /// without a port gets 9200, as in Filebeat.
    #[serde(with = "hosts")]
    pub hosts: Vec<url::Url>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub api_key: Option<Secret>,
    pub ssl: Ssl,
    /// The raw pattern, e.g. `funlynk-logs-%{+yyyy.MM.dd}`; validated when the config is loaded.
    pub index: String,
    /// Filebeat's conditional indices: the first rule whose `when` matches an event names its index;
    /// an event no rule matches goes to `index`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indices: Vec<super::IndexRule>,
    /// A bulk request is sent once its body reaches this size (before compression).
    #[serde(
        serialize_with = "size::serialize",
        deserialize_with = "size::deserialize"
    )]
    pub bulk_max_bytes: u64,
    /// ... or once its oldest event waited this long.
    #[serde(with = "duration")]
    pub flush_interval: Duration,
    /// Bulk requests in flight at once.
    pub workers: usize,
    /// gzip level of request bodies, 0 (none) to 9.
    pub compression_level: u32,
    /// How long one bulk request may take before it is abandoned and retried.
    #[serde(with = "duration")]
    pub timeout: Duration,
    pub backoff: Backoff,
    pub dead_letter: DeadLetter,
    /// Each document is sent with `create` and an `_id` derived from its line, so a line sent again
    /// after a crash is refused as a duplicate rather than indexed twice.
    pub deduplicate: bool,
}

/// Retry timing after a failed request (Filebeat's `backoff.init` / `backoff.max`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Backoff {
    #[serde(with = "duration")]
    pub init: Duration,
    #[serde(with = "duration")]
    pub max: Duration,
}

/// Documents Elasticsearch refused for good, kept in `state_dir/dead-letter.ndjson`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeadLetter {
    #[serde(
        serialize_with = "size::serialize",
        deserialize_with = "size::deserialize"
    )]
    pub max_bytes: u64,
    /// Rotated files kept besides the live one.
    pub keep: usize,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            init: DEFAULT_BACKOFF_INIT,
            max: DEFAULT_BACKOFF_MAX,
        }
    }
}

impl Default for DeadLetter {
    fn default() -> DeadLetter {
        DeadLetter {
            max_bytes: DEFAULT_DEAD_LETTER_MAX_BYTES,
            keep: DEFAULT_DEAD_LETTER_KEEP,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ssl {
    pub certificate_authorities: Vec<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub verification_mode: VerificationMode,
}

/// Filebeat's `ssl.verification_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationMode {
    /// Chain and hostname.
    Full,
    /// Chain only.
    Certificate,
    /// Nothing: encryption without authentication. Logged loudly at start.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    /// A tracing filter directive: `info`, `debug`, `loglynk=debug,info`, …
    pub level: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            paths: vec![DEFAULT_PATHS.to_owned()],
            log_roots: vec![PathBuf::from(DEFAULT_DOCKER_LOGS)],
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            // Filebeat reads a file it has no state for from its start, so nothing logged before the
            // agent came up is lost.
            start_at: StartAt::Beginning,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            scan_frequency: DEFAULT_SCAN_FREQUENCY,
            poll_interval: DEFAULT_POLL_INTERVAL,
            partial_timeout: DEFAULT_PARTIAL_TIMEOUT,
            close_removed_after: DEFAULT_CLOSE_REMOVED_AFTER,
            close_inactive: DEFAULT_CLOSE_INACTIVE,
            max_open_files: DEFAULT_MAX_OPEN_FILES,
            registry_flush: DEFAULT_REGISTRY_FLUSH,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            decode_json_fields: DecodeJsonFields::default(),
            drop_own_logs: DropOwnLogs::default(),
            // The seed's Filebeat ran add_host_metadata.
            add_host_metadata: true,
            kubernetes: Kubernetes::default(),
            output: Output::default(),
            setup: Setup::default(),
            data_stream: super::DataStream::default(),
            http: Http::default(),
            logging: Logging::default(),
            multiline: super::Multiline::default(),
            rate_limit: Vec::new(),
        }
    }
}

impl Default for DecodeJsonFields {
    /// Enabled, because the seed decoded `message`; the flags default to Filebeat's (all off).
    fn default() -> DecodeJsonFields {
        DecodeJsonFields {
            enabled: true,
            fields: vec![DEFAULT_DECODE_FIELDS.to_owned()],
            target: DEFAULT_DECODE_TARGET.to_owned(),
            // The seed's Filebeat set overwrite_keys: true.
            overwrite_keys: true,
            max_depth: DEFAULT_DECODE_MAX_DEPTH,
            add_error_key: DEFAULT_DECODE_ADD_ERROR_KEY,
            process_array: false,
        }
    }
}

impl Default for DropOwnLogs {
    fn default() -> DropOwnLogs {
        DropOwnLogs {
            enabled: true,
            containers: DEFAULT_OWN_CONTAINERS.map(str::to_owned).to_vec(),
        }
    }
}

impl Default for ElasticsearchOutput {
    /// Without a password: the default one comes from the environment at load, and the debug mode
    /// needs none.
    fn default() -> ElasticsearchOutput {
        ElasticsearchOutput {
            hosts: vec![hosts::default_host()],
            username: Some(DEFAULT_ES_USERNAME.to_owned()),
            password: None,
            api_key: None,
            ssl: Ssl::default(),
            index: DEFAULT_ES_INDEX.to_owned(),
            indices: Vec::new(),
            bulk_max_bytes: DEFAULT_BULK_MAX_BYTES,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            workers: DEFAULT_WORKERS,
            compression_level: DEFAULT_COMPRESSION_LEVEL,
            timeout: DEFAULT_BULK_TIMEOUT,
            backoff: Backoff::default(),
            dead_letter: DeadLetter::default(),
            // Exactly once in the index costs Elasticsearch an ID lookup per document (README).
            deduplicate: true,
        }
    }
}

impl Default for Ssl {
    fn default() -> Ssl {
        Ssl {
            certificate_authorities: vec![PathBuf::from(DEFAULT_ES_CA)],
            certificate: None,
            key: None,
            verification_mode: VerificationMode::Full,
        }
    }
}

impl Default for Kubernetes {
    /// As add_kubernetes_metadata's defaults, with namespace labels on (the users search by
    /// them) and node metadata off (it needs one more RBAC rule).
    fn default() -> Kubernetes {
        Kubernetes {
            enabled: KubernetesMode::Auto,
            node_name: None,
            kubeconfig: None,
            cleanup_timeout: DEFAULT_KUBE_CLEANUP_TIMEOUT,
            metadata_wait: DEFAULT_KUBE_METADATA_WAIT,
            include_annotations: Vec::new(),
            dedot: true,
            namespace_labels: true,
            node_metadata: false,
            cluster_name: None,
            hints: HintSettings::default(),
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

impl Serialize for KubernetesMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            KubernetesMode::Auto => serializer.serialize_str("auto"),
            KubernetesMode::On => serializer.serialize_bool(true),
            KubernetesMode::Off => serializer.serialize_bool(false),
        }
    }
}

impl<'de> Deserialize<'de> for KubernetesMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModeVisitor;
        impl serde::de::Visitor<'_> for ModeVisitor {
            type Value = KubernetesMode;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("auto, true or false")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<KubernetesMode, E> {
                Ok(if v {
                    KubernetesMode::On
                } else {
                    KubernetesMode::Off
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<KubernetesMode, E> {
                match v {
                    "auto" => Ok(KubernetesMode::Auto),
                    "true" => Ok(KubernetesMode::On),
                    "false" => Ok(KubernetesMode::Off),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(ModeVisitor)
    }
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            enabled: true,
            // The seed's daily indices, made to work: see IndexMode::Daily.
            mode: IndexMode::Daily,
            name: DEFAULT_SETUP_NAME.to_owned(),
            shards: DEFAULT_SETUP_SHARDS,
            replicas: DEFAULT_SETUP_REPLICAS,
            refresh_interval: DEFAULT_SETUP_REFRESH_INTERVAL,
            json_mapping: JsonMapping::Flattened,
            ilm: Ilm::default(),
            index_mode: super::SetupIndexMode::Auto,
            failure_store: false,
            snapshot: super::Snapshot::default(),
        }
    }
}

impl Default for Ilm {
    fn default() -> Ilm {
        Ilm {
            warm_after: DEFAULT_ILM_WARM_AFTER,
            warm_replicas: DEFAULT_ILM_WARM_REPLICAS,
            delete_after: DEFAULT_ILM_DELETE_AFTER,
            rollover_max_size: DEFAULT_ILM_ROLLOVER_MAX_SIZE.to_owned(),
            rollover_max_age: DEFAULT_ILM_ROLLOVER_MAX_AGE,
        }
    }
}

impl Default for Http {
    fn default() -> Http {
        Http {
            enabled: true,
            host: DEFAULT_HTTP_HOST.to_owned(),
            port: DEFAULT_HTTP_PORT,
            reload: HttpReload::default(),
        }
    }
}

impl Default for Logging {
    fn default() -> Logging {
        Logging {
            level: DEFAULT_LOG_LEVEL.to_owned(),
        }
    }
}

impl Config {
    /// The effective configuration as YAML, for `--print-config`-style output: every secret is shown
    /// as `********`, and the text loads back (secrets aside) into the same `Config`: a literal `${` in
    /// a value is written `$${`.
    pub fn to_masked_yaml(&self) -> String {
        // Every type here serializes infallibly; the fallback only keeps this total.
        serde_yaml_ng::to_value(self)
            .and_then(|mut value| {
                super::env::escape_yaml(&mut value);
                serde_yaml_ng::to_string(&value)
            })
            .unwrap_or_else(|e| format!("# cannot render the configuration: {e}\n"))
    }
}
