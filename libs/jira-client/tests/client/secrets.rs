//! Credentials: the Basic auth header is right, and the token never shows in text.

use std::error::Error as _;
use std::time::Duration;

use base64::Engine as _;
use jira_sync_jira_client::{JiraClient, JiraError};
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::support::{EMAIL, JiraStub, Scripted, TOKEN, user_json};

#[tokio::test]
async fn requests_carry_basic_auth_json_accept_user_agent_and_injected_headers() {
    let stub = JiraStub::start(vec![], Scripted::json(200, user_json())).await;
    let config = stub.config().with_header_injector(|headers| {
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
    });

    let user = JiraClient::new(config).unwrap().myself().await.unwrap();

    assert_eq!(user.email_address.as_deref(), Some(EMAIL));
    assert!(user.active);
    let seen = &stub.seen()[0];
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));
    assert_eq!(seen.headers["authorization"], format!("Basic {expected}"));
    assert_eq!(seen.headers["accept"], "application/json");
    assert!(seen.headers["user-agent"].starts_with("jira-sync/"));
    assert_eq!(
        seen.headers["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/rest/api/3/myself")
    );
}

fn full_text(error: &JiraError) -> String {
    let mut text = format!("{error} | {error:?}");
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!(" | {inner} | {inner:?}"));
        source = inner.source();
    }
    text
}

#[tokio::test]
async fn the_token_never_appears_in_errors_or_debug_output() {
    let stub = JiraStub::start(
        vec![
            Scripted::json(
                401,
                json!({"errorMessages": ["Client must be authenticated"]}),
            ),
            Scripted::raw(200, "not json"),
            Scripted::json(200, user_json()).delayed(Duration::from_secs(1)),
        ],
        Scripted::empty(204),
    )
    .await;
    let mut config = stub.config();
    config.request_timeout = Duration::from_millis(200);
    config.max_retries = 0;
    let client = JiraClient::new(config.clone()).unwrap();

    let mut errors = vec![
        client.myself().await.unwrap_err(),
        client.myself().await.unwrap_err(),
        client.myself().await.unwrap_err(),
    ];
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.base_url = format!("http://127.0.0.1:{port}").parse().unwrap();
    errors.push(
        JiraClient::new(config.clone())
            .unwrap()
            .myself()
            .await
            .unwrap_err(),
    );
    assert!(matches!(errors[0], JiraError::Status { status: 401, .. }));
    assert!(matches!(errors[1], JiraError::Decode { .. }));
    assert!(matches!(errors[2], JiraError::Timeout { .. }));
    assert!(matches!(errors[3], JiraError::Connect { .. }));

    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{TOKEN}"));
    let mut texts: Vec<String> = errors.iter().map(full_text).collect();
    texts.extend(errors.iter().flat_map(|e| e.messages()));
    texts.push(format!("{client:?}"));
    texts.push(format!("{config:?}"));
    for text in &texts {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(!text.contains(&encoded), "credentials leaked: {text}");
        assert!(!text.contains("Basic "), "auth header leaked: {text}");
    }
    assert!(texts.iter().any(|t| t.contains("401")));
    assert!(format!("{client:?}").contains("127.0.0.1"));
}

#[tokio::test]
async fn a_base_url_with_credentials_is_refused() {
    let stub = JiraStub::start(vec![], Scripted::empty(204)).await;
    let mut config = stub.config();
    config.base_url = "https://user:hunter2@example.atlassian.net"
        .parse()
        .unwrap();

    let error = JiraClient::new(config).unwrap_err();

    assert!(matches!(error, JiraError::Config { .. }));
    assert!(!format!("{error} {error:?}").contains("hunter2"));
}
