//! The end state check of the tests that make random changes on both sites (convergence,
//! faults): every linked pair is equal (or held as a conflict), no issue has two twins, every
//! live issue is linked, and the comments of each pair match one to one by their tokens
//! (`cmt:<origin>:v<n>`), none lost and none duplicated.

use std::collections::BTreeMap;

use jira_sync_jira_client::{Comment, Issue, SearchRequest};
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_tests::SiteActor;
use serde_json::Value;

use super::synced_fields;

/// What the check found.
#[derive(Debug, Default)]
pub struct Report {
    pub links: usize,
    pub twins_checked: usize,
    pub duplicate_twins: Vec<String>,
    /// Live issues without a link (no twin, or a twin that was deleted).
    pub unlinked: usize,
    /// Comments read on both sides.
    pub comments: usize,
    /// Comment tokens on one side of a pair and not on the other.
    pub comments_missing: usize,
    /// Extra copies of a comment token on one side.
    pub comments_duplicated: usize,
    pub comment_errors: Vec<String>,
    pub open_conflicts: usize,
    /// Pairs whose synced fields or status differ (and are not held as a conflict).
    pub mismatches: Vec<String>,
}

/// The comment token of a body: `cmt:<origin>:v<n>` (the copy header is ignored).
pub fn comment_token(body: &Value) -> Option<String> {
    let text = body.to_string();
    let start = text.find("cmt:")?;
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
        .collect();
    Some(token)
}

/// Every issue of the actor's project, with the sync marker.
pub async fn list_issues(actor: &SiteActor) -> Vec<Issue> {
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let page = actor
            .client
            .search_jql(&SearchRequest {
                jql: format!("project = {}", actor.project),
                fields: vec!["summary".into()],
                properties: vec!["jira-sync.origin".into()],
                max_results: 100,
                next_page_token: token.take(),
            })
            .await
            .unwrap_or_else(|e| panic!("search {}: {e}", actor.project));
        all.extend(page.issues);
        if page.is_last || page.next_page_token.is_none() {
            return all;
        }
        token = page.next_page_token;
    }
}

fn status(issue: &Issue) -> Value {
    (issue.field("status").and_then(|s| s.get("name")).cloned()).unwrap_or(Value::Null)
}

/// Checks the links of `store` against sites A (`a`, left) and B (`b`, right). A's `High` is
/// B's `Highest` (the connection's priority map).
pub async fn check(store: &dyn Store, a: &SiteActor, b: &SiteActor) -> Report {
    let mut report = Report::default();
    let links = (store.list_links(None, i64::MAX).await).unwrap_or_else(|e| panic!("links: {e}"));
    let open = (store
        .list_conflicts(None, Some(ConflictStatus::Open), 10_000)
        .await)
        .unwrap_or_else(|e| panic!("conflicts: {e}"));
    report.links = links.len();
    report.open_conflicts = open.len();
    for link in &links {
        let (left, right) = (
            a.client.get_issue(&link.left_id, &[], &[]).await,
            b.client.get_issue(&link.right_id, &[], &[]).await,
        );
        let (Ok(left), Ok(right)) = (left, right) else {
            report
                .mismatches
                .push(format!("link {} names a deleted issue", link.id));
            continue;
        };
        let (mut l, r) = (synced_fields(&left), synced_fields(&right));
        if l.priority == "High" {
            l = l.with_priority("Highest");
        }
        let held = open.iter().any(|c| c.link_id == link.id);
        if (l != r || status(&left) != status(&right)) && !held {
            report.mismatches.push(format!(
                "{} / {}: {l:?} {} vs {r:?} {}",
                left.key,
                right.key,
                status(&left),
                status(&right)
            ));
        }
        check_comments(a, b, &left.id, &right.id, &mut report).await;
    }
    // Twins: an issue is the origin of at most one twin; every live issue is linked unless
    // its twin was deleted.
    let linked: Vec<&str> = links
        .iter()
        .flat_map(|l| [l.left_id.as_str(), l.right_id.as_str()])
        .collect();
    for actor in [a, b] {
        let issues = list_issues(actor).await;
        let mut origins: BTreeMap<String, usize> = BTreeMap::new();
        for issue in &issues {
            let origin = issue.property("jira-sync.origin").and_then(|p| p.get("id"));
            if let Some(origin) = origin.and_then(Value::as_str) {
                *origins.entry(origin.to_owned()).or_default() += 1;
                report.twins_checked += 1;
            }
            if !linked.contains(&issue.id.as_str()) {
                report.unlinked += 1;
            }
        }
        let doubles = origins.into_iter().filter(|(_, n)| *n > 1);
        report
            .duplicate_twins
            .extend(doubles.map(|(o, n)| format!("{o} has {n} twins in {}", actor.project)));
    }
    report
}

/// The comment tokens of both issues must match one to one.
async fn check_comments(
    a: &SiteActor,
    b: &SiteActor,
    left: &str,
    right: &str,
    report: &mut Report,
) {
    let tokens = |comments: Vec<Comment>| {
        let mut t: Vec<String> = comments
            .iter()
            .filter_map(|c| comment_token(&c.body))
            .collect();
        t.sort();
        t
    };
    let (Ok(l), Ok(r)) = (
        a.client.comments(left).await,
        b.client.comments(right).await,
    ) else {
        report
            .comment_errors
            .push(format!("comments of {left}/{right} unreadable"));
        return;
    };
    let (l, r) = (tokens(l), tokens(r));
    report.comments += l.len() + r.len();
    for side in [&l, &r] {
        let mut unique = side.clone();
        unique.dedup();
        if unique.len() != side.len() {
            report.comments_duplicated += side.len() - unique.len();
            report
                .comment_errors
                .push(format!("{left}/{right}: a comment is duplicated: {side:?}"));
        }
    }
    if l != r {
        let missing =
            |from: &[String], to: &[String]| from.iter().filter(|t| !to.contains(t)).count();
        report.comments_missing += missing(&l, &r) + missing(&r, &l);
        report
            .comment_errors
            .push(format!("{left}/{right}: {l:?} vs {r:?}"));
    }
}
