//! Which output a command uses, built from the configuration: the one place outside their own folders
//! that names each output, so the pipeline drives [`AnyOutput`] and a new output is added here, beside
//! its settings in `config/`.

use std::io::StdoutLock;
use std::sync::Arc;

use tokio::time::Instant;

use super::elasticsearch::client::{ClientError, EsClient};
use super::elasticsearch::{bulk_builder, EsOutput, EsOutputError, SetUpStep};
use super::file::{FileOutput, FileOutputError};
use super::stdout::StdoutOutput;
use super::{Output, OutputError};
use crate::batch::Batch;
use crate::budget::Budget;
use crate::config::Config;
use crate::event::Encoder;
use crate::telemetry::Telemetry;

/// Where a command's events go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `tail`: NDJSON on stdout, whatever the configuration's output; with `bulk`, the Elasticsearch
    /// output's bulk bodies (action lines and documents) rather than the documents alone.
    Stdout { bulk: bool },
    /// `run`: `output.file` when it is enabled, else Elasticsearch.
    Configured,
}

/// The output a destination and the configuration choose. Built once per pipeline, so its size does
/// not matter.
#[allow(clippy::large_enum_variant)]
pub enum AnyOutput {
    Stdout(StdoutOutput<StdoutLock<'static>>),
    File(FileOutput),
    Elasticsearch(EsOutput),
}

/// An output that could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Elasticsearch(#[from] EsOutputError),
    #[error(transparent)]
    File(#[from] FileOutputError),
}

/// A setting of the configured output that loading cannot check: a file it names.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Elasticsearch(#[from] ClientError),
}

/// Starts the output of `destination` on the current runtime. `set_up` makes the step Elasticsearch
/// runs before its first bulk request when `setup.enabled` (the cluster's objects); no other output
/// asks for it.
pub fn build(
    config: &Config,
    destination: Destination,
    encoder: Encoder,
    telemetry: &Arc<Telemetry>,
    set_up: impl FnOnce() -> SetUpStep,
    budget: &Budget,
) -> Result<AnyOutput, StartError> {
    let telemetry = Arc::clone(telemetry);
    if let Destination::Stdout { bulk } = destination {
        let out = std::io::stdout().lock();
        return Ok(AnyOutput::Stdout(if bulk {
            let builder = bulk_builder(&config.output.elasticsearch, &config.setup, encoder)?;
            StdoutOutput::bulk(out, builder, telemetry)
        } else {
            StdoutOutput::new(out, encoder, telemetry)
        }));
    }
    if let Some(file) = config.output.file() {
        return Ok(AnyOutput::File(FileOutput::new(file, encoder, telemetry)?));
    }
    let es = EsOutput::new(
        &config.output.elasticsearch,
        &config.setup,
        &config.state_dir,
        budget.clone(),
        encoder,
        telemetry,
        config.setup.enabled.then(set_up),
    )?;
    Ok(AnyOutput::Elasticsearch(es))
}

/// Reads the files the configured output's settings name (Elasticsearch's CA, client certificate and
/// key) as starting it will: `run` checks before it opens any port, and a reload before it stops
/// anything.
pub fn check_files(config: &Config) -> Result<(), SettingsError> {
    if config.output.file().is_none() {
        EsClient::check_files(&config.output.elasticsearch)?;
    }
    Ok(())
}

/// Bytes the output keeps in flight at most: Elasticsearch's `workers` requests of `bulk_max_bytes`.
/// The file and stdout outputs hold one batch at a time, so the same figure serves them.
pub fn in_flight_bytes(config: &Config) -> u64 {
    let es = &config.output.elasticsearch;
    es.bulk_max_bytes.saturating_mul(es.workers as u64)
}

impl Output for AnyOutput {
    async fn send(&mut self, batch: Batch) -> Result<(), OutputError> {
        match self {
            AnyOutput::Stdout(out) => out.send(batch).await,
            AnyOutput::File(out) => out.send(batch).await,
            AnyOutput::Elasticsearch(out) => out.send(batch).await,
        }
    }

    fn next_flush(&self) -> Option<Instant> {
        match self {
            AnyOutput::Stdout(out) => out.next_flush(),
            AnyOutput::File(out) => out.next_flush(),
            AnyOutput::Elasticsearch(out) => out.next_flush(),
        }
    }

    async fn flush(&mut self) -> Result<(), OutputError> {
        match self {
            AnyOutput::Stdout(out) => out.flush().await,
            AnyOutput::File(out) => out.flush().await,
            AnyOutput::Elasticsearch(out) => out.flush().await,
        }
    }

    async fn close(self) -> Result<(), OutputError> {
        match self {
            AnyOutput::Stdout(out) => out.close().await,
            AnyOutput::File(out) => out.close().await,
            AnyOutput::Elasticsearch(out) => out.close().await,
        }
    }
}
