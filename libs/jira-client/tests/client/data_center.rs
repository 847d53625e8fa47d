//! The client in Data Center mode against the simulator's Data Center site: REST v2 paths,
//! rich text written and read as wiki markup but seen as ADF, users by name, offset search
//! presented as token pages, and both ways of authenticating.

use jira_sync_jira_client::{
    ApiFlavor, CreateIssue, Credentials, EntityProperty, JiraClient, JiraClientConfig,
    SearchRequest,
};
use jira_sync_jira_sim::{
    CustomFieldDef, CustomFieldKind, SimConfig, SimUser, Simulator, SiteHandle,
};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

const MARKER: &str = "jira-sync.origin";

struct Dc {
    sim: Simulator,
    site: SiteHandle,
    /// Logged in as the bot with its user name and password.
    client: JiraClient,
}

async fn start() -> Dc {
    let mut config = SimConfig::single_site("dc", &["OPS"]);
    config.sites[0].data_center = true;
    config.sites[0].users.push(SimUser::new(
        "alice",
        "Alice Example",
        "alice@example.org",
        "alice-secret",
    ));
    config.sites[0].custom_fields.push(CustomFieldDef::new(
        "customfield_10020",
        "Notes",
        CustomFieldKind::Textarea,
    ));
    let sim = Simulator::start(config).await.unwrap();
    let site = sim.sites()[0].clone();
    let bot = site.bot().unwrap().clone();
    let client = client_as(
        &site,
        Credentials::Basic {
            user: bot.account_id.clone(),
            secret: SecretString::from(bot.api_token.clone()),
        },
    );
    Dc { sim, site, client }
}

fn client_as(site: &SiteHandle, credentials: Credentials) -> JiraClient {
    let url = url::Url::parse(&site.base_url()).unwrap();
    JiraClient::new(JiraClientConfig::data_center(url, credentials)).unwrap()
}

/// A document with a heading, bold text, a bullet list, a link and a mention of alice.
fn formatted() -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Steps"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": "alice", "text": "@Alice Example"}},
            {"type": "text", "text": " about the "},
            {"type": "text", "text": "printer", "marks": [{"type": "strong"}]},
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "see "},
                {"type": "text", "text": "the wiki", "marks": [
                    {"type": "link", "attrs": {"href": "https://wiki.example.org/printer"}}]},
            ]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "restart it"}]}]},
        ]},
    ]})
}

async fn create(client: &JiraClient, summary: &str, extra: Value) -> String {
    let mut fields = Map::new();
    fields.insert("project".into(), json!({"key": "OPS"}));
    fields.insert("issuetype".into(), json!({"name": "Task"}));
    fields.insert("summary".into(), json!(summary));
    if let Value::Object(extra) = extra {
        fields.extend(extra);
    }
    let request = CreateIssue {
        fields,
        properties: vec![EntityProperty {
            key: MARKER.into(),
            value: json!({"summary": summary}),
        }],
    };
    client.create_issue(&request).await.unwrap().id
}

