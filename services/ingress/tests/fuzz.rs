//! Fuzzing of what the ingress does with a webhook after reading its body: the Jira route's
//! verification and routing ([`verify`] then [`plan`], which parses the body and builds the
//! queue messages) and the PeopleForce route's parse. Seeds are the shared Jira webhook fixtures
//! and PeopleForce bodies; mutations are byte-level and structure-aware (the engine and
//! mutators of the domain's fuzz test, shared with it), headers included.
//!
//! Asserted: nothing panics; a refusal is a 4xx with a detail, never a 5xx; every published
//! message decodes as the worker decodes it and names the webhook's endpoint and issue.
//! `JIRA_SYNC_FUZZ_SECS` sets each target's time (default 5 s); the long run is in README.md.

#[path = "../../../libs/domain/tests/fuzz/engine.rs"]
mod engine;
#[path = "../../../libs/domain/tests/fuzz/mutate.rs"]
mod mutate;

use std::path::PathBuf;

use actix_web::ResponseError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use jira_sync_domain::{DeliveryId, EndpointId, JiraWebhook, ReconcileRequest};
use jira_sync_ingress::routes::peopleforce;
use jira_sync_ingress::{ApiError, Plan, plan, verify};
use jira_sync_settings::{Settings, WebhookAuth};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use sha2::Sha256;

use crate::engine::fuzz;
use crate::mutate::{ByteOp, JsonOp, apply_bytes, apply_json, byte_ops, json_ops, odd_string};

const SECRET: &str = "fuzz-webhook-secret";

/// Every project of the fixtures has two connections, so that messages get per-connection ids.
fn settings() -> Settings {
    let mut text = format!(
        r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "a@example.com"
api_token = "t"
webhook = {{ method = "hub_signature", secret = "{SECRET}" }}

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "https://b.example.net"
email = "b@example.com"
api_token = "t"
"#
    );
    for project in ["TEST", "TES", "KT", "IDT", "PRJA", "HEY"] {
        let slug = project.to_ascii_lowercase();
        for n in 1..=2 {
            text.push_str(&format!(
                "\n[connections.{slug}-{n}]\nleft = {{ endpoint = \"jira-a\", project = \"{project}\" }}\n\
                 right = {{ endpoint = \"jira-b\", project = \"{project}{n}\" }}\n"
            ));
        }
    }
    Settings::from_toml(&text).expect("valid fuzz settings")
}

fn fixtures() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jira-webhooks");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "fixtures missing in {}", dir.display());
    files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A mutated request: body from a seed, and how its headers are made.
#[derive(Debug, Clone)]
struct Request {
    seed: Index,
    json: Vec<JsonOp>,
    bytes: Vec<ByteOp>,
    /// `None`: signed correctly over the mutated body; else this text as the signature.
    signature: Option<String>,
    /// The delivery identifier header, if any.
    delivery: Option<String>,
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<Index>(),
        json_ops(6),
        prop_oneof![3 => Just(Vec::new()), 2 => byte_ops(4)],
        prop_oneof![6 => Just(None), 1 => odd_string().prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => odd_string().prop_map(Some)],
    )
        .prop_map(|(seed, json, bytes, signature, delivery)| Request {
            seed,
            json,
            bytes,
            signature,
            delivery,
        })
}

impl Request {
    fn body(&self, corpus: &[Vec<u8>]) -> Vec<u8> {
        let seed = self.seed.get(corpus);
        let structured = match serde_json::from_slice::<Value>(seed) {
            Ok(value) if !self.json.is_empty() => mutate::to_bytes(&apply_json(value, &self.json)),
            _ => seed.clone(),
        };
        apply_bytes(structured, &self.bytes, corpus)
    }
}

/// A refusal is the sender's fault, with a reason: 4xx and a non-empty detail.
fn check_refusal(err: &ApiError) -> Result<(), TestCaseError> {
    let status = err.status_code();
    prop_assert!(status.is_client_error(), "{err:?} answered {status}");
    prop_assert!(!err.to_string().is_empty());
    Ok(())
}

