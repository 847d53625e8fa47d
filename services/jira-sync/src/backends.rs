//! The transport and the store a process runs on, chosen by `[runtime]`: embedded (a SQLite
//! queue and a SQLite store under `runtime.data_dir`) unless the config asks for RabbitMQ
//! (`transport = "amqp"`) or PostgreSQL (`store = "postgres"`). Opening them here is the only
//! thing that differs between the modes: the ingress, the worker, the poller and the admin API
//! are built the same way on either (their `Application::build_with`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jira_sync_settings::{Settings, StoreKind, TransportKind};
use jira_sync_store::{PgStore, SqliteOptions, SqliteStore, Store};
use jira_sync_transport::{
    AmqpTransport, Consumer, DeadLetters, EmbeddedQueueSettings, EmbeddedTransport, Publisher,
};

use crate::error::StartError;

/// The transport of `jira-sync` when the config does not name one.
pub const DEFAULT_TRANSPORT: TransportKind = TransportKind::Embedded;
/// The store of `jira-sync` when the config does not name one.
pub const DEFAULT_STORE: StoreKind = StoreKind::Sqlite;

/// The embedded queue's file under the data directory.
pub const QUEUE_FILE: &str = "queue.sqlite";
/// The embedded store's file under the data directory.
pub const STORE_FILE: &str = "store.sqlite";

/// The open transport and store of one process. Keep it alive as long as the roles using it
/// run (it owns the broker connections), then [`Backends::close`] it.
pub struct Backends {
    transport: Transport,
    store: OpenStore,
}

enum Transport {
    Amqp(AmqpTransport),
    Embedded(EmbeddedTransport),
}

enum OpenStore {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

/// The transport and store `settings` select for `jira-sync`.
pub fn kinds(settings: &Settings) -> (TransportKind, StoreKind) {
    let runtime = &settings.runtime;
    (
        runtime.transport_or(DEFAULT_TRANSPORT),
        runtime.store_or(DEFAULT_STORE),
    )
}

impl Backends {
    /// Opens the transport and the store `settings` select, failing fast when one is
    /// unreachable: RabbitMQ gets its topology declared, PostgreSQL and SQLite their migrations.
    /// Nothing is opened on a backend that is not selected.
    pub async fn open(settings: &Settings) -> Result<Self, StartError> {
        let (transport_kind, store_kind) = kinds(settings);
        if transport_kind == TransportKind::Embedded || store_kind == StoreKind::Sqlite {
            prepare_data_dir(&settings.runtime.data_dir)?;
        }
        let data_dir = &settings.runtime.data_dir;
        let lease = settings.runtime.lease_timeout;
        let store = match store_kind {
            StoreKind::Postgres => PgStore::connect(&settings.database)
                .await
                .map(OpenStore::Postgres),
            StoreKind::Sqlite => {
                let options = SqliteOptions {
                    max_connections: settings.database.max_connections,
                    lock_lease: lease,
                    ..SqliteOptions::default()
                };
                let path = data_dir.join(STORE_FILE);
                SqliteStore::open_with(&path.to_string_lossy(), &options)
                    .await
                    .map(OpenStore::Sqlite)
            }
        }
        .map_err(|source| StartError::Store {
            kind: store_kind,
            source,
        })?;
        let transport_error = |source| StartError::Transport {
            kind: transport_kind,
            source,
        };
        let transport = match transport_kind {
            TransportKind::Amqp => {
                let transport = AmqpTransport::new(&settings.amqp).map_err(transport_error)?;
                transport
                    .declare_topology()
                    .await
                    .map_err(transport_error)?;
                Transport::Amqp(transport)
            }
            TransportKind::Embedded => {
                let queue = EmbeddedQueueSettings {
                    prefetch: settings.amqp.prefetch,
                    visibility_timeout: lease,
                    ..EmbeddedQueueSettings::default()
                };
                let path = data_dir.join(QUEUE_FILE);
                let transport = EmbeddedTransport::open(&path, &queue)
                    .await
                    .map_err(transport_error)?;
                Transport::Embedded(transport)
            }
        };
        tracing::info!(
            transport = %transport_kind,
            store = %store_kind,
            data_dir = %data_dir.display(),
            "backends open"
        );
        Ok(Self { transport, store })
    }

    /// The store, shared by every role of the process.
    pub fn store(&self) -> Arc<dyn Store> {
        match &self.store {
            OpenStore::Postgres(store) => Arc::new(store.clone()),
            OpenStore::Sqlite(store) => Arc::new(store.clone()),
        }
    }

    /// The PostgreSQL store, when the store is PostgreSQL.
    pub fn postgres(&self) -> Option<&PgStore> {
        match &self.store {
            OpenStore::Postgres(store) => Some(store),
            OpenStore::Sqlite(_) => None,
        }
    }

    /// A publisher of reconcile requests (returns once they are durable).
    pub fn publisher(&self) -> Arc<dyn Publisher> {
        match &self.transport {
            Transport::Amqp(transport) => transport.publisher(),
            Transport::Embedded(transport) => transport.publisher(),
        }
    }

    /// The dead-letter queue of the transport (the admin API lists and replays it).
    pub fn dead_letters(&self) -> Arc<dyn DeadLetters> {
        match &self.transport {
            Transport::Amqp(transport) => transport.dead_letters(),
            Transport::Embedded(transport) => transport.dead_letters(),
        }
    }

    /// A consumer of the work queue.
    pub async fn consumer(&self) -> Result<Box<dyn Consumer>, StartError> {
        match &self.transport {
            Transport::Amqp(transport) => {
                transport
                    .consumer()
                    .await
                    .map_err(|source| StartError::Transport {
                        kind: TransportKind::Amqp,
                        source,
                    })
            }
            Transport::Embedded(transport) => Ok(transport.consumer()),
        }
    }

    /// Closes the embedded files and the database pools, waiting for connections in use.
    /// (Broker connections close when the transport is dropped.) Close after the roles stopped.
    pub async fn close(self) {
        if let Transport::Embedded(transport) = &self.transport {
            transport.close().await;
        }
        match &self.store {
            OpenStore::Postgres(store) => store.close().await,
            OpenStore::Sqlite(store) => store.close().await,
        }
    }
}

/// Creates the data directory and proves it writable with a probe file, so that a read-only
/// or full disk is reported at start-up under its config key rather than by SQLite later.
fn prepare_data_dir(dir: &Path) -> Result<(), StartError> {
    let fail = |source| StartError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe: PathBuf = dir.join(".write-probe");
    std::fs::write(&probe, b"jira-sync").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}
