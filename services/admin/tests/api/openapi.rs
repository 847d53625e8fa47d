//! The OpenAPI document matches the server: the same routes both ways (also probed on the live
//! server), the same authentication, and examples that fit their schemas.

use std::collections::BTreeSet;

use jira_sync_admin::served_routes;
use reqwest::Method;
use serde_json::{Value, json};

use super::auth::concrete;
use super::helpers::{KEY, Reply, TestEnv};
use super::schema::{check, document, resolve};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn the_document_lists_exactly_the_served_routes_with_their_authentication() {
    let doc = document();
    let served: BTreeSet<(String, String)> = served_routes()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let listed = documented(&doc);
    let undocumented: Vec<_> = served.difference(&listed).collect();
    let unserved: Vec<_> = listed.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented, not served: {unserved:?}");
    for route in served_routes() {
        let operation = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        let public = operation["security"] == json!([]);
        assert_eq!(
            public, !route.authenticated,
            "{} {}",
            route.method, route.path
        );
        if route.authenticated {
            assert!(
                !operation["responses"]["401"].is_null(),
                "{} {} documents no 401",
                route.method,
                route.path
            );
        }
    }
}

#[test]
fn every_example_in_the_document_matches_its_schema() {
    let doc = document();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let mut media = Vec::new();
            if let Some(body) = operation.get("requestBody") {
                media.push((format!("{method} {path} request"), resolve(&doc, body)));
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                media.push((format!("{method} {path} {status}"), resolve(&doc, response)));
            }
            for (what, node) in media {
                let content = &node["content"]["application/json"];
                if let Some(example) = content.get("example") {
                    if let Err(mismatch) = check(&doc, &content["schema"], example, "$") {
                        panic!("{what}: example off its schema: {mismatch}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} examples checked");
    // The check itself catches drift.
    let error = json!({ "$ref": "#/components/schemas/Error" });
    assert!(check(&doc, &error, &json!({ "code": 1, "detail": "x" }), "$").is_err());
    assert!(check(&doc, &error, &json!({ "code": "x" }), "$").is_err());
    let resolve_request = json!({ "$ref": "#/components/schemas/ResolveRequest" });
    assert!(check(&doc, &resolve_request, &json!({ "take": "up" }), "$").is_err());
    assert!(
        check(
            &doc,
            &resolve_request,
            &json!({ "take": "left", "value": 1 }),
            "$"
        )
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_routed_and_every_other_method_is_refused_with_405() {
    let env = TestEnv::start().await;
    let doc = document();
    let listed = documented(&doc);
    for (method, path) in &listed {
        let url = concrete(path);
        let reply = Reply::read(
            env.request(Method::from_bytes(method.as_bytes()).expect("method"), &url)
                .bearer_auth(KEY)
                .json(&json!({})),
        )
        .await;
        // A handler's own 404 has its own code (`unknown_link`...); `not_found` and 405 come
        // from the router.
        assert!(
            reply.code() != "not_found" && reply.status != 405,
            "{method} {url} is not routed: {} {:?}",
            reply.status,
            reply.json
        );
        let allowed: Vec<&str> = listed
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.as_str())
            .collect();
        for other in ["GET", "POST", "PUT", "DELETE"] {
            if allowed.contains(&other) {
                continue;
            }
            let reply = Reply::read(
                env.request(Method::from_bytes(other.as_bytes()).expect("method"), &url)
                    .bearer_auth(KEY),
            )
            .await;
            assert_eq!(reply.status, 405, "{other} {url}: {:?}", reply.json);
            assert_eq!(reply.header("allow"), Some(allowed.join(", ").as_str()));
        }
    }
    env.stop().await;
}
