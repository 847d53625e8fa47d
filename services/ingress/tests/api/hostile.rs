//! Hostile requests: each is refused with its status and a reason (or accepted where that is
//! the documented behaviour), publishes nothing it should not, and leaves the server serving.
//! Oversize bodies, bad signatures and unknown endpoints of the Jira route are in `errors`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use jira_sync_ingress::IngressDeps;
use reqwest::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    FakePublisher, FakeReadiness, PF_SECRET, Reply, SECRET, TestApp, sign, spawn_fake_app, start,
    test_settings,
};

const ISSUE_UPDATED: &str = r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_updated",
    "issue":{"id":"10040","key":"TES-41","fields":{"project":{"key":"TES"}}}}"#;
const EMPLOYEE_UPDATE: &str = r#"{"action":"employee_update","data":{"id":42}}"#;

/// A signed POST to `/webhooks/{route}/{endpoint}` with exactly the headers given (no
/// `Content-Type` unless among them).
async fn post(
    app: &TestApp,
    route: &str,
    endpoint: &str,
    body: &[u8],
    headers: &[(&str, HeaderValue)],
) -> reqwest::Response {
    let (secret, signature_header) = match route {
        "peopleforce" => (PF_SECRET, "x-peopleforce-signature"),
        _ => (SECRET, "x-hub-signature"),
    };
    let mut request = app
        .client
        .post(format!("{}/webhooks/{route}/{endpoint}", app.address))
        .header(signature_header, sign(secret, body))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value.clone());
    }
    request.send().await.expect("request sent")
}

fn text(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("a valid header value")
}

/// An ingress whose body limit lets a 100,000-level document through to the parser.
async fn app_with_room_for_deep_documents() -> (TestApp, Arc<FakePublisher>) {
    let mut settings = test_settings();
    settings.ingress.max_body_bytes = 1 << 20;
    let publisher = Arc::new(FakePublisher::default());
    let deps = IngressDeps {
        publisher: publisher.clone(),
        readiness: Arc::new(FakeReadiness(AtomicBool::new(true))),
    };
    (start(settings, deps), publisher)
}

async fn assert_still_serving(app: &TestApp) {
    let reply = app
        .post_webhook("jira-a", ISSUE_UPDATED)
        .signed_with(SECRET)
        .send()
        .await;
    assert_eq!(reply.status, 202, "the server keeps serving: {reply:?}");
}

