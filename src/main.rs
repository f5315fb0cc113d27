//! The `loglynk` command line. Only argument handling, set-up and exit codes live here; everything else is
//! the library's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use loglynk::bootstrap::BootstrapOptions;
use loglynk::config::{
    self, Config, Kubernetes, KubernetesMode, ProcessEnv, StartAt, NODE_NAME_ENV,
};
use loglynk::discover::{check_pattern, Changes};
use loglynk::enrich::kube::{start_pod_cache, NodeScope};
use loglynk::enrich::{AgentMetadata, HostMetadata};
use loglynk::event::{Encoder, StaticFields};
use loglynk::pipeline::{self, ReadOptions, State};
use loglynk::registry::{import_filebeat, read_filebeat_registry, Store};
use loglynk::telemetry::{init_logging, serve_http, LogFormat, Metrics};

/// Where the agent looks for its configuration when `--config` is not given.
const DEFAULT_CONFIG_PATH: &str = "/etc/loglynk/loglynk.yml";

/// Exit code for an invalid configuration or invocation (clap's usage errors use 2 as well).
const EXIT_INVALID: u8 = 2;
/// Exit code for a failure at run time.
const EXIT_FAILURE: u8 = 1;
/// `bootstrap`: an object in the cluster differs from loglynk's and was left as it is.
const EXIT_DIFFERS: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "loglynk",
    version,
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
struct Cli {
    /// Configuration file (YAML). Default: /etc/loglynk/loglynk.yml when it exists, else built-in defaults.
    #[arg(
        short,
        long,
        global = true,
        env = "LOGLYNK_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,

    /// Override a setting, as Filebeat's -E: KEY is a dotted path, VALUE is YAML. Repeatable.
    #[arg(short = 'E', global = true, value_name = "KEY=VALUE")]
    set: Vec<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    /// Stops on SIGTERM/SIGINT after delivering what is in flight (at most shutdown_timeout).
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

    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Inspect or migrate the registry of delivered offsets.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Take over from Filebeat: record Filebeat 8's offsets so loglynk starts each file where Filebeat
    /// stopped, with neither a gap nor a duplicate.
    ///
    /// Stop Filebeat first. Files rotated since (another inode under the name) are skipped and read
    /// from their start.
    #[command(after_help = "Example:\n  \
        loglynk registry import-filebeat /var/lib/filebeat/data/registry --state-dir /var/lib/loglynk")]
    ImportFilebeat {
        /// Filebeat's registry directory (data/registry or data/registry/filebeat).
        path: PathBuf,
        /// loglynk's state directory (default: the configured state_dir).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct TailArgs {
    /// Files or globs to read (quote globs). Default: the configured paths (/var/log/containers/*.log).
    #[arg(value_name = "PATH|GLOB")]
    paths: Vec<String>,

    /// Read files from their beginning (the default, as the agent does for files it has no record of).
    #[arg(long, conflicts_with = "from_end")]
    from_beginning: bool,

    /// Read only lines written after the file was opened.
    #[arg(long)]
    from_end: bool,

    /// Exit once every file has been read to its end, instead of following them until SIGINT/SIGTERM.
    #[arg(long)]
    no_follow: bool,

    /// Keep a registry of delivered offsets in DIR: resume where the last run stopped, and record an
    /// offset once its line was written and flushed. Without it, nothing is kept.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    /// Add pod metadata from the Kubernetes API, as the agent does: through kubernetes.kubeconfig,
    /// $KUBECONFIG or ~/.kube/config (or the service account, in a pod). Watches the pods of
    /// kubernetes.node_name ($NODE_NAME), or of every node when neither is set.
    #[arg(long)]
    kube: bool,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration, then print it with every default filled in and secrets masked.
    ///
    /// Exits 2 with an error naming the key and its line when the configuration is invalid.
    Check {
        /// The file to check (default: --config, else /etc/loglynk/loglynk.yml, else built-in defaults).
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config(ConfigCommand::Check { ref file }) => {
            let path = file.clone().or_else(|| cli.config.clone());
            config_check(path.as_deref(), &cli.set)
        }
        Command::Tail(ref args) => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            // A glob that cannot be expanded is a usage error, said before anything starts.
            if let Some(error) = args.paths.iter().find_map(|p| check_pattern(p).err()) {
                eprintln!("loglynk: {error}");
                return ExitCode::from(EXIT_INVALID);
            }
            report(tail(&config, args))
        }
        Command::Bootstrap { dry_run, force } => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            bootstrap(&config, BootstrapOptions { dry_run, force })
        }
        Command::Run => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            report(run(&config))
        }
        Command::Registry(RegistryCommand::ImportFilebeat {
            ref path,
            ref state_dir,
        }) => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            let dir = state_dir
                .clone()
                .unwrap_or_else(|| config.state_dir.clone());
            report(import(path, &dir))
        }
    }
}

