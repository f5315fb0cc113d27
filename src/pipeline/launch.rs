//! Starting a command: what `tail` and `run` share from start to exit — logging, the registry, the
//! static fields, the runtime, signals and the shutdown timeout, the Kubernetes cache, `/metrics` — then
//! one pipeline (`ship`), whose output the mode and the configuration choose, and after each reload of
//! the configuration the next one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use super::control::{drive, watch_file, Control};
use super::reading::{FinishError, ReadOptions};
use super::reload::{apply, consider, describe, reply, Change, ConfigSource};
use super::ship::ship;
use super::state::State;
use crate::config::{Config, DataStream, Kubernetes, KubernetesMode, StartAt, NODE_NAME_ENV};
use crate::discover::Changes;
use crate::enrich::kube::cache::KubeError;
use crate::enrich::kube::{start_pod_cache, NodeScope};
use crate::enrich::{AgentMetadata, HostMetadata};
use crate::event::{DataStreams, Encoder, StaticFields};
use crate::output::{self, Destination, OutputError, SettingsError, StartError};
use crate::registry::RegistryError;
use crate::telemetry::{
    self, init_logging, serve_http, HttpError, LogFormat, Metrics, ProgressLine, ReloadRequest,
    Telemetry, Work,
};

/// Which command runs, and what it takes from its arguments rather than the configuration.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `loglynk tail`: local files to NDJSON on stdout; a registry only when asked for.
    Tail(TailOptions),
    /// `loglynk run`: the agent, to the configured output, with the registry in `state_dir`.
    Run,
}

