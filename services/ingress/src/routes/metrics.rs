//! `GET /metrics`: the Prometheus text exposition of this process.

use actix_web::HttpResponse;
use jira_sync_telemetry::{METRICS_CONTENT_TYPE, render_metrics};

/// Renders every metric recorded in the process.
pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(METRICS_CONTENT_TYPE)
        .body(render_metrics())
}
