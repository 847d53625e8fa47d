//! The simulator's answers against Atlassian's OpenAPI spec: every operation it serves, success
//! and error statuses, checked with the schema validator (which is itself shown to reject wrong
//! shapes).

use serde_json::{Value, json};

use crate::common::{Jira, adf, spawn};
use crate::schema::{check_response, component, validate};

/// Field values inside `fields` that the spec types elsewhere (IssueBean leaves `fields` open).
const FIELD_SCHEMAS: &[(&str, &str)] = &[
    ("status", "StatusDetails"),
    ("priority", "Priority"),
    ("issuetype", "IssueTypeDetails"),
    ("project", "ProjectDetails"),
    ("assignee", "UserDetails"),
    ("reporter", "UserDetails"),
    ("creator", "UserDetails"),
    ("comment", "PageOfComments"),
    ("resolution", "Resolution"),
];

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    /// Checks the status and the body of one answer.
    fn answer(&mut self, path: &str, method: &str, expected: u16, (status, body): &(u16, Value)) {
        if *status != expected {
            self.0.push(format!(
                "{method} {path}: status {status}, expected {expected}: {body}"
            ));
            return;
        }
        if let Err(errs) = check_response(path, method, *status, body) {
            self.0.push(format!("{method} {path} {status}: {errs:?}"));
        }
    }

    /// Checks the typed fields of an issue bean.
    fn fields(&mut self, what: &str, bean: &Value) {
        for (field, schema) in FIELD_SCHEMAS {
            match bean.pointer(&format!("/fields/{field}")) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    if let Err(errs) = validate(component(schema), v) {
                        self.0.push(format!("{what} fields.{field}: {errs:?}"));
                    }
                }
            }
        }
        for (field, schema) in [
            ("components", "ProjectComponent"),
            ("fixVersions", "Version"),
        ] {
            for v in bean
                .pointer(&format!("/fields/{field}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Err(errs) = validate(component(schema), v) {
                    self.0.push(format!("{what} fields.{field}: {errs:?}"));
                }
            }
        }
    }
}

