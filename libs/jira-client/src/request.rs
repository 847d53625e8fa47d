//! The retry loop every API method goes through, and one attempt on the wire.
//!
//! Per call: wait for the throttle (or give up when its pause outlasts the budget), ask the
//! circuit breaker, send, classify, record metrics; on a transient failure wait
//! `max(backoff × jitter, Retry-After)` and go again, as long as `max_retries` and the wall-clock
//! `retry_budget` allow. A wait that would overrun the budget is not started: the error goes back
//! with its `Retry-After`, so the worker can park the message in a delay queue instead of
//! blocking.
//!
//! Non-idempotent requests (create issue, add comment, transition) are repeated only after a
//! connection error (the request never left) or a 429 (Jira refused it unprocessed). After a
//! timeout, a broken connection or a 5xx the outcome is unknown and repeating could duplicate the
//! issue or comment, so the error goes back to the caller ([`JiraError::outcome_unknown`]).

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use tracing::Span;

use crate::client::{Answer, Call, JiraClient, Replay};
use crate::error::{JiraError, parse_error_messages, parse_retry_after};
use crate::resilience::backoff::retry_delay;

/// `RateLimit-Reason` value of Jira's per-issue write limit.
const PER_ISSUE_REASON: &str = "jira-per-issue-on-write";

