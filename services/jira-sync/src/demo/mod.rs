//! `jira-sync demo`: a whole installation on this machine in one command. Two simulated Jira
//! Cloud sites start in-process on free ports, `serve` runs in embedded mode (SQLite queue and
//! store in a temporary directory, or `--data-dir`) with a Jira<->Jira connection configured
//! like `deploy/examples/two-sims.toml` (description held on conflict), the sites' webhooks are
//! registered, and a scripted scenario acts on the sites' REST APIs as their admin users while a
//! live view shows what the store, the transport, the metrics and the sites report. A summary
//! then checks the outcome against the sites themselves.
//!
//! - [`config`]: the simulated sites and the generated configuration.
//! - [`issues`]: reading issues back from the sites.
//! - [`person`]: a site's admin working through its REST API.
//! - [`scenario`]: the scripted steps.
//! - [`view`]: the live view (figures read from the running installation).
//! - [`summary`]: the closing checks, read from the store, the transport and the sites.
//!
//! PeopleForce is left out: the sync worker has no PeopleForce<->Jira connection yet.

pub mod config;
pub mod issues;
pub mod person;
pub mod scenario;
pub mod summary;
pub mod view;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_jira_sim::Simulator;
use jira_sync_settings::Settings;
use tokio_util::sync::CancellationToken;

use crate::serve::Serve;

/// How `demo` runs.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Where the embedded queue and store live (a temporary directory when `None`).
    pub data_dir: Option<PathBuf>,
    /// Exit after the summary (0 when every check holds, 1 otherwise) instead of waiting for
    /// Ctrl-C.
    pub exit_after_scenario: bool,
    /// Redraw a table in place (stdout is a terminal) rather than print progress lines.
    pub live: bool,
}

/// Why the demo could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulated sites did not start.
    #[error("cannot start the simulated Jira sites")]
    Simulator(#[source] std::io::Error),
    /// The data directory or the config file could not be written.
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The generated configuration was refused.
    #[error("the demo configuration is invalid")]
    Settings(#[source] Box<jira_sync_settings::SettingsError>),
    /// `serve` did not start.
    #[error("serve did not start")]
    Serve(#[source] Box<crate::StartError>),
    /// A site refused to register a webhook.
    #[error("site {site} refused the webhook: {detail}")]
    Webhook { site: String, detail: String },
}

/// Runs the demo, printing to `out` and `err`.
pub async fn run(
    options: DemoOptions,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> ExitCode {
    match run_inner(options, out).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let _ = writeln!(err, "error: {}", crate::error::chain(&e));
            ExitCode::from(1)
        }
    }
}

/// `Ok(true)` when every check of the summary held.
async fn run_inner(options: DemoOptions, out: &mut (dyn Write + Send)) -> Result<bool, DemoError> {
    jira_sync_telemetry::install_metrics();
    let dir = DataDir::new(options.data_dir.clone())?;
    let sim = Simulator::start(config::sim_config())
        .await
        .map_err(DemoError::Simulator)?;
    let result = with_sim(&sim, &dir, &options, out).await;
    sim.stop().await;
    result
}

async fn with_sim(
    sim: &Simulator,
    dir: &DataDir,
    options: &DemoOptions,
    out: &mut (dyn Write + Send),
) -> Result<bool, DemoError> {
    let sites = config::Sites::of(sim)?;
    let admin_key = config::admin_key();
    let text = config::settings_toml(&sites, &dir.path.join("data"), &admin_key);
    let file = dir.path.join("demo.toml");
    std::fs::write(&file, &text).map_err(|source| DemoError::Write {
        path: file.clone(),
        source,
    })?;
    // Loaded like `serve --config`, so the environment still applies (JIRA_SYNC__...).
    let settings =
        Settings::load_from(Some(&file)).map_err(|e| DemoError::Settings(Box::new(e)))?;
    let serve = Serve::build(settings)
        .await
        .map_err(|e| DemoError::Serve(Box::new(e)))?;
    let ports = config::Ports::of(&serve);
    let source = view::Source {
        store: serve.store(),
        dead_letters: serve.dead_letters(),
        a: sites.a.clone(),
        b: sites.b.clone(),
    };
    let publisher = serve.publisher();
    let running = serve.spawn();
    config::register_webhooks(&sites, ports.ingress)?;
    let _ = writeln!(
        out,
        "jira-sync demo: sites a ({}) and b ({}), embedded queue and store in {}\n",
        sites.a.base_url(),
        sites.b.base_url(),
        dir.path.join("data").display()
    );

    let step = Arc::new(std::sync::Mutex::new(String::from("starting")));
    let done = CancellationToken::new();
    let script = scenario::Scenario {
        sites: &sites,
        store: source.store.clone(),
        dead_letters: source.dead_letters.clone(),
        publisher,
        step: step.clone(),
    };
    let (outcome, ()) = tokio::join!(
        async {
            let outcome = script.run().await;
            done.cancel();
            outcome
        },
        view::watch(&source, &step, options.live, &done, out)
    );
    let report = summary::check(&source, &outcome).await;
    let _ = write!(out, "\n{}", report.render());
    let _ = write!(out, "{}", config::urls(&sites, &ports, &admin_key, dir));
    let _ = out.flush();
    if !options.exit_after_scenario {
        let _ = writeln!(out, "\nrunning until Ctrl-C");
        let _ = out.flush();
        let _ = tokio::signal::ctrl_c().await;
    }
    if let Err(e) = running.stop().await {
        tracing::warn!(error = %crate::error::chain(&e), "serve did not stop cleanly");
    }
    Ok(report.all_hold())
}

/// The demo's directory: the one given (kept), or a temporary one removed on drop.
struct DataDir {
    path: PathBuf,
    temporary: bool,
}

impl DataDir {
    fn new(given: Option<PathBuf>) -> Result<Self, DemoError> {
        let (path, temporary) = match given {
            Some(path) => (path, false),
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_nanos();
                let name = format!("jira-sync-demo-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        std::fs::create_dir_all(&path).map_err(|source| DemoError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Self { path, temporary })
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