impl Mode {
    /// `tail` prints; `run` ships to the configured output.
    fn destination(&self) -> Destination {
        match self {
            Mode::Tail(tail) => Destination::Stdout { bulk: tail.bulk },
            Mode::Run => Destination::Configured,
        }
    }
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
    /// Print the bulk bodies `run` would send (each document after its action line), not the
    /// documents alone.
    pub bulk: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A setting loading could not check (a file it names), found before anything started.
    #[error(transparent)]
    Config(SettingsError),
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
    Start(#[from] StartError),
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

/// Requests for reloads waiting to be handled; more are pointless, since one reload reads the latest.
const RELOADS_WAITING: usize = 4;

/// Runs `mode` until every file was read (without follow) or SIGTERM/SIGINT, then delivers what is in
/// flight (at most `shutdown_timeout`) and writes the registry.
pub fn start(config: &Config, mode: Mode) -> Result<(), PipelineError> {
    start_reloadable(config, mode, None)
}

/// As [`start`]; with `source`, `run` reloads its configuration from there on SIGHUP, when the file
/// changes, and on `POST /reload` (with `http.reload.enabled`).
pub fn start_reloadable(
    config: &Config,
    mode: Mode,
    source: Option<ConfigSource>,
) -> Result<(), PipelineError> {
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
    if mode.destination() == Destination::Configured {
        output::check_files(config).map_err(PipelineError::Config)?;
    }
    let state_dir = match &mode {
        Mode::Tail(options) => options.state_dir.as_deref(),
        Mode::Run => Some(config.state_dir.as_path()),
    };
    let state = state_dir.map(State::open).transpose()?;
    let agent_id = state.as_ref().map(|s| s.agent_id.clone());
    let encoder = encoder(config, agent_id)?;
    let mut runtime = runtime;
    let runtime = runtime
        .enable_all()
        .build()
        .map_err(PipelineError::Runtime)?;
    let control = Arc::new(Control::new(config.shutdown_timeout));
    let source = source.filter(|_| matches!(mode, Mode::Run));
    let (reloads_tx, reloads) = mpsc::channel(RELOADS_WAITING);
    let hangups = source.as_ref().map(|_| reloads_tx.clone());
    let telemetry: Arc<Telemetry> = Arc::default();
    let parts = Parts {
        telemetry: Arc::clone(&telemetry),
        config: config.clone(),
        mode,
        state,
        encoder,
        control: Arc::clone(&control),
        source,
        reloads_tx,
        reloads,
    };
    match drive(runtime, control, &telemetry, hangups, parts.run()) {
        Some(result) => result,
        None => Ok(()),
    }
}

/// What a pipeline is built from.
struct Parts {
    telemetry: Arc<Telemetry>,
    config: Config,
    mode: Mode,
    state: Option<State>,
    encoder: Encoder,
    control: Arc<Control>,
    /// Where the configuration is read again from; `None`: never reloaded.
    source: Option<ConfigSource>,
    reloads_tx: mpsc::Sender<ReloadRequest>,
    reloads: mpsc::Receiver<ReloadRequest>,
}

/// How one pipeline ended: by itself (shutdown, the end of the files, an error), or stopped for a reload.
enum Ended {
    Done(Result<(), PipelineError>),
    Reload(Box<Change>, ReloadRequest),
}

impl Parts {
    async fn run(self) -> Result<(), PipelineError> {
        let Parts {
            telemetry,
            mut config,
            mode,
            mut state,
            mut encoder,
            control,
            source,
            reloads_tx,
            mut reloads,
        } = self;
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
            let reload = (source.is_some() && http.reload.enabled).then(|| reloads_tx.clone());
            serve_http(
                &http.host,
                http.port,
                Arc::new(metrics),
                Arc::clone(&telemetry),
                reload,
            )
            .await?;
        }
        if let Some(file) = source.as_ref().and_then(|s| s.file.clone()) {
            tokio::spawn(watch_file(file, reloads_tx.clone()));
        }
        drop(reloads_tx);
        let tail = matches!(mode, Mode::Tail(_));
        let destination = mode.destination();
        // Progress on a terminal's stderr while work is long; cleared when dropped.
        let progress = match &mode {
            Mode::Tail(tail) if !tail.follow => {
                ProgressLine::start(Arc::clone(&telemetry), Work::Backlog)
            }
            Mode::Tail(_) => None,
            Mode::Run => ProgressLine::start(Arc::clone(&telemetry), Work::CatchingUp),
        };
        loop {
            let options = match &mode {
                Mode::Tail(tail) => ReadOptions {
                    paths: tail.paths.clone(),
                    start_at: tail.start_at,
                    follow: tail.follow,
                    kube: kube.clone(),
                    telemetry: Arc::clone(&telemetry),
                },
                Mode::Run => ReadOptions {
                    paths: Vec::new(),
                    start_at: None,
                    follow: true,
                    kube: kube.clone(),
                    telemetry: Arc::clone(&telemetry),
                },
            };
            let changes = Arc::new(Changes::default());
            let abandon = Arc::new(Notify::new());
            control.begin(&changes, &abandon);
            // The pipeline runs on a thread of its own, so a blocking write (a stalled stdout, a slow
            // disk) holds up neither the signals nor the Kubernetes watch; it still uses the runtime's
            // timers and tasks.
            let handle = tokio::runtime::Handle::current();
            let pipeline = {
                let (config, changes, abandon) =
                    (config.clone(), Arc::clone(&changes), Arc::clone(&abandon));
                let state = state.take();
                let encoder = encoder.clone();
                tokio::task::spawn_blocking(move || {
                    handle.block_on(ship(
                        &config,
                        destination,
                        options,
                        state,
                        encoder,
                        changes,
                        &abandon,
                    ))
                })
            };
            tokio::pin!(pipeline);
            let ended = loop {
                tokio::select! {
                    done = &mut pipeline => {
                        break Ended::Done(done.map_err(|_| PipelineError::Panicked).and_then(|r| r));
                    }
                    Some(request) = reloads.recv(), if source.is_some() => {
                        let Some(source) = &source else { continue };
                        if let Some(change) = consider(source, &config, request.cause, &telemetry) {
                            match change {
                                Ok(change) => break Ended::Reload(Box::new(change), request),
                                Err(outcome) => reply(request, outcome),
                            }
                        } else {
                            reply(request, Ok("the configuration is unchanged".into()));
                        }
                    }
                }
            };
            let (change, request) = match ended {
                Ended::Done(result) => {
                    result?;
                    break;
                }
                Ended::Reload(change, request) => (change, request),
            };
            // Reading stops; what was read is delivered and acknowledged, and the registry written.
            changes.shutdown();
            let wait = control.shutdown_timeout();
            let drained = match tokio::time::timeout(wait, &mut pipeline).await {
                Ok(done) => done,
                Err(_) => {
                    telemetry::reload_drain_timed_out(wait);
                    abandon.notify_one();
                    pipeline.await
                }
            };
            drained.map_err(|_| PipelineError::Panicked)??;
            if control.stopping() {
                reply(request, Err("the agent is stopping".into()));
                break;
            }
            let agent_id = match &mode {
                Mode::Run => {
                    let reopened = State::open(&change.config.state_dir)?;
                    let id = reopened.agent_id.clone();
                    state = Some(reopened);
                    Some(id)
                }
                Mode::Tail(_) => None,
            };
            encoder = self::encoder(&change.config, agent_id)?;
            apply(&change, &control);
            config = change.config.clone();
            telemetry.config_reloaded(&change.changed);
            reply(request, Ok(describe(&change.changed, &change.kept)));
        }
        drop(progress);
        // The counts span every pipeline of the run (one per configuration it reloaded).
        telemetry.finished(if tail { "tail" } else { "run" });
        Ok(())
    }
}

fn node_name_env() -> Option<String> {
    std::env::var(NODE_NAME_ENV).ok()
}

/// The documents' encoder: with `setup.mode: data_stream`, each carries its data stream's fields.
fn encoder(config: &Config, agent_id: Option<String>) -> Result<Encoder, PipelineError> {
    let encoder = Encoder::new(&static_fields(config, agent_id)?);
    Ok(if DataStream::used(&config.setup) {
        encoder.with_data_streams(DataStreams::new(&config.data_stream))
    } else {
        encoder
    })
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
