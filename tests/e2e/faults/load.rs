//! The steady load of a fault scenario: on each site a person creates issues, edits them
//! (summary, description, labels, priority) and comments on them (and edits comments), about
//! four changes a second, until told to stop. Seeded, so a run can be replayed.
//!
//! The people work through the same faults as the sync (a site answering 5xx answers them too):
//! a change Jira refused is counted as refused, not made. Nothing here panics on a failed
//! request, and the final checks compare the sites themselves, so a change whose answer was
//! lost but which was applied is checked like any other.

use std::collections::BTreeMap;
use std::time::Duration;

use jira_sync_jira_client::{CreateIssue, SearchRequest};
use jira_sync_tests::SiteActor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::common::adf;

/// The kinds of changes, with their weights.
const KINDS: [(&str, u32); 7] = [
    ("create", 14),
    ("summary", 18),
    ("description", 10),
    ("labels", 10),
    ("priority", 10),
    ("comment", 26),
    ("edit_comment", 12),
];

/// Pause between two changes of one person: 250 ms on average.
const PAUSE_MS: std::ops::Range<u64> = 150..350;

/// What the people did.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Changes Jira accepted, by kind.
    pub made: BTreeMap<&'static str, u64>,
    /// Changes Jira refused (or whose answer never came).
    pub refused: u64,
}

/// How one attempted change went.
enum Outcome {
    Made,
    Refused,
    /// Nothing to do it on (a comment edit on an issue without comments).
    Skipped,
}

impl From<bool> for Outcome {
    fn from(accepted: bool) -> Self {
        if accepted { Self::Made } else { Self::Refused }
    }
}

impl Tally {
    pub fn made_total(&self) -> u64 {
        self.made.values().sum()
    }

    fn add(&mut self, other: Tally) {
        for (kind, n) in other.made {
            *self.made.entry(kind).or_default() += n;
        }
        self.refused += other.refused;
    }
}

/// The running load.
pub struct Load {
    stop: CancellationToken,
    people: Vec<JoinHandle<Tally>>,
}

impl Load {
    /// Starts one person on each site.
    pub fn start(a: SiteActor, b: SiteActor, seed: u64) -> Self {
        let stop = CancellationToken::new();
        let people = [(a, "a", seed), (b, "b", seed.wrapping_add(1))]
            .into_iter()
            .map(|(actor, site, seed)| {
                let person = Person {
                    actor,
                    site,
                    rng: StdRng::seed_from_u64(seed),
                    issues: Vec::new(),
                    serial: 0,
                };
                tokio::spawn(person.run(stop.clone()))
            })
            .collect();
        Self { stop, people }
    }

    /// Stops both people (each finishes its change in progress) and adds up what they did.
    pub async fn finish(self) -> Tally {
        self.stop.cancel();
        let mut tally = Tally::default();
        for person in self.people {
            tally.add(
                person
                    .await
                    .unwrap_or_else(|e| panic!("a person failed: {e}")),
            );
        }
        tally
    }
}

struct Person {
    actor: SiteActor,
    site: &'static str,
    rng: StdRng,
    issues: Vec<String>,
    serial: u64,
}

