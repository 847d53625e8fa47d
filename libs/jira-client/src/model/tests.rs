use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;

#[test]
fn jira_timestamps_with_millis_and_numeric_offsets_parse_to_utc() {
    let expected = Utc
        .with_ymd_and_hms(2026, 11, 24, 5, 46, 33)
        .unwrap()
        .checked_add_signed(chrono::Duration::milliseconds(123))
        .unwrap();
    assert_eq!(
        parse_jira_timestamp("2026-11-24T05:46:33.123+0000"),
        Some(expected)
    );
    assert_eq!(
        parse_jira_timestamp("2026-11-24T07:46:33.123+0200"),
        Some(expected)
    );
    assert_eq!(
        parse_jira_timestamp("2026-11-24T05:46:33.123Z"),
        Some(expected)
    );
    assert_eq!(parse_jira_timestamp("yesterday"), None);
}

#[test]
fn issue_helpers_read_updated_created_summary_and_status() {
    let issue: Issue = serde_json::from_value(json!({
        "id": "10001", "key": "ABC-1", "self": "https://x/rest/api/3/issue/10001", "expand": "",
        "fields": {
            "summary": "Hello",
            "updated": "2026-11-24T05:46:33.123+0000",
            "created": "2026-11-20T01:00:00.000+0100",
            "status": {"name": "In Progress", "id": "3"},
            "assignee": null
        },
        "properties": {"jira-sync": {"origin": "left"}}
    }))
    .unwrap();
    assert_eq!(issue.summary(), Some("Hello"));
    assert_eq!(issue.status_name(), Some("In Progress"));
    assert_eq!(
        issue.updated().map(|t| t.to_rfc3339()),
        Some("2026-11-24T05:46:33.123+00:00".into())
    );
    assert_eq!(
        issue.created().map(|t| t.to_rfc3339()),
        Some("2026-11-20T00:00:00+00:00".into())
    );
    assert_eq!(issue.field("assignee"), None);
    assert_eq!(
        issue.property("jira-sync"),
        Some(&json!({"origin": "left"}))
    );
}

#[test]
fn missing_and_null_optional_parts_are_accepted() {
    let issue: Issue =
        serde_json::from_value(json!({"id": "1", "key": "A-1", "fields": null})).unwrap();
    assert!(issue.fields.is_empty() && issue.properties.is_empty());
    let user: User = serde_json::from_value(json!({"accountId": "abc"})).unwrap();
    assert_eq!(user.account_id, "abc");
    assert!(!user.active && user.email_address.is_none());
    let comment: Comment = serde_json::from_value(json!({
        "id": "7", "body": {"type": "doc", "version": 1, "content": []},
        "created": "2021-01-17T12:34:00.000+0000", "updated": "not a time", "jsdPublic": true
    }))
    .unwrap();
    assert!(comment.created.is_some() && comment.updated.is_none() && comment.author.is_none());
}

#[test]
fn transitions_carry_the_target_status_category() {
    // Trimmed from the OpenAPI spec's example of GET /issue/{key}/transitions.
    let parsed: Transitions = serde_json::from_value(json!({"transitions": [{
        "fields": {"summary": {"required": false}},
        "hasScreen": true, "id": "711", "isAvailable": true, "name": "QA Review",
        "to": {"id": "5", "name": "Closed", "statusCategory": {"colorName": "green", "id": 9, "key": "done"}}
    }, {"id": "2", "name": "Reopen", "to": {"id": "1", "name": "Open"}}]}))
    .unwrap();
    let t = &parsed.transitions;
    assert_eq!(t[0].to, Status::new("5", "Closed", Some("done".into())));
    assert!(t[0].has_screen && t[0].fields.contains_key("summary"));
    assert_eq!(t[1].to.category_key, None);
}

#[test]
fn search_pages_trust_the_token_over_the_flag() {
    let page = |v| SearchPage::from(serde_json::from_value::<RawSearchPage>(v).unwrap());
    let middle = page(
        json!({"issues": [{"id": "1", "key": "A-1"}], "nextPageToken": "t2", "isLast": false}),
    );
    assert_eq!(middle.next_page_token.as_deref(), Some("t2"));
    assert!(!middle.is_last);
    let last = page(json!({"issues": [], "isLast": true}));
    assert!(last.is_last && last.next_page_token.is_none());
    let no_flag = page(json!({"issues": [], "nextPageToken": "t3"}));
    assert!(!no_flag.is_last);
    let no_token = page(json!({"issues": [], "isLast": false, "nextPageToken": null}));
    assert!(no_token.is_last);
}

#[test]
fn requests_serialize_in_jira_field_names_and_omit_empty_parts() {
    let search = SearchRequest {
        jql: "project = A".into(),
        max_results: 50,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&search).unwrap(),
        json!({"jql": "project = A", "maxResults": 50})
    );
    let create = CreateIssue {
        fields: serde_json::from_value(json!({"summary": "x"})).unwrap(),
        properties: vec![EntityProperty {
            key: "jira-sync".into(),
            value: json!({"v": 1}),
        }],
    };
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        json!({"fields": {"summary": "x"}, "properties": [{"key": "jira-sync", "value": {"v": 1}}]})
    );
}

#[test]
fn field_catalogue_entries_parse_with_their_schemas() {
    let fields: Vec<FieldMeta> = serde_json::from_value(json!([
        {"clauseNames": ["description"], "custom": false, "id": "description", "name": "Description",
         "navigable": true, "orderable": true, "schema": {"system": "description", "type": "string"}},
        {"id": "customfield_10000", "key": "customfield_10000", "name": "New custom field", "custom": true,
         "schema": {"custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker", "customId": 10000, "type": "date"}}
    ]))
    .unwrap();
    assert_eq!(
        fields[0].schema.as_ref().and_then(|s| s.kind.as_deref()),
        Some("string")
    );
    assert_eq!(
        fields[1].schema.as_ref().and_then(|s| s.custom_id),
        Some(10000)
    );
    assert!(fields[1].custom && fields[0].key.is_none());
}
