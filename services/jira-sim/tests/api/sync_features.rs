//! What the sync engine's richer features need from a site: user search (with hidden
//! e-mails), typed custom fields, the review workflow with several hops and a required field,
//! and internal comments.

use jira_sync_jira_sim::{CustomFieldDef, CustomFieldKind, SimUser, Workflow};
use serde_json::json;

use crate::common::{Jira, adf, spawn_with};

#[tokio::test]
async fn users_are_found_by_name_or_visible_email_only() {
    let (sim, site) = spawn_with(|c| {
        let users = &mut c.sites[0].users;
        users.push(SimUser::new(
            "alpha-alice",
            "Alice Example",
            "alice@corp.example",
            "t1",
        ));
        users.push(
            SimUser::new("alpha-hidden", "Hidden Person", "hidden@corp.example", "t2")
                .with_hidden_email(),
        );
    })
    .await;
    let jira = Jira::admin(&site);
    let (status, found) = jira.get("/rest/api/3/user/search?query=alice%40corp").await;
    assert_eq!(status, 200);
    assert_eq!(found[0]["accountId"], "alpha-alice");
    assert_eq!(found[0]["emailAddress"], "alice@corp.example");
    let (_, by_hidden_email) = jira.get("/rest/api/3/user/search?query=hidden%40").await;
    assert_eq!(by_hidden_email, json!([]));
    let (_, by_name) = jira.get("/rest/api/3/user/search?query=hidd").await;
    assert_eq!(by_name[0]["accountId"], "alpha-hidden");
    assert!(by_name[0].get("emailAddress").is_none());
    let (status, one) = jira.get("/rest/api/3/user?accountId=alpha-alice").await;
    assert_eq!(
        (status, one["displayName"].as_str()),
        (200, Some("Alice Example"))
    );
    assert_eq!(jira.get("/rest/api/3/user?accountId=nobody").await.0, 404);
    sim.stop().await;
}

#[tokio::test]
async fn typed_custom_fields_check_and_render_their_values() {
    let (sim, site) = spawn_with(|c| {
        let fields = &mut c.sites[0].custom_fields;
        fields.push(
            CustomFieldDef::new("customfield_10100", "Tier", CustomFieldKind::Select)
                .with_options(&["Gold", "Silver"]),
        );
        fields.push(
            CustomFieldDef::new("customfield_10101", "Areas", CustomFieldKind::Multiselect)
                .with_options(&["api", "ui"]),
        );
        fields.push(CustomFieldDef::new(
            "customfield_10102",
            "Owner",
            CustomFieldKind::User,
        ));
        fields.push(CustomFieldDef::new(
            "customfield_10103",
            "Go-live",
            CustomFieldKind::Date,
        ));
        fields.push(
            CustomFieldDef::new("customfield_10104", "Region", CustomFieldKind::Cascading)
                .with_options(&["EU", "Berlin"]),
        );
    })
    .await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Typed").await;
    let path = format!("/rest/api/3/issue/{key}");
    let edit = json!({"fields": {
        "customfield_10100": {"value": "Gold"},
        "customfield_10101": [{"value": "ui"}, {"value": "api"}],
        "customfield_10102": {"accountId": "alpha-admin-0001"},
        "customfield_10103": "2027-03-01",
        "customfield_10104": {"value": "EU", "child": {"value": "Berlin"}},
    }});
    assert_eq!(jira.put(&path, &edit).await.0, 204);
    let (_, issue) = jira.get(&path).await;
    let f = &issue["fields"];
    assert_eq!(f["customfield_10100"]["value"], "Gold");
    assert_eq!(f["customfield_10100"]["id"], "10100");
    assert_eq!(f["customfield_10101"][1]["value"], "api");
    assert_eq!(f["customfield_10102"]["displayName"], "Admin User");
    assert_eq!(f["customfield_10103"], "2027-03-01");
    assert_eq!(f["customfield_10104"]["child"]["value"], "Berlin");
    let bad = json!({"fields": {"customfield_10100": {"value": "Bronze"}}});
    let (status, body) = jira.put(&path, &bad).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"]["customfield_10100"]
            .as_str()
            .is_some_and(|m| m.contains("Bronze"))
    );
    let (_, fields) = jira.get("/rest/api/3/field").await;
    let schema = |id: &str| {
        fields
            .as_array()
            .and_then(|a| a.iter().find(|f| f["id"] == id))
            .map(|f| f["schema"].clone())
    };
    assert_eq!(
        schema("customfield_10101").map(|s| s["items"].clone()),
        Some(json!("option"))
    );
    assert_eq!(
        schema("customfield_10104").map(|s| s["type"].clone()),
        Some(json!("option-with-child"))
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_review_workflow_needs_several_hops_and_a_resolution_to_close() {
    let (sim, site) = spawn_with(|c| c.sites[0].workflow = Workflow::with_review()).await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Reviewed").await;
    let path = format!("/rest/api/3/issue/{key}/transitions");
    let (_, listed) = jira.get(&format!("{path}?expand=transitions.fields")).await;
    let names: Vec<_> = (listed["transitions"].as_array().into_iter().flatten())
        .filter_map(|t| t["to"]["name"].as_str())
        .collect();
    assert!(
        !names.contains(&"Closed"),
        "Closed is not one hop from Open: {names:?}"
    );
    for id in ["11", "21"] {
        assert_eq!(
            jira.post(&path, &json!({"transition": {"id": id}})).await.0,
            204
        );
    }
    let (_, listed) = jira.get(&format!("{path}?expand=transitions.fields")).await;
    let approve =
        (listed["transitions"].as_array().into_iter().flatten()).find(|t| t["id"] == "41");
    assert_eq!(
        approve.map(|t| t["fields"]["resolution"]["required"].clone()),
        Some(json!(true))
    );
    let (status, _) = jira.post(&path, &json!({"transition": {"id": "41"}})).await;
    assert_eq!(status, 400);
    let close = json!({"transition": {"id": "41"}, "fields": {"resolution": {"name": "Done"}}});
    assert_eq!(jira.post(&path, &close).await.0, 204);
    sim.stop().await;
}

#[tokio::test]
async fn a_comment_marked_internal_is_not_public() {
    let (sim, site) = spawn_with(|_| {}).await;
    let jira = Jira::admin(&site);
    let (_, key) = jira.create("Notes").await;
    let path = format!("/rest/api/3/issue/{key}/comment");
    let internal = json!({"body": adf("for agents"), "properties": [{"key": "sd.public.comment", "value": {"internal": true}}]});
    let (status, created) = jira.post(&path, &internal).await;
    assert_eq!((status, created["jsdPublic"].clone()), (201, json!(false)));
    let (_, public) = jira.post(&path, &json!({"body": adf("for all")})).await;
    assert_eq!(public["jsdPublic"], true);
    sim.stop().await;
}
