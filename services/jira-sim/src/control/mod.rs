//! The control API under `/_sim/` (no auth, JSON): webhooks, faults, limits, stats, the issue
//! dump, bulk seeding, reset, the clock and the recent-request log. Tests and the demo drive
//! the simulator through it; `SiteHandle` offers the same operations in-process.

mod ops;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::clock::ClockCommand;
use crate::error::ApiError;
use crate::faults::FaultSpec;
use crate::limits::Limits;
use crate::routes::Params;
use crate::site::Site;
use crate::state::seed::BulkSeed;
use crate::webhooks::WebhookSpec;
use crate::webhooks::faults::WebhookFaultSpec;

type SiteData = web::Data<Site>;
type Answer = Result<HttpResponse, ApiError>;

/// Registers the `/_sim/` routes.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, post, put, resource};
    cfg.service(
        web::scope("/_sim")
            .route("/info", get().to(info))
            .service(
                resource("/webhooks")
                    .route(get().to(webhooks))
                    .route(post().to(add_webhook)),
            )
            .route("/webhooks/{id}", delete().to(remove_webhook))
            .route("/webhook-deliveries", get().to(deliveries))
            .service(
                resource("/faults")
                    .route(get().to(faults))
                    .route(post().to(add_fault))
                    .route(delete().to(clear_faults)),
            )
            .service(
                resource("/webhook-faults")
                    .route(get().to(webhook_faults))
                    .route(post().to(set_webhook_faults))
                    .route(delete().to(clear_webhook_faults)),
            )
            .service(
                resource("/limits")
                    .route(get().to(limits))
                    .route(put().to(set_limits))
                    .route(post().to(set_limits)),
            )
            .route("/stats", get().to(stats))
            .route("/stats/reset", post().to(reset_stats))
            .route("/issues", get().to(issues))
            .route("/issues/bulk", post().to(seed))
            .route("/issues/{id}", get().to(issue))
            .route("/reset", post().to(reset))
            .service(
                resource("/clock")
                    .route(get().to(clock))
                    .route(post().to(clock)),
            )
            .route("/requests", get().to(requests)),
    );
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("Invalid control request: {e}")))
}

fn limit(req: &HttpRequest, default: usize) -> Result<usize, ApiError> {
    Ok(Params::of(req).number("limit")?.unwrap_or(default))
}

async fn info(site: SiteData) -> HttpResponse {
    let users: Vec<_> = site
        .cat
        .users
        .iter()
        .map(|u| {
            json!({"accountId": u.account_id, "displayName": u.display_name, "email": u.email,
                        "apiToken": u.api_token, "bot": site.cat.is_bot(&u.account_id)})
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "name": site.name, "baseUrl": site.cat.base_url, "projects": site.cat.projects, "users": users,
        "workflow": site.cat.workflow, "priorities": site.cat.priorities, "issueTypes": site.cat.issue_types,
    }))
}

async fn webhooks(site: SiteData) -> HttpResponse {
    HttpResponse::Ok().json(site.webhooks())
}

async fn add_webhook(site: SiteData, bytes: web::Bytes) -> Answer {
    let info = site.register_webhook(body::<WebhookSpec>(&bytes)?)?;
    Ok(HttpResponse::Created().json(info))
}

async fn remove_webhook(site: SiteData, id: web::Path<u64>) -> Answer {
    if site.remove_webhook(*id) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found(format!("No webhook with id {id}.")))
    }
}

async fn deliveries(site: SiteData, req: HttpRequest) -> Answer {
    Ok(HttpResponse::Ok().json(site.recent_deliveries(limit(&req, 100)?)))
}

async fn faults(site: SiteData) -> HttpResponse {
    HttpResponse::Ok().json(site.faults())
}

async fn add_fault(site: SiteData, bytes: web::Bytes) -> Answer {
    Ok(HttpResponse::Created().json(site.add_fault(body::<FaultSpec>(&bytes)?)?))
}

async fn clear_faults(site: SiteData) -> HttpResponse {
    site.clear_faults();
    HttpResponse::NoContent().finish()
}

async fn webhook_faults(site: SiteData) -> HttpResponse {
    HttpResponse::Ok().json(site.webhook_faults())
}

async fn set_webhook_faults(site: SiteData, bytes: web::Bytes) -> Answer {
    site.set_webhook_faults(body::<WebhookFaultSpec>(&bytes)?)?;
    Ok(HttpResponse::Ok().json(site.webhook_faults()))
}

async fn clear_webhook_faults(site: SiteData) -> Answer {
    site.set_webhook_faults(WebhookFaultSpec::default())?;
    Ok(HttpResponse::NoContent().finish())
}

async fn limits(site: SiteData) -> HttpResponse {
    HttpResponse::Ok().json(site.limits())
}

async fn set_limits(site: SiteData, bytes: web::Bytes) -> Answer {
    site.set_limits(body::<Limits>(&bytes)?)?;
    Ok(HttpResponse::Ok().json(site.limits()))
}

async fn stats(site: SiteData) -> HttpResponse {
    HttpResponse::Ok().json(site.stats())
}

async fn reset_stats(site: SiteData) -> HttpResponse {
    site.reset_stats();
    HttpResponse::NoContent().finish()
}

async fn issues(site: SiteData, req: HttpRequest) -> HttpResponse {
    let params = Params::of(&req);
    HttpResponse::Ok().json(site.dump(params.first("project")))
}

async fn issue(site: SiteData, id: web::Path<String>) -> Answer {
    site.issue(&id)
        .map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(ApiError::issue_not_found)
}

async fn seed(site: SiteData, bytes: web::Bytes) -> Answer {
    Ok(HttpResponse::Created().json(site.seed(&body::<BulkSeed>(&bytes)?)?))
}

async fn reset(site: SiteData) -> HttpResponse {
    site.reset();
    HttpResponse::NoContent().finish()
}

async fn clock(site: SiteData, bytes: web::Bytes) -> Answer {
    let now = site.clock(&body::<ClockCommand>(&bytes)?);
    Ok(HttpResponse::Ok().json(json!({ "now": now })))
}

async fn requests(site: SiteData, req: HttpRequest) -> Answer {
    Ok(HttpResponse::Ok().json(site.recent_requests(limit(&req, 100)?)))
}
