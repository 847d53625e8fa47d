use serde_json::json;

use super::*;

fn dc_user(name: &str) -> Value {
    json!({
        "self": format!("https://jira.example.org/rest/api/2/user?username={name}"),
        "name": name,
        "key": "JIRAUSER10100",
        "emailAddress": format!("{name}@example.org"),
        "displayName": "Alice Example",
        "active": true,
    })
}

#[test]
fn issue_fields_from_data_center_read_wiki_as_adf_and_user_names_as_account_ids() {
    let mut fields = Map::new();
    fields.insert("description".into(), json!("Hello *bold* [~alice]"));
    fields.insert("environment".into(), json!(""));
    fields.insert("assignee".into(), dc_user("alice"));
    fields.insert("customfield_10020".into(), json!("h1. Notes"));
    fields.insert("customfield_10010".into(), json!("plain *text*"));
    fields.insert(
        "project".into(),
        json!({"id": "10000", "key": "OPS", "name": "Operations"}),
    );
    let textareas = BTreeSet::from(["customfield_10020".to_owned()]);
    fields_from_dc(&mut fields, &textareas);

    assert_eq!(
        fields["description"],
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Hello "},
            {"type": "text", "text": "bold", "marks": [{"type": "strong"}]},
            {"type": "text", "text": " "},
            {"type": "mention", "attrs": {"id": "alice", "text": "@alice"}},
        ]}]})
    );
    assert_eq!(fields["environment"], Value::Null, "empty text is no value");
    assert_eq!(fields["assignee"]["accountId"], json!("alice"));
    assert_eq!(fields["customfield_10020"]["type"], json!("doc"));
    assert_eq!(
        fields["customfield_10010"],
        json!("plain *text*"),
        "a single-line text field stays a string"
    );
    assert!(
        fields["project"].get("accountId").is_none(),
        "a project is no user"
    );
}

#[test]
fn fields_to_data_center_write_adf_as_wiki_and_account_ids_as_names() {
    let mut fields = Map::new();
    fields.insert(
        "description".into(),
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Ask "},
            {"type": "mention", "attrs": {"id": "alice", "text": "@Alice Example"}},
        ]}]}),
    );
    fields.insert("assignee".into(), json!({"accountId": "alice"}));
    fields.insert("reporter".into(), Value::Null);
    fields.insert("labels".into(), json!(["a", "b"]));
    fields.insert("priority".into(), json!({"name": "High"}));
    let written = fields_to_dc(&fields);
    assert_eq!(written["description"], json!("Ask [~alice]"));
    assert_eq!(written["assignee"], json!({"name": "alice"}));
    assert_eq!(written["reporter"], Value::Null);
    assert_eq!(written["labels"], json!(["a", "b"]));
    assert_eq!(written["priority"], json!({"name": "High"}));
}

#[test]
fn a_comment_from_data_center_has_an_adf_body_and_authors_with_account_ids() {
    let mut comment = json!({
        "id": "10001",
        "body": "_Seen_ by [~bob]",
        "author": dc_user("bob"),
        "updateAuthor": dc_user("bob"),
    });
    comment_from_dc(&mut comment);
    assert_eq!(comment["body"]["type"], json!("doc"));
    assert_eq!(comment["author"]["accountId"], json!("bob"));
    assert_eq!(comment["updateAuthor"]["accountId"], json!("bob"));
}

#[test]
fn the_round_trip_through_wiki_markup_is_what_the_site_will_show() {
    let doc = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "hi "},
        {"type": "mention", "attrs": {"id": "alice", "text": "@Alice Example"}},
    ]}]});
    let shown = round_trip(&doc);
    assert_eq!(
        shown["content"][0]["content"][1],
        json!({"type": "mention", "attrs": {"id": "alice", "text": "@alice"}}),
        "the mention keeps its id; its text becomes the user name"
    );
    assert_eq!(round_trip(&shown), shown, "a second trip changes nothing");
    assert_eq!(round_trip(&Value::Null), Value::Null);
}
