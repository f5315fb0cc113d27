//! Starting a command: what `tail` and `run` share from start to exit — logging, the registry, the
//! static fields, the runtime, signals and the shutdown timeout, the Kubernetes cache, `/metrics` — then
//! one pipeline, whose output the mode and the configuration choose.

use std::future::Future;
use std::io::StdoutLock;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::flow::flow;
use super::reading::{FinishError, ReadOptions, Reading};
use super::source::SourceSummary;
use super::state::State;
use crate::bootstrap::set_up_before_shipping;
use crate::config::{Config, Kubernetes, KubernetesMode, StartAt, NODE_NAME_ENV};
use crate::discover::Changes;
use crate::enrich::kube::cache::KubeError;
use crate::enrich::kube::{start_pod_cache, NodeScope};
use crate::enrich::{AgentMetadata, HostMetadata};
use crate::event::{Encoder, StaticFields};
use crate::output::elasticsearch::client::{ClientError, EsClient};
use crate::output::elasticsearch::{EsOutput, EsOutputError, SetUpStep};
use crate::output::file::{FileOutput, FileOutputError};
use crate::output::stdout::StdoutOutput;
use crate::output::OutputError;
use crate::process::{DropReason, Processors};
use crate::registry::RegistryError;
use crate::telemetry::{
    init_logging, serve_http, HttpError, LogFormat, Metrics, ProgressLine, Telemetry, Work,
};

/// Which command runs, and what it takes from its arguments rather than the configuration.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `loglynk tail`: local files to NDJSON on stdout; a registry only when asked for.
    Tail(TailOptions),
    /// `loglynk run`: the agent, to the configured output, with the registry in `state_dir`.
    Run,
}

