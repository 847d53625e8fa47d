//! Every authenticated route refuses a request without a key, with a malformed header and with
//! a wrong key, before looking at anything else; the OpenAPI document needs no key.

use jira_sync_admin::served_routes;
use reqwest::Method;

use super::helpers::{KEY, OTHER_KEY, Reply, TestEnv};

/// A concrete path for a template.
pub fn concrete(path: &str) -> String {
    path.replace("{connection}", "a-to-b")
        .replace("{issue}", "ACME-1")
        .replace("{id}", "0193a8f3-1111-7222-8333-944455566677")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_authenticated_route_answers_401_with_a_bearer_challenge_without_a_valid_key() {
    let env = TestEnv::start().await;
    let protected: Vec<_> = served_routes()
        .into_iter()
        .filter(|r| r.authenticated)
        .collect();
    assert!(protected.len() >= 7, "{protected:?}");
    for route in protected {
        let method = Method::from_bytes(route.method.as_bytes()).expect("a method");
        let path = concrete(route.path);
        let attempts = [
            (None, "Bearer realm=\"jira-sync-admin\""),
            (Some("Basic YWRtaW46YWRtaW4="), "error=\"invalid_request\""),
            (
                Some("Bearer not-the-key-0123456789"),
                "error=\"invalid_token\"",
            ),
            (
                Some(&format!("Bearer {KEY}x")[..]),
                "error=\"invalid_token\"",
            ),
        ];
        for (authorization, challenge) in attempts {
            // A body that would be refused with 400: the 401 must come first.
            let mut request = env
                .request(method.clone(), &path)
                .header("Content-Type", "application/json")
                .body("{");
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            let reply = Reply::read(request).await;
            let what = format!("{} {path} with {authorization:?}", route.method);
            assert_eq!(reply.status, 401, "{what}: {:?}", reply.json);
            assert_eq!(reply.code(), "unauthorized", "{what}");
            let header = reply.header("www-authenticate").unwrap_or_default();
            assert!(
                header.starts_with("Bearer ") && header.contains(challenge),
                "{what}: WWW-Authenticate {header:?}"
            );
            super::schema::assert_documented(route.method, route.path, &reply);
        }
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_configured_key_is_accepted_and_unknown_paths_stay_hidden_behind_the_key() {
    let env = TestEnv::start().await;
    for key in [KEY, OTHER_KEY] {
        let reply = Reply::read(env.request(Method::GET, "/api/v1/links").bearer_auth(key)).await;
        assert_eq!(reply.status, 200, "{key}: {:?}", reply.json);
    }
    let hidden = Reply::read(env.request(Method::GET, "/api/v1/secrets")).await;
    assert_eq!((hidden.status, hidden.code()), (401, "unauthorized"));
    let missing = env.get("/api/v1/secrets").await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    let document = Reply::read(env.request(Method::GET, "/api/v1/openapi.json")).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.json, super::schema::document());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_leaks_neither_the_keys_nor_what_it_would_have_read() {
    use sha2::{Digest, Sha256};
    let env = TestEnv::start().await;
    let wrong = "wrong-admin-key-0123456789";
    // A near miss of a configured key, a wrong key, none, and a non-ASCII header.
    let near = format!("{}X", &KEY[..KEY.len() - 1]);
    let garbage = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe")
        .unwrap_or_else(|e| panic!("obs-text is a valid header value: {e}"));
    let bearer = |key: &str| {
        reqwest::header::HeaderValue::from_str(&format!("Bearer {key}"))
            .unwrap_or_else(|e| panic!("a header value: {e}"))
    };
    let attempts = [
        None,
        Some(bearer(wrong)),
        Some(bearer(&near)),
        Some(garbage),
    ];
    let mut secrets: Vec<String> = [KEY, OTHER_KEY, wrong, near.as_str()]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for key in [KEY, OTHER_KEY] {
        let digest = Sha256::digest(key.as_bytes());
        secrets.push(digest.iter().map(|b| format!("{b:02x}")).collect());
        secrets.push(key[..12].to_owned());
    }
    for (path, method) in [
        ("/api/v1/links", Method::GET),
        ("/api/v1/dead-letters", Method::GET),
        ("/api/v1/sync", Method::POST),
    ] {
        for authorization in &attempts {
            let mut request = env.request(method.clone(), path);
            if let Some(value) = authorization {
                request = request.header("Authorization", value.clone());
            }
            let reply = Reply::read(request).await;
            assert_eq!(reply.status, 401, "{path}: {:?}", reply.json);
            let body = reply.json.to_string();
            let headers = format!("{:?}", reply.headers);
            for secret in &secrets {
                assert!(!body.contains(secret.as_str()), "{path}: {body}");
                assert!(!headers.contains(secret.as_str()), "{path}: {headers}");
            }
            // The body says what to send, nothing about what is configured or stored.
            assert_eq!(
                reply.json.as_object().map(|o| o.len()),
                Some(2),
                "{path}: {body}"
            );
            assert!(
                !body.contains("ACME") && !body.contains("a-to-b"),
                "{path}: {body}"
            );
        }
    }
    env.stop().await;
}