/// The issue as Data Center's REST v2 shows it, read without the client.
async fn raw_issue(site: &SiteHandle, id: &str) -> Value {
    let alice = site.user("alice").unwrap();
    reqwest::Client::new()
        .get(format!("{}/rest/api/2/issue/{id}", site.base_url()))
        .basic_auth(&alice.account_id, Some(&alice.api_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_formatted_description_and_an_assignee_travel_as_wiki_markup_and_a_user_name() {
    let dc = start().await;
    assert_eq!(dc.client.flavor(), ApiFlavor::DataCenter);
    let id = create(
        &dc.client,
        "Printer",
        json!({"description": formatted(), "assignee": {"accountId": "alice"}}),
    )
    .await;

    let raw = raw_issue(&dc.site, &id).await;
    assert_eq!(
        raw["fields"]["description"],
        json!(
            "h2. Steps\n\nAsk [~alice] about the *printer*\n\n\
             * see [the wiki|https://wiki.example.org/printer]\n* restart it"
        ),
        "written as wiki markup"
    );
    assert_eq!(raw["fields"]["assignee"]["name"], json!("alice"));

    let issue = dc.client.get_issue(&id, &[], &[MARKER]).await.unwrap();
    let description = issue.field("description").unwrap();
    assert_eq!(
        description,
        &dc.client.stored_rich_text(&formatted()),
        "read back as ADF, equal to what the client predicts the site keeps"
    );
    assert_eq!(
        description["content"][1]["content"][1],
        json!({"type": "mention", "attrs": {"id": "alice", "text": "@alice"}})
    );
    assert_eq!(
        description["content"][2]["content"][0]["content"][0]["content"][1]["marks"][0]["attrs"]["href"],
        json!("https://wiki.example.org/printer")
    );
    assert_eq!(
        issue.field("assignee").unwrap()["accountId"],
        json!("alice")
    );
    assert_eq!(
        issue.property(MARKER),
        Some(&json!({"summary": "Printer"})),
        "the marker is set by the create itself"
    );

    let edit = Map::from_iter([
        ("description".to_owned(), json!(null)),
        ("assignee".to_owned(), json!(null)),
    ]);
    dc.client.edit_issue(&id, &edit).await.unwrap();
    let raw = raw_issue(&dc.site, &id).await;
    assert_eq!(raw["fields"]["description"], Value::Null);
    assert_eq!(raw["fields"]["assignee"], Value::Null);
    dc.sim.stop().await;
}

#[tokio::test]
async fn a_multi_line_text_custom_field_is_rich_text_and_a_single_line_one_stays_a_string() {
    let dc = start().await;
    let notes = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "call", "marks": [{"type": "em"}]}]}]});
    let id = create(
        &dc.client,
        "Notes",
        json!({"customfield_10020": notes, "customfield_10010": "Team *A*"}),
    )
    .await;
    let raw = raw_issue(&dc.site, &id).await;
    assert_eq!(raw["fields"]["customfield_10020"], json!("_call_"));
    let issue = dc.client.get_issue(&id, &[], &[]).await.unwrap();
    assert_eq!(issue.field("customfield_10020"), Some(&notes));
    assert_eq!(issue.field("customfield_10010"), Some(&json!("Team *A*")));
    let field_lists = (dc.site.recent_requests(usize::MAX).iter())
        .filter(|r| r.path == "/rest/api/2/field")
        .count();
    dc.client.get_issue(&id, &[], &[]).await.unwrap();
    let again = (dc.site.recent_requests(usize::MAX).iter())
        .filter(|r| r.path == "/rest/api/2/field")
        .count();
    assert_eq!(
        (field_lists, again),
        (1, 1),
        "the field catalogue is read once"
    );
    dc.sim.stop().await;
}

#[tokio::test]
async fn a_mention_in_wiki_markup_reads_as_a_mention_of_the_user_name() {
    let dc = start().await;
    let alice = dc.site.user("alice").unwrap().clone();
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/rest/api/2/issue", dc.site.base_url()))
        .basic_auth(&alice.account_id, Some(&alice.api_token))
        .json(
            &json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"},
            "summary": "Mention", "description": "Ping [~alice] _now_"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = answer["id"].as_str().unwrap();
    let issue = dc
        .client
        .get_issue(id, &["description"], &[])
        .await
        .unwrap();
    assert_eq!(
        issue.field("description").unwrap()["content"][0]["content"],
        json!([
            {"type": "text", "text": "Ping "},
            {"type": "mention", "attrs": {"id": "alice", "text": "@alice"}},
            {"type": "text", "text": " "},
            {"type": "text", "text": "now", "marks": [{"type": "em"}]},
        ])
    );
    dc.sim.stop().await;
}

#[tokio::test]
async fn users_are_found_by_name_and_their_name_is_their_account_id() {
    let dc = start().await;
    let alice = dc.client.user("alice").await.unwrap();
    assert_eq!(
        (alice.account_id.as_str(), alice.display_name.as_str()),
        ("alice", "Alice Example")
    );
    assert_eq!(alice.email_address.as_deref(), Some("alice@example.org"));
    let found = dc.client.search_users("alice@example.org").await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|u| u.account_id.as_str())
            .collect::<Vec<_>>(),
        ["alice"]
    );
    assert!(dc.client.user("nobody").await.unwrap_err().is_not_found());

    let by_token = client_as(
        &dc.site,
        Credentials::Bearer {
            token: SecretString::from("alice-secret"),
        },
    );
    assert_eq!(by_token.myself().await.unwrap().account_id, "alice");
    let wrong = client_as(
        &dc.site,
        Credentials::Bearer {
            token: SecretString::from("not-a-token"),
        },
    );
    assert_eq!(wrong.myself().await.unwrap_err().status(), Some(401));
    dc.sim.stop().await;
}