#[tokio::test]
async fn deeply_nested_json_is_refused_with_400_and_a_reason_not_a_stack_overflow() {
    let (app, publisher) = app_with_room_for_deep_documents().await;
    let arrays = "[".repeat(100_000);
    let objects = r#"{"a":"#.repeat(100_000);
    // Deep where routing reads (`issue`), and deep and well-formed where it reads nothing.
    let deep_issue = format!(
        r#"{{"webhookEvent":"jira:issue_updated","issue":{}1{}}}"#,
        r#"{"a":"#.repeat(100_000),
        "}".repeat(100_000)
    );
    for body in [&arrays, &objects, &deep_issue] {
        let response = post(&app, "jira", "jira-a", body.as_bytes(), &[]).await;
        let reply = Reply::read(response).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert_eq!(reply.code(), "malformed_webhook");
        assert!(!reply.detail().is_empty(), "{reply:?}");

        let response = post(&app, "peopleforce", "pf-a", body.as_bytes(), &[]).await;
        let reply = Reply::read(response).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert!(
            reply.detail().starts_with("not a PeopleForce webhook"),
            "{reply:?}"
        );
    }
    assert!(publisher.take().is_empty());
    // A field routing does not read is skipped without recursion, however deep.
    let deep_extra = format!(
        r#"{{"webhookEvent":"jira:issue_updated","issue":{{"id":"1","key":"TES-1"}},"x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let reply = Reply::read(post(&app, "jira", "jira-a", deep_extra.as_bytes(), &[]).await).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(publisher.take().len(), 1);
    assert_still_serving(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_body_declared_as_anything_but_json_is_refused_with_415() {
    let (app, fakes) = spawn_fake_app().await;
    let declared = [
        text("text/plain"),
        text("text/plain; charset=utf-8"),
        text("application/x-www-form-urlencoded"),
        text("multipart/form-data; boundary=x"),
        text("application/jsonp"),
        text("text/json"),
        HeaderValue::from_bytes(b"application/\xffjson").expect("obs-text is allowed"),
    ];
    for content_type in declared {
        for (route, endpoint, body) in [
            ("jira", "jira-a", ISSUE_UPDATED),
            ("peopleforce", "pf-a", EMPLOYEE_UPDATE),
        ] {
            let headers = [("content-type", content_type.clone())];
            let response = post(&app, route, endpoint, body.as_bytes(), &headers).await;
            let reply = Reply::read(response).await;
            let what = format!("{route} with {content_type:?}");
            assert_eq!(reply.status, 415, "{what}: {reply:?}");
            assert_eq!(reply.code(), "unsupported_media_type", "{what}");
            assert_eq!(reply.detail(), "Content-Type must be application/json");
        }
    }
    assert!(fakes.publisher.take().is_empty());
    assert_still_serving(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn json_under_any_spelling_or_without_a_content_type_is_accepted() {
    let (app, fakes) = spawn_fake_app().await;
    let spellings = [
        None,
        Some(text("application/json")),
        Some(text("application/json; charset=UTF-8")),
        Some(text("Application/JSON")),
        Some(text("application/vnd.atlassian.webhook+json")),
    ];
    for content_type in spellings {
        let headers: Vec<_> = content_type
            .iter()
            .map(|v| ("content-type", v.clone()))
            .collect();
        let response = post(&app, "jira", "jira-a", ISSUE_UPDATED.as_bytes(), &headers).await;
        let reply = Reply::read(response).await;
        assert_eq!(reply.status, 202, "{content_type:?}: {reply:?}");
    }
    assert_eq!(fakes.publisher.take().len(), 5);
    app.stop().await;
}

#[tokio::test]
async fn invalid_utf8_in_a_signed_body_is_refused_with_400() {
    let (app, fakes) = spawn_fake_app().await;
    // In a field routing reads, and as the whole body.
    let mut in_key =
        br#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"TES-"#.to_vec();
    in_key.extend([0xff, 0xfe, 0xc3]);
    in_key.extend(br#""}}"#);
    let garbage = vec![0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xff];
    for body in [&in_key, &garbage] {
        let reply = Reply::read(post(&app, "jira", "jira-a", body, &[]).await).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert_eq!(reply.code(), "malformed_webhook");
        assert!(
            reply.detail().starts_with("body is not valid JSON"),
            "{reply:?}"
        );
        let reply = Reply::read(post(&app, "peopleforce", "pf-a", body, &[]).await).await;
        assert_eq!(reply.status, 400, "{reply:?}");
    }
    let mut in_action = br#"{"action":"employee_"#.to_vec();
    in_action.extend([0xff, 0xfe]);
    in_action.extend(br#"","data":{"id":42}}"#);
    let reply = Reply::read(post(&app, "peopleforce", "pf-a", &in_action, &[]).await).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(fakes.publisher.take().is_empty());
    assert_still_serving(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn invalid_utf8_in_headers_is_refused_with_a_reason() {
    let (app, fakes) = spawn_fake_app().await;
    let garbage = HeaderValue::from_bytes(b"sha256=\xff\xfe\xfd").expect("obs-text is allowed");
    let response = app
        .client
        .post(format!("{}/webhooks/jira/jira-a", app.address))
        .header("x-hub-signature", garbage.clone())
        .body(ISSUE_UPDATED)
        .send()
        .await
        .expect("request sent");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(
        reply.detail(),
        "`X-Hub-Signature` header is malformed: not visible ASCII"
    );

    let delivery = [(
        "x-atlassian-webhook-identifier",
        HeaderValue::from_bytes(b"id-\xe9\xff").expect("obs-text is allowed"),
    )];
    let reply =
        Reply::read(post(&app, "jira", "jira-a", ISSUE_UPDATED.as_bytes(), &delivery).await).await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.detail().contains("X-Atlassian-Webhook-Identifier"),
        "{reply:?}"
    );

    let response = app
        .client
        .post(format!("{}/webhooks/peopleforce/pf-a", app.address))
        .header("x-peopleforce-signature", garbage)
        .body(EMPLOYEE_UPDATE)
        .send()
        .await
        .expect("request sent");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(fakes.publisher.take().is_empty());
    assert_still_serving(&app).await;
    app.stop().await;
}

/// Sends `head` (a request line and headers, without the final blank line) over a raw
/// connection and returns what the server answered before closing.
async fn raw_exchange(app: &TestApp, head: &[u8]) -> String {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before all of it is written.
    let _ = stream.write_all(head).await;
    let _ = stream.write_all(b"\r\n").await;
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn huge_headers_are_refused_with_431_and_the_server_keeps_serving() {
    let (app, fakes) = spawn_fake_app().await;
    // 64 KiB in one header: refused by the ingress's own limit, with the error body.
    let big = HeaderValue::from_str(&"x".repeat(64 * 1024)).expect("a header value");
    let headers = [("x-padding", big)];
    let reply =
        Reply::read(post(&app, "jira", "jira-a", ISSUE_UPDATED.as_bytes(), &headers).await).await;
    assert_eq!(reply.status, 431, "{reply:?}");
    assert_eq!(reply.code(), "headers_too_large");
    assert!(reply.detail().contains("16384"), "{reply:?}");

    // Many small headers adding up past the limit.
    let mut request = app
        .client
        .post(format!("{}/webhooks/jira/jira-a", app.address))
        .header("x-hub-signature", sign(SECRET, ISSUE_UPDATED.as_bytes()));
    for i in 0..80 {
        let name = HeaderName::from_bytes(format!("x-pad-{i}").as_bytes()).expect("a name");
        request = request.header(name, "y".repeat(400));
    }
    let reply = Reply::read(request.body(ISSUE_UPDATED).send().await.expect("sent")).await;
    assert_eq!(reply.status, 431, "{reply:?}");

    // 200 KiB: past what the HTTP parser buffers at all; refused before any route.
    let head = format!(
        "POST /webhooks/jira/jira-a HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n",
        "x".repeat(200 * 1024)
    );
    let answer = raw_exchange(&app, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");

    assert!(fakes.publisher.take().is_empty());
    assert_still_serving(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn clients_trickling_their_headers_are_cut_off_and_others_are_served_meanwhile() {
    let mut settings = test_settings();
    settings.ingress.client_request_timeout = Duration::from_secs(2);
    let publisher = Arc::new(FakePublisher::default());
    let deps = IngressDeps {
        publisher: publisher.clone(),
        readiness: Arc::new(FakeReadiness(AtomicBool::new(true))),
    };
    let app = start(settings, deps);
    let addr = app.address.trim_start_matches("http://").to_owned();
    // A head that would take a minute to send at one byte per 300 ms.
    let head = format!(
        "POST /webhooks/jira/jira-a HTTP/1.1\r\nHost: x\r\nX-Hub-Signature: sha256={}\r\n\r\n",
        "0".repeat(64)
    );
    let slow_clients: Vec<_> = (0..8)
        .map(|_| {
            let (addr, head) = (addr.clone(), head.clone());
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(&addr).await.expect("connect");
                let mut sent = 0;
                for byte in head.bytes() {
                    if stream.write_all(&[byte]).await.is_err() {
                        break;
                    }
                    sent += 1;
                    // The server closing shows as a readable end of stream (or an answer).
                    let mut buf = [0u8; 512];
                    match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf))
                        .await
                    {
                        Ok(Ok(n)) => {
                            return (sent, String::from_utf8_lossy(&buf[..n]).into_owned());
                        }
                        Ok(Err(_)) => return (sent, String::new()),
                        Err(_) => {}
                    }
                }
                (sent, "the whole head was sent".to_owned())
            })
        })
        .collect();
    // Served while the slow clients hold their connections.
    for _ in 0..5 {
        assert_still_serving(&app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for client in slow_clients {
        let (sent, answer) = client.await.expect("the slow client does not panic");
        assert!(
            sent < head.len(),
            "cut off before sending its head: {sent} bytes, {answer:?}"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "closed, or answered 408: {answer:?}"
        );
    }
    assert_eq!(publisher.take().len(), 5, "only the normal requests");
    assert_still_serving(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn unknown_endpoints_and_odd_paths_are_404_on_both_routes() {
    let (app, fakes) = spawn_fake_app().await;
    let long = "a".repeat(10_000);
    for endpoint in [
        "nope",
        "pf-a%2F..%2Fjira-a",
        "%E2%98%83",
        "%00",
        long.as_str(),
        "jira-a%20",
    ] {
        let reply = app
            .post_webhook(endpoint, ISSUE_UPDATED)
            .signed_with(SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 404, "jira {endpoint:.20}: {reply:?}");
        assert_eq!(reply.code(), "unknown_endpoint");
        let reply = app
            .post_peopleforce(endpoint, EMPLOYEE_UPDATE)
            .peopleforce_signed_with(PF_SECRET)
            .send()
            .await;
        assert_eq!(reply.status, 404, "peopleforce {endpoint:.20}: {reply:?}");
        assert_eq!(reply.code(), "unknown_endpoint");
    }
    // A route that does not exist at all, and one level too deep.
    for path in [
        "/webhooks/github/jira-a",
        "/webhooks/jira/jira-a/extra",
        "/webhooks",
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .body("{}")
            .send()
            .await
            .expect("sent");
        let reply = Reply::read(response).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{path}");
    }
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_signed_delivery_is_accepted_again_under_the_same_message_id() {
    // The ingress does not remember deliveries: both copies are answered (Jira must not see a
    // failure for a redelivery), and both carry the delivery id as their message id. The
    // worker's reconcile is level-triggered and idempotent, so the second causes no write:
    // tests/e2e/pipeline.rs sends one delivery five times and counts the writes.
    let (app, fakes) = spawn_fake_app().await;
    for _ in 0..2 {
        let reply = app
            .post_webhook("jira-a", ISSUE_UPDATED)
            .signed_with(SECRET)
            .delivery("replayed-delivery-1")
            .send()
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
    }
    let published = fakes.publisher.take();
    assert_eq!(published.len(), 2);
    assert!(
        published
            .iter()
            .all(|e| e.message_id == "replayed-delivery-1")
    );
    assert_eq!(published[0].payload, published[1].payload);
    app.stop().await;
}

#[tokio::test]
async fn peopleforce_signature_failures_are_401_and_name_no_secret() {
    let (app, fakes) = spawn_fake_app().await;
    let attempts = [
        None,
        Some("sha256=00".to_owned()),
        Some("md5=abcd".to_owned()),
        Some("not-a-signature".to_owned()),
        Some(sign(SECRET, EMPLOYEE_UPDATE.as_bytes())),
    ];
    for signature in attempts {
        let mut request = app
            .client
            .post(format!("{}/webhooks/peopleforce/pf-a", app.address))
            .header("content-type", "application/json")
            .body(EMPLOYEE_UPDATE);
        if let Some(signature) = &signature {
            request = request.header("x-peopleforce-signature", signature);
        }
        let response = request.send().await.expect("sent");
        let headers = format!("{:?}", response.headers());
        let reply = Reply::read(response).await;
        assert_eq!(reply.status, 401, "{signature:?}: {reply:?}");
        assert_eq!(reply.code(), "unauthorized");
        let expected = sign(PF_SECRET, EMPLOYEE_UPDATE.as_bytes());
        for secret in [PF_SECRET, SECRET, expected.as_str()] {
            assert!(!reply.json.to_string().contains(secret), "{reply:?}");
            assert!(!headers.contains(secret), "{headers}");
        }
    }
    assert!(fakes.publisher.take().is_empty());
    app.stop().await;
}
