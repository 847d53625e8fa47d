//! Starting and stopping the simulator: one actix-web server per site, each on its own port,
//! plus one webhook sender task per site. Signals are left to the caller, so many simulators
//! can live in one test process.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::guard::guard;
use crate::handle::SiteHandle;
use crate::site::Site;
use crate::webhooks::delivery::{self, DeliveryConfig};

/// Request bodies up to 10 MiB (large ADF documents).
const MAX_BODY: usize = 10 * 1024 * 1024;

/// A running simulator: all its sites.
pub struct Simulator {
    sites: Vec<SiteHandle>,
    servers: Vec<ServerHandle>,
    tasks: Vec<JoinHandle<()>>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("sites", &self.sites)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Validates `config` and starts every site on `bind:port` (port 0 picks a free one).
    /// Must be called inside a Tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let cancel = CancellationToken::new();
        let delivery = DeliveryConfig {
            retry_delay: config.webhook_retry_delay,
            max_retries: config.webhook_max_retries,
            timeout: config.webhook_timeout,
            concurrency: config.webhook_concurrency,
        };
        let mut sim = Simulator {
            sites: Vec::new(),
            servers: Vec::new(),
            tasks: Vec::new(),
            cancel,
        };
        for site_cfg in &config.sites {
            let listener =
                match TcpListener::bind(SocketAddr::new(config.bind, site_cfg.port.unwrap_or(0))) {
                    Ok(l) => l,
                    Err(e) => {
                        sim.stop().await;
                        return Err(std::io::Error::new(
                            e.kind(),
                            format!("site `{}`: {e}", site_cfg.name),
                        ));
                    }
                };
            let port = listener.local_addr()?.port();
            let host = if config.bind.is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                config.bind.to_string()
            };
            let base_url = format!("http://{host}:{port}");
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let site = Arc::new(Site::new(site_cfg.clone(), base_url.clone(), tx));
            let sender = delivery::run(
                Arc::clone(&site),
                rx,
                delivery.clone(),
                sim.cancel.child_token(),
            );
            sim.tasks.push(tokio::spawn(sender));
            let data = web::Data::from(Arc::clone(&site));
            let data_center = site_cfg.data_center;
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(data.clone())
                    .app_data(web::PayloadConfig::new(MAX_BODY))
                    .wrap(from_fn(guard))
                    .configure(|cfg| crate::routes::configure(cfg, data_center))
                    .configure(crate::control::configure)
                    .default_service(web::to(crate::routes::unknown))
            })
            .workers(config.workers.max(1))
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
            sim.servers.push(server.handle());
            sim.tasks.push(tokio::spawn(async move {
                if let Err(e) = server.await {
                    tracing::error!(error = %e, "simulated site stopped with an error");
                }
            }));
            tracing::info!(site = %site_cfg.name, %base_url, "jira-sim site listening");
            sim.sites.push(SiteHandle::new(site, base_url));
        }
        Ok(sim)
    }

    /// The site named `name`.
    pub fn site(&self, name: &str) -> Option<&SiteHandle> {
        self.sites.iter().find(|s| s.name() == name)
    }

    /// Every site, in configuration order.
    pub fn sites(&self) -> &[SiteHandle] {
        &self.sites
    }

    /// Stops the servers (dropping open connections) and the webhook senders.
    pub async fn stop(self) {
        self.cancel.cancel();
        for server in &self.servers {
            server.stop(false).await;
        }
        for task in self.tasks {
            // A task that panicked has nothing left to clean up.
            let _ = task.await;
        }
    }
}
