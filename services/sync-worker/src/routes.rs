//! The worker's small HTTP surface: `/healthz` (liveness), `/readyz` (the database answers)
//! and `/metrics` in the Prometheus text format (rendered by `jira_sync_telemetry`).

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use jira_sync_store::Store;
use serde_json::json;
use tracing::warn;

use crate::error::chain;

/// Registers the routes; expects `web::Data<Arc<dyn Store>>` in the app data.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(store: web::Data<Arc<dyn Store>>) -> HttpResponse {
    match store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            warn!(error = %chain(&e), "not ready: the database does not answer");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database unavailable" }))
        }
    }
}

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(jira_sync_telemetry::METRICS_CONTENT_TYPE)
        .body(jira_sync_telemetry::render_metrics())
}
