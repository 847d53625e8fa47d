//! REST behaviour: authentication, validation, edits with changelog, transitions, comments and
//! entity properties.

use serde_json::{Value, json};

use crate::common::{Jira, adf, spawn};

#[tokio::test]
async fn requests_without_valid_credentials_are_refused_with_401() {
    let (sim, site) = spawn().await;
    let url = format!("{}/rest/api/3/myself", site.base_url());
    let none = reqwest::get(&url).await.expect("answered");
    assert_eq!(none.status().as_u16(), 401);
    let body: Value = none.json().await.expect("json");
    assert_eq!(
        body["errorMessages"][0],
        "Client must be authenticated to access this resource."
    );
    let wrong = reqwest::Client::new()
        .get(&url)
        .basic_auth(&site.users()[0].email, Some("not-the-token"))
        .send()
        .await;
    assert_eq!(wrong.expect("answered").status().as_u16(), 401);
    let info = reqwest::get(format!("{}/rest/api/3/serverInfo", site.base_url()))
        .await
        .expect("answered");
    assert_eq!(
        info.status().as_u16(),
        200,
        "serverInfo is anonymous, as in Jira"
    );
    let (status, me) = Jira::admin(&site).get("/rest/api/3/myself").await;
    assert_eq!(
        (status, me["accountId"].as_str()),
        (200, Some(site.users()[0].account_id.as_str()))
    );
    assert_eq!(site.stats().unauthorized, 2);
    sim.stop().await;
}

#[tokio::test]
async fn an_unknown_issue_is_a_404_with_jiras_message() {
    let (sim, site) = spawn().await;
    let (status, body) = Jira::admin(&site).get("/rest/api/3/issue/ALPHA-404").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
    );
    sim.stop().await;
}

#[tokio::test]
async fn create_validates_each_field_and_names_it() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (status, body) = jira
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Task"},
            "priority": {"name": "Urgent"}, "description": "plain text"}}),
        )
        .await;
    assert_eq!(status, 400);
    let errors = &body["errors"];
    assert_eq!(errors["project"], "Specify a valid project ID or key");
    assert_eq!(
        errors["summary"],
        "You must specify a summary of the issue."
    );
    assert_eq!(errors["priority"], "The priority selected is invalid.");
    assert!(
        errors["description"]
            .as_str()
            .is_some_and(|m| m.contains("Atlassian Document"))
    );
    assert!(site.issues(None).is_empty(), "nothing was created");
    sim.stop().await;
}