#[tokio::test]
async fn search_pages_by_start_at_until_the_total_with_the_requested_properties() {
    let dc = start().await;
    for i in 0..5 {
        create(&dc.client, &format!("Issue {i}"), json!({})).await;
    }
    let mut request = SearchRequest {
        jql: "project = OPS ORDER BY created ASC".into(),
        fields: vec!["summary".into()],
        properties: vec![MARKER.into()],
        max_results: 2,
        next_page_token: None,
    };
    let (mut summaries, mut tokens) = (Vec::new(), Vec::new());
    loop {
        let page = dc.client.search_jql(&request).await.unwrap();
        for issue in &page.issues {
            assert!(issue.property(MARKER).is_some(), "{issue:?}");
            summaries.push(issue.summary().unwrap_or_default().to_owned());
        }
        if page.is_last {
            assert_eq!(page.next_page_token, None);
            break;
        }
        tokens.push(page.next_page_token.clone().unwrap());
        request.next_page_token = page.next_page_token;
    }
    assert_eq!(tokens, ["2", "4"], "the token is the next page's startAt");
    assert_eq!(
        summaries,
        ["Issue 0", "Issue 1", "Issue 2", "Issue 3", "Issue 4"]
    );
    let requests = dc.site.recent_requests(usize::MAX);
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path == "/rest/api/2/search"),
        "{requests:?}"
    );
    dc.sim.stop().await;
}

#[tokio::test]
async fn comments_are_written_as_wiki_markup_and_read_as_adf_with_their_properties() {
    let dc = start().await;
    let id = create(&dc.client, "Talk", json!({})).await;
    let body = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Done", "marks": [{"type": "strong"}]},
        {"type": "text", "text": ", thanks "},
        {"type": "mention", "attrs": {"id": "alice", "text": "@alice"}},
    ]}]});
    let marker = EntityProperty {
        key: MARKER.into(),
        value: json!({"comment": "42"}),
    };
    let posted = dc
        .client
        .add_comment(&id, &body, std::slice::from_ref(&marker))
        .await
        .unwrap();
    assert_eq!(posted.body, body, "the answer reads back as the same ADF");
    assert_eq!(posted.author.unwrap().account_id, "dc-bot-0001");

    let raw = raw_issue(&dc.site, &id).await;
    assert_eq!(
        raw["fields"]["comment"]["comments"][0]["body"],
        json!("*Done*, thanks [~alice]")
    );
    let comments = dc.client.comments(&id).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, body);
    assert_eq!(comments[0].property(MARKER), Some(&marker.value));

    let edited = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Edited"}]}]});
    let updated = dc
        .client
        .update_comment(&id, &comments[0].id, &edited)
        .await
        .unwrap();
    assert_eq!(updated.body, edited);
    dc.sim.stop().await;
}

#[test]
fn a_personal_access_token_never_shows_in_debug_output() {
    let url = url::Url::parse("https://jira.example.org/jira").unwrap();
    let token = "pat-NjE0ODc2MzU1-very-secret";
    let config = JiraClientConfig::data_center(
        url,
        Credentials::Bearer {
            token: SecretString::from(token),
        },
    );
    let client = JiraClient::new(config.clone()).unwrap();
    for text in [format!("{config:?}"), format!("{client:?}")] {
        assert!(!text.contains(token), "{text}");
        assert!(!text.contains("Bearer "), "{text}");
        assert!(text.contains("DataCenter"), "{text}");
    }
}
