//! Running roles in one process: the ingress, the sync worker and the poller (`serve`, plus the
//! admin API on its own port when `admin.api_keys` has a key), or one of them (`ingress`,
//! `worker`), on the [`Backends`] the config selects, embedded or distributed alike. Each role is the service's own `Application`, built with `build_with`
//! exactly as the separate binaries and the end-to-end tests build it; only the transport and
//! the store handed to it differ.
//!
//! [`Serve`] is a library type so that tests and the `demo` command can start a whole
//! installation in-process (point its endpoints at simulated sites, register their webhooks on
//! [`Serve::ports`]), and stop it with a cancellation token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jira_sync_ingress::{IngressDeps, StoreReadiness};
use jira_sync_settings::Settings;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::backends::Backends;
use crate::error::StartError;

/// Which roles a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roles {
    /// Ingress, worker and poller, and the admin API when a key is configured.
    All,
    /// The webhook ingress only.
    Ingress,
    /// The sync worker only.
    Worker,
}

type RoleFuture = Pin<Box<dyn Future<Output = Result<(), StartError>> + Send>>;

/// A built role, started by giving it the shutdown token.
struct Role {
    name: &'static str,
    run: Box<dyn FnOnce(CancellationToken) -> RoleFuture + Send>,
}

/// Built roles on open backends: ports bound, consumer subscribed, ready to run.
pub struct Serve {
    roles: Vec<Role>,
    ports: Ports,
    backends: Backends,
}

