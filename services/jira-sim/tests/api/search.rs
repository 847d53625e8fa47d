//! Enhanced search: the JQL subset, ordering, and cursor pagination over 10,000 seeded issues.

use std::collections::HashSet;

use jira_sync_jira_sim::BulkSeed;
use serde_json::{Value, json};

use crate::common::{Jira, spawn};

const SEARCH: &str = "/rest/api/3/search/jql";

fn ids(body: &Value) -> Vec<String> {
    body["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect()
}

fn keys(body: &Value) -> Vec<String> {
    body["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["key"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn pages_over_ten_thousand_issues_with_next_page_tokens_without_gaps_or_repeats() {
    let (sim, site) = spawn().await;
    let seed = BulkSeed {
        project: "ALPHA".into(),
        count: 10_000,
        updated_start: Some("2026-01-01T00:00:00.000+0000".into()),
        updated_step_ms: 1_000,
        ..BulkSeed::default()
    };
    let seeded = site.seed_issues(&seed).expect("seeded");
    assert_eq!(
        (seeded.created, seeded.last_key.as_deref()),
        (10_000, Some("ALPHA-10000"))
    );
    let jira = Jira::admin(&site);
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"jql": "project = ALPHA AND updated >= \"2026-01-01 00:00\" ORDER BY updated ASC", "maxResults": 5000});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (status, page) = jira.post(SEARCH, &body).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.get("total").is_none(), "enhanced search has no total");
        assert_eq!(
            page["issues"][0].as_object().map(|o| o.len()),
            Some(1),
            "default fields are id only"
        );
        for id in ids(&page) {
            assert!(seen.insert(id.clone()), "{id} repeated");
            order.push(id.parse::<u64>().expect("numeric id"));
        }
        pages += 1;
        match page["nextPageToken"].as_str() {
            Some(t) => {
                assert_eq!(page["isLast"], false);
                token = Some(t.to_owned());
            }
            None => {
                assert_eq!(page["isLast"], true);
                break;
            }
        }
    }
    assert_eq!((seen.len(), pages), (10_000, 2));
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "updated ascending follows creation order"
    );
    let (status, page) = jira
        .get(&format!(
            "{SEARCH}?jql=project%3DALPHA&fields=summary&maxResults=1000"
        ))
        .await;
    assert_eq!(
        (status, page["issues"].as_array().map(Vec::len)),
        (200, Some(100)),
        "field-rich pages cap at 100"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_jql_subset_filters_by_project_key_id_dates_and_properties() {
    let (sim, site) = spawn().await;
    let jira = Jira::admin(&site);
    let (id1, k1) = jira.create("one").await;
    let (_, k2) = jira.create("two").await;
    let (status, beta) = jira.post("/rest/api/3/issue", &json!({"fields": {"project": {"key": "BETA"},
        "issuetype": {"name": "Task"}, "summary": "b"}, "properties": [{"key": "sync", "value": {"origin": {"site": "alpha"}}}]})).await;
    assert_eq!(status, 201);
    let search = |jql: &str| {
        let jira = jira.clone();
        let body = json!({"jql": jql, "fields": ["key"]});
        async move { jira.post(SEARCH, &body).await }
    };
    assert_eq!(
        keys(&search("project = ALPHA ORDER BY key ASC").await.1),
        vec![k1.clone(), k2.clone()]
    );
    assert_eq!(
        keys(
            &search("project in (ALPHA, BETA) ORDER BY created DESC, key DESC")
                .await
                .1
        )
        .len(),
        3
    );
    assert_eq!(
        keys(
            &search(&format!("key in ({k2}, {k1}) ORDER BY key DESC"))
                .await
                .1
        ),
        vec![k2.clone(), k1.clone()]
    );
    assert_eq!(
        keys(&search(&format!("id = {id1}")).await.1),
        vec![k1.clone()]
    );
    assert_eq!(
        keys(
            &search("issue.property[sync].origin.site = \"alpha\"")
                .await
                .1
        ),
        vec!["BETA-1".to_owned()]
    );
    assert_eq!(
        keys(
            &search("project = ALPHA AND updated < \"2000-01-01 00:00\"")
                .await
                .1
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        keys(
            &search("project = ALPHA AND created >= -1h ORDER BY key")
                .await
                .1
        )
        .len(),
        2
    );
    assert_eq!(beta["key"], "BETA-1");
    for (jql, expected) in [
        ("", "Unbounded JQL"),
        ("ORDER BY key", "Unbounded JQL"),
        (
            "project = NOPE",
            "The value 'NOPE' does not exist for the field 'project'.",
        ),
        ("project = ALPHA OR project = BETA", "OR is not supported"),
        (
            "key = ALPHA-99",
            "An issue with key 'ALPHA-99' does not exist",
        ),
        ("assignee = currentUser()", "'assignee'"),
    ] {
        let (status, body) = search(jql).await;
        let msg = body["errorMessages"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            status == 400 && msg.contains(expected),
            "{jql}: {status} {msg}"
        );
    }
    let (status, body) = jira
        .post(
            SEARCH,
            &json!({"jql": "project = ALPHA", "nextPageToken": "garbage"}),
        )
        .await;
    assert_eq!(
        (status, body["errorMessages"][0].as_str().is_some()),
        (400, true)
    );
    sim.stop().await;
}

#[tokio::test]
async fn ties_on_updated_are_broken_by_id_and_writes_move_issues_to_the_end() {
    let (sim, site) = spawn().await;
    let seed = BulkSeed {
        project: "ALPHA".into(),
        count: 5,
        updated_start: Some("2026-03-01T10:00:00.000+0000".into()),
        ..BulkSeed::default()
    };
    site.seed_issues(&seed).expect("seeded");
    let jira = Jira::admin(&site);
    let jql = json!({"jql": "project = ALPHA ORDER BY updated ASC", "fields": ["key"]});
    let (_, page) = jira.post(SEARCH, &jql).await;
    assert_eq!(
        keys(&page),
        vec!["ALPHA-1", "ALPHA-2", "ALPHA-3", "ALPHA-4", "ALPHA-5"]
    );
    assert_eq!(
        jira.put(
            "/rest/api/3/issue/ALPHA-2",
            &json!({"fields": {"summary": "touched"}})
        )
        .await
        .0,
        204
    );
    let (_, page) = jira.post(SEARCH, &jql).await;
    assert_eq!(
        keys(&page),
        vec!["ALPHA-1", "ALPHA-3", "ALPHA-4", "ALPHA-5", "ALPHA-2"]
    );
    assert!(
        site.webhook_deliveries(10).is_empty() && site.stats().webhooks.events == 0,
        "seeding is quiet"
    );
    sim.stop().await;
}
