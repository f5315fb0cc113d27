//! The `loglynk` command line: parses the arguments (their definition is in `cli.rs`), dispatches to the
//! library, and turns the outcome into an exit code.

mod cli;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use cli::{Cli, Command, ConfigCommand, RegistryCommand, ReportFormat};
use loglynk::bootstrap::BootstrapOptions;
use loglynk::config::{self, Config, ProcessEnv};
use loglynk::discover::check_pattern;
use loglynk::doctor;
use loglynk::pipeline::{self, Mode};
use loglynk::registry::{import_filebeat, read_filebeat_registry, FilebeatError, Store};
use loglynk::telemetry::{init_logging, LogFormat};

/// Where the agent looks for its configuration when `--config` is not given.
const DEFAULT_CONFIG_PATH: &str = "/etc/loglynk/loglynk.yml";

/// Exit code for an invalid configuration or invocation (clap's usage errors use 2 as well).
const EXIT_INVALID: u8 = 2;
/// Exit code for a failure at run time.
const EXIT_FAILURE: u8 = 1;
/// `bootstrap`: an object in the cluster differs from loglynk's and was left as it is.
const EXIT_DIFFERS: u8 = 3;

fn main() -> ExitCode {
    fixed_malloc_thresholds();
    let cli = Cli::parse();
    match cli.command {
        Command::Config(ConfigCommand::Check { ref file }) => {
            let path = file.clone().or_else(|| cli.config.clone());
            config_check(path.as_deref(), &cli.set)
        }
        Command::Config(ConfigCommand::ImportFilebeat {
            ref file,
            ref output,
        }) => import_filebeat_config(file, output.as_deref()),
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
            exit(pipeline::start(&config, Mode::Tail(args.options())))
        }
        Command::Bootstrap { dry_run, force } => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            bootstrap(&config, BootstrapOptions { dry_run, force })
        }
        Command::Top { ref url } => report(loglynk::top::run(url).map_err(Into::into)),
        Command::Doctor { format } => doctor(cli.config.as_deref(), &cli.set, format),
        Command::Run => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            let source = pipeline::ConfigSource {
                file: config_file(cli.config.as_deref()).map(Path::to_path_buf),
                overrides: cli.set.clone(),
            };
            exit(pipeline::start_reloadable(&config, Mode::Run, Some(source)))
        }
        Command::Registry(RegistryCommand::ImportFilebeat {
            ref path,
            ref state_dir,
            if_absent,
        }) => {
            let config = match load_config(cli.config.as_deref(), &cli.set) {
                Ok(config) => config,
                Err(code) => return code,
            };
            let dir = state_dir
                .clone()
                .unwrap_or_else(|| config.state_dir.clone());
            report(import(path, &dir, if_absent))
        }
    }
}

fn bootstrap(config: &Config, options: BootstrapOptions) -> ExitCode {
    if let Err(error) = init_logging(&config.logging.level, LogFormat::Text) {
        eprintln!("loglynk: {error}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let runtime = match current_thread_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let mut out = std::io::stdout();
    match runtime.block_on(loglynk::bootstrap::bootstrap(config, options, &mut out)) {
        Ok(report) if report.differs() => ExitCode::from(EXIT_DIFFERS),
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loglynk: bootstrap: {error}");
            ExitCode::from(if error.is_invalid_config() {
                EXIT_INVALID
            } else {
                EXIT_FAILURE
            })
        }
    }
}

/// A one-thread runtime for a command that asks a cluster a few questions.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("loglynk: starting the runtime: {error}");
            ExitCode::from(EXIT_FAILURE)
        })
}

