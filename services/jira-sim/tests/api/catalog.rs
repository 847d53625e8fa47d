//! A site's vocabulary as a configuration check reads it: a project by key or id, the
//! priorities and the statuses, shaped as the OpenAPI spec says.

use serde_json::Value;

use crate::common::{Jira, spawn};
use crate::schema::check_response;

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect()
}

#[tokio::test]
async fn a_project_is_found_by_key_or_id_and_an_unknown_one_is_a_404() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    const PATH: &str = "/rest/api/3/project/{projectIdOrKey}";

    let (status, by_key) = jira.get("/rest/api/3/project/BETA").await;
    assert_eq!((status, by_key["key"].as_str()), (200, Some("BETA")));
    assert_eq!(check_response(PATH, "get", status, &by_key), Ok(()));
    let id = by_key["id"].as_str().unwrap_or_default().to_owned();
    let (status, by_id) = jira.get(&format!("/rest/api/3/project/{id}")).await;
    assert_eq!((status, by_id["key"].as_str()), (200, Some("BETA")));
    let (_, lower) = jira.get("/rest/api/3/project/alpha").await;
    assert_eq!(
        lower["key"], "ALPHA",
        "keys match case-insensitively, as in Jira"
    );

    let (status, missing) = jira.get("/rest/api/3/project/NOPE").await;
    assert_eq!(status, 404);
    assert_eq!(
        missing["errorMessages"][0],
        "No project could be found with key 'NOPE'."
    );
    assert_eq!(check_response(PATH, "get", status, &missing), Ok(()));
    sim.stop().await;
}

#[tokio::test]
async fn priorities_and_statuses_list_the_configured_vocabulary() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);

    let (status, priorities) = jira.get("/rest/api/3/priority").await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&priorities),
        ["Highest", "High", "Medium", "Low", "Lowest"]
    );
    assert_eq!(priorities[2]["isDefault"], true);
    assert_eq!(
        check_response("/rest/api/3/priority", "get", status, &priorities),
        Ok(())
    );

    let (status, statuses) = jira.get("/rest/api/3/status").await;
    assert_eq!(status, 200);
    assert_eq!(names(&statuses), ["To Do", "In Progress", "Done"]);
    assert_eq!(statuses[2]["statusCategory"]["key"], "done");
    assert_eq!(
        check_response("/rest/api/3/status", "get", status, &statuses),
        Ok(())
    );

    let anonymous = reqwest::get(format!("{}/rest/api/3/priority", site.base_url()))
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(anonymous.ok(), Some(401));
    sim.stop().await;
}
