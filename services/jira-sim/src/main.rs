//! `jira-sim`: runs the Jira Cloud simulator as a process until SIGTERM or Ctrl-C, printing one
//! JSON line per site (name, base URL, projects, users with their API tokens) on stdout at
//! start; logs go to stderr.

use jira_sync_jira_sim::{Simulator, cli};
use serde_json::json;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = cli::parse(std::env::args().skip(1))?;
    let sim = Simulator::start(config).await?;
    for site in sim.sites() {
        let users: Vec<_> = site
            .users()
            .iter()
            .map(|u| json!({"accountId": u.account_id, "email": u.email, "apiToken": u.api_token}))
            .collect();
        println!(
            "{}",
            json!({"site": site.name(), "baseUrl": site.base_url(), "projects": site.projects(), "users": users})
        );
    }
    shutdown_signal().await;
    sim.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return drop(tokio::signal::ctrl_c().await),
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    drop(tokio::signal::ctrl_c().await);
}
