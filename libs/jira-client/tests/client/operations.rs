//! Request and response shapes of each operation, checked against what the stub received.

use jira_sync_domain::Disposition;
use jira_sync_jira_client::{EntityProperty, JiraError, SearchRequest};
use serde_json::json;

use crate::support::{JiraStub, Scripted};

#[tokio::test]
async fn search_pages_follow_next_page_token_until_is_last() {
    let stub = JiraStub::start(
        vec![
            Scripted::json(200, json!({
                "issues": [{"id": "10001", "key": "ABC-1", "fields": {"updated": "2026-11-24T05:46:33.123+0000"}},
                           {"id": "10002", "key": "ABC-2", "fields": {}}],
                "nextPageToken": "page-2", "isLast": false
            })),
            Scripted::json(200, json!({
                "issues": [{"id": "10003", "key": "ABC-3", "properties": {"jira-sync": {"v": 1}}}],
                "isLast": true
            })),
        ],
        Scripted::empty(500),
    )
    .await;
    let client = stub.client();
    let mut request = SearchRequest {
        jql: "project = ABC AND updated >= -1d ORDER BY updated ASC".into(),
        fields: vec!["updated".into(), "summary".into()],
        properties: vec!["jira-sync".into()],
        max_results: 2,
        next_page_token: None,
    };

    let mut keys = Vec::new();
    loop {
        let page = client.search_jql(&request).await.unwrap();
        keys.extend(page.issues.iter().map(|i| i.key.clone()));
        if page.is_last {
            assert_eq!(page.next_page_token, None);
            assert_eq!(page.issues[0].properties["jira-sync"], json!({"v": 1}));
            break;
        }
        assert!(page.issues[0].updated().is_some());
        request.next_page_token = page.next_page_token;
    }

    assert_eq!(keys, ["ABC-1", "ABC-2", "ABC-3"]);
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/rest/api/3/search/jql")
    );
    assert_eq!(
        seen[0].json(),
        json!({"jql": "project = ABC AND updated >= -1d ORDER BY updated ASC",
               "fields": ["updated", "summary"], "properties": ["jira-sync"], "maxResults": 2})
    );
    assert_eq!(seen[1].json()["nextPageToken"], "page-2");
}

#[tokio::test]
async fn comments_are_read_across_pages_in_order() {
    let comment = |id: &str| {
        json!({
            "id": id, "body": {"type": "doc", "version": 1, "content": []},
            "author": {"accountId": "a1", "displayName": "Mia", "active": true},
            "created": "2021-01-17T12:34:00.000+0000", "updated": "2021-01-18T23:45:00.000+0000",
            "properties": [{"key": "jira-sync", "value": {"origin": "right"}}]
        })
    };
    let stub = JiraStub::start(
        vec![
            Scripted::json(200, json!({"comments": [comment("1"), comment("2")], "startAt": 0, "maxResults": 2, "total": 3})),
            Scripted::json(200, json!({"comments": [comment("3")], "startAt": 2, "maxResults": 2, "total": 3})),
        ],
        Scripted::empty(500),
    )
    .await;
    let mut config = stub.config();
    config.policy.comment_page_size = 2;
    let client = jira_sync_jira_client::JiraClient::new(config).unwrap();

    let comments = client.comments("ABC-1").await.unwrap();

    let ids: Vec<_> = comments.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(comments[0].author.as_ref().unwrap().display_name, "Mia");
    assert_eq!(
        comments[2].property("jira-sync"),
        Some(&json!({"origin": "right"}))
    );
    assert!(comments[0].created.is_some());
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/rest/api/3/issue/ABC-1/comment");
    assert!(seen[0].query.contains("startAt=0") && seen[0].query.contains("maxResults=2"));
    assert!(seen[1].query.contains("startAt=2"));
}

#[tokio::test]
async fn a_comment_is_added_with_its_properties_and_updated_quietly() {
    let answer = json!({"id": "10000", "body": {"type": "doc", "version": 1, "content": []}});
    let stub = JiraStub::start(
        vec![
            Scripted::json(201, answer.clone()),
            Scripted::json(200, answer),
        ],
        Scripted::empty(500),
    )
    .await;
    let client = stub.client();
    let body = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]});
    let marker = EntityProperty {
        key: "jira-sync".into(),
        value: json!({"origin": "left:1"}),
    };

    let added = client.add_comment("ABC-1", &body, &[marker]).await.unwrap();
    client
        .update_comment("ABC-1", &added.id, &body)
        .await
        .unwrap();

    let seen = stub.seen();
    assert_eq!(
        seen[0].json(),
        json!({"body": body, "properties": [{"key": "jira-sync", "value": {"origin": "left:1"}}]})
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("PUT", "/rest/api/3/issue/ABC-1/comment/10000")
    );
    assert_eq!(seen[1].query, "notifyUsers=false");
    assert_eq!(seen[1].json(), json!({"body": body}));
}

