//! Custom fields through the field map (and the ones that cannot be mapped, reported once),
//! mentions rewritten between sites, and comments both ways: created, edited and deleted on
//! each side, attributed, never echoed, internal ones kept home, crashed copies adopted.

mod support;

use jira_sync_domain::Side::{Left, Right};
use jira_sync_jira_sim::{CustomFieldDef, CustomFieldKind, SimUser, SiteConfig};
use jira_sync_store::Store;
use jira_sync_worker::Outcome;
use jira_sync_worker::reconcile::jira_map::ORIGIN_PROPERTY;
use serde_json::{Value, json};
use support::{Env, TestResult, adf, connection, field, object};

fn in_sync(link_id: uuid::Uuid) -> Outcome {
    Outcome::Synced {
        link_id,
        to_left: vec![],
        to_right: vec![],
        held: vec![],
    }
}

fn custom_fields(alpha: &mut SiteConfig, beta: &mut SiteConfig) {
    alpha.custom_fields.push(
        CustomFieldDef::new("customfield_10100", "Tier", CustomFieldKind::Select)
            .with_options(&["Gold", "Silver"]),
    );
    alpha.custom_fields.push(
        CustomFieldDef::new("customfield_10101", "Region", CustomFieldKind::Cascading)
            .with_options(&["EU", "Berlin"]),
    );
    beta.custom_fields.push(
        CustomFieldDef::new("customfield_20100", "Level", CustomFieldKind::Select)
            .with_options(&["Tier 1", "Tier 2"]),
    );
    beta.custom_fields.push(
        CustomFieldDef::new("customfield_20101", "Region", CustomFieldKind::Cascading)
            .with_options(&["EU", "Berlin"]),
    );
    beta.custom_fields.push(CustomFieldDef::new(
        "customfield_20010",
        "Team",
        CustomFieldKind::Text,
    ));
}

const CUSTOM: &str = r#"custom_fields = [
  { left = "customfield_10100", right = "customfield_20100", options = [{ left = "Gold", right = "Tier 1" }, { left = "Silver", right = "Tier 2" }] },
  { left = "customfield_10010", right = "customfield_20010", type = "text" },
  { left = "customfield_10101", right = "customfield_20101" },
  { left = "customfield_10016", right = "customfield_10016", type = "text" },
]"#;

#[tokio::test]
async fn custom_fields_flow_through_the_field_map_and_unmappable_ones_are_reported_once()
-> TestResult {
    let env = Env::start_custom(CUSTOM, "", "", custom_fields).await?;
    // At start-up, before any issue: both unmappable fields are reported.
    assert!(env.reconciler.check_fields().await.is_empty());
    assert_eq!(env.audit_count("unmappable_field").await, 2);
    let (id, twin, link) = env
        .pair(json!({
            "summary": "Custom",
            "customfield_10100": {"value": "Gold"},
            "customfield_10010": "Core",
            "customfield_10101": {"value": "EU", "child": {"value": "Berlin"}},
            "customfield_10016": 5,
        }))
        .await?;
    let right = env.issue(Right, &twin);
    assert_eq!(field(&right, "customfield_20100")["value"], "Tier 1");
    assert_eq!(field(&right, "customfield_20010"), "Core");
    assert_eq!(
        field(&right, "customfield_20101"),
        &Value::Null,
        "cascading selects are not mapped"
    );
    assert_eq!(
        field(&right, "customfield_10016"),
        &Value::Null,
        "a number configured as text is not"
    );

    assert_eq!(env.reconcile(Right, &twin).await?, in_sync(link));
    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link));
    env.beta
        .edit_issue(
            &twin,
            &object(json!({"customfield_20100": {"value": "Tier 2"}})),
        )
        .await?;
    let outcome = env.reconcile(Right, &twin).await?;
    assert_eq!(
        outcome,
        Outcome::Synced {
            link_id: link,
            to_left: vec!["customfield_10100".into()],
            to_right: vec![],
            held: vec![]
        }
    );
    assert_eq!(
        field(&env.issue(Left, &id), "customfield_10100")["value"],
        "Silver"
    );

    // Reported once each, however many reconciles ran.
    assert_eq!(env.audit_count("unmappable_field").await, 2);
    let reasons: Vec<(String, String)> = sqlx::query_as(
        "SELECT fields[1], changes->>'reason' FROM audit_log WHERE action = 'unmappable_field' ORDER BY fields[1]",
    )
    .fetch_all(env.db.store.pool())
    .await?;
    assert_eq!(reasons[0].0, "customfield_10016");
    assert!(reasons[0].1.contains("configured as Text"), "{reasons:?}");
    assert_eq!(reasons[1].0, "customfield_10101");
    assert!(reasons[1].1.contains("cannot map"), "{reasons:?}");
    env.stop().await;
    Ok(())
}

