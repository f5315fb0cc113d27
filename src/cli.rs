//! The command line's definition: commands, arguments and their help. Parsing has no side effects;
//! `main` turns the result into what the library runs.

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::{Args, Parser, Subcommand};

use loglynk::config::StartAt;
use loglynk::pipeline::TailOptions;

#[derive(Debug, Parser)]
#[command(
    name = "loglynk",
    version,
    long_version = long_version(),
    about = "Ships Kubernetes container logs to Elasticsearch, at least once.",
    long_about = "Ships Kubernetes container logs to Elasticsearch, at least once.\n\n\
        loglynk discovers /var/log/containers/*.log, follows the files through rotation, parses CRI and \
        docker json-file lines, adds the pod's metadata (from the Kubernetes API, else its log path) and host metadata, decodes JSON \
        messages into json.*, and \
        writes documents with Filebeat's ECS field names.",
    after_help = "Exit codes: 0 success, 1 failure at run time, 2 invalid configuration or usage, 3 \
        (bootstrap) an object differs and was left as it is.\n\n\
        Examples:\n  \
        loglynk tail --no-follow 'fixtures/var/log/containers/*.log'\n  \
        loglynk bootstrap --dry-run\n  \
        loglynk config check /etc/loglynk/loglynk.yml\n  \
        loglynk -E 'output.elasticsearch.hosts=[\"http://127.0.0.1:9200\"]' config check"
)]
pub struct Cli {
    /// Configuration file (YAML). Default: /etc/loglynk/loglynk.yml when it exists, else built-in defaults.
    #[arg(
        short,
        long,
        global = true,
        env = "LOGLYNK_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Override a setting, as Filebeat's -E: KEY is a dotted path, VALUE is YAML. Repeatable.
    #[arg(short = 'E', global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Debug mode: read local container log files and print the documents loglynk would ship, as NDJSON.
    ///
    /// Runs the agent's parse and process stages on local files; needs no cluster and no Elasticsearch.
    /// Events go to stdout, the agent's own log to stderr.
    #[command(after_help = "Examples:\n  \
        loglynk tail --no-follow 'fixtures/var/log/containers/*.log'\n  \
        loglynk tail --from-end /var/log/containers/web-*.log\n  \
        loglynk tail --kube --no-follow /var/log/containers/web-*.log\n  \
        loglynk tail --no-follow app.log | jq -c '{t: .[\"@timestamp\"], m: .message}'")]
    Tail(TailArgs),

    /// The agent: ship every container log on this node to Elasticsearch, at least once.
    ///
    /// Discovers the configured paths, follows them through rotation, and bulk-indexes each line into
    /// the configured index; offsets are recorded in state_dir once Elasticsearch acknowledged them.
    /// Stops on SIGTERM/SIGINT after delivering what is in flight (at most shutdown_timeout). Reloads
    /// its configuration, without losing or repeating a line, on SIGHUP and when the file changes.
    #[command(after_help = "Examples:\n  \
        loglynk run --config /etc/loglynk/loglynk.yml\n  \
        loglynk run -E 'output.elasticsearch.hosts=[\"http://127.0.0.1:9200\"]' -E state_dir=/tmp/loglynk")]
    Run,