impl Person {
    async fn run(mut self, stop: CancellationToken) -> Tally {
        let mut tally = Tally::default();
        let mut n = 0_u64;
        while !stop.is_cancelled() {
            if n.is_multiple_of(8) || self.issues.is_empty() {
                // A failed search keeps the list seen last.
                if let Some(ids) = issue_ids(&self.actor).await {
                    self.issues = ids;
                }
            }
            n += 1;
            let kind = self.pick_kind();
            match self.apply(kind).await {
                Outcome::Made => *tally.made.entry(kind).or_default() += 1,
                Outcome::Refused => tally.refused += 1,
                Outcome::Skipped => {}
            }
            let pause = self.rng.random_range(PAUSE_MS);
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(Duration::from_millis(pause)) => {}
            }
        }
        tally
    }

    fn pick_kind(&mut self) -> &'static str {
        if self.issues.is_empty() {
            return "create";
        }
        let total: u32 = KINDS.iter().map(|(_, w)| w).sum();
        let mut draw = self.rng.random_range(0..total);
        for (kind, weight) in KINDS {
            if draw < weight {
                return kind;
            }
            draw -= weight;
        }
        "create"
    }

    fn next(&mut self) -> String {
        self.serial += 1;
        format!("{}{}", self.site, self.serial)
    }

    fn pick_issue(&mut self) -> String {
        self.issues[self.rng.random_range(0..self.issues.len())].clone()
    }

    /// Makes one change.
    async fn apply(&mut self, kind: &'static str) -> Outcome {
        let client = self.actor.client.clone();
        if kind == "create" {
            let summary = format!("Issue {}", self.next());
            let fields = json!({"project": {"key": self.actor.project}, "issuetype": {"name": "Task"}, "summary": summary});
            let Value::Object(fields) = fields else {
                return Outcome::Skipped;
            };
            let create = CreateIssue {
                fields,
                properties: Vec::new(),
            };
            return match client.create_issue(&create).await {
                Ok(created) => {
                    self.issues.push(created.id);
                    Outcome::Made
                }
                Err(_) => Outcome::Refused,
            };
        }
        let id = self.pick_issue();
        let fields = match kind {
            "summary" => json!({"summary": format!("Summary {}", self.next())}),
            "description" => json!({"description": adf(&format!("Description {}", self.next()))}),
            "labels" => {
                let labels: Vec<&str> = ["red", "green", "blue", "amber"]
                    .into_iter()
                    .filter(|_| self.rng.random_bool(0.5))
                    .collect();
                json!({"labels": labels})
            }
            "priority" => {
                // A's High is B's Highest (the connection's priority map).
                let top = if self.site == "a" { "High" } else { "Highest" };
                let names = [top, "Medium", "Low", "Lowest"];
                json!({"priority": {"name": names[self.rng.random_range(0..names.len())]}})
            }
            "comment" => {
                let token = format!("cmt:{}:v0", self.next());
                return client
                    .add_comment(&id, &adf(&token), &[])
                    .await
                    .is_ok()
                    .into();
            }
            _ => return self.edit_comment(&id).await,
        };
        let Value::Object(fields) = fields else {
            return Outcome::Skipped;
        };
        client.edit_issue(&id, &fields).await.is_ok().into()
    }

    /// Edits a random comment of the issue: a new version of its token.
    async fn edit_comment(&mut self, id: &str) -> Outcome {
        let Ok(comments) = self.actor.client.comments(id).await else {
            return Outcome::Refused;
        };
        let ours: Vec<_> = (comments.iter())
            .filter_map(|c| crate::common::check::comment_token(&c.body).map(|t| (c.id.clone(), t)))
            .collect();
        if ours.is_empty() {
            return Outcome::Skipped;
        }
        let (comment, token) = ours[self.rng.random_range(0..ours.len())].clone();
        let origin = token.rsplit_once(":v").map_or(token.as_str(), |(o, _)| o);
        let edited = format!("{origin}:v{}", self.next());
        (self
            .actor
            .client
            .update_comment(id, &comment, &adf(&edited))
            .await)
            .is_ok()
            .into()
    }
}

/// The ids of the actor's project's issues, or `None` when the search failed.
async fn issue_ids(actor: &SiteActor) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = actor
            .client
            .search_jql(&SearchRequest {
                jql: format!("project = {}", actor.project),
                fields: vec!["summary".into()],
                properties: Vec::new(),
                max_results: 100,
                next_page_token: token.take(),
            })
            .await
            .ok()?;
        ids.extend(page.issues.into_iter().map(|i| i.id));
        if page.is_last || page.next_page_token.is_none() {
            return Some(ids);
        }
        token = page.next_page_token;
    }
}