fn people(alpha: &mut SiteConfig, beta: &mut SiteConfig) {
    alpha.users.push(SimUser::new(
        "alpha-alice",
        "Alice Example",
        "alice@corp.example",
        "t",
    ));
    alpha.users.push(SimUser::new(
        "alpha-bob",
        "Bob Unmapped",
        "bob@alpha.example",
        "t",
    ));
    beta.users.push(SimUser::new(
        "beta-alice",
        "Alice Example",
        "alice@corp.example",
        "t",
    ));
}

#[tokio::test]
async fn mentions_get_the_other_sites_ids_and_unknown_people_become_text() -> TestResult {
    let env = Env::start_custom("", "", "", people).await?;
    let description = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Ask "},
        {"type": "mention", "attrs": {"id": "alpha-alice", "text": "@Alice Example"}},
        {"type": "text", "text": " or "},
        {"type": "mention", "attrs": {"id": "alpha-bob", "text": "@Bob Unmapped"}},
    ]}]});
    let (id, twin, link) = env
        .pair(json!({"summary": "Mentions", "description": description}))
        .await?;
    let content = field(&env.issue(Right, &twin), "description")["content"][0]["content"].clone();
    assert_eq!(content[1]["attrs"]["id"], "beta-alice");
    assert_eq!(content[3], json!({"type": "text", "text": "@Bob Unmapped"}));
    // The lossy copy is not taken for an edit on the right.
    assert_eq!(env.reconcile(Right, &twin).await?, in_sync(link));
    assert_eq!(field(&env.issue(Left, &id), "description"), &description);
    env.stop().await;
    Ok(())
}

fn text_of(comment: &Value) -> Vec<String> {
    (comment["body"]["content"].as_array().into_iter().flatten())
        .map(|block| {
            (block["content"].as_array().into_iter().flatten())
                .filter_map(|n| n["text"].as_str())
                .collect::<String>()
        })
        .collect()
}

