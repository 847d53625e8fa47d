//! The poller's small HTTP surface: `/healthz` (the process serves), `/readyz` (the database
//! and the broker answer) and `/metrics` (Prometheus text, rendered by `jira_sync_telemetry`).

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use jira_sync_store::Store;
use jira_sync_transport::Publisher;
use serde_json::json;

use crate::error::chain;

/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What `/readyz` checks.
pub(crate) struct Probes {
    pub store: Arc<dyn Store>,
    pub publisher: Arc<dyn Publisher>,
}

/// Registers the routes; expects `web::Data<Probes>`.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(probes: web::Data<Probes>) -> HttpResponse {
    let database = async {
        match tokio::time::timeout(PROBE_TIMEOUT, probes.store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %chain(&e), "not ready: the database does not answer");
                false
            }
            Err(_) => false,
        }
    };
    let broker = async {
        tokio::time::timeout(PROBE_TIMEOUT, probes.publisher.is_ready())
            .await
            .unwrap_or(false)
    };
    let (database, broker) = tokio::join!(database, broker);
    let failed: Vec<&str> = [("database", database), ("broker", broker)]
        .into_iter()
        .filter_map(|(name, ok)| (!ok).then_some(name))
        .collect();
    if failed.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "not ready", "failed": failed }))
    }
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(jira_sync_telemetry::METRICS_CONTENT_TYPE)
        .body(jira_sync_telemetry::render_metrics())
}
