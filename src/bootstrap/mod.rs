//! `loglynk bootstrap`: the ILM policy and index template that keep `loglynk run`'s indices healthy,
//! installed idempotently (and, in rollover mode, the first index behind the write alias).

mod before_shipping;
mod bodies;
mod compare;
mod diff;
mod features;
mod install;
mod mappings;
mod normalize;

pub use before_shipping::set_up_before_shipping;
pub use bodies::{
    objects, Object, DATA_STREAM_TEMPLATE_PRIORITY, TEMPLATE_PRIORITY, TEMPLATE_VERSION,
};
pub use compare::{compare, Comparison};
pub use features::Features;
pub use install::{bootstrap, version_supported, BootstrapOptions, Outcome, Report};

use crate::output::elasticsearch::client::{ClientError, SendError};

/// Every variant names the host it is about, and none carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("setup.enabled is false: templates and policies are managed elsewhere")]
    Disabled,
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Send(SendError),
    #[error(
        "{host} refused the credentials for {what} (HTTP {status}): check \
         output.elasticsearch.username and password, or api_key, and the user's privileges \
         (manage_ilm, manage_index_templates)"
    )]
    Auth {
        host: String,
        status: u16,
        what: String,
    },
    #[error(
        "{host} runs Elasticsearch {version}; loglynk bootstrap needs 8.x or 9.x (7.17 only for \
         setup.mode daily), and setup.mode is {mode}"
    )]
    Version {
        host: String,
        version: String,
        mode: &'static str,
    },
    #[error("{host} runs Elasticsearch {version}; {setting} needs {needs}")]
    Feature {
        host: String,
        version: String,
        setting: &'static str,
        needs: &'static str,
    },
    #[error("{host} rejected {what} (HTTP {status}): {reason}")]
    Rejected {
        host: String,
        what: String,
        status: u16,
        reason: String,
    },
    #[error("unexpected answer from {host} to {what}: {reason}")]
    Unexpected {
        host: String,
        what: String,
        reason: String,
    },
    #[error("writing the report: {0}")]
    Output(std::io::Error),
}

impl BootstrapError {
    /// A file the settings name is missing or unusable (exit code 2, as `run` says it).
    pub fn is_invalid_config(&self) -> bool {
        matches!(self, BootstrapError::Client(e) if e.is_invalid_config())
    }

    /// Worth trying again: the cluster is unreachable or busy, not refusing.
    pub fn is_transient(&self) -> bool {
        match self {
            BootstrapError::Send(SendError::Status { status, .. }) => *status >= 500,
            BootstrapError::Send(SendError::Tls { .. }) => false,
            BootstrapError::Send(_) => true,
            BootstrapError::Rejected { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// `GET /` answering 401 or 403 is a credentials problem, said as one.
    fn from_send(error: SendError) -> BootstrapError {
        match error {
            SendError::Status { host, status } if matches!(status, 401 | 403) => {
                BootstrapError::Auth {
                    host,
                    status,
                    what: "GET /".into(),
                }
            }
            other => BootstrapError::Send(other),
        }
    }
}
