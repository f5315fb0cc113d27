//! The typed configuration: every key loglynk reads, and its default.
//!
//! Key names follow Filebeat's where Filebeat has one, so a filebeat.yml maps over line by line.
//! Every default is a named constant with the reason for its value.

use std::path::PathBuf;
use std::time::Duration;

use super::secret::Secret;

/// The glob kubelet's container log symlinks live under; Filebeat's container input reads the same.
pub const DEFAULT_PATHS: &str = "/var/log/containers/*.log";
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
/// The seed's Filebeat decoded `message` into `json`.
pub const DEFAULT_DECODE_FIELDS: &str = "message";
pub const DEFAULT_DECODE_TARGET: &str = "json";
/// Filebeat's default: decode the field itself, not JSON strings nested in it.
pub const DEFAULT_DECODE_MAX_DEPTH: usize = 1;
/// Containers whose logs are the agent's own (or the shippers it replaces): shipping them would feed back.
pub const DEFAULT_OWN_CONTAINERS: [&str; 3] = ["loglynk", "filebeat", "metricbeat"];
/// Environment variable naming the agent's own container, added to the drop list when set.
pub const OWN_CONTAINER_ENV: &str = "LOGLYNK_CONTAINER_NAME";
/// The ECK service of the seed's `funlynk-logs` cluster.
pub const DEFAULT_ES_HOST: &str = "https://funlynk-logs-es-http:9200";
/// ECK's built-in superuser, as the seed used; a dedicated writer role is better (see README).
pub const DEFAULT_ES_USERNAME: &str = "elastic";
/// Where the seed mounted the ECK HTTP CA.
pub const DEFAULT_ES_CA: &str = "/mnt/elastic/tls.crt";
/// Environment variable the password is read from by default, as in the seed.
pub const ES_PASSWORD_ENV: &str = "ELASTICSEARCH_PASSWORD";
/// The seed's daily indices.
pub const DEFAULT_ES_INDEX: &str = "funlynk-logs-%{+yyyy.MM.dd}";
pub const DEFAULT_LOG_LEVEL: &str = "info";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub paths: Vec<String>,
    pub state_dir: PathBuf,
    pub start_at: StartAt,
    pub max_line_bytes: u64,
    pub scan_frequency: Duration,
    pub poll_interval: Duration,
    pub partial_timeout: Duration,
    pub decode_json_fields: DecodeJsonFields,
    pub drop_own_logs: DropOwnLogs,
    pub add_host_metadata: bool,
    pub output: Output,
    pub logging: Logging,
}

/// Where to start reading a file the registry has no record of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    Beginning,
    End,
}

/// Filebeat's decode_json_fields processor, with its option names and defaults.
#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct DropOwnLogs {
    pub enabled: bool,
    /// `kubernetes.container.name` values whose events are dropped.
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub elasticsearch: ElasticsearchOutput,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ElasticsearchOutput {
    pub hosts: Vec<url::Url>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub api_key: Option<Secret>,
    pub ssl: Ssl,
    /// The raw pattern, e.g. `funlynk-logs-%{+yyyy.MM.dd}`; validated when the config is loaded.
    pub index: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ssl {
    pub certificate_authorities: Vec<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub verification_mode: VerificationMode,
}

/// Filebeat's `ssl.verification_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationMode {
    /// Chain and hostname.
    Full,
    /// Chain only.
    Certificate,
    /// Nothing: encryption without authentication. Logged loudly at start.
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Logging {
    /// A tracing filter directive: `info`, `debug`, `loglynk=debug,info`, …
    pub level: String,
}
