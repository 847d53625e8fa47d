//! The poller binary: load settings, start telemetry, run the schedules until SIGTERM or
//! Ctrl-C.

use jira_sync_poller::Application;
use jira_sync_settings::Settings;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let _telemetry = jira_sync_telemetry::init(&settings.telemetry, "jira-sync-poller");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "poller listening");
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    Ok(())
}

/// Cancels `shutdown` on the first SIGTERM (Kubernetes) or Ctrl-C.
async fn cancel_on_signal(shutdown: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    shutdown.cancel();
}
