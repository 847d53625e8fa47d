//! The closing checks, each read from the store, the transport and the simulated sites (never
//! from the script's own bookkeeping): every linked pair equal on both sites, the conflict
//! held with both versions kept, the poisoned message in the dead-letter queue, nothing lost
//! (every issue on either site in exactly one link, every twin made once).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use jira_sync_store::{ConflictStatus, Link};

use super::issues::{Compared, ids, twins_by_origin};
use super::scenario::Outcome;
use super::view::{Figures, Source};

/// How long the pairs may take to settle after the last step.
const SETTLE: Duration = Duration::from_secs(10);

/// One check and what it found.
#[derive(Debug, Clone)]
pub struct Check {
    /// Whether it holds.
    pub ok: bool,
    /// What was found, one line.
    pub finding: String,
    /// Details (differences, missing twins), one line each.
    pub details: Vec<String>,
}

/// Every check, and the figures at the end.
#[derive(Debug, Clone)]
pub struct Report {
    pub checks: Vec<Check>,
    pub figures: Figures,
}

impl Report {
    /// Whether every check holds.
    pub fn all_hold(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The summary for people.
    pub fn render(&self) -> String {
        let mut text = String::from("summary (from the store, the transport and the sites):\n");
        text.push_str(&format!("  {}\n", self.figures.line("end")));
        for check in &self.checks {
            let mark = if check.ok { "ok  " } else { "FAIL" };
            text.push_str(&format!("  {mark} {}\n", check.finding));
            for detail in &check.details {
                text.push_str(&format!("         {detail}\n"));
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        if failed == 0 {
            text.push_str("all checks hold\n");
        } else {
            text.push_str(&format!("{failed} check(s) failed\n"));
        }
        text
    }
}

/// Runs every check (after letting the pairs settle).
pub async fn check(source: &Source, outcome: &Outcome) -> Report {
    let failed_steps: Vec<String> = outcome
        .steps
        .iter()
        .filter_map(|(name, failure)| failure.as_ref().map(|f| format!("{name}: {f}")))
        .collect();
    let mut checks = vec![Check {
        ok: failed_steps.is_empty(),
        finding: format!(
            "scenario: {} of {} steps completed",
            outcome.steps.len() - failed_steps.len(),
            outcome.steps.len()
        ),
        details: failed_steps,
    }];
    let deadline = Instant::now() + SETTLE;
    let pairs = loop {
        let pairs = pairs_check(source).await;
        if pairs.ok || Instant::now() >= deadline {
            break pairs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    checks.push(pairs);
    checks.push(conflict_check(source).await);
    checks.push(dlq_check(source, &outcome.poison_id).await);
    checks.push(lost_check(source).await);
    Report {
        checks,
        figures: Figures::read(source).await,
    }
}

async fn links(source: &Source) -> Vec<Link> {
    source
        .store
        .list_links(None, 10_000)
        .await
        .unwrap_or_default()
}

/// Fields with an open conflict, by link id (as text).
async fn held(source: &Source) -> BTreeMap<String, BTreeSet<String>> {
    let mut held: BTreeMap<_, BTreeSet<String>> = BTreeMap::new();
    let open = source
        .store
        .list_conflicts(None, Some(ConflictStatus::Open), 1000)
        .await
        .unwrap_or_default();
    for conflict in open {
        held.entry(conflict.link_id.to_string())
            .or_default()
            .insert(conflict.field);
    }
    held
}

async fn pairs_check(source: &Source) -> Check {
    let links = links(source).await;
    let held = held(source).await;
    let mut details = Vec::new();
    for link in &links {
        let skip = held
            .get(&link.id.to_string())
            .is_some_and(|fields| fields.contains("description"));
        let left = Compared::of(&source.a, &link.left_id);
        let right = Compared::of(&source.b, &link.right_id);
        let name = format!("a/{} <-> b/{}", link.left_id, link.right_id);
        match (left, right) {
            (Some(left), Some(right)) => {
                for difference in left.differences(&right, skip) {
                    details.push(format!("{name}: {difference}"));
                }
            }
            _ => details.push(format!("{name}: an issue of the pair is gone")),
        }
    }
    Check {
        ok: details.is_empty() && !links.is_empty(),
        finding: format!(
            "{} linked pairs equal on both sites (summary, status, labels, comments, \
             description unless held)",
            links.len()
        ),
        details,
    }
}

async fn conflict_check(source: &Source) -> Check {
    let links = links(source).await;
    let held = held(source).await;
    let mut details = Vec::new();
    let mut kept = 0;
    for link in &links {
        let on_description = held
            .get(&link.id.to_string())
            .is_some_and(|fields| fields.contains("description"));
        if !on_description {
            continue;
        }
        let left = Compared::of(&source.a, &link.left_id).map(|c| c.description);
        let right = Compared::of(&source.b, &link.right_id).map(|c| c.description);
        if left.is_some() && left != right {
            kept += 1;
            details.push(format!(
                "a/{}: {:?} | b/{}: {:?}",
                link.left_id,
                left.unwrap_or_default(),
                link.right_id,
                right.unwrap_or_default()
            ));
        } else {
            details.push(format!(
                "a/{} <-> b/{}: the conflict is open but the sites agree",
                link.left_id, link.right_id
            ));
        }
    }
    Check {
        ok: kept > 0,
        finding: format!(
            "conflict held: {kept} open conflict(s) on the description, both versions kept"
        ),
        details,
    }
}

async fn dlq_check(source: &Source, poison_id: &str) -> Check {
    let parked = source.dead_letters.peek(1000).await.unwrap_or_default();
    let found = parked
        .iter()
        .find(|m| !poison_id.is_empty() && m.message_id == poison_id);
    let details = found
        .and_then(|m| m.failure.as_ref())
        .map(|f| vec![format!("reason: {}: {}", f.class, f.message)])
        .unwrap_or_default();
    Check {
        ok: found.is_some(),
        finding: format!(
            "DLQ holds the poisoned message {} ({} message(s) parked)",
            if poison_id.is_empty() {
                "(none published)"
            } else {
                poison_id
            },
            parked.len()
        ),
        details,
    }
}

async fn lost_check(source: &Source) -> Check {
    let links = links(source).await;
    let mut details = Vec::new();
    let (on_a, on_b) = (ids(&source.a), ids(&source.b));
    for (site, ids, side_of) in [
        (
            "a",
            &on_a,
            (|l: &Link| l.left_id.clone()) as fn(&Link) -> String,
        ),
        ("b", &on_b, |l: &Link| l.right_id.clone()),
    ] {
        for id in ids {
            let linked = links.iter().filter(|l| side_of(l) == *id).count();
            if linked != 1 {
                details.push(format!("{site}/{id} is in {linked} links"));
            }
        }
    }
    for (site, twins) in [
        ("a", twins_by_origin(&source.a)),
        ("b", twins_by_origin(&source.b)),
    ] {
        for (origin, n) in twins.iter().filter(|(_, n)| **n != 1) {
            details.push(format!("{origin} has {n} twins on {site}"));
        }
    }
    Check {
        ok: details.is_empty() && on_a.len() == on_b.len() && !on_a.is_empty(),
        finding: format!(
            "nothing lost: {} issues on a, {} on b, each in exactly one link with one twin",
            on_a.len(),
            on_b.len()
        ),
        details,
    }
}
