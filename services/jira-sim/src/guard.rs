//! The request guard in front of every REST route: authentication (Basic; on a Data Center
//! site also a Bearer personal access token), request accounting,
//! injected faults, latency, and the built-in rate limits, in that order; then the request log
//! (method, path, status, `traceparent`, account). The control API under `/_sim/` bypasses it.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::limits::retry_after_secs;
use crate::site::{Site, SiteState};
use crate::state::catalog::Catalog;
use crate::stats::RequestRecord;

/// The authenticated caller's account id, for handlers.
#[derive(Debug, Clone)]
pub(crate) struct Actor(pub String);

/// Routes that answer without credentials.
const ANONYMOUS: &[&str] = &["/rest/api/3/serverInfo", "/rest/api/2/serverInfo"];

enum Plan {
    Proceed(Duration),
    /// Serve the request, then answer with this error instead.
    ProceedThenFail(Duration, ApiError),
    Refuse(ApiError, Duration),
    Hang(Duration),
}

/// Runs the checks, then the handler, then logs the request. As on a real server, a request
/// once received is served to the end even when its client stops waiting (a client timeout
/// during injected latency): the work runs in its own task, which the connection's end does
/// not cancel. A write may thus be applied after the client gave up on it.
pub(crate) async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let site = match req.app_data::<web::Data<Site>>() {
        Some(site) if req.path().starts_with("/rest/") => site.clone(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    actix_web::rt::spawn(serve(site, req, next))
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("the request handler panicked"))?
}

async fn serve(
    site: web::Data<Site>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| path.clone());
    let traceparent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let account = authenticate(&site.cat, &req).map(str::to_owned);
    let plan = {
        let mut st = site.lock();
        plan(&mut st, &method, &path, &route, account.is_some())
    };
    let response = match plan {
        Plan::Proceed(latency) => {
            sleep(latency).await;
            if let Some(a) = &account {
                req.extensions_mut().insert(Actor(a.clone()));
            }
            next.call(req).await?.map_into_boxed_body()
        }
        Plan::ProceedThenFail(latency, err) => {
            sleep(latency).await;
            if let Some(a) = &account {
                req.extensions_mut().insert(Actor(a.clone()));
            }
            let served = next.call(req).await?;
            let (req, _discarded) = served.into_parts();
            ServiceResponse::new(req, err.error_response())
        }
        Plan::Refuse(err, latency) => {
            sleep(latency).await;
            req.into_response(err.error_response())
        }
        Plan::Hang(d) => {
            sleep(d).await;
            let err = ApiError::message(
                StatusCode::GATEWAY_TIMEOUT,
                "The request timed out (simulated fault).",
            );
            req.into_response(err.error_response())
        }
    };
    let mut st = site.lock();
    let at = st.clock.now_ms();
    let status = response.status().as_u16();
    st.stats.record_request(RequestRecord {
        method,
        path,
        route,
        status,
        traceparent,
        account,
        at,
    });
    Ok(response)
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn plan(st: &mut SiteState, method: &str, path: &str, route: &str, authenticated: bool) -> Plan {
    // Searches are reads, whatever their method (Data Center's is `/search`).
    let is_write = !matches!(method, "GET" | "HEAD")
        && !route.ends_with("/search/jql")
        && !route.ends_with("/api/2/search");
    st.stats
        .count_request(&format!("{method} {route}"), is_write);
    if !authenticated && !ANONYMOUS.contains(&route) {
        st.stats.counters.unauthorized += 1;
        return Plan::Refuse(ApiError::unauthorized(), Duration::ZERO);
    }
    let decision = st.faults.decide(method, path);
    st.stats.counters.faults_injected += decision.injected;
    let latency =
        Duration::from_millis(decision.extra_latency_ms) + st.limiter.latency(&mut st.rng);
    match decision.terminal {
        Some(FaultKind::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = format!("Simulated fault: {status}.");
            return Plan::Refuse(ApiError::message(status, msg), latency);
        }
        Some(FaultKind::RateLimit {
            retry_after_secs,
            reason,
        }) => {
            let reason = reason.as_deref().unwrap_or("jira-burst-based");
            return Plan::Refuse(ApiError::rate_limited(retry_after_secs, reason), latency);
        }
        Some(FaultKind::Timeout(_)) => {
            return Plan::Hang(Duration::from_millis(st.limiter.limits.hang_ms));
        }
        Some(FaultKind::LostResponse(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::GATEWAY_TIMEOUT);
            let msg =
                format!("Simulated fault: the change was made, the response lost ({status}).");
            return Plan::ProceedThenFail(latency, ApiError::message(status, msg));
        }
        Some(FaultKind::LatencyMs(_)) | None => {}
    }
    let now = Instant::now();
    if let Err(wait) = st.limiter.take_global(now) {
        st.stats.counters.rate_limited += 1;
        return Plan::Refuse(
            ApiError::rate_limited(retry_after_secs(wait), "jira-burst-based"),
            latency,
        );
    }
    let issue_route = ["/rest/api/3/issue/{id}", "/rest/api/2/issue/{id}"];
    if is_write && issue_route.iter().any(|r| route.starts_with(r)) {
        let issue = path.split('/').nth(5).and_then(|raw| st.store.find(raw));
        if let Some(id) = issue
            && let Err(wait) = st.limiter.write(id, now)
        {
            st.stats.counters.rate_limited += 1;
            let err = ApiError::rate_limited(retry_after_secs(wait), "jira-per-issue-on-write");
            return Plan::Refuse(err, latency);
        }
    }
    Plan::Proceed(latency)
}

/// The account of valid Basic credentials (`email:api_token`; on Data Center
/// `name:api_token`, or the `api_token` as a Bearer personal access token).
fn authenticate<'a>(cat: &'a Catalog, req: &ServiceRequest) -> Option<&'a str> {
    let header = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, encoded) = header.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return (cat.authenticate_token(encoded.trim())).map(|u| u.account_id.as_str());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (email, token) = text.split_once(':')?;
    cat.authenticate(email, token)
        .map(|u| u.account_id.as_str())
}