fn bootstrap(config: &Config, options: BootstrapOptions) -> ExitCode {
    if let Err(error) = init_logging(&config.logging.level, LogFormat::Text) {
        eprintln!("loglynk: {error}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loglynk: starting the runtime: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut out = std::io::stdout();
    match runtime.block_on(loglynk::bootstrap::bootstrap(config, options, &mut out)) {
        Ok(report) if report.differs() => ExitCode::from(EXIT_DIFFERS),
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loglynk: bootstrap: {error}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn import(filebeat: &Path, state_dir: &Path) -> anyhow::Result<()> {
    let import = read_filebeat_registry(filebeat)?;
    for warning in &import.warnings {
        eprintln!("loglynk: warning: {warning}");
    }
    let store = Store::open(state_dir)?;
    let loaded = store.load()?;
    if let Some(kept) = &loaded.recovered_from {
        eprintln!(
            "loglynk: the existing registry was corrupt; kept as {}",
            kept.display()
        );
    }
    let mut snapshot = loaded.snapshot;
    let report = import_filebeat(&import, &mut snapshot);
    store
        .save(&snapshot)
        .with_context(|| format!("writing {}", store.path().display()))?;
    for (path, offset) in &report.imported {
        println!("imported {} at offset {offset}", path.display());
    }
    for (name, reason) in &report.skipped {
        println!("skipped {name}: {reason}");
    }
    println!(
        "{} imported, {} skipped, into {}",
        report.imported.len(),
        report.skipped.len(),
        store.path().display()
    );
    Ok(())
}

fn config_check(file: Option<&Path>, overrides: &[String]) -> ExitCode {
    match load_config(file, overrides) {
        Ok(config) => {
            print!("{}", config.to_masked_yaml());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Loads the configuration, printing the error and giving the exit code when it is invalid.
fn load_config(file: Option<&Path>, overrides: &[String]) -> Result<Config, ExitCode> {
    let default = Path::new(DEFAULT_CONFIG_PATH);
    let file = file.or_else(|| default.exists().then_some(default));
    config::load(file, overrides, &ProcessEnv).map_err(|error| {
        eprintln!("loglynk: {error}");
        ExitCode::from(EXIT_INVALID)
    })
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loglynk: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn tail(config: &Config, args: &TailArgs) -> anyhow::Result<()> {
    init_logging(&config.logging.level, LogFormat::Text).map_err(anyhow::Error::msg)?;
    let start_at = match (args.from_beginning, args.from_end) {
        (_, true) => Some(StartAt::End),
        (true, _) => Some(StartAt::Beginning),
        _ => None,
    };
    let mut options = ReadOptions {
        paths: args.paths.clone(),
        start_at,
        follow: !args.no_follow,
        kube: None,
        telemetry: Arc::default(),
    };
    let kube = args.kube.then(|| Kubernetes {
        enabled: KubernetesMode::On,
        ..config.kubernetes.clone()
    });
    let state = match &args.state_dir {
        Some(dir) => Some(State::open(dir)?),
        None => None,
    };
    let agent_id = state.as_ref().map(|s| s.agent_id.clone());
    let encoder = Encoder::new(&static_fields(config, agent_id)?);
    let shutdown_timeout = config.shutdown_timeout;
    let changes = Arc::new(Changes::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let config = config.clone();
    let pipeline_changes = Arc::clone(&changes);
    // The pipeline runs on its own threads; the runtime's thread only listens for signals (and runs the
    // Kubernetes watch) meanwhile.
    let pipeline = async move {
        if let Some(kube) = &kube {
            options.kube = start_pod_cache(kube, node_name_env(), NodeScope::AnyNode).await?;
        }
        let summary = tokio::task::spawn_blocking(move || {
            let out = std::io::stdout().lock();
            pipeline::tail(&config, options, state, encoder, pipeline_changes, out)
        })
        .await??;
        anyhow::Ok(summary)
    };
    let Some(result) = drive(runtime, changes, shutdown_timeout, pipeline) else {
        return Ok(());
    };
    let summary = result?;
    tracing::info!(
        files = summary.source.files_opened,
        lines = summary.source.lines,
        unparsed = summary.source.unparsed,
        written = summary.events_written,
        dropped = summary.events_dropped,
        kube_found = summary.source.kube_found,
        kube_missing = summary.source.kube_missing,
        "tail finished"
    );
    Ok(())
}

fn run(config: &Config) -> anyhow::Result<()> {
    init_logging(&config.logging.level, LogFormat::Json).map_err(anyhow::Error::msg)?;
    let state = State::open(&config.state_dir)?;
    let encoder = Encoder::new(&static_fields(config, Some(state.agent_id.clone()))?);
    let changes = Arc::new(Changes::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let shutdown_timeout = config.shutdown_timeout;
    let config = config.clone();
    let mut options = ReadOptions {
        paths: Vec::new(),
        start_at: None,
        follow: true,
        kube: None,
        telemetry: Arc::default(),
    };
    let pipeline_changes = Arc::clone(&changes);
    let pipeline = async move {
        options.kube =
            start_pod_cache(&config.kubernetes, node_name_env(), NodeScope::Required).await?;
        let mut metrics = Metrics::new(&options.telemetry);
        if let Some(cache) = &options.kube {
            metrics.register_kube(cache.clone());
        }
        if config.http.enabled {
            let telemetry = Arc::clone(&options.telemetry);
            serve_http(
                &config.http.host,
                config.http.port,
                Arc::new(metrics),
                telemetry,
            )
            .await?;
        }
        let summary = pipeline::run(&config, options, state, encoder, pipeline_changes).await?;
        anyhow::Ok(summary)
    };
    let Some(result) = drive(runtime, changes, shutdown_timeout, async move {
        tokio::spawn(pipeline).await
    }) else {
        return Ok(());
    };
    let summary = result??;
    tracing::info!(
        files = summary.source.files_opened,
        lines = summary.source.lines,
        events = summary.batcher.events,
        dropped = summary.batcher.dropped,
        acked = summary.acked,
        dead_lettered = summary.dead_lettered + summary.batcher.unroutable,
        requests = summary.batcher.requests,
        kube_found = summary.source.kube_found,
        kube_missing = summary.source.kube_missing,
        "run finished"
    );
    Ok(())
}

/// Runs `pipeline` to its end. After SIGTERM/SIGINT it has `shutdown_timeout` to deliver what is in
/// flight; past that, `None`, and whatever is still blocked (a stalled stdout, an unanswered request)
/// is left behind so the process can exit. The registry holds what was delivered up to its last flush,
/// so exiting then loses nothing (it may duplicate).
fn drive<T: Send + 'static>(
    runtime: tokio::runtime::Runtime,
    changes: Arc<Changes>,
    shutdown_timeout: std::time::Duration,
    pipeline: impl std::future::Future<Output = T> + Send + 'static,
) -> Option<T> {
    let result = runtime.block_on(async move {
        // Handlers are installed before the pipeline starts, so no early signal takes the default
        // action (exit without flushing).
        let signalled = tokio::spawn(shutdown_on_signal(changes));
        let pipeline = tokio::spawn(pipeline);
        tokio::pin!(pipeline);
        tokio::select! {
            done = &mut pipeline => return done.ok(),
            _ = signalled => {}
        }
        tokio::time::timeout(shutdown_timeout, pipeline)
            .await
            .ok()
            .and_then(Result::ok)
    });
    if result.is_none() {
        tracing::warn!(
            ?shutdown_timeout,
            "shutdown timed out; exiting with events in flight"
        );
        runtime.shutdown_background();
    }
    result
}

/// SIGTERM is how Kubernetes asks a pod to stop: finish what is in flight, then exit 0 (1 when the
/// registry cannot be written). SIGINT is the same from a terminal.
///
/// The handlers are installed when this is called (it needs the runtime's context); the returned future
/// waits for a signal.
fn shutdown_on_signal(changes: Arc<Changes>) -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = streams else {
            tracing::warn!("cannot listen for signals; stop with SIGKILL");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("signal received; finishing");
        changes.shutdown();
    }
}

fn node_name_env() -> Option<String> {
    std::env::var(NODE_NAME_ENV).ok()
}

fn static_fields(config: &Config, agent_id: Option<String>) -> anyhow::Result<StaticFields> {
    let node_name = node_name_env();
    let host = HostMetadata::read(Path::new("/"), node_name);
    let agent = AgentMetadata::new(host.hostname.clone(), agent_id);
    Ok(StaticFields {
        host: config
            .add_host_metadata
            .then(|| serde_json::to_value(&host))
            .transpose()?,
        agent: serde_json::to_value(&agent)?,
    })
}