#[tokio::test]
async fn every_simulated_operation_answers_as_the_openapi_spec_describes() {
    let (sim, _site) = spawn().await;
    let site = sim.sites()[0].clone();
    let jira = Jira::admin(&site);
    let mut p = Problems::default();
    const ISSUE: &str = "/rest/api/3/issue/{issueIdOrKey}";
    const COMMENTS: &str = "/rest/api/3/issue/{issueIdOrKey}/comment";
    const COMMENT: &str = "/rest/api/3/issue/{issueIdOrKey}/comment/{id}";
    const PROPS: &str = "/rest/api/3/issue/{issueIdOrKey}/properties";
    const PROP: &str = "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}";
    const TRANSITIONS: &str = "/rest/api/3/issue/{issueIdOrKey}/transitions";

    p.answer(
        "/rest/api/3/myself",
        "get",
        200,
        &jira.get("/rest/api/3/myself").await,
    );
    p.answer(
        "/rest/api/3/field",
        "get",
        200,
        &jira.get("/rest/api/3/field").await,
    );
    p.answer(
        "/rest/api/3/serverInfo",
        "get",
        200,
        &jira.get("/rest/api/3/serverInfo").await,
    );

    let create = json!({"fields": {"project": {"key": "ALPHA"}, "issuetype": {"name": "Bug"}, "summary": "Spec check",
        "description": adf("Body"), "labels": ["b", "a"], "priority": {"name": "High"}, "duedate": "2026-12-01",
        "assignee": {"accountId": site.users()[0].account_id}, "components": [{"name": "API"}],
        "fixVersions": [{"name": "1.0"}], "customfield_10010": "Core", "customfield_10016": 3},
        "properties": [{"key": "sync.origin", "value": {"site": "beta", "id": "42"}}]});
    let created = jira.post("/rest/api/3/issue", &create).await;
    p.answer("/rest/api/3/issue", "post", 201, &created);
    let key = created.1["key"].as_str().unwrap_or_default().to_owned();
    let bad = jira
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "NOPE"}}}),
        )
        .await;
    p.answer("/rest/api/3/issue", "post", 400, &bad);

    let issue_path = format!("/rest/api/3/issue/{key}");
    let edited = jira
        .put(&issue_path, &json!({"fields": {"summary": "Spec check 2"}}))
        .await;
    p.answer(ISSUE, "put", 204, &edited);
    p.answer(
        ISSUE,
        "put",
        400,
        &jira
            .put(
                &issue_path,
                &json!({"fields": {"priority": {"name": "Urgent"}}}),
            )
            .await,
    );

    let transitions = jira
        .get(&format!(
            "{issue_path}/transitions?expand=transitions.fields"
        ))
        .await;
    p.answer(TRANSITIONS, "get", 200, &transitions);
    let go = json!({"transition": {"id": "21"}});
    p.answer(
        TRANSITIONS,
        "post",
        204,
        &jira.post(&format!("{issue_path}/transitions"), &go).await,
    );
    p.answer(
        TRANSITIONS,
        "post",
        400,
        &jira
            .post(
                &format!("{issue_path}/transitions"),
                &json!({"transition": {"id": "999"}}),
            )
            .await,
    );

    let comment = jira
        .post(
            &format!("{issue_path}/comment"),
            &json!({"body": adf("Hi"),
        "properties": [{"key": "origin", "value": {"by": "sync"}}]}),
        )
        .await;
    p.answer(COMMENTS, "post", 201, &comment);
    let cid = comment.1["id"].as_str().unwrap_or_default().to_owned();
    p.answer(
        COMMENTS,
        "get",
        200,
        &jira
            .get(&format!("{issue_path}/comment?maxResults=10"))
            .await,
    );
    p.answer(
        COMMENT,
        "get",
        200,
        &jira.get(&format!("{issue_path}/comment/{cid}")).await,
    );
    p.answer(
        COMMENT,
        "put",
        200,
        &jira
            .put(
                &format!("{issue_path}/comment/{cid}"),
                &json!({"body": adf("Edited")}),
            )
            .await,
    );
    p.answer(
        COMMENT,
        "get",
        404,
        &jira.get(&format!("{issue_path}/comment/999999")).await,
    );

    let full = jira
        .get(&format!(
            "{issue_path}?expand=changelog,names&properties=*all"
        ))
        .await;
    p.answer(ISSUE, "get", 200, &full);
    p.fields("GET issue", &full.1);
    p.answer(
        ISSUE,
        "get",
        404,
        &jira.get("/rest/api/3/issue/ALPHA-999").await,
    );
    let changelog = jira.get(&format!("{issue_path}/changelog")).await;
    p.answer(
        "/rest/api/3/issue/{issueIdOrKey}/changelog",
        "get",
        200,
        &changelog,
    );

    p.answer(
        PROPS,
        "get",
        200,
        &jira.get(&format!("{issue_path}/properties")).await,
    );
    p.answer(
        PROP,
        "get",
        200,
        &jira
            .get(&format!("{issue_path}/properties/sync.origin"))
            .await,
    );
    p.answer(
        PROP,
        "put",
        201,
        &jira
            .put(&format!("{issue_path}/properties/marker"), &json!({"v": 1}))
            .await,
    );
    p.answer(
        PROP,
        "put",
        200,
        &jira
            .put(&format!("{issue_path}/properties/marker"), &json!({"v": 2}))
            .await,
    );
    p.answer(
        PROP,
        "get",
        404,
        &jira.get(&format!("{issue_path}/properties/missing")).await,
    );
    p.answer(
        PROP,
        "delete",
        204,
        &jira
            .delete(&format!("{issue_path}/properties/marker"))
            .await,
    );

    let search = "/rest/api/3/search/jql";
    p.answer(
        search,
        "get",
        200,
        &jira
            .get(&format!("{search}?jql=project%20%3D%20ALPHA"))
            .await,
    );
    let rich = jira
        .post(
            search,
            &json!({"jql": "project = ALPHA", "fields": ["*all"], "properties": ["sync.origin"]}),
        )
        .await;
    p.answer(search, "post", 200, &rich);
    for bean in rich.1["issues"].as_array().into_iter().flatten() {
        p.fields("search", bean);
    }
    p.answer(
        search,
        "post",
        400,
        &jira.post(search, &json!({"jql": ""})).await,
    );
    p.answer(
        search,
        "get",
        400,
        &jira.get(&format!("{search}?jql=summary%20~%20x")).await,
    );

    let anonymous = reqwest::get(format!("{}/rest/api/3/myself", site.base_url()))
        .await
        .expect("answered");
    let status = anonymous.status().as_u16();
    let body: Value = anonymous.json().await.unwrap_or(Value::Null);
    p.answer("/rest/api/3/myself", "get", 401, &(status, body));

    p.answer(
        COMMENT,
        "delete",
        204,
        &jira.delete(&format!("{issue_path}/comment/{cid}")).await,
    );
    p.answer(ISSUE, "delete", 204, &jira.delete(&issue_path).await);
    p.answer(ISSUE, "delete", 404, &jira.delete(&issue_path).await);

    let legacy = jira.get("/rest/api/3/search?jql=project%3DALPHA").await;
    assert_eq!(legacy.0, 410);
    assert!(validate(component("ErrorCollection"), &legacy.1).is_ok());
    sim.stop().await;
    assert!(
        p.0.is_empty(),
        "answers that do not match the spec:\n{}",
        p.0.join("\n")
    );
}