/// Every check, printed; exit 1 when one failed. An invalid configuration is a failed check too,
/// the only one then.
fn doctor(file: Option<&Path>, overrides: &[String], format: ReportFormat) -> ExitCode {
    let default = Path::new(DEFAULT_CONFIG_PATH);
    let file = file.or_else(|| default.exists().then_some(default));
    let source = file.map_or_else(
        || "built-in defaults".to_owned(),
        |f| f.display().to_string(),
    );
    let report = match config::load_checked(file, overrides, &ProcessEnv, loglynk::output::check) {
        Ok(config) => {
            let runtime = match current_thread_runtime() {
                Ok(runtime) => runtime,
                Err(code) => return code,
            };
            let node_name = std::env::var(config::NODE_NAME_ENV).ok();
            runtime.block_on(doctor::diagnose(&config, &source, node_name))
        }
        Err(error) => {
            let mut report = doctor::Report::default();
            report.push(doctor::Check::fail(
                "config",
                format!("{source}: {error}"),
                "fix the key it names (loglynk config check shows the whole configuration)",
            ));
            report
        }
    };
    match format {
        ReportFormat::Text => print!("{}", report.to_text()),
        ReportFormat::Json => print!("{}", report.to_json()),
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

fn import(filebeat: &Path, state_dir: &Path, if_absent: bool) -> anyhow::Result<()> {
    let store = Store::open(state_dir)?;
    if if_absent && store.path().exists() {
        println!(
            "nothing imported: {} exists (this node already runs loglynk)",
            store.path().display()
        );
        return Ok(());
    }
    let import = match read_filebeat_registry(filebeat) {
        Err(error @ (FilebeatError::NotFound { .. } | FilebeatError::NotARegistry { .. }))
            if if_absent =>
        {
            println!("nothing imported: {error}");
            return Ok(());
        }
        read => read?,
    };
    for warning in &import.warnings {
        eprintln!("loglynk: warning: {warning}");
    }
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

/// An unreadable or non-Filebeat input is a usage error (2); failing to write the result is 1.
fn import_filebeat_config(file: &Path, output: Option<&Path>) -> ExitCode {
    let imported = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .and_then(|text| {
            Ok(config::filebeat_import::import(
                &text,
                &file.display().to_string(),
            )?)
        });
    let text = match imported {
        Ok(text) => text,
        Err(error) => {
            eprintln!("loglynk: {error:#}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    report(match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    })
}

/// The file the configuration is read from: the one given, else the default one when it exists.
fn config_file(file: Option<&Path>) -> Option<&Path> {
    let default = Path::new(DEFAULT_CONFIG_PATH);
    file.or_else(|| default.exists().then_some(default))
}

/// Loads the configuration, printing the error and giving the exit code when it is invalid.
fn load_config(file: Option<&Path>, overrides: &[String]) -> Result<Config, ExitCode> {
    let file = config_file(file);
    config::load_checked(file, overrides, &ProcessEnv, loglynk::output::check).map_err(|error| {
        eprintln!("loglynk: {error}");
        ExitCode::from(EXIT_INVALID)
    })
}

/// A setting the pipeline found unusable at start is the configuration's fault, with its exit code.
fn exit(result: Result<(), pipeline::PipelineError>) -> ExitCode {
    match result {
        Err(error) if error.is_invalid_config() => {
            eprintln!("loglynk: {error}");
            ExitCode::from(EXIT_INVALID)
        }
        result => report(result.map_err(Into::into)),
    }
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

/// glibc's malloc raises its mmap threshold to the largest block freed (up to 32 MiB), and its trim
/// threshold to twice that: once the first multi-MiB request body is freed, everything smaller comes
/// from the per-thread heaps, and each heap keeps up to twice a body's size it no longer uses, which
/// no budget sees. Fixed thresholds keep large buffers in mappings of their own, returned when freed,
/// and the heaps trimmed. Two heaps rather than one per thread (up to 16 on two cores), each with
/// its own free memory: 1.3–1.8 MiB less peak with `compression_level: 0`, no CPU measurable.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fixed_malloc_thresholds() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread starts.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 512 * 1024);
        mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
        mallopt(M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fixed_malloc_thresholds() {}