#[tokio::test]
async fn create_sets_fields_and_properties_atomically_and_get_returns_them() {
    let (sim, site) = spawn().await;
    let jira = Jira::bot(&site);
    let (status, created) = jira
        .post(
            "/rest/api/3/issue",
            &json!({"fields": {"project": {"key": "ALPHA"}, "issuetype": {"id": "10001"},
            "summary": "Twin", "labels": ["sync"], "duedate": "2026-12-24"},
            "properties": [{"key": "sync.origin", "value": {"site": "beta", "issue": "10077"}}]}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["key"], "ALPHA-1");
    assert_eq!(
        created["self"],
        format!(
            "{}/rest/api/3/issue/{}",
            site.base_url(),
            created["id"].as_str().unwrap_or("")
        )
    );
    let (_, issue) = jira.get("/rest/api/3/issue/alpha-1?fields=summary,labels,duedate,status,reporter&properties=sync.origin").await;
    assert_eq!(issue["fields"]["summary"], "Twin");
    assert_eq!(issue["fields"]["duedate"], "2026-12-24");
    assert_eq!(issue["fields"]["status"]["statusCategory"]["key"], "new");
    assert_eq!(
        issue["fields"]["reporter"]["accountType"], "app",
        "the bot is an app user"
    );
    assert_eq!(issue["properties"]["sync.origin"]["issue"], "10077");
    assert!(
        issue["fields"].get("description").is_none(),
        "only the asked fields"
    );
    sim.stop().await;
}

#[tokio::test]
async fn an_edit_bumps_updated_and_appends_one_changelog_entry_per_write() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Before").await;
    let path = format!("/rest/api/3/issue/{key}");
    let (_, before) = jira.get(&path).await;
    let (status, _) = jira.put(&format!("{path}?notifyUsers=false"), &json!({"fields": {"summary": "After",
        "priority": {"name": "Low"}}, "update": {"labels": [{"add": "x"}, {"add": "y"}, {"remove": "x"}]}})).await;
    assert_eq!(status, 204);
    let (_, after) = jira.get(&format!("{path}?expand=changelog")).await;
    assert!(after["fields"]["updated"].as_str() > before["fields"]["updated"].as_str());
    assert_eq!(after["fields"]["labels"], json!(["y"]));
    let histories = after["changelog"]["histories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(histories.len(), 1);
    let mut fields: Vec<&str> = histories[0]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["field"].as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["labels", "priority", "summary"]);
    let (status, body) = jira
        .put(&path, &json!({"fields": {"priority": {"name": "Blocker"}}}))
        .await;
    assert_eq!(
        (status, body["errors"]["priority"].as_str()),
        (400, Some("The priority selected is invalid."))
    );
    let (status, body) = jira
        .put(&path, &json!({"fields": {"status": {"name": "Done"}}}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["errors"]["status"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be set"))
    );
    sim.stop().await;
}

#[tokio::test]
async fn transitions_follow_the_workflow_and_refuse_unavailable_ones() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Flow").await;
    let path = format!("/rest/api/3/issue/{key}/transitions");
    let ids = |body: &Value| -> Vec<String> {
        body["transitions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect()
    };
    let (_, from_todo) = jira.get(&path).await;
    assert_eq!(ids(&from_todo), vec!["21"]);
    let (status, body) = jira.post(&path, &json!({"transition": {"id": "31"}})).await;
    assert_eq!(status, 400, "Done is not reachable from To Do: {body}");
    assert_eq!(
        jira.post(&path, &json!({"transition": {"id": "21"}}))
            .await
            .0,
        204
    );
    assert_eq!(
        jira.post(&path, &json!({"transition": {"id": 31}})).await.0,
        204
    );
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=status,resolution"))
        .await;
    assert_eq!(issue["fields"]["status"]["name"], "Done");
    assert_eq!(issue["fields"]["resolution"]["name"], "Done");
    assert_eq!(
        jira.post(&path, &json!({"transition": {"id": "11"}}))
            .await
            .0,
        204
    );
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=status,resolution"))
        .await;
    assert_eq!(
        (
            issue["fields"]["status"]["name"].as_str(),
            &issue["fields"]["resolution"]
        ),
        (Some("To Do"), &Value::Null)
    );
    sim.stop().await;
}

#[tokio::test]
async fn comments_are_created_paged_edited_and_deleted() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Talk").await;
    let path = format!("/rest/api/3/issue/{key}/comment");
    for i in 0..3 {
        let (status, c) = jira
            .post(&path, &json!({"body": adf(&format!("c{i}"))}))
            .await;
        assert_eq!((status, c["body"]["type"].as_str()), (201, Some("doc")));
    }
    let (_, page) = jira.get(&format!("{path}?startAt=1&maxResults=1")).await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["startAt"].as_u64(),
            page["maxResults"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    let id = page["comments"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(page["comments"][0]["body"], adf("c1"));
    let (status, edited) = jira
        .put(&format!("{path}/{id}"), &json!({"body": adf("changed")}))
        .await;
    assert_eq!((status, &edited["body"]), (200, &adf("changed")));
    assert_eq!(
        jira.post(&path, &json!({"body": "wiki text"})).await.0,
        400,
        "v3 bodies are ADF"
    );
    assert_eq!(jira.delete(&format!("{path}/{id}")).await.0, 204);
    assert_eq!(jira.get(&format!("{path}/{id}")).await.0, 404);
    let (_, page) = jira.get(&format!("{path}?orderBy=-created")).await;
    assert_eq!(page["comments"][0]["body"], adf("c2"));
    assert_eq!(page["total"], 2);
    sim.stop().await;
}

#[tokio::test]
async fn properties_answer_201_when_created_200_when_updated_and_404_when_missing() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (id, _) = jira.create("Props").await;
    let path = format!("/rest/api/3/issue/{id}/properties");
    assert_eq!(
        jira.put(&format!("{path}/k"), &json!({"a": 1})).await.0,
        201
    );
    assert_eq!(
        jira.put(&format!("{path}/k"), &json!({"a": 2})).await.0,
        200
    );
    assert_eq!(
        jira.get(&format!("{path}/k")).await.1,
        json!({"key": "k", "value": {"a": 2}})
    );
    let (_, keys) = jira.get(&path).await;
    assert_eq!(keys["keys"][0]["key"], "k");
    let (status, missing) = jira.get(&format!("{path}/nope")).await;
    assert_eq!(
        (status, missing["errorMessages"][0].as_str()),
        (404, Some("The property with key 'nope' does not exist."))
    );
    assert_eq!(jira.delete(&format!("{path}/k")).await.0, 204);
    assert_eq!(jira.delete(&format!("{path}/k")).await.0, 404);
    sim.stop().await;
}

#[tokio::test]
async fn a_configured_workflow_enforces_required_fields_and_global_transitions() {
    use jira_sync_jira_sim::{StatusCategory, StatusDef, TransitionDef, Workflow};
    let status = |id: &str, name: &str, category| StatusDef {
        id: id.into(),
        name: name.into(),
        category,
    };
    let transition = |id: &str, from: &[&str], to: &str, required: &[&str]| TransitionDef {
        id: id.into(),
        name: format!("t{id}"),
        from: from.iter().map(|s| (*s).to_owned()).collect(),
        to: to.into(),
        required_fields: required.iter().map(|s| (*s).to_owned()).collect(),
        default_resolution: None,
    };
    let workflow = Workflow {
        statuses: vec![
            status("1", "Open", StatusCategory::New),
            status("2", "In Review", StatusCategory::Indeterminate),
            status("3", "Closed", StatusCategory::Done),
        ],
        transitions: vec![
            transition("10", &["1"], "2", &[]),
            transition("20", &["2"], "3", &["resolution"]),
            transition("30", &[], "1", &[]),
        ],
        initial_status: "1".into(),
    };
    let (sim, site) = crate::common::spawn_with(|c| c.sites[0].workflow = workflow).await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Reviewed").await;
    let path = format!("/rest/api/3/issue/{key}/transitions");
    assert_eq!(
        jira.post(&path, &json!({"transition": {"id": "10"}}))
            .await
            .0,
        204
    );
    let (status, body) = jira.post(&path, &json!({"transition": {"id": "20"}})).await;
    assert_eq!(
        (status, body["errors"]["resolution"].as_str().is_some()),
        (400, true)
    );
    let close = json!({"transition": {"id": "20"}, "fields": {"resolution": {"name": "Won't Do"}}});
    assert_eq!(jira.post(&path, &close).await.0, 204);
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=status,resolution"))
        .await;
    assert_eq!(
        (
            issue["fields"]["status"]["name"].as_str(),
            issue["fields"]["resolution"]["name"].as_str()
        ),
        (Some("Closed"), Some("Won't Do"))
    );
    let (_, listed) = jira.get(&format!("{path}?expand=transitions.fields")).await;
    assert_eq!(
        listed["transitions"][0]["isGlobal"], true,
        "only the global reopen is left"
    );
    sim.stop().await;
}
