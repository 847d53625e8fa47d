//! The retry loop every API method goes through, and one attempt on the wire.
//!
//! Per call: send, classify, count; on a transient failure wait `max(backoff × jitter,
//! Retry-After)` and go again while `max_retries` and the wall-clock `retry_budget` allow. A
//! wait that would overrun the budget is not started: the error goes back with its
//! `Retry-After`, so the caller can come back later instead of blocking. Creates are repeated
//! only when they provably did not arrive (connection refused) or were refused unprocessed (429).

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::client::{Answer, Call, PeopleForceClient, Replay};
use crate::error::{PeopleForceError, parse_message, parse_retry_after};

/// Jitter bounds around the nominal back-off delay.
const JITTER: (f64, f64) = (0.7, 1.3);

impl PeopleForceClient {
    /// Sends `call` with retries; returns the first 2xx answer or the last error.
    #[tracing::instrument(
        name = "peopleforce_request",
        skip_all,
        fields(endpoint = %self.inner.config.name, method = %call.method, path, status, attempts)
    )]
    pub(crate) async fn execute(&self, call: Call) -> Result<Answer, PeopleForceError> {
        let config = &self.inner.config;
        let url = self.url(&call)?;
        let path = url.path().to_owned();
        let span = tracing::Span::current();
        span.record("path", path.as_str());
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            span.record("attempts", retry + 1);
            let error = match self.attempt(&call, &url, &path).await {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            if retry >= config.max_retries || !may_replay(&error, call.replay) {
                return Err(error);
            }
            let delay = retry_delay(
                retry,
                config.backoff_base,
                config.backoff_max,
                error.retry_after(),
            );
            if started.elapsed() + delay > config.retry_budget {
                tracing::debug!(delay_ms = delay.as_millis() as u64, "retry budget spent");
                return Err(error);
            }
            tracing::debug!(%error, delay_ms = delay.as_millis() as u64, "transient failure; retrying");
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// One request on the wire, counted in `peopleforce_requests_total`.
    async fn attempt(
        &self,
        call: &Call,
        url: &url::Url,
        path: &str,
    ) -> Result<Answer, PeopleForceError> {
        let mut request = self.inner.http.request(call.method.clone(), url.clone());
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let outcome = async {
            let response = request.send().await?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>((status, retry_after, body))
        }
        .await;
        let label = match &outcome {
            Ok((status, ..)) => status.as_str().to_owned(),
            Err(e) if e.is_connect() => "connect_error".to_owned(),
            Err(e) if e.is_timeout() => "timeout".to_owned(),
            Err(_) => "transport_error".to_owned(),
        };
        metrics::counter!(
            "peopleforce_requests_total",
            "endpoint" => self.inner.config.name.clone(),
            "method" => call.method.as_str().to_owned(),
            "status" => label
        )
        .increment(1);
        let (status, retry_after, body) = outcome.map_err(|e| classify(e, &call.method, path))?;
        tracing::Span::current().record("status", status.as_u16());
        if status.is_success() {
            return Ok(Answer {
                method: call.method.clone(),
                path: path.to_owned(),
                body,
            });
        }
        Err(PeopleForceError::Status {
            status: status.as_u16(),
            method: call.method.clone(),
            path: path.to_owned(),
            message: parse_message(&body),
            retry_after,
        })
    }
}

fn may_replay(error: &PeopleForceError, replay: Replay) -> bool {
    if !error.disposition().is_transient() {
        return false;
    }
    match replay {
        Replay::Idempotent => true,
        Replay::Once => matches!(
            error,
            PeopleForceError::Connect { .. } | PeopleForceError::Status { status: 429, .. }
        ),
    }
}

fn classify(error: reqwest::Error, method: &Method, path: &str) -> PeopleForceError {
    let (method, path) = (method.clone(), path.to_owned());
    // A connect timeout is a connect error first: nothing was sent.
    if error.is_connect() {
        PeopleForceError::Connect {
            method,
            path,
            source: error,
        }
    } else if error.is_timeout() {
        PeopleForceError::Timeout {
            method,
            path,
            source: error,
        }
    } else {
        PeopleForceError::Transport {
            method,
            path,
            source: error,
        }
    }
}

/// The delay before retry number `retry` (0 for the first): exponential from `base`, capped at
/// `max`, jittered by 0.7-1.3 so that clients do not retry in lock-step, never shorter than a
/// `Retry-After` the server sent.
fn retry_delay(
    retry: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
) -> Duration {
    let factor = rand::rng().random_range(JITTER.0..=JITTER.1);
    let nominal = base
        .saturating_mul(2u32.saturating_pow(retry.min(16)))
        .min(max);
    let jittered = nominal.mul_f64(factor);
    retry_after.map_or(jittered, |after| jittered.max(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_and_respect_retry_after() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(350);
        for _ in 0..100 {
            let first = retry_delay(0, base, max, None);
            assert!((70..=130).contains(&first.as_millis()), "{first:?}");
            let second = retry_delay(1, base, max, None);
            assert!((140..=260).contains(&second.as_millis()), "{second:?}");
            assert!(
                retry_delay(30, base, max, None) <= max.mul_f64(1.3) + Duration::from_millis(1)
            );
        }
        let after = Duration::from_secs(2);
        assert_eq!(retry_delay(0, base, max, Some(after)), after);
    }
}
