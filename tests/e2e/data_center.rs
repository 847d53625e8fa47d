//! A Jira Cloud site (A) and a Jira Data Center site (B here, "C" in the prose: REST v2, wiki
//! markup, users by name) kept in sync end to end: rich text converted between ADF and wiki
//! markup, people through the user map (Cloud account id <-> Data Center user name), comments
//! both ways, and no echo writes once the pair has settled.

mod common;

use std::time::Duration;

use common::*;
use jira_sync_domain::people::{UserPair, UserRef};
use jira_sync_domain::richtext::mentions::mention_ids;
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_sim::{FaultKind, FaultSpec, SimUser, SiteHandle};
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_tests::{EnvOptions, TestEnv, bot_writes, settled};
use serde_json::{Value, json};

/// Alice's account on the Cloud site and her user name on the Data Center site.
const ALICE_CLOUD: &str = "acc-alice";
const ALICE_DC: &str = "alice";

fn map_alice(settings: &mut Settings) {
    let Ok(id) = ConnectionId::parse("a-to-b") else {
        panic!("connection id");
    };
    let Some(connection) = settings.connections.get_mut(&id) else {
        panic!("the test config has connection a-to-b");
    };
    connection.sync.users = vec![UserPair {
        left: UserRef::Native(ALICE_CLOUD.to_owned()),
        right: UserRef::Native(ALICE_DC.to_owned()),
    }];
    // Her e-mail differs between the sites: only the map can pair her.
    connection.sync.match_users_by_email = false;
}

/// A description with bold text, a mention of Alice (Cloud ids), a link and a list.
fn cloud_description() -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Printer on "},
            {"type": "text", "text": "fire", "marks": [{"type": "strong"}]},
            {"type": "text", "text": ", ask "},
            {"type": "mention", "attrs": {"id": ALICE_CLOUD, "text": "@Alice Example"}},
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "read the "},
                {"type": "text", "text": "manual", "marks": [
                    {"type": "link", "attrs": {"href": "https://docs.example.org/printer"}}]},
            ]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "call facilities"}]}]},
        ]},
    ]})
}

/// The same description as Data Center keeps it.
const DC_DESCRIPTION: &str = "Printer on *fire*, ask [~alice]\n\n\
    * read the [manual|https://docs.example.org/printer]\n* call facilities";