impl JiraClient {
    /// Sends `call` with retries; returns the first 2xx answer or the last error.
    #[tracing::instrument(
        name = "jira_request",
        skip_all,
        fields(endpoint = %self.inner.name, method = %call.method, path, status, attempts)
    )]
    pub(crate) async fn execute(&self, call: Call<'_>) -> Result<Answer, JiraError> {
        let inner = &*self.inner;
        let url = self.url(&call)?;
        let path = url.path().to_owned();
        let span = Span::current();
        span.record("path", path.as_str());
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            span.record("attempts", retry + 1);
            let remaining = inner.retry_budget.saturating_sub(started.elapsed());
            let waiting = Instant::now();
            if let Err(paused) = inner.throttle.acquire(call.writes_issue, remaining).await {
                return Err(JiraError::Throttled {
                    target: paused.target,
                    retry_after: paused.remaining,
                });
            }
            self.record_rate_limit_wait(waiting.elapsed());
            let permit = inner
                .breaker
                .admit()
                .map_err(|retry_after| JiraError::CircuitOpen {
                    endpoint: inner.name.clone(),
                    retry_after,
                })?;
            let result = self.attempt(&call, &url, &path).await;
            match &result {
                Err(e) if e.is_outage() => permit.failure(),
                _ => permit.success(),
            }
            let error = match result {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            self.learn_rate_limit(&error, call.writes_issue);
            // A repeated DELETE that finds nothing: the earlier, unanswered attempt did it.
            if retry > 0 && call.method == Method::DELETE && error.is_not_found() {
                return Ok(Answer {
                    method: call.method,
                    path,
                    body: Vec::new(),
                });
            }
            if retry >= inner.max_retries || !may_replay(&error, call.replay) {
                return Err(error);
            }
            let delay = retry_delay(
                retry,
                inner.policy.backoff_base,
                inner.policy.backoff_max,
                error.retry_after(),
            );
            if started.elapsed() + delay > inner.retry_budget {
                tracing::debug!(delay_ms = delay.as_millis() as u64, "retry budget spent");
                return Err(error);
            }
            tracing::debug!(
                error = %error,
                delay_ms = delay.as_millis() as u64,
                "transient Jira failure; retrying"
            );
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// One request on the wire, with metrics.
    async fn attempt(
        &self,
        call: &Call<'_>,
        url: &url::Url,
        path: &str,
    ) -> Result<Answer, JiraError> {
        let inner = &*self.inner;
        let mut request = inner.http.request(call.method.clone(), url.clone());
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        if let Some(inject) = &inner.injector {
            let mut extra = HeaderMap::new();
            inject(&mut extra);
            request = request.headers(extra);
        }
        let sent = Instant::now();
        let outcome = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        self.record_metrics(&call.method, sent.elapsed(), &outcome);
        let (status, headers, body) = outcome.map_err(|e| classify(e, &call.method, path))?;
        Span::current().record("status", status.as_u16());
        if status.is_success() {
            return Ok(Answer {
                method: call.method.clone(),
                path: path.to_owned(),
                body,
            });
        }
        Err(status_error(status, &headers, &body, &call.method, path))
    }

    fn record_metrics(
        &self,
        method: &Method,
        elapsed: Duration,
        outcome: &Result<(StatusCode, HeaderMap, Vec<u8>), reqwest::Error>,
    ) {
        let endpoint = self.inner.name.clone();
        let status = match outcome {
            Ok((status, ..)) => status.as_str().to_owned(),
            Err(e) if e.is_connect() => "connect_error".to_owned(),
            Err(e) if e.is_timeout() => "timeout".to_owned(),
            Err(_) => "transport_error".to_owned(),
        };
        if matches!(outcome, Ok((StatusCode::TOO_MANY_REQUESTS, ..))) {
            metrics::counter!("jira_rate_limited_total", "endpoint" => endpoint.clone())
                .increment(1);
        }
        metrics::counter!(
            "jira_requests_total",
            "endpoint" => endpoint.clone(),
            "method" => method.as_str().to_owned(),
            "status" => status
        )
        .increment(1);
        metrics::histogram!(
            "jira_request_duration_seconds",
            "endpoint" => endpoint,
            "method" => method.as_str().to_owned()
        )
        .record(elapsed.as_secs_f64());
    }

    /// Counts a real wait for the throttle (token bucket or a pause Jira asked for); a free
    /// pass (under a millisecond) is not a wait.
    fn record_rate_limit_wait(&self, waited: Duration) {
        if waited >= Duration::from_millis(1) {
            metrics::histogram!(
                "jira_rate_limit_wait_seconds",
                "endpoint" => self.inner.name.clone()
            )
            .record(waited.as_secs_f64());
        }
    }

    /// Remembers the pause a 429 asked for: per issue for the per-issue write limit, for the whole
    /// endpoint otherwise (burst and quota limits).
    fn learn_rate_limit(&self, error: &JiraError, issue: Option<&str>) {
        let JiraError::Status {
            status: 429,
            retry_after,
            rate_limit_reason,
            ..
        } = error
        else {
            return;
        };
        let per_issue = rate_limit_reason
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(PER_ISSUE_REASON));
        match (per_issue, issue) {
            (true, Some(issue)) => {
                let pause = retry_after.unwrap_or(self.inner.policy.per_issue_pause);
                tracing::info!(
                    issue,
                    pause_ms = pause.as_millis() as u64,
                    "per-issue write limit"
                );
                self.inner.throttle.pause_issue(issue, pause);
            }
            (false, _) => {
                if let Some(pause) = retry_after {
                    tracing::info!(pause_ms = pause.as_millis() as u64, "Jira rate limit");
                    self.inner.throttle.pause_endpoint(*pause);
                }
            }
            (true, None) => {}
        }
    }
}

fn may_replay(error: &JiraError, replay: Replay) -> bool {
    if !error.disposition().is_transient() {
        return false;
    }
    match replay {
        Replay::Idempotent => true,
        Replay::Once => matches!(
            error,
            JiraError::Connect { .. } | JiraError::Status { status: 429, .. }
        ),
    }
}

fn classify(error: reqwest::Error, method: &Method, path: &str) -> JiraError {
    let (method, path) = (method.clone(), path.to_owned());
    // A connect timeout is both: it is a connect error first (nothing was sent).
    if error.is_connect() {
        JiraError::Connect {
            method,
            path,
            source: error,
        }
    } else if error.is_timeout() {
        JiraError::Timeout {
            method,
            path,
            source: error,
        }
    } else {
        JiraError::Transport {
            method,
            path,
            source: error,
        }
    }
}

fn status_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    method: &Method,
    path: &str,
) -> JiraError {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    JiraError::Status {
        status: status.as_u16(),
        method: method.clone(),
        path: path.to_owned(),
        messages: parse_error_messages(body),
        retry_after: headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, chrono::Utc::now())),
        rate_limit_reason: header("ratelimit-reason")
            .or_else(|| header("x-ratelimit-reason"))
            .map(str::to_owned),
    }
}
