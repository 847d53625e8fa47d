//! `jira-sync`, the single binary: the webhook ingress, the sync worker, the poller and the
//! admin API in one process on an embedded queue and store (SQLite files under
//! `runtime.data_dir`: no RabbitMQ, no PostgreSQL, no Jira account needed to try it against the
//! simulator), or on RabbitMQ and PostgreSQL when the config's `[runtime]` says so; each role
//! alone; the admin commands (`sync`, `links`, `conflicts`, `dlq`, the admin crate's client);
//! and a live check of a configuration.
//!
//! - [`cli`]: the command line.
//! - [`backends`]: opening the transport and the store the config selects.
//! - [`serve`]: running roles (the services' own `Application::build_with`) until stopped.
//! - [`check`]: `check-config`, the configuration against the live endpoints.
//! - [`demo`]: `demo`, a scripted tour on two simulated sites with a live view and a checked
//!   summary.
//!
//! The services themselves live in their crates; this one only chooses and wires. The
//! distributed deployment (separate `jira-sync-ingress` and `jira-sync-worker` replicas on
//! RabbitMQ and PostgreSQL) remains the way to scale.

pub mod backends;
pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod serve;

use std::io::Write;
use std::process::ExitCode;

use jira_sync_settings::{Settings, TransportKind};
use tokio_util::sync::CancellationToken;

pub use check::{Problem, Report, check_config};
pub use cli::{Command, Invocation};
pub use error::StartError;
pub use serve::{Ports, Roles, Running, Serve};

/// Exit status: a service failed, or `check-config` found problems.
const EXIT_FAILED: u8 = 1;
/// Exit status: bad command line or invalid configuration.
const EXIT_USAGE: u8 = 2;

/// Runs the command line `args` (without the program name), printing to stdout and stderr.
pub async fn run(args: impl IntoIterator<Item = String>) -> ExitCode {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    run_to(args, &mut out, &mut err).await
}

/// Like [`run`], printing to `out` and `err` (tests capture them). Services stop on SIGTERM or
/// Ctrl-C.
pub async fn run_to(
    args: impl IntoIterator<Item = String>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> ExitCode {
    let invocation = match cli::parse(args) {
        Ok(invocation) => invocation,
        Err(e) => {
            let _ = writeln!(err, "error: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let roles = match invocation.command {
        Command::Help => {
            let _ = writeln!(out, "{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            let _ = writeln!(out, "jira-sync {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Admin => return admin(&invocation.admin_args, out, err).await,
        Command::Demo => {
            use std::io::IsTerminal;
            let options = demo::DemoOptions {
                data_dir: invocation.demo.data_dir,
                exit_after_scenario: invocation.demo.exit_after_scenario,
                live: std::io::stdout().is_terminal(),
            };
            return demo::run(options, out, err).await;
        }
        Command::CheckConfig => None,
        Command::Serve => Some(Roles::All),
        Command::Ingress => Some(Roles::Ingress),
        Command::Worker => Some(Roles::Worker),
    };
    let loaded = match &invocation.config {
        Some(path) => Settings::load_from(Some(path)),
        None => Settings::load(),
    };
    let settings = match loaded {
        Ok(settings) => settings,
        Err(e) => {
            let _ = writeln!(err, "error: {}", error::chain(&e));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match roles {
        None => check(&settings, invocation.config.as_deref(), out).await,
        Some(roles) => run_roles(settings, roles, out, err).await,
    }
}

/// An admin command, through the admin crate's client (URL and key from its flags or
/// `JIRA_SYNC_ADMIN_URL` / `JIRA_SYNC_ADMIN_KEY`); no config is loaded.
async fn admin(
    args: &[String],
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> ExitCode {
    use jira_sync_admin::cli::{CliEnv, CliError, USAGE, run_cli_with};
    match run_cli_with(args, &CliEnv::from_env(), out).await {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(EXIT_FAILED)),
        Err(e) => {
            let _ = writeln!(err, "error: {}", error::chain(&e));
            if matches!(e, CliError::Usage(_)) {
                let _ = writeln!(err, "\n{USAGE}");
            }
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_FAILED))
        }
    }
}

async fn check(
    settings: &Settings,
    file: Option<&std::path::Path>,
    out: &mut (dyn Write + Send),
) -> ExitCode {
    let source = file.map_or_else(
        || "the defaults, JIRA_SYNC_CONFIG and the environment".to_owned(),
        |f| f.display().to_string(),
    );
    let _ = writeln!(out, "checking {source} against the live endpoints");
    let report = check_config(settings).await;
    let _ = write!(out, "{}", report.render());
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

async fn run_roles(
    settings: Settings,
    roles: Roles,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> ExitCode {
    let _telemetry = jira_sync_telemetry::init(&settings.telemetry, "jira-sync");
    let banner = banner(&settings, roles);
    let serve = match Serve::build_roles(settings, roles).await {
        Ok(serve) => serve,
        Err(e) => {
            let _ = writeln!(err, "error: {}", error::chain(&e));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let ports = [
        serve.ports().ingress,
        serve.ports().worker,
        serve.ports().poller,
        serve.ports().admin,
    ];
    let _ = writeln!(out, "{}", banner(ports));
    let _ = out.flush();
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    match serve.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "error: {}", error::chain(&e));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// What a person starting the process wants to know: where to send webhooks, where the
/// state lives.
fn banner(settings: &Settings, roles: Roles) -> impl Fn([Option<u16>; 4]) -> String + use<> {
    let (transport, store) = backends::kinds(settings);
    let mode = match (transport, store) {
        (TransportKind::Embedded, jira_sync_settings::StoreKind::Sqlite) => format!(
            "embedded queue and store in {}",
            settings.runtime.data_dir.display()
        ),
        (transport, store) => format!("transport {transport}, store {store}"),
    };
    let ingress_host = settings.ingress.listen.ip();
    let worker_host = settings.worker.listen.ip();
    let poller_host = settings.poller.listen.ip();
    let admin_host = settings.admin.listen.ip();
    let endpoints: Vec<String> = settings.endpoints.keys().map(|e| e.to_string()).collect();
    let connections: Vec<String> = settings.connections.keys().map(|c| c.to_string()).collect();
    move |[ingress, worker, poller, admin]| {
        let mut text = format!("jira-sync {}: {mode}", cli::name(command_of(roles)));
        if let Some(port) = ingress {
            text.push_str(&format!(
                "\n  webhooks: http://{ingress_host}:{port}/webhooks/jira/<endpoint id>"
            ));
        }
        if let Some(port) = worker {
            text.push_str(&format!(
                "\n  worker:   http://{worker_host}:{port}/healthz and /metrics"
            ));
        }
        if let Some(port) = poller {
            text.push_str(&format!(
                "\n  poller:   http://{poller_host}:{port}/healthz and /metrics"
            ));
        }
        if let Some(port) = admin {
            text.push_str(&format!(
                "\n  admin:    http://{admin_host}:{port}/api/v1 (jira-sync links --url ...)"
            ));
        }
        text.push_str(&format!(
            "\n  endpoints: {}; connections: {}",
            list_or_none(&endpoints),
            list_or_none(&connections)
        ));
        text
    }
}

fn command_of(roles: Roles) -> Command {
    match roles {
        Roles::All => Command::Serve,
        Roles::Ingress => Command::Ingress,
        Roles::Worker => Command::Worker,
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none configured".to_owned()
    } else {
        items.join(", ")
    }
}

/// Cancels `shutdown` on the first SIGTERM (Kubernetes, systemd) or Ctrl-C.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} },
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    shutdown.cancel();
}
