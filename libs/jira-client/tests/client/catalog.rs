//! Reading a site's vocabulary: a project by key, the priorities and the statuses.

use jira_sync_domain::Disposition;
use serde_json::json;

use crate::support::{JiraStub, Scripted};

#[tokio::test]
async fn a_project_priorities_and_statuses_are_read_from_their_rest_paths() {
    let stub = JiraStub::start(
        vec![
            Scripted::json(200, json!({"id": "10000", "key": "ABC", "name": "Alphabet", "projectTypeKey": "software",
                   "issueTypes": [{"id": "10001", "name": "Task", "subtask": false}, {"id": "10003", "name": "Sub-task", "subtask": true}]})),
            Scripted::json(200, json!([{"id": "1", "name": "Highest", "statusColor": "#d04437"}, {"id": "3", "name": "Medium"}])),
            Scripted::json(200, json!([{"id": "10001", "name": "In Review", "statusCategory": {"id": 4, "key": "indeterminate"}}])),
        ],
        Scripted::empty(500),
    )
    .await;
    let client = stub.client();

    let project = client.get_project("ABC").await.unwrap();
    assert_eq!(
        (
            project.id.as_str(),
            project.key.as_str(),
            project.name.as_str()
        ),
        ("10000", "ABC", "Alphabet")
    );
    let types: Vec<_> = project
        .issue_types
        .iter()
        .map(|t| (t.name.as_str(), t.subtask))
        .collect();
    assert_eq!(types, [("Task", false), ("Sub-task", true)]);
    let names: Vec<_> = client
        .priorities()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Highest", "Medium"]);
    let statuses = client.statuses().await.unwrap();
    assert_eq!(statuses[0].name, "In Review");
    assert_eq!(statuses[0].category_key.as_deref(), Some("indeterminate"));

    let paths: Vec<_> = stub
        .seen()
        .into_iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        paths,
        [
            "GET /rest/api/3/project/ABC",
            "GET /rest/api/3/priority",
            "GET /rest/api/3/status"
        ]
    );
}

#[tokio::test]
async fn a_missing_project_is_a_permanent_not_found() {
    let stub = JiraStub::start(
        vec![Scripted::json(
            404,
            json!({"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}}),
        )],
        Scripted::empty(500),
    )
    .await;
    let error = stub.client().get_project("NOPE").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert!(matches!(error.disposition(), Disposition::Permanent { .. }));
    assert!(
        error.to_string().contains("No project could be found"),
        "{error}"
    );
    assert_eq!(stub.count(), 1, "a 404 is not retried");
}
