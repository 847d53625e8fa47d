use jira_sync_domain::merge::{ConflictPolicy, Direction};
use jira_sync_domain::scope::ScopeSubject;
use jira_sync_domain::{ConnectionId, EndpointId, Side};
use serde_json::json;

use super::*;
use crate::Settings;

const SITES: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "bot@a.example"
api_token = "token-a"
site_name = "Acme Jira"

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "https://b.example.net"
email = "bot@b.example"
api_token = "token-b"
"#;

fn load(connection: &str) -> Result<Settings, crate::SettingsError> {
    Settings::from_toml(&format!("{SITES}\n[connections.a-to-b]\n{connection}"))
}

const FULL: &str = r#"
left = { endpoint = "jira-a", project = "ACME", default_user = "acc-a-bot", scope = { issue_types = ["Bug"], labels = ["partner"], jql = "status != Done" }, transition_fields = { resolution = { name = "Fixed" } } }
right = { endpoint = "jira-b", project = "PART" }
status_map = [{ left = "In Review", right = "Review" }]
users = [{ left = "acc-alice-a", right = "acc-alice-b" }, { left = "acc-bob-a", right = { name = "bob" } }]
transition_fields = { resolution = { name = "Done" } }
custom_fields = [
  { left = "customfield_10010", right = "customfield_10200", type = "select", options = [{ left = "Gold", right = "Tier 1" }], conflict = "hold" },
  { left = "customfield_10011", right = "customfield_10201" },
]
fields = { summary = { conflict = "hold" }, customfield_10011 = { direction = "left_to_right" } }
sync_internal_comments = true
on_delete = "delete_twin"
on_leave_scope = "unlink"
"#;

#[test]
fn every_sync_option_loads_from_the_connection_table() -> Result<(), Box<dyn std::error::Error>> {
    let settings = load(FULL)?;
    let c = &settings.connections[&ConnectionId::parse("a-to-b")?];
    assert_eq!(
        map_name(&c.sync.status_map, Side::Right, "Review"),
        "In Review"
    );
    assert_eq!(
        c.sync.user_map().counterpart(Side::Left, "acc-bob-a"),
        Some("bob")
    );
    assert!(c.sync.match_users_by_email && c.sync.sync_comments);
    assert!(c.sync.sync_internal_comments);
    assert_eq!(c.sync.on_delete, OnDelete::DeleteTwin);
    assert_eq!(c.sync.on_leave_scope, OnLeaveScope::Unlink);
    assert_eq!(
        c.left.options.default_user.as_ref().map(UserRef::id),
        Some("acc-a-bot")
    );
    assert_eq!(
        c.transition_fields(Side::Left)["resolution"],
        json!({"name": "Fixed"})
    );
    assert_eq!(
        c.transition_fields(Side::Right)["resolution"],
        json!({"name": "Done"})
    );
    let rules = c.rules();
    assert_eq!(rules["customfield_10010"].conflict, ConflictPolicy::Hold);
    assert_eq!(rules["customfield_10011"].direction, Direction::LeftToRight);
    assert_eq!(
        rules.len(),
        3,
        "summary and the two custom fields: {rules:?}"
    );
    assert_eq!(
        settings.site_name(&EndpointId::parse("jira-a")?),
        "Acme Jira"
    );
    assert_eq!(settings.site_name(&EndpointId::parse("jira-b")?), "jira-b");
    Ok(())
}

#[test]
fn defaults_sync_everything_and_unlink_on_delete() -> Result<(), Box<dyn std::error::Error>> {
    let settings = load(
        "left = { endpoint = \"jira-a\", project = \"ACME\" }\nright = { endpoint = \"jira-b\", project = \"PART\" }",
    )?;
    let c = &settings.connections[&ConnectionId::parse("a-to-b")?];
    assert_eq!(c.rules().len(), jira_sync_domain::Field::ALL.len());
    assert_eq!(c.sync.on_delete, OnDelete::Unlink);
    assert_eq!(c.sync.on_leave_scope, OnLeaveScope::Stop);
    assert!(!c.sync.sync_internal_comments);
    assert!(c.left.options.scope.is_empty());
    Ok(())
}

#[test]
fn the_scope_filter_combines_types_labels_and_jql() -> Result<(), Box<dyn std::error::Error>> {
    let settings = load(FULL)?;
    let scope = &settings.connections[&ConnectionId::parse("a-to-b")?]
        .left
        .options
        .scope;
    let labels = vec!["partner".to_owned()];
    let issue = ScopeSubject {
        project: "ACME",
        issue_type: "bug",
        labels: &labels,
        status: "To Do",
    };
    assert!(scope.matches(&issue));
    assert!(!scope.matches(&ScopeSubject {
        status: "Done",
        ..issue
    }));
    assert!(!scope.matches(&ScopeSubject {
        labels: &[],
        ..issue
    }));
    assert!(!scope.matches(&ScopeSubject {
        issue_type: "Task",
        ..issue
    }));
    Ok(())
}

#[test]
fn bad_sync_options_are_refused_naming_the_key() {
    let side = "left = { endpoint = \"jira-a\", project = \"ACME\" }\nright = { endpoint = \"jira-b\", project = \"PART\" }\n";
    let cases = [
        (
            "custom_fields = [{ left = \"summary\", right = \"customfield_1\" }]",
            "custom_fields[0]",
        ),
        (
            "custom_fields = [{ left = \"customfield_1\", right = \"customfield_2\", type = \"number\", options = [{ left = \"a\", right = \"b\" }] }]",
            "custom_fields[0].options",
        ),
        ("fields = { customfield_9 = {} }", "fields.customfield_9"),
    ];
    for (extra, key) in cases {
        match load(&format!("{side}{extra}")) {
            Err(crate::SettingsError::Invalid { path, .. }) => {
                assert_eq!(path, format!("connections.a-to-b.{key}"), "{extra}");
            }
            other => panic!("{extra}: {other:?}"),
        }
    }
    let bad_jql = format!(
        "{}\n{}",
        "left = { endpoint = \"jira-a\", project = \"ACME\", scope = { jql = \"assignee = me\" } }",
        "right = { endpoint = \"jira-b\", project = \"PART\" }"
    );
    assert!(load(&bad_jql).is_err());
}

#[test]
fn custom_field_types_are_read_from_jira_schemas() {
    use CustomFieldType as T;
    let plugin = |p: &str| format!("com.atlassian.jira.plugin.system.customfieldtypes:{p}");
    let of = |k: &str, i: Option<&str>, p: &str| T::from_schema(k, i, Some(&plugin(p)));
    assert_eq!(of("string", None, "textfield"), Some(T::Text));
    assert_eq!(of("option", None, "select"), Some(T::Select));
    assert_eq!(
        of("array", Some("option"), "multiselect"),
        Some(T::Multiselect)
    );
    assert_eq!(of("array", Some("string"), "labels"), Some(T::Labels));
    assert_eq!(of("user", None, "userpicker"), Some(T::User));
    assert_eq!(of("option-with-child", None, "cascadingselect"), None);
    assert_eq!(of("string", None, "textarea"), None);
}