#[tokio::test]
async fn comments_are_copied_edited_and_deleted_on_each_side_attributed_and_never_echoed()
-> TestResult {
    let env = Env::start().await?;
    let (id, twin, link) = env.pair(json!({"summary": "Talk"})).await?;
    let (a, b) = (env.person(Left), env.person(Right));
    let hello = a.add_comment(&id, &adf("Hello from A"), &[]).await?;

    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link));
    let copies = env.comments(Right, &twin);
    assert_eq!(copies.len(), 1);
    assert_eq!(
        text_of(&copies[0]),
        vec!["Admin User wrote in Alpha Jira:", "Hello from A"]
    );
    assert_eq!(copies[0]["properties"][0]["key"], ORIGIN_PROPERTY);
    let copy_id = copies[0]["id"].as_str().unwrap_or_default().to_owned();
    // The copy coming back as a webhook, and a duplicate delivery: nothing more.
    assert_eq!(env.reconcile(Right, &twin).await?, in_sync(link));
    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link));
    assert_eq!(
        (
            env.comments(Left, &id).len(),
            env.comments(Right, &twin).len()
        ),
        (1, 1)
    );

    a.update_comment(&id, &hello.id, &adf("Hello from A, edited"))
        .await?;
    env.reconcile(Left, &id).await?;
    assert_eq!(
        text_of(&env.comments(Right, &twin)[0]),
        vec!["Admin User wrote in Alpha Jira:", "Hello from A, edited"]
    );

    let mut edited_copy = env.comments(Right, &twin)[0]["body"].clone();
    edited_copy["content"][1] = adf("Edited on B")["content"][0].clone();
    b.update_comment(&twin, &copy_id, &edited_copy).await?;
    env.reconcile(Right, &twin).await?;
    assert_eq!(
        text_of(&env.comments(Left, &id)[0]),
        vec!["Edited on B"],
        "the original gets no header"
    );

    let reply = b.add_comment(&twin, &adf("Reply from B"), &[]).await?;
    env.reconcile(Right, &twin).await?;
    let left = env.comments(Left, &id);
    assert_eq!(left.len(), 2);
    assert_eq!(
        text_of(&left[1]),
        vec!["Admin User wrote in Beta Jira:", "Reply from B"]
    );
    b.update_comment(&twin, &reply.id, &adf("Reply from B, edited"))
        .await?;
    env.reconcile(Right, &twin).await?;
    assert_eq!(
        text_of(&env.comments(Left, &id)[1])[1],
        "Reply from B, edited"
    );

    b.delete_comment(&twin, &reply.id).await?;
    env.reconcile(Right, &twin).await?;
    assert_eq!(
        env.comments(Left, &id).len(),
        1,
        "the copy of B's deleted comment is gone"
    );
    a.delete_comment(&id, &hello.id).await?;
    env.reconcile(Left, &id).await?;
    assert!(
        env.comments(Right, &twin).is_empty(),
        "the copy of A's deleted comment is gone"
    );
    assert!(env.db.store.comment_links(link).await?.is_empty());

    let actions = env.actions(link).await?;
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(
        (
            count("comment_create"),
            count("comment_update"),
            count("comment_delete")
        ),
        (2, 3, 2)
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn internal_comments_stay_home_and_a_copy_posted_before_a_crash_is_adopted() -> TestResult {
    let env = Env::start().await?;
    let (id, twin, link) = env.pair(json!({"summary": "Private"})).await?;
    let a = env.person(Left);
    let restricted = json!({"type": "role", "value": "Developers"});
    a.add_comment_restricted(&id, &adf("Developers only"), Some(&restricted), &[])
        .await?;
    let note = jira_sync_jira_client::EntityProperty {
        key: "sd.public.comment".into(),
        value: json!({"internal": true}),
    };
    a.add_comment(&id, &adf("Agents only"), &[note]).await?;
    let public = a.add_comment(&id, &adf("For everyone"), &[]).await?;
    // The crashed attempt: intent recorded, copy posted with its marker, link never stored.
    env.db
        .store
        .begin_intent(&connection(), Left, &format!("comment:{}", public.id))
        .await?;
    let marker =
        json!({"connection": "a-to-b", "endpoint": "jira-a", "comment": public.id, "issue": id});
    let property = jira_sync_jira_client::EntityProperty {
        key: ORIGIN_PROPERTY.into(),
        value: marker,
    };
    let body = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Admin User", "marks": [{"type": "strong"}]}, {"type": "text", "text": " wrote in Alpha Jira:"}]},
        adf("For everyone")["content"][0],
    ]});
    env.beta.add_comment(&twin, &body, &[property]).await?;

    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link));

    let copies = env.comments(Right, &twin);
    assert_eq!(copies.len(), 1, "{copies:#?}");
    assert_eq!(env.db.store.comment_links(link).await?.len(), 1);
    a.update_comment(&id, &public.id, &adf("For everyone, edited"))
        .await?;
    env.reconcile(Left, &id).await?;
    assert_eq!(
        text_of(&env.comments(Right, &twin)[0])[1],
        "For everyone, edited"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_copy_left_unlinked_by_a_crash_is_deleted_once_its_original_is_gone() -> TestResult {
    let env = Env::start().await?;
    let (id, twin, link) = env.pair(json!({"summary": "Short-lived comment"})).await?;
    let a = env.person(Left);
    let original = a.add_comment(&id, &adf("Soon gone"), &[]).await?;
    // The crashed attempt: intent recorded, copy posted with its marker, link never stored...
    env.db
        .store
        .begin_intent(&connection(), Left, &format!("comment:{}", original.id))
        .await?;
    let marker =
        json!({"connection": "a-to-b", "endpoint": "jira-a", "comment": original.id, "issue": id});
    let property = jira_sync_jira_client::EntityProperty {
        key: ORIGIN_PROPERTY.into(),
        value: marker,
    };
    env.beta
        .add_comment(&twin, &adf("Soon gone"), &[property])
        .await?;
    // ...and the original deleted before the retry.
    a.delete_comment(&id, &original.id).await?;
    let unrelated = env
        .beta
        .add_comment(&twin, &adf("Written in beta"), &[])
        .await?;

    env.reconcile(Left, &id).await?;

    let left_on_b: Vec<String> = env
        .comments(Right, &twin)
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        left_on_b,
        vec![unrelated.id],
        "only the unrelated comment stays"
    );
    assert!(env.db.store.comment_links(link).await?.len() <= 1);
    env.stop().await;
    Ok(())
}