#[tokio::test]
async fn a_missing_property_is_none_but_a_missing_issue_is_an_error() {
    let issue_missing = json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}});
    let stub = JiraStub::start(
        vec![
            Scripted::json(
                200,
                json!({"key": "jira-sync", "value": {"origin": "left:1"}}),
            ),
            Scripted::json(
                404,
                json!({"errorMessages": ["The property with key 'jira-sync' does not exist."]}),
            ),
            Scripted::empty(404),
            Scripted::json(200, json!({"id": "1", "key": "ABC-1", "fields": {}})),
            Scripted::json(404, issue_missing.clone()),
            Scripted::json(404, issue_missing),
        ],
        Scripted::empty(500),
    )
    .await;
    let client = stub.client();

    assert_eq!(
        client.get_property("ABC-1", "jira-sync").await.unwrap(),
        Some(json!({"origin": "left:1"}))
    );
    assert_eq!(
        client.get_property("ABC-1", "jira-sync").await.unwrap(),
        None
    );
    assert_eq!(
        client.get_property("ABC-1", "jira-sync").await.unwrap(),
        None,
        "confirmed by get-issue"
    );
    let error = client
        .get_property("ABC-404", "jira-sync")
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.disposition(),
        Disposition::Permanent {
            class: "jira_not_found"
        }
    );
    assert_eq!(
        stub.seen()[0].path,
        "/rest/api/3/issue/ABC-1/properties/jira-sync"
    );
    assert_eq!(stub.count(), 6);
}

#[tokio::test]
async fn edits_transitions_and_properties_send_jira_shaped_bodies() {
    let stub = JiraStub::start(
        vec![
            Scripted::empty(204),
            Scripted::json(
                200,
                json!({"transitions": [{
                    "id": "31", "name": "Done", "hasScreen": false,
                    "to": {"id": "10002", "name": "Done", "statusCategory": {"key": "done"}}
                }]}),
            ),
        ],
        Scripted::empty(204),
    )
    .await;
    let client = stub.client();
    let fields = serde_json::from_value(json!({"summary": "New title"})).unwrap();

    client.edit_issue("ABC-1", &fields).await.unwrap();
    let transitions = client.transitions("ABC-1").await.unwrap();
    client
        .transition("ABC-1", &transitions[0].id, Some(&fields))
        .await
        .unwrap();
    client
        .set_property("ABC-1", "jira-sync", &json!({"v": 2}))
        .await
        .unwrap();
    client.delete_issue("ABC-1").await.unwrap();

    assert_eq!(transitions[0].to.category_key.as_deref(), Some("done"));
    let seen = stub.seen();
    let calls: Vec<_> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str(), s.query.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("PUT", "/rest/api/3/issue/ABC-1", "notifyUsers=false"),
            (
                "GET",
                "/rest/api/3/issue/ABC-1/transitions",
                "expand=transitions.fields"
            ),
            ("POST", "/rest/api/3/issue/ABC-1/transitions", ""),
            ("PUT", "/rest/api/3/issue/ABC-1/properties/jira-sync", ""),
            ("DELETE", "/rest/api/3/issue/ABC-1", ""),
        ]
    );
    assert_eq!(seen[0].json(), json!({"fields": {"summary": "New title"}}));
    assert_eq!(
        seen[2].json(),
        json!({"transition": {"id": "31"}, "fields": {"summary": "New title"}})
    );
    assert_eq!(seen[3].json(), json!({"v": 2}));
}

#[tokio::test]
async fn get_issue_asks_for_fields_and_properties_and_encodes_the_key() {
    let stub = JiraStub::start(
        vec![],
        Scripted::json(
            200,
            json!({"id": "10001", "key": "ABC-1", "fields": {"summary": "Hi"}, "unknown": [1, 2]}),
        ),
    )
    .await;
    let client = stub.client();

    let issue = client
        .get_issue("ABC-1", &["summary", "updated"], &["jira-sync"])
        .await
        .unwrap();
    client.get_issue("A/B", &[], &[]).await.unwrap();
    let refused = client.get_issue("..", &[], &[]).await.unwrap_err();

    assert_eq!((issue.id.as_str(), issue.summary()), ("10001", Some("Hi")));
    assert!(matches!(refused, JiraError::InvalidInput { .. }));
    assert_eq!(
        refused.disposition(),
        Disposition::Permanent {
            class: "invalid_request"
        }
    );
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].query,
        "fields=summary%2Cupdated&properties=jira-sync"
    );
    assert_eq!(seen[1].path, "/rest/api/3/issue/A%2FB");
}

#[tokio::test]
async fn the_field_catalogue_is_listed() {
    let stub = JiraStub::start(
        vec![],
        Scripted::json(200, json!([
            {"id": "summary", "name": "Summary", "custom": false, "clauseNames": ["summary"], "schema": {"type": "string", "system": "summary"}},
            {"id": "customfield_10010", "key": "customfield_10010", "name": "Team", "custom": true}
        ])),
    )
    .await;

    let fields = stub.client().fields().await.unwrap();

    assert_eq!(fields.len(), 2);
    assert_eq!(fields[1].id, "customfield_10010");
    assert!(fields[1].custom && fields[1].schema.is_none());
    assert_eq!(stub.seen()[0].path, "/rest/api/3/field");
}
