//! Status through the workflow (several hops, a required transition field, category fallback,
//! no path) and people through the user map, e-mail and the fallback user, against two
//! simulated sites.

mod support;

use jira_sync_domain::Side::{Left, Right};
use jira_sync_jira_sim::{SimUser, StatusCategory, StatusDef, TransitionDef, Workflow};
use jira_sync_worker::Outcome;
use serde_json::json;
use support::{Env, TestResult, field, object, status};

fn synced(link_id: uuid::Uuid, to_left: &[&str], to_right: &[&str]) -> Outcome {
    let names = |f: &[&str]| f.iter().map(|s| (*s).to_owned()).collect();
    Outcome::Synced {
        link_id,
        to_left: names(to_left),
        to_right: names(to_right),
        held: vec![],
    }
}

#[tokio::test]
async fn a_status_two_transitions_away_is_reached_hop_by_hop_and_its_echo_is_quiet() -> TestResult {
    let env = Env::start().await?;
    let (id, twin, link) = env.pair(json!({"summary": "Ship it"})).await?;
    env.transition(Left, &id, &["In Progress", "Done"], None)
        .await?;

    let outcome = env.reconcile(Left, &id).await?;

    assert_eq!(outcome, synced(link, &[], &["status"]));
    let right = env.issue(Right, &twin);
    assert_eq!(status(&right), "Done");
    assert_eq!(field(&right, "resolution")["name"], "Done");
    let audit = jira_sync_store::Store::audit_of(&env.db.store, link).await?;
    let moved = audit
        .iter()
        .find(|a| a.entry.action == "transition")
        .map(|a| a.entry.changes.clone());
    assert_eq!(
        moved.map(|c| c["path"].clone()),
        Some(json!(["In Progress", "Done"]))
    );
    env.site(Left).reset_stats();
    assert_eq!(env.reconcile(Right, &twin).await?, synced(link, &[], &[]));
    assert!(env.bot_writes(Left).is_empty());
    env.stop().await;
    Ok(())
}

const REVIEW: &str =
    r#"status_map = [{ left = "To Do", right = "Open" }, { left = "Done", right = "Closed" }]"#;