/// A twin created from the right side: the creator holds the source's own lock, while a
/// comment webhook arriving once the link is stored locks the pair. Both copying the comment
/// at once posted it twice; the creator now takes the pair's lock for its comment copies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_comment_webhook_during_a_right_side_create_does_not_copy_the_comment_twice() -> TestResult
{
    let env = Env::start().await?;
    let (source, _) = env
        .create(Right, json!({"summary": "Made in Beta"}), None)
        .await?;
    env.person(Right)
        .add_comment(&source, &adf("Before the twin"), &[])
        .await?;
    // Writes to Alpha take long enough for a second reconcile to start in the middle of the
    // creator's comment copy.
    env.site(Left).add_fault(jira_sync_jira_sim::FaultSpec {
        method: Some("POST".into()),
        path_prefix: Some("/rest/api/3/issue".into()),
        kind: jira_sync_jira_sim::FaultKind::LatencyMs(700),
        times: None,
        probability: None,
        seed: None,
    })?;

    let creator = env.reconcile(Right, &source);
    let webhook = async {
        let result: Result<Outcome, Box<dyn std::error::Error>> = async {
            // The comment's webhook is handled as soon as the pair is linked.
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let link = (env.db.store)
                    .find_link(&connection(), Right, &source)
                    .await?;
                if link.is_some() {
                    break;
                }
                if tokio::time::Instant::now() > deadline {
                    return Err("the pair was never linked".into());
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Ok(env.reconcile(Right, &source).await?)
        }
        .await;
        result
    };
    let (created, synced) = tokio::join!(creator, webhook);
    let Outcome::Created {
        twin_id, link_id, ..
    } = created?
    else {
        return Err("the first reconcile must create the twin".into());
    };
    synced?;

    let copies = env.comments(Left, &twin_id);
    assert_eq!(copies.len(), 1, "{copies:#?}");
    assert_eq!(env.db.store.comment_links(link_id).await?.len(), 1);
    env.stop().await;
    Ok(())
}

/// Jira sends two webhooks about a comment (`comment_created`, and `jira:issue_updated` with
/// `issue_commented`), both naming the same change: the second is not reconciled again.
#[tokio::test]
async fn a_second_webhook_about_a_reconciled_change_reads_nothing() -> TestResult {
    let env = Env::start().await?;
    let (id, twin, link) = env.pair(json!({"summary": "Talked about"})).await?;
    let comment = env.person(Left).add_comment(&id, &adf("Once"), &[]).await?;
    let updated = comment.updated.ok_or("the comment has no updated time")?;
    let change = format!("comment:{}:{}", comment.id, updated.to_rfc3339());
    let about = |event: &str| {
        let mut request = env.request(Left, &id);
        request.trigger = jira_sync_domain::Trigger::Webhook {
            event: event.into(),
            actor: None,
        };
        request.change = Some(change.clone());
        request
    };
    let first = env
        .reconciler
        .reconcile(&about("comment_created"), None)
        .await?;
    assert_eq!(first, in_sync(link));
    assert_eq!(env.comments(Right, &twin).len(), 1);

    let calls = |env: &Env| {
        [Left, Right].map(|side| {
            let stats = env.site(side).stats();
            stats.reads + stats.writes
        })
    };
    let before = calls(&env);
    let second = (env.reconciler)
        .reconcile(&about("jira:issue_updated"), None)
        .await?;
    assert_eq!(
        second,
        Outcome::Skipped {
            reason: "already_seen"
        }
    );
    assert_eq!(calls(&env), before, "the second webhook must not call Jira");

    // Another change of the same issue, or a request naming none (a poll), is reconciled.
    let mut other = about("jira:issue_updated");
    other.change = Some("changelog:999".into());
    assert_eq!(env.reconciler.reconcile(&other, None).await?, in_sync(link));
    assert_eq!(env.reconcile(Left, &id).await?, in_sync(link));
    assert_ne!(calls(&env), before);
    env.stop().await;
    Ok(())
}