impl Serve {
    /// Opens the backends and builds every role of `serve`. Fails fast when a backend is
    /// unreachable or a port is taken.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_roles(settings, Roles::All).await
    }

    /// Like [`Serve::build`] for a choice of roles.
    pub async fn build_roles(settings: Settings, roles: Roles) -> Result<Self, StartError> {
        let backends = Backends::open(&settings).await?;
        let mut serve = Self {
            roles: Vec::new(),
            ports: Ports::default(),
            backends,
        };
        if let Err(e) = serve.add_roles(settings, roles).await {
            serve.backends.close().await;
            return Err(e);
        }
        Ok(serve)
    }

    async fn add_roles(&mut self, settings: Settings, roles: Roles) -> Result<(), StartError> {
        if matches!(roles, Roles::All | Roles::Ingress) {
            let deps = IngressDeps {
                publisher: self.backends.publisher(),
                readiness: std::sync::Arc::new(StoreReadiness(self.backends.store())),
            };
            let app = jira_sync_ingress::Application::build_with(settings.clone(), deps)
                .map_err(StartError::Ingress)?;
            self.ports.ingress = Some(app.port());
            self.roles.push(Role {
                name: "ingress",
                run: Box::new(|shutdown| {
                    Box::pin(async move {
                        app.run_until_stopped(shutdown)
                            .await
                            .map_err(StartError::Ingress)
                    })
                }),
            });
        }
        if matches!(roles, Roles::All | Roles::Worker) {
            let consumer = self.backends.consumer().await?;
            let app = jira_sync_worker::Application::build_with(
                settings.clone(),
                self.backends.store(),
                consumer,
            )
            .map_err(StartError::Worker)?;
            self.ports.worker = Some(app.port());
            self.roles.push(Role {
                name: "worker",
                run: Box::new(|shutdown| {
                    Box::pin(async move {
                        app.run_until_stopped(shutdown)
                            .await
                            .map_err(StartError::Worker)
                    })
                }),
            });
        }
        if roles == Roles::All {
            self.add_poller(settings.clone()).await?;
            self.add_admin(settings)?;
        }
        Ok(())
    }

    /// The poller (scheduled JQL increments, full passes, retry sweeps, PeopleForce scans)
    /// repairs what webhooks miss. Its leader locks and content hashes are the store's, so it
    /// runs on SQLite as on PostgreSQL.
    async fn add_poller(&mut self, settings: Settings) -> Result<(), StartError> {
        // On PostgreSQL its leader locks get connections of their own: held for as long as
        // it leads, they would otherwise take the lock connections the worker needs.
        let leaders = match self.backends.postgres() {
            Some(_) => Some(
                (jira_sync_poller::leader_store(&settings).await).map_err(StartError::Poller)?,
            ),
            None => None,
        };
        let mut app = jira_sync_poller::startup::Application::build_with(
            settings,
            self.backends.store(),
            self.backends.publisher(),
        )
        .await
        .map_err(StartError::Poller)?;
        if let Some(leaders) = leaders {
            app = app.with_leader_store(Arc::new(leaders));
        }
        self.ports.poller = Some(app.port());
        self.roles.push(Role {
            name: "poller",
            run: Box::new(|shutdown| {
                Box::pin(async move {
                    app.run_until_stopped(shutdown)
                        .await
                        .map_err(StartError::Poller)
                })
            }),
        });
        Ok(())
    }

    /// The admin API (`/api/v1`) on `admin.listen`, a port of its own so that it can stay off
    /// the network the webhooks come from. Without a key in `admin.api_keys` it is not
    /// started: a door no key opens is no use.
    fn add_admin(&mut self, settings: Settings) -> Result<(), StartError> {
        if !settings.admin.has_keys() {
            tracing::info!("no admin.api_keys: the admin API is not started");
            return Ok(());
        }
        let deps = jira_sync_admin::AdminDeps {
            store: self.backends.store(),
            publisher: self.backends.publisher(),
            dead_letters: self.backends.dead_letters(),
        };
        let app =
            jira_sync_admin::Application::build_with(settings, deps).map_err(StartError::Admin)?;
        self.ports.admin = Some(app.port());
        self.roles.push(Role {
            name: "admin",
            run: Box::new(|shutdown| {
                Box::pin(async move {
                    app.run_until_stopped(shutdown)
                        .await
                        .map_err(StartError::Admin)
                })
            }),
        });
        Ok(())
    }

    /// The store every role shares (the demo reads links, conflicts and audit from it).
    pub fn store(&self) -> std::sync::Arc<dyn jira_sync_store::Store> {
        self.backends.store()
    }

    /// A publisher on the transport every role shares.
    pub fn publisher(&self) -> std::sync::Arc<dyn jira_sync_transport::Publisher> {
        self.backends.publisher()
    }

    /// The transport's dead-letter queue.
    pub fn dead_letters(&self) -> std::sync::Arc<dyn jira_sync_transport::DeadLetters> {
        self.backends.dead_letters()
    }

    /// Where each role listens, for the roles that run here.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// Runs every role until `shutdown` is cancelled, then lets each drain (in-flight webhooks
    /// answered, in-flight reconciles finished and acknowledged) and closes the backends. When
    /// one role fails or ends by itself, the others are stopped too and the first error is
    /// returned.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), StartError> {
        let stop = shutdown.child_token();
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();
        for role in self.roles {
            let handle = tasks.spawn((role.run)(stop.clone()));
            names.insert(handle.id(), role.name);
        }
        let mut outcome = Ok(());
        while let Some(joined) = tasks.join_next_with_id().await {
            let result = match joined {
                Ok((_, result)) => result,
                Err(source) => Err(StartError::Task {
                    role: names.get(&source.id()).copied().unwrap_or("role"),
                    source,
                }),
            };
            if let Err(e) = result {
                tracing::error!(error = %crate::error::chain(&e), "stopping every role");
                if outcome.is_ok() {
                    outcome = Err(e);
                }
            }
            // One role gone (failed, or its consumer closed): the process is not whole.
            stop.cancel();
        }
        self.backends.close().await;
        outcome
    }

    /// Runs [`Serve::run_until_stopped`] on a task of its own, for callers that go on (tests,
    /// the demo).
    pub fn spawn(self) -> Running {
        let shutdown = CancellationToken::new();
        let ports = self.ports;
        let task = tokio::spawn(self.run_until_stopped(shutdown.clone()));
        Running {
            shutdown,
            task,
            ports,
        }
    }
}

/// A [`Serve`] running on its own task.
pub struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), StartError>>,
    ports: Ports,
}

impl Running {
    /// See [`Serve::ports`].
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// Stops every role gracefully and waits for them.
    pub async fn stop(self) -> Result<(), StartError> {
        self.shutdown.cancel();
        match self.task.await {
            Ok(result) => result,
            Err(source) => Err(StartError::Task {
                role: "serve",
                source,
            }),
        }
    }
}

/// The ports of the roles `serve` runs in this process; `None` for a role that does not run here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    /// `/webhooks/jira/{endpoint}`, `/healthz`, `/readyz`, `/metrics`.
    pub ingress: Option<u16>,
    /// `/healthz`, `/readyz`, `/metrics` of the worker.
    pub worker: Option<u16>,
    /// `/healthz`, `/readyz`, `/metrics` of the poller.
    pub poller: Option<u16>,
    /// The admin API (`/api/v1`, `/healthz`, `/readyz`).
    pub admin: Option<u16>,
}
