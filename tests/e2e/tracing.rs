//! One trace per change, exported over OTLP/gRPC to a real receiver: a signed webhook that
//! arrives with a `traceparent` goes through the ingress, RabbitMQ, the worker (twice: the first
//! write fails and the message is retried) and the Jira simulator, and every hop's span lands
//! in the caller's trace with the right parent. The simulator saw the same trace in the
//! `traceparent` of the worker's requests.
//!
//! Telemetry is process-wide, so this file holds one test and runs as its own process.

mod common;
#[path = "tracing/otlp_receiver.rs"]
mod otlp_receiver;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use jira_sync_jira_sim::{FaultKind, FaultSpec};
use jira_sync_tests::{EnvOptions, TestEnv};
use otlp_receiver::{OtlpReceiver, ReceivedSpan};
use serde_json::json;

/// The trace and span a caller in front of the ingress (a proxy, a test) started.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_and_its_retry_form_one_trace_from_the_ingress_through_rabbitmq_to_jira() {
    let receiver = OtlpReceiver::start().await;
    let env = TestEnv::start(EnvOptions {
        // This test is the only sender of webhooks.
        webhooks: false,
        otlp_endpoint: Some(receiver.endpoint()),
        ..EnvOptions::default()
    })
    .await;
    assert!(
        env.telemetry.as_ref().is_some_and(|t| t.exports_spans()),
        "the environment must install telemetry with the OTLP exporter"
    );
    // The twin's creation fails once: the retried message must stay in the trace.
    env.site("b")
        .add_fault(FaultSpec {
            method: Some("POST".into()),
            path_prefix: Some("/rest/api/3/issue".into()),
            kind: FaultKind::Status(500),
            times: Some(1),
            probability: None,
            seed: None,
        })
        .unwrap_or_else(|e| panic!("add the fault: {e:?}"));
    let issue = env.actor("a").create("Traced change", json!({})).await;

    let body = webhook_body("jira:issue_updated", &issue.id, &issue.key);
    let status = post_traced(&env, &body, &format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01")).await;
    assert_eq!(status, 202);
    wait_for_twin(&env, &issue.id).await;

    let spans = eventually(WAIT, "the spans of every hop at the receiver", || async {
        let _ = tokio::task::spawn_blocking(jira_sync_telemetry::flush_traces).await;
        let trace = Trace::of(&receiver.spans());
        let complete = trace.named("webhook").len() == 1
            && trace.named("delivery").len() == 2
            && trace.named("reconcile").len() == 2
            && trace.named("jira_request").len() >= 3;
        complete.then_some(trace)
    })
    .await;

    // Ingress: the request span continues the caller's trace; one publish span per message.
    let webhook = spans.one("webhook");
    assert_eq!(webhook.parent_span_id, CALLER_SPAN, "{webhook:?}");
    let publish = spans.one("publish");
    assert_eq!(publish.parent_span_id, webhook.span_id, "{publish:?}");
    let confirm = spans.one("amqp.publish");
    assert_eq!(confirm.parent_span_id, publish.span_id, "{confirm:?}");

    // Worker: both attempts are children of the publish span (the AMQP headers carried it).
    let deliveries = spans.named("delivery");
    for delivery in &deliveries {
        assert_eq!(delivery.parent_span_id, publish.span_id, "{delivery:?}");
    }
    let attempts: BTreeSet<&str> = deliveries.iter().map(|d| d.attr("attempt")).collect();
    assert_eq!(attempts, BTreeSet::from(["1", "2"]), "{deliveries:?}");
    for reconcile in spans.named("reconcile") {
        assert!(
            deliveries
                .iter()
                .any(|d| d.span_id == reconcile.parent_span_id),
            "a reconcile under a delivery: {reconcile:?}"
        );
    }

    // Jira: every request span sits under a reconcile; the failed and the retried creation.
    let requests = spans.named("jira_request");
    for request in &requests {
        assert!(
            spans.ancestors(request).any(|a| a.name == "reconcile"),
            "a Jira request outside a reconcile: {request:?} in {:?}",
            spans.by_id.values().collect::<Vec<_>>()
        );
    }
    let creations: BTreeSet<&str> = requests
        .iter()
        .filter(|r| r.attr("endpoint") == "jira-b" && r.attr("method") == "POST")
        .filter(|r| r.attr("path") == "/rest/api/3/issue")
        .map(|r| r.attr("status"))
        .collect();
    assert_eq!(creations, BTreeSet::from(["201", "500"]), "{requests:?}");
    assert!(
        spans.by_id.values().all(|s| s.service == "jira-sync-e2e"),
        "service.name on every span"
    );

    // The simulator saw the trace: every request of the sync bot carried a traceparent naming
    // this trace and the span of that very request.
    let request_spans: BTreeSet<&str> = requests.iter().map(|r| r.span_id.as_str()).collect();
    let mut seen = 0;
    for name in ["a", "b"] {
        let site = env.site(name);
        let bot = site.bot().map(|b| b.account_id.clone());
        for record in site.recent_requests(usize::MAX) {
            if record.account != bot {
                continue;
            }
            let traceparent = record.traceparent.clone().unwrap_or_else(|| {
                panic!(
                    "{name}: {} {} came without traceparent",
                    record.method, record.path
                )
            });
            let parts: Vec<&str> = traceparent.split('-').collect();
            assert_eq!(parts.len(), 4, "{traceparent}");
            assert_eq!(parts[1], CALLER_TRACE, "{name}: {record:?}");
            assert!(
                request_spans.contains(parts[2]),
                "{name}: the traceparent of {record:?} names no jira_request span"
            );
            seen += 1;
        }
    }
    assert!(seen >= 3, "the sync bot's requests were recorded: {seen}");
    env.stop().await;
}

/// Posts a webhook of site A, signed, with the caller's `traceparent`.
async fn post_traced(env: &TestEnv, body: &[u8], traceparent: &str) -> u16 {
    env.http
        .post(format!("{}/webhooks/jira/jira-a", env.ingress_url))
        .header("content-type", "application/json")
        .header("x-hub-signature", jira_sync_tests::sign(SECRET_A, body))
        .header("x-atlassian-webhook-identifier", "traced-delivery-1")
        .header("traceparent", traceparent)
        .body(body.to_vec())
        .send()
        .await
        .unwrap_or_else(|e| panic!("post the webhook: {e}"))
        .status()
        .as_u16()
}

/// The spans of the caller's trace, by span id.
struct Trace {
    by_id: BTreeMap<String, ReceivedSpan>,
}

impl Trace {
    fn of(spans: &[ReceivedSpan]) -> Self {
        let by_id = spans
            .iter()
            .filter(|s| s.trace_id == CALLER_TRACE)
            .map(|s| (s.span_id.clone(), s.clone()))
            .collect();
        Self { by_id }
    }

    fn named(&self, name: &str) -> Vec<&ReceivedSpan> {
        self.by_id.values().filter(|s| s.name == name).collect()
    }

    fn one(&self, name: &str) -> &ReceivedSpan {
        match self.named(name).as_slice() {
            [one] => one,
            other => panic!("expected one {name} span, found {other:?}"),
        }
    }

    fn ancestors<'a>(&'a self, span: &'a ReceivedSpan) -> impl Iterator<Item = &'a ReceivedSpan> {
        std::iter::successors(self.by_id.get(&span.parent_span_id), |s| {
            self.by_id.get(&s.parent_span_id)
        })
    }
}

impl ReceivedSpan {
    fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}
