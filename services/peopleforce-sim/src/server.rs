//! Starting and stopping the simulator: one actix-web server with the API under
//! [`API_PREFIX`] and the control API under `/_sim/`. Signals are left to the caller, so many
//! simulators can live in one test process.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::guard::guard;
use crate::handle::SimHandle;
use crate::state::Sim;

/// The path every API route lives under, as on `app.peopleforce.io`.
pub const API_PREFIX: &str = "/api/public/v3";

/// A running simulator.
pub struct Simulator {
    handle: SimHandle,
    server: ServerHandle,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.handle.base_url())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Validates `config` and starts serving on `bind:port` (port 0 or none: a free one).
    /// Must be called inside a Tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind(SocketAddr::new(config.bind, config.port.unwrap_or(0)))?;
        let port = listener.local_addr()?.port();
        let host = if config.bind.is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            config.bind.to_string()
        };
        let base_url = format!("http://{host}:{port}");
        let workers = config.workers.max(1);
        let sim = Arc::new(Sim::new(config));
        let data = web::Data::from(Arc::clone(&sim));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(from_fn(guard))
                .service(web::scope(API_PREFIX).configure(crate::routes::configure))
                .configure(crate::control::configure)
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().json(json!({"message": "Not found"}))
                }))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run();
        let server_handle = server.handle();
        let task = tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "peopleforce-sim stopped with an error");
            }
        });
        tracing::info!(%base_url, "peopleforce-sim listening");
        Ok(Simulator {
            handle: SimHandle::new(sim, base_url),
            server: server_handle,
            task,
        })
    }

    /// In-process access to the running simulator.
    pub fn handle(&self) -> &SimHandle {
        &self.handle
    }

    /// Stops the server, dropping open connections.
    pub async fn stop(self) {
        self.server.stop(false).await;
        // A server task that panicked has nothing left to clean up.
        let _ = self.task.await;
    }
}
