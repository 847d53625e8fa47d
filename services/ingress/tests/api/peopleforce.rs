//! `POST /webhooks/peopleforce/{endpoint}`: signature check, employee triggers, ignored topics.

use crate::helpers::{PF_SECRET, SECRET, spawn_fake_app};

const EMPLOYEE_UPDATE: &str =
    r#"{"action":"employee_update","data":{"id":42,"email":"alice@example.com"}}"#;
const LEAVE_REQUEST: &str = r#"{"action":"leave_request_create","data":{"id":7}}"#;

#[tokio::test]
async fn a_signed_employee_event_is_acknowledged_with_202_and_counted() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_peopleforce("pf-a", EMPLOYEE_UPDATE)
        .peopleforce_signed_with(PF_SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.json["status"], "accepted");
    assert_eq!(reply.json["event"], "employee_update");
    assert_eq!(reply.json["messages"], 1);
    // One request per connection of the endpoint: reconcile the employee's linked tasks.
    let published = fakes.publisher.take();
    assert_eq!(published.len(), 1, "{published:?}");
    let request: jira_sync_domain::ReconcileRequest =
        serde_json::from_slice(&published[0].payload).expect("a reconcile request");
    assert_eq!(request.connection.as_str(), "people");
    assert_eq!(request.endpoint.as_str(), "pf-a");
    assert_eq!(request.employee_id(), Some("42"));
    assert_eq!(request.trigger.name(), "employee_update");
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("events_received_total") && l.contains("endpoint=\"pf-a\"")),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_peopleforce_webhook_with_a_bad_signature_is_rejected_with_401() {
    let (app, fakes) = spawn_fake_app().await;
    let wrong_secret = app
        .post_peopleforce("pf-a", EMPLOYEE_UPDATE)
        .peopleforce_signed_with("not the secret")
        .send()
        .await;
    assert_eq!(wrong_secret.status, 401, "{wrong_secret:?}");
    let jira_header = app
        .post_peopleforce("pf-a", EMPLOYEE_UPDATE)
        .signed_with(PF_SECRET)
        .send()
        .await;
    assert_eq!(jira_header.status, 401, "{jira_header:?}");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_non_task_non_employee_event_is_ignored_with_202() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_peopleforce("pf-a", LEAVE_REQUEST)
        .peopleforce_signed_with(PF_SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.json["status"], "ignored");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_jira_endpoint_is_unknown_on_the_peopleforce_route() {
    let (app, _fakes) = spawn_fake_app().await;
    let reply = app
        .post_peopleforce("jira-a", EMPLOYEE_UPDATE)
        .peopleforce_signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_employee_event_without_an_employee_id_is_rejected_with_400_and_its_reason() {
    let (app, fakes) = spawn_fake_app().await;
    for body in [
        r#"{"action":"employee_update","data":{"email":"alice@example.com"}}"#,
        r#"{"action":"employee_update"}"#,
        r#"{"action":"employee_update","data":{"id":"not-a-number"}}"#,
    ] {
        let reply = app
            .post_peopleforce("pf-a", body)
            .peopleforce_signed_with(PF_SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        let reason = reply.json.to_string();
        assert!(reason.contains("data.id"), "{body}: {reason}");
    }
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}