/// Site B's REST v2, as its admin, without the production client: what a person there sees.
async fn dc_call(
    site: &SiteHandle,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let admin = &site.users()[0];
    let mut request = reqwest::Client::new()
        .request(method, format!("{}/rest/api/2/{path}", site.base_url()))
        .basic_auth(&admin.account_id, Some(&admin.api_token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        response.status().is_success(),
        "{path} answered {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// The text runs of an ADF document (mentions left out), for comparing comment copies.
fn text_of(doc: &Value) -> String {
    let mut out = String::new();
    collect_text(doc, &mut out);
    out
}

fn collect_text(node: &Value, out: &mut String) {
    if let Some(text) = node.get("text").and_then(Value::as_str) {
        out.push_str(text);
    }
    for child in node
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_text(child, out);
    }
}

/// Site A on Cloud, site B ("C") on Data Center, Alice on both and in the user map.
async fn start() -> TestEnv {
    TestEnv::start(EnvOptions {
        site_a_users: vec![SimUser::new(
            ALICE_CLOUD,
            "Alice Example",
            "alice@a.example.com",
            "alice-a-token",
        )],
        site_b_users: vec![SimUser::new(
            ALICE_DC,
            "Alice Example",
            "alice@dc.example.org",
            "alice-dc-token",
        )],
        site_b_data_center: true,
        tune: Some(map_alice),
        ..EnvOptions::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cloud_issue_and_its_data_center_twin_sync_rich_text_people_and_comments_without_echoes()
{
    let env = start().await;
    let (a, c) = (env.actor("a"), env.site("b"));
    assert!(c.is_data_center());

    // Created in A with formatted ADF and Alice as assignee: in C as wiki markup and "alice".
    let issue = a
        .create(
            "Printer on fire",
            json!({"description": cloud_description(), "assignee": {"accountId": ALICE_CLOUD}}),
        )
        .await;
    let twin = wait_for_twin(&env, &issue.id).await;
    let shown = dc_call(c, reqwest::Method::GET, &format!("issue/{}", twin.id), None).await;
    assert_eq!(shown["fields"]["description"], json!(DC_DESCRIPTION));
    assert_eq!(shown["fields"]["assignee"]["name"], json!(ALICE_DC));
    assert!(shown["fields"]["assignee"].get("accountId").is_none());

    // Edited in C in wiki markup: back in A as ADF, the mention in Alice's Cloud id.
    let edited = "h2. Update\n\nFixed by [~alice], *no* fire left";
    dc_call(
        c,
        reqwest::Method::PUT,
        &format!("issue/{}", twin.id),
        Some(json!({"fields": {"description": edited}})),
    )
    .await;
    let expected = json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Update"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Fixed by "},
            {"type": "mention", "attrs": {"id": ALICE_CLOUD, "text": "@alice"}},
            {"type": "text", "text": ", "},
            {"type": "text", "text": "no", "marks": [{"type": "strong"}]},
            {"type": "text", "text": " fire left"},
        ]},
    ]});
    eventually(
        WAIT,
        "the wiki edit made in C to reach A as ADF",
        || async {
            let now = a.get(&issue.id).await;
            (now.field("description") == Some(&expected)).then_some(())
        },
    )
    .await;

    // A comment each way.
    let from_a = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Toner "},
        {"type": "text", "text": "replaced", "marks": [{"type": "em"}]},
    ]}]});
    a.client
        .add_comment(&issue.id, &from_a, &[])
        .await
        .unwrap_or_else(|e| panic!("comment in A: {e}"));
    dc_call(
        c,
        reqwest::Method::POST,
        &format!("issue/{}/comment", twin.id),
        Some(json!({"body": "Thanks, [~alice] *checked* it"})),
    )
    .await;
    eventually(WAIT, "A's comment to reach C in wiki markup", || async {
        let path = format!("issue/{}/comment", twin.id);
        let page = dc_call(c, reqwest::Method::GET, &path, None).await;
        (page["comments"].as_array().into_iter().flatten())
            .filter_map(|c| c["body"].as_str())
            .any(|body| body.contains(" wrote in ") && body.ends_with("\n\nToner _replaced_"))
            .then_some(())
    })
    .await;
    eventually(WAIT, "C's comment to reach A as ADF", || async {
        let comments = a.client.comments(&issue.id).await.ok()?;
        comments
            .iter()
            .any(|c| {
                text_of(&c.body).ends_with("Thanks,  checked it")
                    && mention_ids(&c.body) == [ALICE_CLOUD]
            })
            .then_some(())
    })
    .await;

    // Settled: exactly the writes above, and our own writes' webhooks caused none.
    let (writes_a, writes_c, _) = settled(
        Duration::from_secs(40),
        Duration::from_secs(3),
        "the sync",
        || async {
            let depths = env.queues.depths().await;
            (bot_writes(env.site("a")), bot_writes(c), depths)
        },
    )
    .await;
    let routes = |writes: &[String]| -> Vec<String> {
        let mut routes: Vec<String> = writes
            .iter()
            .map(|w| {
                let (method, rest) = w.split_once(' ').unwrap_or_default();
                let path = rest.split(' ').next().unwrap_or_default();
                let shape: Vec<&str> = path
                    .split('/')
                    .map(|s| {
                        // Issue and comment ids (5 digits and more), not the API version.
                        if s.len() >= 5 && s.chars().all(|c| c.is_ascii_digit()) {
                            "{id}"
                        } else {
                            s
                        }
                    })
                    .collect();
                format!("{method} {}", shape.join("/"))
            })
            .collect();
        routes.sort();
        routes
    };
    assert_eq!(
        routes(&writes_c),
        [
            "POST /rest/api/2/issue",
            "POST /rest/api/2/issue/{id}/comment"
        ],
        "C got the twin and A's comment, nothing else: {writes_c:?}"
    );
    assert_eq!(
        routes(&writes_a),
        [
            "POST /rest/api/3/issue/{id}/comment",
            "PUT /rest/api/3/issue/{id}"
        ],
        "A got C's edit and C's comment, nothing else: {writes_a:?}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issue_created_in_data_center_appears_in_cloud_as_adf_with_the_mapped_assignee() {
    let env = start().await;
    let c = env.site("b");
    let created = dc_call(
        c,
        reqwest::Method::POST,
        "issue",
        Some(
            json!({"fields": {"project": {"key": "B"}, "issuetype": {"name": "Task"},
            "summary": "Badge reader broken", "description": "h3. Where\n\nFloor *2*, ask [~alice]",
            "assignee": {"name": ALICE_DC}}}),
        ),
    )
    .await;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    let twin = eventually(WAIT, "the twin of C's issue to appear in A", || async {
        let page = env
            .actor("a")
            .client
            .search_jql(&jira_sync_jira_client::SearchRequest {
                jql: "project = A".into(),
                fields: vec!["description".into(), "assignee".into()],
                properties: vec!["jira-sync.origin".into()],
                max_results: 50,
                next_page_token: None,
            })
            .await
            .ok()?;
        page.issues
            .into_iter()
            .find(|i| i.property("jira-sync.origin").and_then(|m| m.get("id")) == Some(&json!(id)))
    })
    .await;
    assert_eq!(
        twin.field("description"),
        Some(&json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Where"}]},
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Floor "},
                {"type": "text", "text": "2", "marks": [{"type": "strong"}]},
                {"type": "text", "text": ", ask "},
                {"type": "mention", "attrs": {"id": ALICE_CLOUD, "text": "@alice"}},
            ]},
        ]}))
    );
    assert_eq!(
        twin.field("assignee").and_then(|a| a.get("accountId")),
        Some(&json!(ALICE_CLOUD))
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_data_center_twin_whose_create_answer_was_lost_is_found_by_its_marker_not_created_again()
{
    let env = start().await;
    let c = env.site("b");
    // C creates the twin (with its marker), but the worker never learns it.
    c.add_fault(FaultSpec {
        method: Some("POST".into()),
        path_prefix: Some("/rest/api/2/issue".into()),
        kind: FaultKind::LostResponse(504),
        times: Some(1),
        probability: None,
        seed: None,
    })
    .unwrap_or_else(|e| panic!("add the fault: {e:?}"));
    let issue = env.actor("a").create("Created once", json!({})).await;
    let twin = wait_for_twin(&env, &issue.id).await;
    eventually(WAIT, "the link to be stored", || async {
        let link = (env.db.store)
            .find_link(&ConnectionId::parse("a-to-b").ok()?, Side::Left, &issue.id)
            .await
            .ok()
            .flatten()?;
        (link.right_id == twin.id).then_some(())
    })
    .await;
    let creates: Vec<String> = (bot_writes(c).into_iter())
        .filter(|w| w.starts_with("POST /rest/api/2/issue "))
        .collect();
    assert_eq!(
        creates,
        ["POST /rest/api/2/issue -> 504"],
        "one create, never repeated"
    );
    assert_eq!(c.issues(Some("B")).len(), 1, "exactly one issue in C");
    env.stop().await;
}
