//! The sync-worker binary: load settings, start telemetry, consume until SIGTERM or Ctrl-C.

use jira_sync_settings::Settings;
use jira_sync_worker::Application;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let _telemetry = jira_sync_telemetry::init(&settings.telemetry, "jira-sync-worker");
    let app = Application::build(settings).await?;
    tracing::info!(port = app.port(), "sync-worker started");
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    Ok(())
}

/// Cancels `shutdown` on the first SIGTERM (Kubernetes) or Ctrl-C.
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
