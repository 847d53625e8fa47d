//! `peopleforce-sim`: runs the PeopleForce simulator until SIGTERM or Ctrl-C, printing one JSON
//! line (`baseUrl`, `apiKey`) on stdout once it listens; logs go to stderr.
//! Options: `--port N`, `--bind ADDR`, `--api-key KEY`, `--tasks N`, `--employees N`.

use jira_sync_peopleforce_sim::{SimConfig, Simulator, TaskSeed};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (mut config, mut tasks) = (SimConfig::default(), 0);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => config.port = Some(value.parse()?),
            "--bind" => config.bind = value.parse()?,
            "--api-key" => config.api_key = value,
            "--tasks" => tasks = value.parse()?,
            "--employees" => config.employees = value.parse()?,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    let sim = Simulator::start(config).await?;
    let handle = sim.handle();
    handle.seed_tasks(&TaskSeed {
        count: tasks,
        ..TaskSeed::default()
    })?;
    let line = serde_json::json!({"baseUrl": handle.base_url(), "apiKey": handle.api_key()});
    println!("{line}");
    stopped().await?;
    sim.stop().await;
    Ok(())
}

/// Waits for SIGTERM (containers) or Ctrl-C.
async fn stopped() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! { r = tokio::signal::ctrl_c() => r, _ = term.recv() => Ok(()) }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}
