//! Why a role could not start or stopped with a failure. Sources are kept; [`chain`] renders
//! them for people. No variant carries a secret: URLs with passwords stay in the settings.

use std::path::PathBuf;

use jira_sync_settings::{StoreKind, TransportKind};
use jira_sync_store::StoreError;
use jira_sync_transport::TransportError;

/// A failure to start or run a role.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory cannot be created or written.
    #[error("runtime.data_dir: cannot use `{}` for the embedded queue and store", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened (PostgreSQL unreachable, a SQLite file unusable).
    #[error("cannot open the {kind} store")]
    Store {
        kind: StoreKind,
        #[source]
        source: StoreError,
    },
    /// The transport could not be opened (RabbitMQ unreachable, a SQLite file unusable).
    #[error("cannot open the {kind} transport")]
    Transport {
        kind: TransportKind,
        #[source]
        source: TransportError,
    },
    /// The ingress could not start, or failed.
    #[error("the ingress failed")]
    Ingress(#[source] jira_sync_ingress::IngressError),
    /// The sync worker could not start, or failed.
    #[error("the sync worker failed")]
    Worker(#[source] jira_sync_worker::StartupError),
    /// The poller could not start, or failed.
    #[error("the poller failed")]
    Poller(#[source] jira_sync_poller::StartupError),
    /// The admin API could not start, or failed.
    #[error("the admin API failed")]
    Admin(#[source] jira_sync_admin::AdminError),
    /// A role's task panicked or was cancelled.
    #[error("the {role} task ended abnormally")]
    Task {
        role: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

/// An error and its sources, one `: `-separated line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        // Some errors repeat their source's text in their own; say it once.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
