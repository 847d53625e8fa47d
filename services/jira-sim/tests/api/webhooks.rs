//! Outgoing webhooks: Jira's shape and headers, HMAC signatures, the retry policy with a stable
//! identifier, filters, and the drop/duplicate/delay faults.

use std::collections::BTreeSet;
use std::time::Duration;

use jira_sync_jira_sim::{WebhookFaultSpec, WebhookSpec, signature};
use serde_json::{Value, json};

use crate::common::{Jira, Received, Receiver, adf, eventually, spawn, spawn_with};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/jira-webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture json")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn hook(url: &str, secret: Option<&str>, events: &[&str]) -> WebhookSpec {
    WebhookSpec {
        url: url.to_owned(),
        secret: secret.map(str::to_owned),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        jql: None,
    }
}

#[tokio::test]
async fn an_update_webhook_is_signed_and_shaped_like_jira_clouds() {
    let (sim, site) = spawn().await;
    let rx = Receiver::start().await;
    site.register_webhook(hook(&rx.url, Some("s3cret"), &[]))
        .expect("registered");
    let jira = Jira::bot(&site);
    let (id, key) = jira.create("Hooked").await;
    jira.put(
        &format!("/rest/api/3/issue/{key}"),
        &json!({"fields": {"summary": "Renamed"}}),
    )
    .await;
    let got = rx.wait_for(2).await;
    let update = &got[1];
    assert_eq!(
        update.header("X-Hub-Signature"),
        Some(signature("s3cret", &update.body).as_str())
    );
    assert_eq!(
        update.header("Content-Type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        update.header("User-Agent"),
        Some("Atlassian Webhook HTTP Client")
    );
    assert_eq!(update.header("X-Atlassian-Webhook-Flow"), Some("Primary"));
    assert!(
        update.header("X-Atlassian-Webhook-Retry").is_none(),
        "no retry header on a first attempt"
    );
    assert_ne!(
        got[0].header("X-Atlassian-Webhook-Identifier"),
        update.header("X-Atlassian-Webhook-Identifier")
    );
    let body = update.json();
    let real = fixture("mattermost-plugin-jira--webhook-cloud-issue-updated-custom-field.json");
    assert!(
        keys(&real).is_subset(&keys(&body)),
        "{:?} vs {:?}",
        keys(&real),
        keys(&body)
    );
    assert_eq!(body["webhookEvent"], "jira:issue_updated");
    assert_eq!(body["issue_event_type_name"], "issue_updated");
    assert_eq!(
        body["user"]["accountId"],
        site.users()[1].account_id,
        "the actor, even when it is the bot"
    );
    assert_eq!(
        (body["issue"]["id"].as_str(), body["issue"]["key"].as_str()),
        (Some(id.as_str()), Some(key.as_str()))
    );
    assert!(
        body["timestamp"]
            .as_i64()
            .is_some_and(|t| t > 1_700_000_000_000),
        "epoch milliseconds"
    );
    let item = &body["changelog"]["items"][0];
    assert!(keys(&real["changelog"]["items"][0]).is_subset(&keys(item)));
    assert_eq!(
        (
            item["field"].as_str(),
            item["fromString"].as_str(),
            item["toString"].as_str()
        ),
        (Some("summary"), Some("Hooked"), Some("Renamed"))
    );
    assert_eq!(got[0].json()["webhookEvent"], "jira:issue_created");
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_comment_raises_comment_created_and_issue_commented_like_jira() {
    let (sim, site) = spawn().await;
    let rx = Receiver::start().await;
    site.register_webhook(hook(
        &rx.url,
        None,
        &["comment_created", "jira:issue_updated"],
    ))
    .expect("registered");
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Quiet create").await;
    jira.post(
        &format!("/rest/api/3/issue/{key}/comment"),
        &json!({"body": adf("Hello")}),
    )
    .await;
    let got = rx.wait_for(2).await;
    let events: BTreeSet<String> = got
        .iter()
        .filter_map(|r| r.json()["webhookEvent"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        events,
        BTreeSet::from([
            "comment_created".to_owned(),
            "jira:issue_updated".to_owned()
        ])
    );
    let own = got
        .iter()
        .map(Received::json)
        .find(|b| b["webhookEvent"] == "comment_created")
        .unwrap_or_default();
    let real = fixture("mattermost-plugin-jira--webhook-cloud-comment-created.json");
    assert!(keys(&real).is_subset(&keys(&own)));
    assert!(
        keys(&real["comment"]).is_subset(&keys(&own["comment"])),
        "{:?}",
        keys(&own["comment"])
    );
    assert_eq!(
        own["comment"]["body"], "Hello",
        "webhooks carry rendered text, as Jira's do"
    );
    assert!(sim.site("alpha").is_some());
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_identifier_until_it_succeeds() {
    let (sim, site) = spawn().await;
    let rx = Receiver::start().await;
    rx.answer_next(&[500, 503]);
    site.register_webhook(hook(&rx.url, Some("k"), &["jira:issue_created"]))
        .expect("registered");
    Jira::admin(&site).create("Retry me").await;
    let got = rx.wait_for(3).await;
    let ids: BTreeSet<_> = got
        .iter()
        .filter_map(|r| r.header("X-Atlassian-Webhook-Identifier"))
        .collect();
    assert_eq!(ids.len(), 1, "one identifier across retries");
    let retries: Vec<_> = got
        .iter()
        .map(|r| r.header("X-Atlassian-Webhook-Retry"))
        .collect();
    assert_eq!(retries, vec![None, Some("1"), Some("2")]);
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![500, 503, 200]
    );
    assert_eq!(got[0].body, got[2].body, "the same body is re-sent");
    let stats = eventually(Duration::from_secs(5), || async {
        let w = site.stats().webhooks;
        (w.delivered == 1).then_some(w)
    })
    .await
    .expect("delivered");
    assert_eq!((stats.sent, stats.retried, stats.failed), (3, 2, 0));
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_400_is_not_retried_and_retries_stop_after_the_limit() {
    let (sim, site) = spawn_with(|c| c.webhook_max_retries = 2).await;
    let rx = Receiver::start().await;
    rx.answer_next(&[400, 502, 502, 502]);
    site.register_webhook(hook(&rx.url, None, &["jira:issue_created"]))
        .expect("registered");
    let jira = Jira::admin(&site);
    jira.create("Refused").await;
    rx.wait_for(1).await;
    jira.create("Failing").await;
    rx.wait_for(4).await;
    let failed = eventually(Duration::from_secs(5), || async {
        (site.stats().webhooks.failed == 2).then_some(())
    })
    .await;
    assert!(failed.is_some(), "{:?}", site.stats().webhooks);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.received().len(), 4, "1 + (1 + 2 retries)");
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn drop_and_duplicate_faults_lose_or_repeat_whole_events() {
    let (sim, site) = spawn_with(|c| c.webhook_concurrency = 1).await;
    let rx = Receiver::start().await;
    site.register_webhook(hook(&rx.url, None, &["jira:issue_created"]))
        .expect("registered");
    site.set_webhook_faults(WebhookFaultSpec {
        drop_next: 1,
        duplicate_next: 1,
        ..WebhookFaultSpec::default()
    })
    .expect("faults set");
    let jira = Jira::admin(&site);
    jira.create("dropped").await;
    jira.create("doubled").await;
    jira.create("plain").await;
    let got = rx.wait_for(3).await;
    let summaries: Vec<String> = got
        .iter()
        .filter_map(|r| {
            r.json()["issue"]["fields"]["summary"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(summaries, vec!["doubled", "doubled", "plain"]);
    assert_eq!(
        got[0].header("X-Atlassian-Webhook-Identifier"),
        got[1].header("X-Atlassian-Webhook-Identifier")
    );
    let w = site.stats().webhooks;
    assert_eq!((w.dropped, w.duplicated, w.events), (1, 1, 3));
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_jql_filter_limits_events_to_matching_issues_and_delete_carries_the_old_issue() {
    let (sim, site) = spawn().await;
    let rx = Receiver::start().await;
    let spec = WebhookSpec {
        jql: Some("project = BETA".into()),
        ..hook(&rx.url, None, &["*"])
    };
    let info = site.register_webhook(spec).expect("registered");
    assert!(!info.is_signed);
    let jira = Jira::admin(&site);
    jira.create("alpha issue").await;
    let (status, beta) = jira
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "BETA"},
        "issuetype": {"name": "Task"}, "summary": "beta issue"}}),
        )
        .await;
    assert_eq!(status, 201);
    jira.delete("/rest/api/3/issue/BETA-1").await;
    let got = rx.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bodies: Vec<Value> = rx.received().iter().map(Received::json).collect();
    assert_eq!(bodies.len(), 2, "alpha's event was filtered out");
    assert_eq!(bodies[1]["webhookEvent"], "jira:issue_deleted");
    assert_eq!(bodies[1]["issue"]["id"], beta["id"]);
    assert_eq!(got[1].json()["issue"]["fields"]["summary"], "beta issue");
    rx.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn the_reorder_fault_sends_events_that_arrive_together_in_reverse() {
    let (sim, site) = spawn_with(|c| c.webhook_concurrency = 1).await;
    let rx = Receiver::start().await;
    site.register_webhook(hook(&rx.url, None, &["jira:issue_created"]))
        .expect("registered");
    let spec = WebhookFaultSpec {
        reorder: true,
        reorder_window_ms: Some(400),
        ..WebhookFaultSpec::default()
    };
    site.set_webhook_faults(spec).expect("faults set");
    let jira = Jira::admin(&site);
    for s in ["first", "second", "third"] {
        jira.create(s).await;
    }
    let got = rx.wait_for(3).await;
    let summaries: Vec<String> = got
        .iter()
        .filter_map(|r| {
            r.json()["issue"]["fields"]["summary"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(summaries, vec!["third", "second", "first"]);
    rx.stop().await;
    sim.stop().await;
}
