use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use bytes::Bytes;
use jira_sync_domain::EndpointId;
use jira_sync_settings::WebhookAuth;
use secrecy::SecretString;

use super::*;
use crate::verify::verify;

const SETTINGS: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "a@example.com"
api_token = "t"
webhook = { method = "api_key", key = "k" }

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "https://b.example.net"
email = "b@example.com"
api_token = "t"

[connections.tes-to-ops]
left = { endpoint = "jira-a", project = "TES" }
right = { endpoint = "jira-b", project = "OPS" }

[connections.tes-to-hr]
left = { endpoint = "jira-a", project = "TES" }
right = { endpoint = "jira-b", project = "HR" }

[connections.kt-to-ops]
left = { endpoint = "jira-a", project = "KT" }
right = { endpoint = "jira-b", project = "OPS2" }
"#;

fn settings() -> Settings {
    Settings::from_toml(SETTINGS).expect("valid test settings")
}

fn verified(body: &'static str) -> VerifiedWebhook {
    let auth = WebhookAuth::ApiKey {
        key: SecretString::from("k"),
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer k"));
    let endpoint = EndpointId::parse("jira-a").expect("valid id");
    verify(
        &endpoint,
        &auth,
        &headers,
        Bytes::from_static(body.as_bytes()),
    )
    .expect("verified")
}

fn delivery() -> DeliveryId {
    DeliveryId::parse("d-1").expect("valid id")
}

fn decode(envelope: &Envelope) -> ReconcileRequest {
    serde_json::from_slice(&envelope.payload).expect("a reconcile request")
}

#[test]
fn an_issue_event_becomes_one_request_per_matching_connection() {
    let body = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
        "user":{"accountId":"acc-alice"},
        "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;
    let Ok(Plan::Publish { event, envelopes }) = plan(&verified(body), &settings(), &delivery())
    else {
        panic!("expected messages");
    };
    assert_eq!(event, "jira:issue_updated");
    let requests: Vec<_> = envelopes.iter().map(decode).collect();
    let connections: Vec<_> = requests.iter().map(|r| r.connection.as_str()).collect();
    assert_eq!(connections, ["tes-to-hr", "tes-to-ops"]);
    for (envelope, request) in envelopes.iter().zip(&requests) {
        assert_eq!(request.entity_id, "10040");
        assert_eq!(request.endpoint.as_str(), "jira-a");
        assert_eq!(
            request.trigger,
            Trigger::Webhook {
                event: "jira:issue_updated".into(),
                actor: Some("acc-alice".into()),
            }
        );
        assert_eq!(
            request.event_at.map(|t| t.timestamp_millis()),
            Some(1550286601840)
        );
        let expected_id = format!("d-1:{}", request.connection);
        assert_eq!(request.delivery_id.as_str(), expected_id);
        assert_eq!(envelope.message_id, expected_id);
        assert_eq!(envelope.labels["endpoint"], "jira-a");
        assert_eq!(envelope.labels["entity"], "10040");
        assert_eq!(envelope.labels["connection"], request.connection.as_str());
        assert_eq!(envelope.labels["event"], "jira:issue_updated");
        assert_eq!(envelope.labels["issue"], "TES-41");
        assert_eq!(envelope.attempt, 1);
    }
}

#[test]
fn a_single_connection_keeps_the_delivery_id_unsuffixed() {
    let body = r#"{"webhookEvent":"comment_created","issue":{"id":"7","key":"KT-7"}}"#;
    let Ok(Plan::Publish { envelopes, .. }) = plan(&verified(body), &settings(), &delivery())
    else {
        panic!("expected messages");
    };
    assert_eq!(envelopes.len(), 1);
    assert_eq!(decode(&envelopes[0]).delivery_id.as_str(), "d-1");
    assert_eq!(decode(&envelopes[0]).connection.as_str(), "kt-to-ops");
}

#[test]
fn an_unsynced_event_is_ignored() {
    let body = r#"{"webhookEvent":"sprint_started","sprint":{"id":1}}"#;
    assert!(matches!(
        plan(&verified(body), &settings(), &delivery()),
        Ok(Plan::Ignore {
            reason: IgnoreReason::UnsyncedEvent,
            ..
        })
    ));
}

#[test]
fn an_issue_of_a_project_no_connection_includes_is_ignored() {
    let body = r#"{"webhookEvent":"jira:issue_created","issue":{"id":"9","key":"ZZZ-9"}}"#;
    assert!(matches!(
        plan(&verified(body), &settings(), &delivery()),
        Ok(Plan::Ignore {
            reason: IgnoreReason::NoConnection,
            ..
        })
    ));
}

#[test]
fn a_malformed_body_is_refused_with_its_reason() {
    let err = plan(&verified("{not json"), &settings(), &delivery()).expect_err("must fail");
    assert!(matches!(err, ApiError::Malformed(WebhookError::NotJson(_))));
    let err = plan(
        &verified(r#"{"webhookEvent":"jira:issue_updated"}"#),
        &settings(),
        &delivery(),
    )
    .expect_err("must fail");
    assert!(err.to_string().contains("issue.id"), "{err}");
}

#[test]
fn a_delivery_id_too_long_to_suffix_is_a_bad_request() {
    let body = r#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"TES-1"}}"#;
    let long = DeliveryId::parse("x".repeat(250)).expect("valid id");
    let err = plan(&verified(body), &settings(), &long).expect_err("must fail");
    assert_eq!(err.code(), "bad_request");
}
