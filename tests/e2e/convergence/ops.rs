//! The random operations a person makes on one site: seeded, so a run can be replayed, and
//! tolerant of failures (an issue the sync just deleted answers 404; that op is counted as
//! failed, not as a test failure).

use std::collections::BTreeMap;
use std::time::Duration;

use jira_sync_tests::SiteActor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::common::adf;
pub use crate::common::check::{comment_token, list_issues};

/// The kinds of operations, with their weights.
pub const KINDS: [(&str, u32); 11] = [
    ("create", 10),
    ("summary", 16),
    ("labels", 10),
    ("priority", 8),
    ("due_date", 7),
    ("transition", 9),
    ("comment", 16),
    ("edit_comment", 9),
    ("delete_comment", 5),
    ("delete_issue", 2),
    ("description", 8),
];

/// What one site's person did.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Successful operations by kind.
    pub done: BTreeMap<&'static str, u64>,
    /// Operations Jira refused (mostly on issues deleted meanwhile).
    pub failed: u64,
}

impl Tally {
    /// Successful operations in all.
    pub fn total(&self) -> u64 {
        self.done.values().sum()
    }
}

/// One person on one site, with the issue ids seen last.
pub struct Person {
    actor: SiteActor,
    site: &'static str,
    rng: StdRng,
    issues: Vec<String>,
    serial: u64,
    tally: Tally,
}

impl Person {
    pub fn new(actor: SiteActor, site: &'static str, seed: u64) -> Self {
        Self {
            actor,
            site,
            rng: StdRng::seed_from_u64(seed),
            issues: Vec::new(),
            serial: 0,
            tally: Tally::default(),
        }
    }

    /// Runs `ops` operations, a few milliseconds apart, and returns the tally.
    pub async fn run(mut self, ops: usize) -> Tally {
        for n in 0..ops {
            if n % 6 == 0 || self.issues.is_empty() {
                self.issues = list_issues(&self.actor)
                    .await
                    .into_iter()
                    .map(|i| i.id)
                    .collect();
            }
            let kind = self.pick_kind();
            if self.apply(kind).await {
                *self.tally.done.entry(kind).or_default() += 1;
            } else {
                self.tally.failed += 1;
            }
            let pause = self.rng.random_range(0..15);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self.tally
    }

    fn pick_kind(&mut self) -> &'static str {
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

    /// Applies one operation; `false` when Jira refused it (or there was nothing to do it on).
    async fn apply(&mut self, kind: &'static str) -> bool {
        if kind == "create" || self.issues.is_empty() {
            let summary = format!("Issue {}", self.next());
            let fields = json!({"project": {"key": self.actor.project}, "issuetype": {"name": "Task"}, "summary": summary});
            let Value::Object(fields) = fields else {
                return false;
            };
            let create = jira_sync_jira_client::CreateIssue {
                fields,
                properties: Vec::new(),
            };
            return match self.actor.client.create_issue(&create).await {
                Ok(created) => {
                    self.issues.push(created.id);
                    kind == "create"
                }
                Err(_) => false,
            };
        }
        let id = self.issues[self.rng.random_range(0..self.issues.len())].clone();
        let client = self.actor.client.clone();
        let client = &client;
        let edit = |fields: Value| async move {
            let Value::Object(fields) = fields else {
                return false;
            };
            client.edit_issue(&id, &fields).await.is_ok()
        };
        match kind {
            "summary" => {
                let text = format!("Summary {}", self.next());
                edit(json!({"summary": text})).await
            }
            "description" => {
                let text = format!("Description {}", self.next());
                edit(json!({"description": adf(&text)})).await
            }
            "labels" => {
                let labels: Vec<&str> = ["red", "green", "blue", "amber"]
                    .into_iter()
                    .filter(|_| self.rng.random_bool(0.5))
                    .collect();
                edit(json!({"labels": labels})).await
            }
            "priority" => {
                // A's High is B's Highest (the connection's priority map).
                let top = if self.site == "a" { "High" } else { "Highest" };
                let names = [top, "Medium", "Low", "Lowest"];
                let name = names[self.rng.random_range(0..names.len())];
                edit(json!({"priority": {"name": name}})).await
            }
            "due_date" => {
                let day = self.rng.random_range(1..=28);
                let due = if self.rng.random_bool(0.15) {
                    Value::Null
                } else {
                    json!(format!("2027-03-{day:02}"))
                };
                edit(json!({"duedate": due})).await
            }
            "transition" => {
                let id = self.issues[self.rng.random_range(0..self.issues.len())].clone();
                let Ok(options) = self.actor.client.transitions(&id).await else {
                    return false;
                };
                let usable: Vec<_> = options.iter().filter(|t| !t.has_screen).collect();
                if usable.is_empty() {
                    return false;
                }
                let pick = usable[self.rng.random_range(0..usable.len())].id.clone();
                self.actor.client.transition(&id, &pick, None).await.is_ok()
            }
            "comment" => {
                let token = format!("cmt:{}:v0", self.next());
                let id = self.issues[self.rng.random_range(0..self.issues.len())].clone();
                (self.actor.client.add_comment(&id, &adf(&token), &[]).await).is_ok()
            }
            "edit_comment" | "delete_comment" => self.touch_comment(kind).await,
            "delete_issue" => {
                let id = self.issues[self.rng.random_range(0..self.issues.len())].clone();
                self.issues.retain(|i| i != &id);
                self.actor.client.delete_issue(&id).await.is_ok()
            }
            _ => false,
        }
    }

    /// Edits (a new version of its token) or deletes a random comment of a random issue.
    async fn touch_comment(&mut self, kind: &str) -> bool {
        let id = self.issues[self.rng.random_range(0..self.issues.len())].clone();
        let Ok(comments) = self.actor.client.comments(&id).await else {
            return false;
        };
        let ours: Vec<_> = (comments.iter())
            .filter_map(|c| comment_token(&c.body).map(|t| (c.id.clone(), t)))
            .collect();
        if ours.is_empty() {
            return false;
        }
        let (comment, token) = ours[self.rng.random_range(0..ours.len())].clone();
        if kind == "delete_comment" {
            return self
                .actor
                .client
                .delete_comment(&id, &comment)
                .await
                .is_ok();
        }
        let origin = token.rsplit_once(":v").map_or(token.as_str(), |(o, _)| o);
        let edited = format!("{origin}:v{}", self.next());
        (self
            .actor
            .client
            .update_comment(&id, &comment, &adf(&edited))
            .await)
            .is_ok()
    }
}
