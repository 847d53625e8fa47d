//! A conflict held for a person (policy `hold`) is listed by the admin API, resolved there by
//! an operator, and applied by the worker: both sides end with the chosen value, nothing else
//! is opened, and the conflict stays resolved.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use jira_sync_jira_sim::WebhookFaultSpec;
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_tests::{EnvOptions, TestEnv, settled};
use jira_sync_transport::amqp::AmqpTransport;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const API_KEY: &str = "e2e-admin-key-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_held_conflict_resolved_in_the_admin_api_is_written_to_both_sides() {
    let env = TestEnv::start(EnvOptions {
        // `fields` belongs to the connection table the generated config ends with.
        extra_toml: format!(
            "fields = {{ summary = {{ conflict = \"hold\" }}, labels = {{}} }}\n\n\
             [admin]\nlisten = \"127.0.0.1:0\"\napi_keys = [\"{API_KEY}\"]\n"
        ),
        ..EnvOptions::default()
    })
    .await;
    let (a, b) = (env.actor("a"), env.actor("b"));
    let issue = a.create("Base", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;
    let store = env.db.store.clone();
    eventually(WAIT, "the pair to be linked", || async {
        let links = store.list_links(None, 10).await.ok()?;
        links.iter().any(|l| !l.base.is_empty()).then_some(())
    })
    .await;

    // Both sides change the summary while Jira delivers neither webhook.
    for site in ["a", "b"] {
        env.site(site)
            .set_webhook_faults(WebhookFaultSpec {
                drop_next: 1,
                ..WebhookFaultSpec::default()
            })
            .unwrap_or_else(|e| panic!("set the webhook fault on {site}: {e:?}"));
    }
    a.edit(&issue.id, json!({"summary": "Left says"})).await;
    b.edit(&twin.id, json!({"summary": "Right says"})).await;
    // The simulator delivers (here: drops) webhooks after answering the edit.
    for site in ["a", "b"] {
        let sim = env.site(site);
        eventually(WAIT, "the simulator to drop the webhook", || async {
            (sim.stats().webhooks.dropped == 1).then_some(())
        })
        .await;
    }
    // A (late) webhook of A's issue triggers the reconcile that finds the conflict.
    let body = webhook_body("jira:issue_updated", &issue.id, &issue.key);
    let status = post_signed(&env.http, &env.ingress_url, "jira-a", &body, "late-1").await;
    assert_eq!(status, 202);

    let transport =
        AmqpTransport::new(&env.settings.amqp).unwrap_or_else(|e| panic!("admin transport: {e}"));
    let admin = jira_sync_admin::Application::build_with(
        env.settings.clone(),
        jira_sync_admin::AdminDeps {
            store: Arc::new(store.clone()),
            publisher: transport.publisher(),
            dead_letters: transport.dead_letters(),
        },
    )
    .unwrap_or_else(|e| panic!("build the admin API: {e}"));
    let admin_url = format!("http://127.0.0.1:{}/api/v1", admin.port());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(admin.run_until_stopped(shutdown.clone()));

    let conflict = eventually(WAIT, "the conflict in GET /conflicts", || async {
        let reply: Value = (env.http.get(format!("{admin_url}/conflicts")))
            .bearer_auth(API_KEY)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        reply["conflicts"].as_array()?.first().cloned()
    })
    .await;
    assert_eq!(conflict["field"], "summary");
    assert_eq!(conflict["left"], "Left says");
    assert_eq!(conflict["right"], "Right says");
    assert_eq!(conflict["status"], "open");
    // Held: both sides keep their value.
    assert_eq!(a.get(&issue.id).await.summary(), Some("Left says"));
    assert_eq!(b.get(&twin.id).await.summary(), Some("Right says"));

    let id = conflict["id"].as_str().unwrap_or_default().to_owned();
    let reply = (env.http.post(format!("{admin_url}/conflicts/{id}/resolve")))
        .bearer_auth(API_KEY)
        .json(&json!({"take": "right"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("resolve: {e}"));
    assert_eq!(reply.status().as_u16(), 200);

    eventually(WAIT, "the right's value on both sides", || async {
        let left = a.get(&issue.id).await;
        (left.summary() == Some("Right says")).then_some(())
    })
    .await;
    let summaries = settled(WAIT, Duration::from_secs(1), "both summaries", || async {
        let left = a.get(&issue.id).await.summary().map(str::to_owned);
        let right = b.get(&twin.id).await.summary().map(str::to_owned);
        (left, right)
    })
    .await;
    let right_says = Some("Right says".to_owned());
    assert_eq!(summaries, (right_says.clone(), right_says));

    let conflicts = (store.list_conflicts(None, None, 10).await)
        .unwrap_or_else(|e| panic!("list conflicts: {e}"));
    assert_eq!(
        conflicts.len(),
        1,
        "no new conflict was opened: {conflicts:?}"
    );
    assert_eq!(conflicts[0].status, ConflictStatus::Resolved);
    assert_eq!(conflicts[0].resolution.as_deref(), Some("right"));
    let links = (store.list_links(None, 10).await).unwrap_or_else(|e| panic!("links: {e}"));
    assert_eq!(links[0].base.get("summary"), Some(&json!("Right says")));
    let audit = (store.audit_of(links[0].id).await).unwrap_or_else(|e| panic!("audit: {e}"));
    assert!(
        audit.iter().any(|e| e.entry.action == "conflict_resolved"),
        "the resolution is audited: {audit:?}"
    );

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    env.stop().await;
}