    /// Install the ILM policy and index template `run` relies on (idempotent).
    ///
    /// Uses output.elasticsearch's hosts, TLS and credentials. Each object is read back first: missing
    /// ones are created, equal ones reported `unchanged`, and one that differs is shown as a diff and
    /// overwritten only with --force. setup.mode picks the layout `run` writes: daily indices (the
    /// default; no rollover, aged by the date in their name), a data stream, or a rollover alias.
    #[command(
        after_help = "Exit codes: 0 installed or unchanged; 1 failure (connection, TLS, \
        credentials, an object refused); 2 invalid configuration or usage; 3 an object differs and \
        was left as it is (run again with --force to overwrite it).\n\n\
        Examples:\n  \
        loglynk bootstrap --dry-run\n  \
        loglynk bootstrap --config /etc/loglynk/loglynk.yml\n  \
        loglynk bootstrap -E setup.mode=data_stream --force"
    )]
    Bootstrap {
        /// Print the requests and their exact JSON bodies; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Overwrite objects that differ from what loglynk installs.
        #[arg(long)]
        force: bool,
    },

    /// Check this node's set-up, one line a check: the configuration, the paths, state_dir, inotify,
    /// each Elasticsearch host and the Kubernetes API.
    ///
    /// Each line says ✓ or ✗, what was found and, for a failure, the fix. Nothing is changed: the
    /// write privilege is asked of Elasticsearch's privileges API and the RBAC of Kubernetes'
    /// SelfSubjectAccessReviews. Run it where the agent runs: kubectl exec -n logging ds/loglynk --
    /// loglynk doctor.
    #[command(
        after_help = "Exit codes: 0 every check passed, 1 some check failed.\n\n\
        Examples:\n  \
        kubectl exec -n logging daemonset/loglynk -- loglynk doctor\n  \
        loglynk doctor --format json | jq '.checks[] | select(.ok | not)'"
    )]
    Doctor {
        /// text: one line a check; json: one document for scripts.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },

    /// A live view of a running agent: throughput, the ledger, the output, the files furthest behind.
    ///
    /// Reads the agent's /status and /metrics every second. Keys: s changes the order (bytes behind,
    /// seconds behind, pod, state), r reverses it, q quits. When stdout is not a terminal, prints one
    /// reading (two, a second apart, for the rates) and exits.
    #[command(after_help = "Examples:\n  \
        kubectl port-forward -n logging pod/loglynk-x2x4q 5066 & loglynk top\n  \
        loglynk top --url http://10.0.3.17:5066\n  \
        loglynk top | head -20")]
    Top {
        /// The agent's HTTP endpoint (http.host:http.port).
        #[arg(long, default_value = "http://127.0.0.1:5066")]
        url: String,
    },

    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Migrate to loglynk's registry of delivered offsets.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// How `doctor` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Take over from Filebeat: record Filebeat 8's offsets so loglynk starts each file where Filebeat
    /// stopped, with neither a gap nor a duplicate.
    ///
    /// Stop Filebeat first. Files rotated since (another inode under the name) are skipped and read
    /// from their start.
    #[command(after_help = "Example:\n  \
        loglynk registry import-filebeat /var/lib/filebeat/data/registry --state-dir /var/lib/loglynk\n  \
        loglynk registry import-filebeat /filebeat-data/registry --state-dir /var/lib/loglynk --if-absent")]
    ImportFilebeat {
        /// Filebeat's registry directory (data/registry or data/registry/filebeat).
        path: PathBuf,
        /// loglynk's state directory (default: the configured state_dir).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Import only on a node's first start: do nothing (exit 0) when loglynk already has a
        /// registry, or when there is no Filebeat registry at PATH. For an init container that runs at
        /// every start of the pod.
        #[arg(long)]
        if_absent: bool,
    },
}

#[derive(Debug, Args)]
pub struct TailArgs {
    /// Files or globs to read (quote globs). Default: the configured paths (/var/log/containers/*.log).
    #[arg(value_name = "PATH|GLOB")]
    pub paths: Vec<String>,

    /// Read files from their beginning (the default, as the agent does for files it has no record of).
    #[arg(long, conflicts_with = "from_end")]
    pub from_beginning: bool,

    /// Read only lines written after the file was opened.
    #[arg(long)]
    pub from_end: bool,

    /// Exit once every file has been read to its end, instead of following them until SIGINT/SIGTERM.
    #[arg(long)]
    pub no_follow: bool,

    /// Keep a registry of delivered offsets in DIR: resume where the last run stopped, and record an
    /// offset once its line was written and flushed. Without it, nothing is kept.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Add pod metadata from the Kubernetes API, as the agent does: through kubernetes.kubeconfig,
    /// $KUBECONFIG or ~/.kube/config (or the service account, in a pod). Watches the pods of
    /// kubernetes.node_name ($NODE_NAME), or of every node when neither is set.
    #[arg(long)]
    pub kube: bool,

    /// Print what `run` would send to Elasticsearch, uncompressed: before each document its bulk
    /// action line, naming the index or data stream it goes to (output.elasticsearch.index and
    /// indices, or setup.mode data_stream's logs-<dataset>-<namespace>) and its _id when
    /// deduplicating. Checks routing without a cluster.
    #[arg(long)]
    pub bulk: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load and validate the configuration, then print it with every default filled in and secrets masked.
    ///
    /// Exits 2 with an error naming the key and its line when the configuration is invalid.
    Check {
        /// The file to check (default: --config, else /etc/loglynk/loglynk.yml, else built-in defaults).
        file: Option<PathBuf>,
    },
    /// Write the loglynk configuration equivalent to a filebeat.yml or an ECK Beat manifest.
    ///
    /// Every Filebeat setting loglynk has no equivalent for becomes a `# not mapped:` comment saying why.
    /// A literal password or API key is never copied: a `${VARIABLE}` is written in its place.
    ImportFilebeat {
        /// filebeat.yml, or a Beat resource (its spec.config is read).
        file: PathBuf,
        /// Write here instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
}

impl TailArgs {
    /// What the pipeline takes from these arguments.
    pub fn options(&self) -> TailOptions {
        let start_at = match (self.from_beginning, self.from_end) {
            (_, true) => Some(StartAt::End),
            (true, _) => Some(StartAt::Beginning),
            _ => None,
        };
        TailOptions {
            paths: self.paths.clone(),
            start_at,
            follow: !self.no_follow,
            state_dir: self.state_dir.clone(),
            kube: self.kube,
            bulk: self.bulk,
        }
    }
}

/// `--version` also names the deflate the binary was built with, which decides much of its CPU with
/// gzip on (src/output/elasticsearch/gzip.rs).
fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (gzip: {})",
            env!("CARGO_PKG_VERSION"),
            loglynk::output::elasticsearch::gzip::BACKEND
        )
    })
}
