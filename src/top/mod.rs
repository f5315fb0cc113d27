//! `loglynk top`: a live view of a running agent, read from its `/status` and `/metrics` every
//! second (locally, or through `kubectl port-forward`): throughput in and out, the ledger, the
//! output's state, and the files furthest behind, sortable. On a non-terminal stdout it prints one
//! reading and exits, for a pipe or a log.

mod fetch;
mod model;
mod screen;

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

pub use fetch::Agent;
pub use model::{Reading, Sort, View};

/// How often the screen is refreshed; also the gap between a snapshot's two readings.
pub const REFRESH: Duration = Duration::from_secs(1);

/// Rows of a snapshot on a non-terminal: enough to see who is behind, few enough for a log.
const SNAPSHOT_ROWS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum TopError {
    #[error("invalid --url {url}: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot read the agent at {url}: {reason}")]
    Agent { url: String, reason: String },
    #[error("the terminal: {0}")]
    Terminal(std::io::Error),
}

/// Runs the live view until `q`, or prints one snapshot when stdout is not a terminal.
pub fn run(url: &str) -> Result<(), TopError> {
    let agent = Agent::new(url)?;
    let first = read(&agent)?;
    if !std::io::stdout().is_terminal() {
        // Rates need two readings.
        std::thread::sleep(REFRESH);
        let second = read(&agent)?;
        let view = View::new(agent.url(), &second, Some(&first), Sort::BytesBehind);
        print!("{}", view.to_text(SNAPSHOT_ROWS));
        return Ok(());
    }
    screen::live(&agent, first)
}

fn read(agent: &Agent) -> Result<Reading, TopError> {
    let status = agent.status()?;
    let metrics = agent.metrics()?;
    Ok(Reading {
        at: Instant::now(),
        status,
        metrics,
    })
}
