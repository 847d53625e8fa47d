//! `GET /healthz` (the process is up) and `GET /readyz` (it can do its job: the broker and the
//! database answer).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiError;
use crate::startup::AppState;

/// How long one readiness probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Always 200 while the process serves HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when the publisher is ready and the database answers; 503 naming what is not.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let broker = async {
        tokio::time::timeout(PROBE_TIMEOUT, state.publisher.is_ready())
            .await
            .unwrap_or(false)
    };
    let database = async {
        match tokio::time::timeout(PROBE_TIMEOUT, state.readiness.check()).await {
            Ok(Ok(())) => true,
            Ok(Err(reason)) => {
                tracing::warn!(%reason, "database readiness probe failed");
                false
            }
            Err(_) => {
                tracing::warn!("database readiness probe timed out");
                false
            }
        }
    };
    let (broker_ok, database_ok) = tokio::join!(broker, database);
    let failed: Vec<&str> = [("broker", broker_ok), ("database", database_ok)]
        .into_iter()
        .filter_map(|(name, ok)| (!ok).then_some(name))
        .collect();
    if failed.is_empty() {
        Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
    } else {
        Err(ApiError::NotReady {
            failed: failed.join(", "),
        })
    }
}