#[test]
fn the_jira_route_verifies_and_routes_mutated_webhooks_without_panicking() {
    let corpus = fixtures();
    let settings = settings();
    let endpoint = EndpointId::parse("jira-a").expect("valid id");
    let auth = match &settings.endpoints[&endpoint].webhook {
        Some(auth @ WebhookAuth::HubSignature { .. }) => auth.clone(),
        other => panic!("jira-a signs its webhooks: {other:?}"),
    };
    fuzz("ingress jira route", request(), |r| {
        let body = r.body(&corpus);
        let signature = r.signature.clone().unwrap_or_else(|| sign(&body));
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&signature) {
            headers.insert(HeaderName::from_static("x-hub-signature"), value);
        }
        let verified = match verify(&endpoint, &auth, &headers, Bytes::from(body.clone())) {
            Ok(verified) => verified,
            Err(e) => {
                prop_assert!(
                    r.signature.is_some(),
                    "a correct signature was refused: {e}"
                );
                return check_refusal(&ApiError::from(e));
            }
        };
        // As the route reads the delivery header: trimmed, or a fresh id when absent.
        let delivery = match &r.delivery {
            None => DeliveryId::generate(),
            Some(text) => match DeliveryId::parse(text.trim()) {
                Ok(id) => id,
                Err(_) => return Ok(()),
            },
        };
        match plan(&verified, &settings, &delivery) {
            Err(e) => check_refusal(&e),
            Ok(Plan::Ignore { .. }) => Ok(()),
            Ok(Plan::Publish { event, envelopes }) => {
                let hook = JiraWebhook::parse(&body).expect("a published webhook parses");
                prop_assert!(!envelopes.is_empty());
                prop_assert_eq!(&event, &hook.event);
                for envelope in &envelopes {
                    let request: ReconcileRequest = serde_json::from_slice(&envelope.payload)
                        .expect("the worker decodes every published message");
                    prop_assert_eq!(&request.endpoint, &endpoint);
                    prop_assert_eq!(Some(&request.entity_id), hook.issue_id.as_ref());
                    prop_assert_eq!(&envelope.message_id, request.delivery_id.as_str());
                }
                Ok(())
            }
        }
    });
}

/// PeopleForce bodies: `{"action": "<topic>", "data": {...}}`.
fn peopleforce_corpus() -> Vec<Vec<u8>> {
    [
        r#"{"action":"employee_update","data":{"id":42,"email":"alice@example.com","first_name":"Alice"}}"#,
        r#"{"action":"employee_create","data":{"id":"7","email":"bob@example.com"}}"#,
        r#"{"action":"employee_delete","data":{"id":9}}"#,
        r#"{"action":"leave_request_create","data":{"id":7,"starts_on":"2026-01-01"}}"#,
        r#"{"action":"task_update","data":null}"#,
        r#"{"action":"employee_update"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

#[test]
fn the_peopleforce_route_parses_mutated_webhooks_without_panicking() {
    let corpus = peopleforce_corpus();
    let strategy = (
        any::<Index>(),
        json_ops(6),
        prop_oneof![3 => Just(Vec::new()), 2 => byte_ops(4)],
    );
    fuzz(
        "ingress peopleforce route",
        strategy,
        |(seed, json, bytes)| {
            let seed = seed.get(&corpus);
            let body = match serde_json::from_slice::<Value>(seed) {
                Ok(value) if !json.is_empty() => mutate::to_bytes(&apply_json(value, &json)),
                _ => seed.clone(),
            };
            let body = apply_bytes(body, &bytes, &corpus);
            match peopleforce::parse(&body) {
                Err(e) => check_refusal(&e),
                Ok(hook) => {
                    if peopleforce::is_employee_topic(&hook.action) {
                        match hook.employee_id() {
                            Ok(id) => prop_assert!(
                                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
                                "{id:?}"
                            ),
                            Err(e) => check_refusal(&e)?,
                        }
                    }
                    Ok(())
                }
            }
        },
    );
}
