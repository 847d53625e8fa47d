//! Refused webhooks: each failure has its status, a `{"code","detail"}` body, publishes nothing,
//! and leaves the service serving.

use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{MAX_BODY, SECRET, sign, spawn_fake_app};

const ISSUE_UPDATED: &str = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
    "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;

#[tokio::test]
async fn webhook_with_bad_signature_is_rejected_with_401() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with("another secret")
        .send()
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.code(), "unauthorized");
    assert_eq!(reply.detail(), "signature does not match the body");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn webhook_signed_over_another_body_is_rejected_with_401() {
    let (app, fakes) = spawn_fake_app().await;
    let signature = sign(SECRET, b"{}");
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .header("X-Hub-Signature", &signature)
        .send()
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn webhook_without_signature_is_rejected_with_401() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app.post_webhook("jira-a", ISSUE_UPDATED).send().await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.detail(), "missing `X-Hub-Signature` header");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn webhook_signed_with_an_unknown_method_is_rejected_with_401_naming_it() {
    let (app, _fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .header("X-Hub-Signature", "sha512=abcdef")
        .send()
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(reply.detail().contains("`sha512`"), "{reply:?}");
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_is_rejected_with_400_and_its_reason() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", "{\"webhookEvent\": ")
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.code(), "malformed_webhook");
    assert!(
        reply.detail().starts_with("body is not valid JSON"),
        "{reply:?}"
    );

    let reply = app
        .post_webhook("jira-a", r#"{"webhookEvent":"jira:issue_updated"}"#)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(reply.detail().contains("issue.id"), "{reply:?}");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn malformed_json_with_a_bad_signature_is_401_not_400() {
    let (app, _fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", "not json")
        .signed_with("wrong")
        .send()
        .await;
    assert_eq!(
        reply.status, 401,
        "verification comes before parsing: {reply:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn oversize_body_is_rejected_with_413() {
    let (app, fakes) = spawn_fake_app().await;
    let mut body = ISSUE_UPDATED.as_bytes().to_vec();
    body.resize(MAX_BODY + 1, b' ');
    let reply = app
        .post_webhook("jira-a", body)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.code(), "payload_too_large");

    let mut body = ISSUE_UPDATED.as_bytes().to_vec();
    body.resize(MAX_BODY, b' ');
    let reply = app
        .post_webhook("jira-a", body)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(
        reply.status, 202,
        "a body of exactly the limit is fine: {reply:?}"
    );
    assert_eq!(fakes.publisher.take().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn oversize_chunked_body_without_content_length_is_rejected_with_413() {
    let (app, fakes) = spawn_fake_app().await;
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /webhooks/jira/jira-a HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\
         X-Hub-Signature: sha256=00\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let chunk = vec![b' '; 16 * 1024];
    let mut response = Vec::new();
    // Keep sending until the server answers (it must not wait for the end of the body).
    for _ in 0..((MAX_BODY / chunk.len()) + 8) {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains(r#""code":"payload_too_large""#), "{text}");
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn unknown_endpoint_is_rejected_with_404() {
    let (app, _fakes) = spawn_fake_app().await;
    for endpoint in ["nope", "jira-b", "bad%20name"] {
        let reply = app
            .post_webhook(endpoint, ISSUE_UPDATED)
            .signed_with(SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 404, "{endpoint}: {reply:?}");
        assert_eq!(reply.code(), "unknown_endpoint");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unusable_delivery_identifier_is_rejected_with_400() {
    let (app, fakes) = spawn_fake_app().await;
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .delivery(&"x".repeat(300))
        .send()
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.detail().contains("X-Atlassian-Webhook-Identifier"),
        "{reply:?}"
    );
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_broker_that_does_not_confirm_gives_503_with_retry_after() {
    let (app, fakes) = spawn_fake_app().await;
    fakes.publisher.failing.store(true, Ordering::SeqCst);
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(reply.code(), "unavailable");
    assert_eq!(reply.retry_after.as_deref(), Some("7"));
    assert!(
        !reply.detail().contains("fake broker"),
        "internals leaked: {reply:?}"
    );
    assert!(fakes.publisher.take().is_empty());

    fakes.publisher.failing.store(false, Ordering::SeqCst);
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(
        reply.status, 202,
        "recovers once the broker is back: {reply:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_service_keeps_serving_after_errors_and_counts_them() {
    let (app, fakes) = spawn_fake_app().await;
    for _ in 0..3 {
        assert_eq!(app.post_webhook("jira-a", "{").send().await.status, 401);
        assert_eq!(
            app.post_webhook("jira-a", "{")
                .signed_with(SECRET)
                .send()
                .await
                .status,
            400
        );
        assert_eq!(app.post_webhook("nope", "{}").send().await.status, 404);
    }
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(fakes.publisher.take().len(), 1);
    let metrics = app.metrics().await;
    for reason in ["unauthorized", "malformed_webhook", "unknown_endpoint"] {
        let series = format!(r#"events_rejected_total{{reason="{reason}"}}"#);
        assert!(metrics.contains(&series), "{series} missing in {metrics}");
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_in_the_error_shape() {
    let (app, _fakes) = spawn_fake_app().await;
    let reply = crate::helpers::Reply::read(app.get("/nowhere").await).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    let response = app.get("/webhooks/jira/jira-a").await;
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let reply = crate::helpers::Reply::read(response).await;
    assert_eq!((reply.status, reply.code()), (405, "method_not_allowed"));
    app.stop().await;
}