#[derive(Debug, Clone, Default)]
pub struct TailOptions {
    /// Paths or globs to read instead of the configured `paths`.
    pub paths: Vec<String>,
    /// Overrides `start_at`.
    pub start_at: Option<StartAt>,
    pub follow: bool,
    /// Keep a registry there: resume, and record what was written.
    pub state_dir: Option<PathBuf>,
    /// Pod metadata from the Kubernetes API, whatever `kubernetes.enabled` says.
    pub kube: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A setting loading could not check (a file it names), found before anything started.
    #[error(transparent)]
    Config(ClientError),
    #[error("{0}")]
    Logging(String),
    #[error(transparent)]
    State(#[from] RegistryError),
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("describing the host: {0}")]
    StaticFields(serde_json::Error),
    #[error(transparent)]
    Kube(#[from] KubeError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Elasticsearch(#[from] EsOutputError),
    #[error(transparent)]
    File(#[from] FileOutputError),
    #[error(transparent)]
    Output(OutputError),
    #[error(transparent)]
    Reading(#[from] FinishError),
    #[error("the pipeline's thread failed")]
    Panicked,
}

impl PipelineError {
    /// The configuration is at fault (exit code 2), not the run.
    pub fn is_invalid_config(&self) -> bool {
        matches!(self, PipelineError::Config(_))
    }
}

/// Batches waiting between the reading side and the output: a few, so reading overlaps with writing,
/// few enough that memory stays a few MiB when the output is slow.
const CHANNEL_BATCHES: usize = 4;

/// Runs `mode` until every file was read (without follow) or SIGTERM/SIGINT, then delivers what is in
/// flight (at most `shutdown_timeout`) and writes the registry.
pub fn start(config: &Config, mode: Mode) -> Result<(), PipelineError> {
    let (format, runtime) = match mode {
        Mode::Tail(_) => (
            LogFormat::Text,
            tokio::runtime::Builder::new_current_thread(),
        ),
        Mode::Run => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            (LogFormat::Json, builder)
        }
    };
    init_logging(&config.logging.level, format).map_err(PipelineError::Logging)?;
    // Before the registry and the HTTP port: a bad setting is reported as one, with nothing started.
    if matches!(mode, Mode::Run) && config.output.file().is_none() {
        EsClient::check_files(&config.output.elasticsearch).map_err(PipelineError::Config)?;
    }
    let state_dir = match &mode {
        Mode::Tail(options) => options.state_dir.as_deref(),
        Mode::Run => Some(config.state_dir.as_path()),
    };
    let state = state_dir.map(State::open).transpose()?;
    let agent_id = state.as_ref().map(|s| s.agent_id.clone());
    let encoder = Encoder::new(&static_fields(config, agent_id)?);
    let mut runtime = runtime;
    let runtime = runtime
        .enable_all()
        .build()
        .map_err(PipelineError::Runtime)?;
    let changes = Arc::new(Changes::default());
    let parts = Parts {
        config: config.clone(),
        mode,
        state,
        encoder,
        changes: Arc::clone(&changes),
    };
    match drive(runtime, changes, config.shutdown_timeout, parts.run()) {
        Some(result) => result,
        None => Ok(()),
    }
}

/// What a pipeline is built from.
struct Parts {
    config: Config,
    mode: Mode,
    state: Option<State>,
    encoder: Encoder,
    changes: Arc<Changes>,
}

impl Parts {
    async fn run(self) -> Result<(), PipelineError> {
        let Parts {
            config,
            mode,
            state,
            encoder,
            changes,
        } = self;
        let telemetry: Arc<Telemetry> = Arc::default();
        let kube = match &mode {
            Mode::Tail(options) if options.kube => {
                let kube = Kubernetes {
                    enabled: KubernetesMode::On,
                    ..config.kubernetes.clone()
                };
                start_pod_cache(&kube, node_name_env(), NodeScope::AnyNode).await?
            }
            Mode::Tail(_) => None,
            Mode::Run => {
                start_pod_cache(&config.kubernetes, node_name_env(), NodeScope::Required).await?
            }
        };
        if matches!(mode, Mode::Run) && config.http.enabled {
            let mut metrics = Metrics::new(&telemetry);
            if let Some(cache) = &kube {
                metrics.register_kube(cache.clone());
                telemetry.watch_kube(cache.clone());
            }
            let http = &config.http;
            serve_http(
                &http.host,
                http.port,
                Arc::new(metrics),
                Arc::clone(&telemetry),
            )
            .await?;
        }
        let options = match &mode {
            Mode::Tail(tail) => ReadOptions {
                paths: tail.paths.clone(),
                start_at: tail.start_at,
                follow: tail.follow,
                kube,
                telemetry: Arc::clone(&telemetry),
            },
            Mode::Run => ReadOptions {
                paths: Vec::new(),
                start_at: None,
                follow: true,
                kube,
                telemetry: Arc::clone(&telemetry),
            },
        };
        // The pipeline runs on a thread of its own, so a blocking write (a stalled stdout, a slow disk)
        // holds up neither the signals nor the Kubernetes watch; it still uses the runtime's timers and
        // tasks.
        // Progress on a terminal's stderr while work is long; cleared when dropped.
        let progress = match &mode {
            Mode::Tail(tail) if !tail.follow => {
                ProgressLine::start(telemetry.file_gauges(), Work::Backlog)
            }
            Mode::Tail(_) => None,
            Mode::Run => ProgressLine::start(telemetry.file_gauges(), Work::CatchingUp),
        };
        let handle = tokio::runtime::Handle::current();
        let tail = matches!(mode, Mode::Tail(_));
        let source = tokio::task::spawn_blocking(move || {
            handle.block_on(ship(&config, tail, options, state, encoder, changes))
        })
        .await
        .map_err(|_| PipelineError::Panicked)??;
        drop(progress);
        let counts = telemetry.counts();
        let command = if tail { "tail" } else { "run" };
        tracing::info!(
            files = source.files_opened,
            lines = counts.read,
            unparsed = source.unparsed,
            shipped = counts.shipped,
            dropped = counts.dropped(DropReason::OwnLogs),
            dead_lettered = counts.dead_lettered,
            kube_found = source.kube_found,
            kube_missing = source.kube_missing,
            "{command} finished"
        );
        Ok(())
    }
}

/// The output a mode and the configuration choose; one of them runs the loop. Built once per run, so
/// its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Sink {
    Stdout(StdoutOutput<StdoutLock<'static>>),
    File(FileOutput),
    Elasticsearch(EsOutput),
}

impl Sink {
    /// `tail` prints; `run` ships to `output.file` when that is set, else to Elasticsearch.
    fn build(
        config: &Config,
        tail: bool,
        encoder: Encoder,
        telemetry: &Arc<Telemetry>,
    ) -> Result<Sink, PipelineError> {
        let telemetry = Arc::clone(telemetry);
        if tail {
            let out = std::io::stdout().lock();
            return Ok(Sink::Stdout(StdoutOutput::new(out, encoder, telemetry)));
        }
        if let Some(file) = config.output.file() {
            return Ok(Sink::File(FileOutput::new(file, encoder, telemetry)?));
        }
        let set_up = config
            .setup
            .enabled
            .then(|| Box::pin(set_up_before_shipping(config.clone())) as SetUpStep);
        let es = EsOutput::new(
            &config.output.elasticsearch,
            &config.setup,
            &config.state_dir,
            config.max_queued_bytes,
            encoder,
            telemetry,
            set_up,
        )?;
        Ok(Sink::Elasticsearch(es))
    }
}

/// Builds the output, starts reading, and runs the one loop until reading ends; then writes the
/// registry. A reading error is reported before an output error; a closed stdout is no error.
async fn ship(
    config: &Config,
    tail: bool,
    options: ReadOptions,
    state: Option<State>,
    encoder: Encoder,
    changes: Arc<Changes>,
) -> Result<SourceSummary, PipelineError> {
    let telemetry = Arc::clone(&options.telemetry);
    let processors = Processors::new(&config.decode_json_fields, &config.drop_own_logs);
    let sink = Sink::build(config, tail, encoder, &telemetry)?;
    let (reading, mut batches) = Reading::start(
        config,
        options,
        state,
        Arc::clone(&changes),
        CHANNEL_BATCHES,
    )
    .map_err(FinishError::from)?;
    telemetry.set_pipeline_running(true);
    let t = &telemetry;
    let flowed = match sink {
        Sink::Stdout(out) => flow(out, &processors, &mut batches, t).await,
        Sink::File(out) => flow(out, &processors, &mut batches, t).await,
        Sink::Elasticsearch(out) => flow(out, &processors, &mut batches, t).await,
    };
    telemetry.set_pipeline_running(false);
    if flowed.is_err() {
        changes.shutdown();
    }
    // The reading thread stops once nobody receives.
    drop(batches);
    let source = reading.finish()?;
    match flowed {
        Ok(()) | Err(OutputError::Closed) => Ok(source),
        Err(error) => Err(PipelineError::Output(error)),
    }
}

/// Runs `pipeline` to its end. After SIGTERM/SIGINT it has `shutdown_timeout` to deliver what is in
/// flight; past that, `None`, and whatever is still blocked (a stalled stdout, an unanswered request)
/// is left behind so the process can exit. The registry holds what was delivered up to its last flush,
/// so exiting then loses nothing (it may duplicate).
fn drive<T: Send + 'static>(
    runtime: tokio::runtime::Runtime,
    changes: Arc<Changes>,
    shutdown_timeout: Duration,
    pipeline: impl Future<Output = T> + Send + 'static,
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
fn shutdown_on_signal(changes: Arc<Changes>) -> impl Future<Output = ()> {
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

/// `host.*` (with add_host_metadata) and `agent.*`, the same in every event of the run.
fn static_fields(config: &Config, agent_id: Option<String>) -> Result<StaticFields, PipelineError> {
    let host = HostMetadata::read(Path::new("/"), node_name_env());
    let agent = AgentMetadata::new(host.hostname.clone(), agent_id);
    Ok(StaticFields {
        host: config
            .add_host_metadata
            .then(|| serde_json::to_value(&host))
            .transpose()
            .map_err(PipelineError::StaticFields)?,
        agent: serde_json::to_value(&agent).map_err(PipelineError::StaticFields)?,
    })
}
