//! Fuzzing of what the domain parses from the outside: Jira webhook bodies (the ingress's
//! [`JiraWebhook::parse`]), queued reconcile requests (the worker's decode of a message), and
//! every rich-text converter (ADF <-> Markdown, wiki markup and plain text, mention rewriting).
//!
//! Each target starts from seeds (the shared Jira webhook fixtures, hand-written ADF documents,
//! markup examples, valid queue messages) and applies byte-level and structure-aware mutations
//! (see `mutate` and `adf`), asserting that nothing panics and that the invariants hold: a
//! synced webhook names its issue, a decoded request re-encodes to itself, converters are
//! stable after one trip, and the supported subset round-trips exactly (the unit property
//! tests' invariants, over a wider alphabet). A stack overflow aborts the run: it is a crash too.
//!
//! `JIRA_SYNC_FUZZ_SECS` sets each target's time (default 5 s); the long run is in README.md.

mod adf;
mod engine;
mod mutate;
mod subset;

use std::path::PathBuf;

use jira_sync_domain::richtext::{self, markdown, mentions, text, wiki};
use jira_sync_domain::{JiraWebhook, ReconcileRequest};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use crate::engine::fuzz;
use crate::mutate::{ByteOp, JsonOp, apply_bytes, apply_json, byte_ops, json_ops, to_bytes};