#[tokio::test]
async fn a_multi_hop_workflow_with_a_required_field_is_walked_with_the_configured_value()
-> TestResult {
    let extra = format!("{REVIEW}\ntransition_fields = {{ resolution = {{ name = \"Done\" }} }}");
    let env = Env::start_custom(&extra, "", "", |_, beta| {
        beta.workflow = Workflow::with_review()
    })
    .await?;
    let (id, twin, link) = env.pair(json!({"summary": "Reviewed"})).await?;
    assert_eq!(status(&env.issue(Right, &twin)), "Open");
    env.transition(Left, &id, &["In Progress", "Done"], None)
        .await?;

    assert_eq!(
        env.reconcile(Left, &id).await?,
        synced(link, &[], &["status"])
    );

    let right = env.issue(Right, &twin);
    assert_eq!(status(&right), "Closed");
    assert_eq!(field(&right, "resolution")["name"], "Done");
    // Back to work on the right: Reopen, then Start, is "In Progress" on both sites.
    env.transition(Right, &twin, &["Reopen", "Start"], None)
        .await?;
    assert_eq!(
        env.reconcile(Right, &twin).await?,
        synced(link, &["status"], &[])
    );
    assert_eq!(status(&env.issue(Left, &id)), "In Progress");
    assert_eq!(env.reconcile(Left, &id).await?, synced(link, &[], &[]));
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_required_transition_field_without_a_value_is_a_permanent_error_and_leaves_no_trace()
-> TestResult {
    let env = Env::start_custom(REVIEW, "", "", |_, beta| {
        beta.workflow = Workflow::with_review()
    })
    .await?;
    let (id, twin, _) = env.pair(json!({"summary": "No resolution"})).await?;
    env.transition(Left, &id, &["In Progress", "Done"], None)
        .await?;

    let error = match env.reconcile(Left, &id).await {
        Err(e) => e,
        Ok(outcome) => panic!("reconciled: {outcome:?}"),
    };

    assert_eq!(error.disposition().class(), "transition_field_missing");
    assert!(
        error.messages()[0].contains("requires field `resolution`"),
        "{:?}",
        error.messages()
    );
    assert_eq!(
        status(&env.issue(Right, &twin)),
        "Open",
        "walked back where it started"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_status_missing_on_the_other_site_falls_back_to_its_category_without_an_echo()
-> TestResult {
    let env = Env::start_custom(REVIEW, "", "", |_, beta| {
        beta.workflow = Workflow::with_review()
    })
    .await?;
    let (_, twin, link) = env.pair(json!({"summary": "Category"})).await?;
    env.transition(Right, &twin, &["Start", "Submit"], None)
        .await?;

    assert_eq!(
        env.reconcile(Right, &twin).await?,
        synced(link, &["status"], &[])
    );

    let left = env.issues(Left);
    assert_eq!(
        status(&left[0]),
        "In Progress",
        "In Review has no twin status: same category"
    );
    env.site(Right).reset_stats();
    let id = left[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(env.reconcile(Left, &id).await?, synced(link, &[], &[]));
    assert_eq!(
        status(&env.issue(Right, &twin)),
        "In Review",
        "not pulled back by the fallback"
    );
    assert!(env.bot_writes(Right).is_empty());
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_unreachable_status_is_a_permanent_error_listing_the_transitions_available() -> TestResult
{
    let stuck = Workflow {
        statuses: vec![
            StatusDef {
                id: "1".into(),
                name: "To Do".into(),
                category: StatusCategory::New,
            },
            StatusDef {
                id: "2".into(),
                name: "Doing".into(),
                category: StatusCategory::Indeterminate,
            },
            StatusDef {
                id: "3".into(),
                name: "Done".into(),
                category: StatusCategory::Done,
            },
        ],
        transitions: vec![
            TransitionDef {
                id: "10".into(),
                name: "Begin".into(),
                from: vec!["1".into()],
                to: "2".into(),
                required_fields: vec![],
                default_resolution: None,
            },
            TransitionDef {
                id: "20".into(),
                name: "Pause".into(),
                from: vec!["2".into()],
                to: "1".into(),
                required_fields: vec![],
                default_resolution: None,
            },
        ],
        initial_status: "1".into(),
    };
    let env = Env::start_custom("", "", "", |_, beta| beta.workflow = stuck).await?;
    let (id, twin, _) = env.pair(json!({"summary": "Stuck"})).await?;
    env.transition(Left, &id, &["In Progress", "Done"], None)
        .await?;

    let error = match env.reconcile(Left, &id).await {
        Err(e) => e,
        Ok(outcome) => panic!("reconciled: {outcome:?}"),
    };

    assert_eq!(error.disposition().class(), "no_transition_path");
    assert!(
        error.messages()[0].contains("transitions available: Begin -> Doing"),
        "{:?}",
        error.messages()
    );
    assert_eq!(status(&env.issue(Right, &twin)), "To Do");
    env.stop().await;
    Ok(())
}

fn people(alpha: &mut jira_sync_jira_sim::SiteConfig, beta: &mut jira_sync_jira_sim::SiteConfig) {
    alpha.users.push(SimUser::new(
        "alpha-alice",
        "Alice Example",
        "alice@corp.example",
        "t",
    ));
    alpha.users.push(SimUser::new(
        "alpha-carol",
        "Carol Mapped",
        "carol@alpha.example",
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
    beta.users.push(SimUser::new(
        "beta-carol",
        "Carol Mapped",
        "carol@beta.example",
        "t",
    ));
    beta.users.push(SimUser::new(
        "beta-triage",
        "Partner Triage",
        "triage@beta.example",
        "t",
    ));
    beta.users.push(
        SimUser::new("beta-dora", "Dora Hidden", "dora@corp.example", "t").with_hidden_email(),
    );
}

#[tokio::test]
async fn people_follow_the_user_map_then_email_then_the_fallback_user() -> TestResult {
    let env = Env::start_custom(
        r#"users = [{ left = "alpha-carol", right = "beta-carol" }]"#,
        "",
        r#"default_user = "beta-triage""#,
        people,
    )
    .await?;
    let (id, twin, link) = env
        .pair(json!({"summary": "Who", "assignee": {"accountId": "alpha-alice"}}))
        .await?;
    assert_eq!(
        field(&env.issue(Right, &twin), "assignee")["accountId"],
        "beta-alice",
        "matched by e-mail"
    );

    for (left, right) in [("alpha-carol", "beta-carol"), ("alpha-bob", "beta-triage")] {
        env.alpha
            .edit_issue(&id, &object(json!({"assignee": {"accountId": left}})))
            .await?;
        assert_eq!(
            env.reconcile(Left, &id).await?,
            synced(link, &[], &["assignee"])
        );
        assert_eq!(
            field(&env.issue(Right, &twin), "assignee")["accountId"],
            right
        );
    }
    // The fallback is not taken for a change: Bob stays assigned on the left.
    assert_eq!(env.reconcile(Right, &twin).await?, synced(link, &[], &[]));
    assert_eq!(
        field(&env.issue(Left, &id), "assignee")["accountId"],
        "alpha-bob"
    );
    env.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_person_without_a_counterpart_and_no_fallback_leaves_the_issue_unassigned() -> TestResult
{
    let env = Env::start_custom("", "", "", people).await?;
    let (id, twin, link) = env
        .pair(json!({"summary": "Nobody", "assignee": {"accountId": "alpha-alice"}}))
        .await?;
    assert_eq!(
        field(&env.issue(Right, &twin), "assignee")["accountId"],
        "beta-alice"
    );
    // Dora's e-mail is hidden on her site: no match, and the left has no default user.
    env.beta
        .edit_issue(
            &twin,
            &object(json!({"assignee": {"accountId": "beta-dora"}})),
        )
        .await?;

    let outcome = env.reconcile(Right, &twin).await?;

    assert_eq!(outcome, synced(link, &["assignee"], &[]));
    assert_eq!(
        field(&env.issue(Left, &id), "assignee"),
        &serde_json::Value::Null
    );
    assert_eq!(env.reconcile(Left, &id).await?, synced(link, &[], &[]));
    assert_eq!(
        field(&env.issue(Right, &twin), "assignee")["accountId"],
        "beta-dora"
    );
    env.stop().await;
    Ok(())
}

/// The transition reads a move needs: none once the workflow is known from an earlier move,
/// and one again when Jira refuses a known transition (a workflow edited since).
#[tokio::test]
async fn a_known_workflow_is_walked_without_listing_transitions_until_jira_refuses_one()
-> TestResult {
    let env = Env::start().await?;
    let listings = |env: &Env| {
        (env.site(Right).stats().requests)
            .get("GET /rest/api/3/issue/{id}/transitions")
            .copied()
            .unwrap_or(0)
    };
    let (first, first_twin, first_link) = env.pair(json!({"summary": "First"})).await?;
    env.transition(Left, &first, &["In Progress"], None).await?;
    assert_eq!(
        env.reconcile(Left, &first).await?,
        synced(first_link, &[], &["status"])
    );
    assert_eq!(status(&env.issue(Right, &first_twin)), "In Progress");

    // The same move on another pair: the way is known, so it is taken without asking.
    let (second, second_twin, second_link) = env.pair(json!({"summary": "Second"})).await?;
    let before = listings(&env);
    env.transition(Left, &second, &["In Progress"], None)
        .await?;
    assert_eq!(
        env.reconcile(Left, &second).await?,
        synced(second_link, &[], &["status"])
    );
    assert_eq!(status(&env.issue(Right, &second_twin)), "In Progress");
    assert_eq!(
        listings(&env),
        before,
        "a known transition needs no listing"
    );

    // Jira refuses the known transition once: the worker lists what is available and moves.
    let (third, third_twin, third_link) = env.pair(json!({"summary": "Third"})).await?;
    env.site(Right).add_fault(jira_sync_jira_sim::FaultSpec {
        method: Some("POST".into()),
        path_prefix: Some(format!("/rest/api/3/issue/{third_twin}/transitions")),
        kind: jira_sync_jira_sim::FaultKind::Status(400),
        times: Some(1),
        probability: None,
        seed: None,
    })?;
    let before = listings(&env);
    env.transition(Left, &third, &["In Progress"], None).await?;
    assert_eq!(
        env.reconcile(Left, &third).await?,
        synced(third_link, &[], &["status"])
    );
    assert_eq!(status(&env.issue(Right, &third_twin)), "In Progress");
    assert_eq!(listings(&env), before + 1);
    env.stop().await;
    Ok(())
}
