//! A site configured as Jira Data Center: REST v2 under `/rest/api/2` with rich text in wiki
//! markup, users by name and key, offset search, user name or personal-access-token
//! authentication, and webhooks in Data Center's shape; the store underneath keeps ADF.

use std::collections::BTreeSet;

use jira_sync_jira_sim::{SimUser, SiteHandle, WebhookSpec};
use serde_json::{Value, json};

use crate::common::{Jira, Receiver, spawn_with};

async fn spawn_dc() -> (jira_sync_jira_sim::Simulator, SiteHandle) {
    spawn_with(|cfg| {
        let site = &mut cfg.sites[0];
        site.data_center = true;
        site.users.push(SimUser::new(
            "alice",
            "Alice Example",
            "alice@example.org",
            "alice-password",
        ));
    })
    .await
}

/// A client logging in with the user name (Basic `name:password`).
fn as_name(site: &SiteHandle, idx: usize) -> Jira {
    let user = &site.users()[idx];
    Jira {
        http: reqwest::Client::new(),
        base: site.base_url(),
        email: user.account_id.clone(),
        token: user.api_token.clone(),
    }
}

async fn create(jira: &Jira, fields: Value) -> String {
    let mut body = json!({"fields": {"project": {"key": "ALPHA"}, "issuetype": {"name": "Task"}}});
    if let (Some(all), Value::Object(extra)) = (body["fields"].as_object_mut(), fields) {
        all.extend(extra);
    }
    let (status, created) = jira.post("/rest/api/2/issue", &body).await;
    assert_eq!(status, 201, "create answered {created}");
    assert!(
        created["self"]
            .as_str()
            .is_some_and(|s| s.contains("/rest/api/2/issue/")),
        "{created}"
    );
    created["key"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_issue_is_written_and_read_in_wiki_markup_with_users_by_name_and_stored_as_adf() {
    let (sim, site) = spawn_dc().await;
    let jira = as_name(&site, 0);
    let key = create(
        &jira,
        json!({
            "summary": "Wiki",
            "description": "h2. Steps\n\n* one *bold*\n* two [~alice]",
            "assignee": {"name": "alice"},
        }),
    )
    .await;

    let (status, issue) = jira.get(&format!("/rest/api/2/issue/{key}")).await;
    assert_eq!(status, 200, "{issue}");
    assert_eq!(
        issue["fields"]["description"],
        json!("h2. Steps\n\n* one *bold*\n* two [~alice]")
    );
    let assignee = &issue["fields"]["assignee"];
    assert_eq!(assignee["name"], json!("alice"));
    assert_eq!(assignee["emailAddress"], json!("alice@example.org"));
    assert!(
        assignee["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("JIRAUSER"))
    );
    assert!(assignee.get("accountId").is_none(), "{assignee}");
    assert!(
        issue["self"]
            .as_str()
            .is_some_and(|s| s.contains("/rest/api/2/"))
    );

    let stored = site.issue(&key).expect("stored");
    assert_eq!(stored["fields"]["description"]["type"], json!("doc"));

    let (status, _) = jira
        .put(
            &format!("/rest/api/2/issue/{key}"),
            &json!({"fields": {"assignee": {"key": assignee["key"].clone()}, "description": "_new_"}}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, issue) = jira.get(&format!("/rest/api/2/issue/{key}")).await;
    assert_eq!(issue["fields"]["description"], json!("_new_"));
    assert_eq!(issue["fields"]["assignee"]["name"], json!("alice"));

    let (status, info) = jira.get("/rest/api/2/serverInfo").await;
    assert_eq!((status, &info["deploymentType"]), (200, &json!("Server")));
    let (status, _) = jira.get(&format!("/rest/api/3/issue/{key}")).await;
    assert_eq!(status, 404, "a Data Center site has no REST v3");
    sim.stop().await;
}

#[tokio::test]
async fn cloud_shaped_bodies_are_refused_naming_the_field() {
    let (sim, site) = spawn_dc().await;
    let jira = as_name(&site, 0);
    let doc = json!({"type": "doc", "version": 1, "content": []});
    let body = json!({"fields": {"project": {"key": "ALPHA"}, "issuetype": {"name": "Task"},
        "summary": "x", "description": doc, "assignee": {"accountId": "alice"}}});
    let (status, answer) = jira.post("/rest/api/2/issue", &body).await;
    assert_eq!(status, 400);
    assert!(answer["errors"]["description"].is_string(), "{answer}");
    assert!(answer["errors"]["assignee"].is_string(), "{answer}");
    sim.stop().await;
}

#[tokio::test]
async fn a_user_name_or_a_personal_access_token_authenticates_and_an_email_does_not() {
    let (sim, site) = spawn_dc().await;
    let alice = site.user("alice").expect("alice").clone();
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/2/myself", site.base_url());
    let by_pat = http.get(&url).bearer_auth(&alice.api_token).send().await;
    let me: Value = by_pat.expect("answered").json().await.expect("json");
    assert_eq!(me["name"], json!("alice"));
    assert!(me.get("accountId").is_none());
    let by_email = http
        .get(&url)
        .basic_auth(&alice.email, Some(&alice.api_token))
        .send()
        .await
        .expect("answered");
    assert_eq!(by_email.status().as_u16(), 401);
    let (status, found) = as_name(&site, 0)
        .get("/rest/api/2/user?username=alice")
        .await;
    assert_eq!(
        (status, &found["displayName"]),
        (200, &json!("Alice Example"))
    );
    let (_, found) = as_name(&site, 0)
        .get("/rest/api/2/user/search?username=ali")
        .await;
    assert_eq!(found[0]["name"], json!("alice"));
    sim.stop().await;
}

#[tokio::test]
async fn search_pages_by_start_at_with_a_total_and_returns_requested_properties() {
    let (sim, site) = spawn_dc().await;
    let jira = as_name(&site, 0);
    for i in 0..5 {
        let key = create(&jira, json!({"summary": format!("Issue {i}")})).await;
        let (status, _) = jira
            .put(
                &format!("/rest/api/2/issue/{key}/properties/jira-sync.origin"),
                &json!({"id": key, "type": "doc", "accountId": "kept as it is"}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let mut seen = BTreeSet::new();
    for start in [0, 2, 4] {
        let (status, page) = jira
            .post(
                "/rest/api/2/search",
                &json!({"jql": "project = ALPHA ORDER BY created ASC", "startAt": start,
                    "maxResults": 2, "fields": ["summary"], "properties": ["jira-sync.origin"]}),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            (page["startAt"].clone(), page["total"].clone()),
            (json!(start), json!(5))
        );
        for issue in page["issues"].as_array().into_iter().flatten() {
            let marker = &issue["properties"]["jira-sync.origin"];
            assert_eq!(marker["accountId"], json!("kept as it is"), "{marker}");
            seen.insert(issue["key"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(seen.len(), 5);
    let (status, page) = jira
        .get("/rest/api/2/search?jql=project%20%3D%20ALPHA&startAt=4&maxResults=10")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["issues"].as_array().map(Vec::len), Some(1));
    sim.stop().await;
}

#[tokio::test]
async fn comments_are_written_and_read_in_wiki_markup() {
    let (sim, site) = spawn_dc().await;
    let jira = as_name(&site, 0);
    let key = create(&jira, json!({"summary": "Talk"})).await;
    let path = format!("/rest/api/2/issue/{key}/comment");
    let (status, comment) = jira
        .post(
            &path,
            &json!({"body": "Thanks [~alice], *done*", "properties": [
            {"key": "jira-sync.origin", "value": {"comment": "1"}}]}),
        )
        .await;
    assert_eq!(status, 201, "{comment}");
    assert_eq!(comment["body"], json!("Thanks [~alice], *done*"));
    assert!(comment["author"].get("name").is_some_and(Value::is_string));
    let (_, page) = jira.get(&format!("{path}?expand=properties")).await;
    assert_eq!(
        page["comments"][0]["body"],
        json!("Thanks [~alice], *done*")
    );
    assert_eq!(
        page["comments"][0]["properties"][0]["value"],
        json!({"comment": "1"})
    );
    sim.stop().await;
}

#[tokio::test]
async fn webhooks_come_in_data_center_shape() {
    let (sim, site) = spawn_dc().await;
    let rx = Receiver::start().await;
    site.register_webhook(WebhookSpec {
        url: rx.url.clone(),
        secret: Some("s3cret".into()),
        events: vec!["jira:issue_created".into(), "comment_created".into()],
        jql: None,
    })
    .expect("registered");
    let jira = as_name(&site, 0);
    let key = create(
        &jira,
        json!({"summary": "Hooked", "description": "*bold*", "assignee": {"name": "alice"}}),
    )
    .await;
    jira.post(
        &format!("/rest/api/2/issue/{key}/comment"),
        &json!({"body": "noted"}),
    )
    .await;
    let got = rx.wait_for(2).await;
    let created = got[0].json();
    assert_eq!(created["webhookEvent"], json!("jira:issue_created"));
    assert!(got[0].header("X-Hub-Signature").is_some());
    assert!(
        got[0].header("X-Atlassian-Webhook-Identifier").is_none(),
        "Data Center sends no delivery id"
    );
    assert_eq!(created["user"]["name"], site.users()[0].account_id.as_str());
    assert!(created["user"].get("accountId").is_none());
    assert_eq!(created["issue"]["fields"]["description"], json!("*bold*"));
    assert_eq!(
        created["issue"]["fields"]["assignee"]["name"],
        json!("alice")
    );
    let comment = got[1].json();
    assert_eq!(comment["webhookEvent"], json!("comment_created"));
    assert_eq!(comment["comment"]["body"], json!("noted"));
    assert!(comment["comment"]["author"]["key"].is_string());
    assert!(
        comment.get("issue").is_none(),
        "Data Center's comment events name the issue only in the comment's self link"
    );
    rx.stop().await;
    sim.stop().await;
}
