//! The guard in front of every API route: request counting, `X-API-KEY`, injected faults,
//! latency and the rate limit, in that order; then the request log. The control API under
//! `/_sim/` bypasses it.

use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use crate::error::SimError;
use crate::faults::FaultKind;
use crate::server::API_PREFIX;
use crate::state::Sim;
use crate::stats::RequestRecord;

/// Runs the checks, then the handler, then logs the request.
pub(crate) async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let sim = match req.app_data::<web::Data<Sim>>() {
        Some(sim) if req.path().starts_with(API_PREFIX) => sim.clone(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let query = req.query_string().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| path.clone());
    let key_ok = req
        .headers()
        .get("X-API-KEY")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == sim.config.api_key);
    let (latency, refusal) = {
        let mut st = sim.lock();
        st.stats.count(format!("{method} {route}"));
        decide(&mut st, &method, &path, key_ok)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = match refusal {
        Some(error) => req.into_response(error.error_response()),
        None => next.call(req).await?.map_into_boxed_body(),
    };
    sim.lock().stats.record(RequestRecord {
        method,
        path,
        query,
        route,
        status: response.status().as_u16(),
    });
    Ok(response)
}

fn decide(
    st: &mut crate::state::State,
    method: &str,
    path: &str,
    key_ok: bool,
) -> (Duration, Option<SimError>) {
    if !key_ok {
        st.stats.counters.unauthorized += 1;
        return (Duration::ZERO, Some(SimError::unauthorized()));
    }
    let decision = st.faults.decide(method, path);
    st.stats.counters.faults_injected += decision.injected;
    let latency = Duration::from_millis(decision.latency_ms);
    match decision.terminal {
        Some(FaultKind::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let error = SimError::new(status, format!("Simulated fault: {status}"));
            return (latency, Some(error));
        }
        Some(FaultKind::RateLimit { retry_after_secs }) => {
            return (latency, Some(SimError::rate_limited(retry_after_secs)));
        }
        Some(FaultKind::LatencyMs(_)) | None => {}
    }
    if let Some(bucket) = st.limiter.as_mut()
        && let Err(wait) = bucket.take(Instant::now())
    {
        st.stats.counters.rate_limited += 1;
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return (latency, Some(SimError::rate_limited(secs.max(1))));
    }
    (latency, None)
}
