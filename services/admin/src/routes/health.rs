//! `GET /healthz` (the process serves) and `GET /readyz` (the database and the broker answer):
//! the standalone server's probes. No authentication, no details: a failed dependency is named,
//! its error is logged.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiError;
use crate::startup::AppState;

/// Liveness: answers as long as the server does.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the store answers a ping and the publisher reaches the broker.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut failed = Vec::new();
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "readiness: the database does not answer");
        failed.push("database");
    }
    if !state.publisher.is_ready().await {
        tracing::warn!("readiness: the broker does not answer");
        failed.push("broker");
    }
    if failed.is_empty() {
        Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
    } else {
        Err(ApiError::NotReady {
            failed: failed.join(", "),
        })
    }
}