/// The shared Jira webhook fixtures, as bytes.
fn webhook_fixtures() -> Vec<Vec<u8>> {
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

/// Seeds of the webhook target: every fixture plus shapes the fixtures lack.
fn webhook_corpus() -> Vec<Vec<u8>> {
    let mut corpus = webhook_fixtures();
    for extra in [
        r#"{"webhookEvent":"comment_created","comment":{"id":"10082","self":"http://jira:8080/rest/api/2/issue/10013/comment/10082","author":{"name":"lev"}}}"#,
        r#"{"webhookEvent":"sprint_started","sprint":{"id":1}}"#,
        r#"{"timestamp":1550286601840,"webhookEvent":"jira:issue_deleted","user":{"accountId":"abc"},"issue":{"id":10040,"key":"TES-41","fields":{"project":{"key":"TES"}}}}"#,
        "{}",
        "[]",
    ] {
        corpus.push(extra.as_bytes().to_vec());
    }
    corpus
}

/// A seed, its JSON mutations (applied when it is JSON) and byte mutations on top.
#[derive(Debug, Clone)]
struct Mutated {
    seed: Index,
    json: Vec<JsonOp>,
    bytes: Vec<ByteOp>,
}

fn mutated() -> impl Strategy<Value = Mutated> {
    (
        any::<Index>(),
        json_ops(6),
        prop_oneof![3 => Just(Vec::new()), 2 => byte_ops(4)],
    )
        .prop_map(|(seed, json, bytes)| Mutated { seed, json, bytes })
}

impl Mutated {
    fn build(&self, corpus: &[Vec<u8>]) -> Vec<u8> {
        let seed = self.seed.get(corpus);
        let structured = match serde_json::from_slice::<Value>(seed) {
            Ok(value) if !self.json.is_empty() => to_bytes(&apply_json(value, &self.json)),
            _ => seed.clone(),
        };
        apply_bytes(structured, &self.bytes, corpus)
    }
}

#[test]
fn jira_webhook_parsing_survives_mutated_fixtures() {
    let corpus = webhook_corpus();
    fuzz("jira webhook parse", mutated(), |m| {
        let body = m.build(&corpus);
        if let Ok(hook) = JiraWebhook::parse(&body) {
            prop_assert!(!hook.event.is_empty());
            if hook.kind.is_synced() {
                prop_assert!(hook.issue_id.as_deref().is_some_and(|id| !id.is_empty()));
            }
            if let Some(key) = &hook.issue_key {
                prop_assert!(!key.project().is_empty());
            }
        }
        Ok(())
    });
}

/// Valid messages of the work queue, as the ingress and the poller write them.
fn request_corpus() -> Vec<Vec<u8>> {
    [
        json!({"connection": "a-to-b", "endpoint": "jira-a", "entity_id": "10001",
               "issue_key": "ACME-1", "trigger": {"kind": "webhook", "event": "jira:issue_updated"},
               "delivery_id": "d-1", "event_at": "2026-01-02T03:04:05.678Z"}),
        json!({"connection": "a-to-b", "endpoint": "jira-b", "entity_id": "2",
               "trigger": {"kind": "poll"}, "delivery_id": "poll-1"}),
        json!({"connection": "pf", "endpoint": "pf-a", "entity_id": "task-9",
               "trigger": {"kind": "manual"}, "delivery_id": "manual:0193a8f3"}),
    ]
    .iter()
    .map(|v| serde_json::to_vec(v).expect("JSON"))
    .collect()
}

#[test]
fn queued_request_decoding_survives_mutated_messages() {
    let corpus = request_corpus();
    fuzz("reconcile request decode", mutated(), |m| {
        let payload = m.build(&corpus);
        if let Ok(request) = serde_json::from_slice::<ReconcileRequest>(&payload) {
            let again = serde_json::to_vec(&request).expect("a request encodes");
            let back: ReconcileRequest =
                serde_json::from_slice(&again).expect("an encoded request decodes");
            prop_assert_eq!(&back, &request);
            prop_assert!(
                request
                    .entity_ref()
                    .starts_with(request.connection.as_str())
            );
        }
        Ok(())
    });
}

/// Every converter from ADF, with the invariants that hold for any input.
fn check_adf(doc: &Value) -> Result<(), TestCaseError> {
    let once = richtext::to_adf(&richtext::from_adf(doc));
    prop_assert!(richtext::adf::is_doc(&once));
    let twice = richtext::to_adf(&richtext::from_adf(&once));
    prop_assert_eq!(&twice, &once, "ADF -> tree -> ADF is stable after one trip");

    let md = markdown::from_adf(doc);
    let _ = markdown::to_adf(&md);
    let wiki = wiki::from_adf(doc);
    let _ = wiki::to_adf(&wiki);

    let plain = text::from_adf(doc);
    let normal = text::from_adf(&text::to_adf(&plain));
    prop_assert_eq!(
        text::from_adf(&text::to_adf(&normal)),
        normal,
        "plain text is stable after one trip"
    );

    let ids = mentions::mention_ids(doc);
    let renamed = mentions::rewrite_mentions(doc, &|id| Some(format!("{id}~b")));
    let renamed_ids = mentions::mention_ids(&renamed);
    for id in &ids {
        prop_assert!(renamed_ids.contains(&format!("{id}~b")), "{id} not renamed");
    }
    let unmapped = mentions::rewrite_mentions(doc, &|_| None);
    prop_assert!(mentions::mention_ids(&unmapped).is_empty());
    Ok(())
}

#[test]
fn rich_text_from_mutated_adf_never_panics_and_is_stable() {
    let seeds = adf::seed_documents();
    let strategy = (
        any::<Index>(),
        adf::adf_ops(8),
        prop_oneof![6 => Just(Vec::new()), 1 => byte_ops(3)],
    );
    fuzz("rich text from ADF", strategy, |(seed, ops, bytes)| {
        let doc = adf::apply_adf(seed.get(&seeds).clone(), &ops);
        // As the Jira client reads a description: bytes through serde_json (depth-limited).
        let body = apply_bytes(to_bytes(&doc), &bytes, &[]);
        match serde_json::from_slice::<Value>(&body) {
            Ok(doc) => check_adf(&doc),
            Err(_) => Ok(()),
        }
    });
}

/// Markup to start from: the examples, renders of the ADF seeds, and the texts of the webhook
/// fixtures (Data Center descriptions and comments are wiki markup).
fn markup_corpus() -> Vec<Vec<u8>> {
    let mut corpus = vec![
        adf::MARKDOWN_EXAMPLE.as_bytes().to_vec(),
        adf::WIKI_EXAMPLE.as_bytes().to_vec(),
    ];
    for doc in adf::seed_documents() {
        corpus.push(markdown::from_adf(&doc).into_bytes());
        corpus.push(wiki::from_adf(&doc).into_bytes());
        corpus.push(text::from_adf(&doc).into_bytes());
    }
    fn strings(v: &Value, out: &mut Vec<Vec<u8>>) {
        match v {
            Value::String(s) if s.len() >= 16 && s.contains(' ') => out.push(s.as_bytes().to_vec()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    for fixture in webhook_fixtures() {
        if let Ok(value) = serde_json::from_slice::<Value>(&fixture) {
            strings(&value, &mut corpus);
        }
    }
    corpus.sort();
    corpus.dedup();
    corpus
}

/// Every converter from markup, with the invariants that hold for any input.
fn check_markup(input: &str) -> Result<(), TestCaseError> {
    let md = markdown::to_blocks(input);
    let md_adf = richtext::to_adf(&md);
    prop_assert!(richtext::adf::is_doc(&md_adf));
    let _ = markdown::render(&richtext::normalize(md));
    let _ = markdown::from_adf(&md_adf);

    let wk = wiki::to_blocks(input);
    let wk_adf = richtext::to_adf(&wk);
    prop_assert!(richtext::adf::is_doc(&wk_adf));
    let _ = wiki::render(&richtext::normalize(wk));
    let _ = wiki::from_adf(&wk_adf);

    let normal = text::from_adf(&text::to_adf(input));
    prop_assert_eq!(
        text::from_adf(&text::to_adf(&normal)),
        normal,
        "plain text is stable after one trip"
    );
    Ok(())
}

#[test]
fn rich_text_from_mutated_markup_never_panics() {
    let corpus = markup_corpus();
    let strategy = (any::<Index>(), byte_ops(10));
    fuzz("rich text from markup", strategy, |(seed, ops)| {
        let bytes = apply_bytes(seed.get(&corpus).clone(), &ops, &corpus);
        check_markup(&String::from_utf8_lossy(&bytes))
    });
}

#[test]
fn the_supported_subset_round_trips_over_a_wide_alphabet() {
    let strategy = (
        subset::document(subset::WIKI),
        subset::document(subset::MARKDOWN),
        subset::plain_text(),
    );
    fuzz(
        "rich text subset round trips",
        strategy,
        |(wide, narrow, plain)| {
            use richtext::{from_adf, normalize, to_adf};
            prop_assert_eq!(&normalize(from_adf(&to_adf(&wide))), &wide, "ADF JSON");
            let md = markdown::render(&narrow);
            prop_assert_eq!(
                &normalize(markdown::to_blocks(&md)),
                &narrow,
                "markdown:\n{}",
                md
            );
            let wk = wiki::render(&wide);
            prop_assert_eq!(&normalize(wiki::to_blocks(&wk)), &wide, "wiki:\n{}", wk);
            prop_assert_eq!(text::from_adf(&text::to_adf(&plain)), plain);
            Ok(())
        },
    );
}
