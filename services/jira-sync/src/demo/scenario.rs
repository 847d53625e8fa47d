//! The scripted scenario: what the admins of the two sites do, and the faults the sites inject,
//! one step after another. Each step waits (with a deadline) until the sites show that
//! jira-sync did its part; a step that times out is recorded and the script goes on, so the
//! summary can say what held and what did not.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jira_sync_jira_sim::{FaultKind, FaultSpec, SiteHandle, WebhookFaultSpec};
use jira_sync_store::{ConflictStatus, Store};
use jira_sync_transport::{DeadLetters, Envelope, Publisher};
use serde_json::json;

use super::config::Sites;
use super::issues::{Compared, twin_of};
use super::person::{Person, adf};

/// How long one step may take before it is recorded as failed.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// The script and what it acts on.
pub struct Scenario<'a> {
    pub sites: &'a Sites,
    pub store: Arc<dyn Store>,
    pub dead_letters: Arc<dyn DeadLetters>,
    pub publisher: Arc<dyn Publisher>,
    /// The step under way, for the live view.
    pub step: Arc<Mutex<String>>,
}

/// What the script did: each step's outcome, and the id of the message it poisoned.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each step's name and its failure, if it failed.
    pub steps: Vec<(&'static str, Option<String>)>,
    /// The message id of the undecodable message published on purpose.
    pub poison_id: String,
}

/// Polls `check` every 100 ms until it returns `Some`, or fails after [`STEP_TIMEOUT`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {STEP_TIMEOUT:?} waiting for {what}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn twin(site: &SiteHandle, origin: &str) -> Result<String, String> {
    eventually(
        &format!("the twin of {origin} on site {}", site.name()),
        || std::future::ready(twin_of(site, origin)),
    )
    .await
}

async fn shows(
    site: &SiteHandle,
    id: &str,
    what: &str,
    test: impl Fn(&Compared) -> bool,
) -> Result<(), String> {
    let what = format!("{what} on site {} ({id})", site.name());
    eventually(&what, || {
        std::future::ready(Compared::of(site, id).filter(&test).map(drop))
    })
    .await
}

/// Ids of the issues the script made: the origin and its twin.
struct Pair {
    a: String,
    b: String,
}

impl Scenario<'_> {
    fn at(&self, step: &str) {
        if let Ok(mut current) = self.step.lock() {
            step.clone_into(&mut current);
        }
    }

    /// Runs every step, in order.
    pub async fn run(&self) -> Outcome {
        let mut outcome = Outcome::default();
        let (a, b) = (&self.sites.a, &self.sites.b);
        let (alice, bob) = (Person::admin_of(a), Person::admin_of(b));

        self.at("issues created on both sides");
        let created = self.create_both(&alice, &bob).await;
        outcome.steps.push((
            "issues created on both sides",
            created.as_ref().err().cloned(),
        ));
        let Ok((printer, vpn)) = created else {
            return outcome;
        };

        self.at("edits both ways");
        let edited = async {
            alice
                .edit(&printer.a, json!({ "summary": "Printer on fire (tray 2)" }))
                .await
                .map_err(|e| e.to_string())?;
            bob.edit(&vpn.b, json!({ "labels": ["network", "vpn"] }))
                .await
                .map_err(|e| e.to_string())?;
            shows(b, &printer.b, "the new summary", |c| {
                c.summary == "Printer on fire (tray 2)"
            })
            .await?;
            shows(a, &vpn.a, "the labels", |c| c.labels == ["network", "vpn"]).await
        };
        outcome.steps.push(("edits both ways", edited.await.err()));

        self.at("To Do -> Done: two hops on the other side");
        let walked = async {
            // In Progress (21), then Done (31): the twin walks the same two transitions.
            alice
                .transition(&printer.a, "21")
                .await
                .map_err(|e| e.to_string())?;
            alice
                .transition(&printer.a, "31")
                .await
                .map_err(|e| e.to_string())?;
            shows(b, &printer.b, "status Done", |c| c.status == "Done").await
        };
        outcome
            .steps
            .push(("status through a two-hop workflow", walked.await.err()));

        self.at("comments both ways");
        let commented = async {
            alice
                .comment(&printer.a, "Replaced the fuser.")
                .await
                .map_err(|e| e.to_string())?;
            bob.comment(&printer.b, "Thanks, printing again.")
                .await
                .map_err(|e| e.to_string())?;
            shows(a, &printer.a, "both comments", |c| c.comments == 2).await?;
            shows(b, &printer.b, "both comments", |c| c.comments == 2).await
        };
        outcome
            .steps
            .push(("comments both ways", commented.await.err()));

        self.at("a burst of 429s from site b");
        let badge = self.rate_limited(&alice).await;
        outcome
            .steps
            .push(("a burst of 429s absorbed", badge.as_ref().err().cloned()));

        self.at("a dropped webhook, repaired by the poller");
        let repaired = match &badge {
            Ok(badge) => self.dropped_webhook(&alice, badge).await,
            Err(_) => Err("skipped: no issue from the previous step".to_owned()),
        };
        outcome
            .steps
            .push(("a dropped webhook repaired by the poller", repaired.err()));

        self.at("a conflict on the description, held for a person");
        let held = self.conflict(&alice, &bob, &vpn).await;
        outcome
            .steps
            .push(("a conflict held for a person", held.err()));

        self.at("a poisoned message");
        let poisoned = self.poison().await;
        outcome.steps.push((
            "a poisoned message dead-lettered",
            poisoned.as_ref().err().cloned(),
        ));
        outcome.poison_id = poisoned.unwrap_or_default();
        self.at("settling");
        outcome
    }

    async fn create_both(&self, alice: &Person, bob: &Person) -> Result<(Pair, Pair), String> {
        let (a, b) = (&self.sites.a, &self.sites.b);
        let printer = alice
            .create("Printer on fire", "Smoke from tray 2.")
            .await
            .map_err(|e| e.to_string())?;
        let vpn = bob
            .create("VPN drops every hour", "Since the upgrade.")
            .await
            .map_err(|e| e.to_string())?;
        let printer_twin = twin(b, &printer).await?;
        let vpn_twin = twin(a, &vpn).await?;
        Ok((
            Pair {
                a: printer,
                b: printer_twin,
            },
            Pair {
                a: vpn_twin,
                b: vpn,
            },
        ))
    }

    /// Site b answers the next requests with 429 and `Retry-After`; a new issue on site a still
    /// gets its twin there.
    async fn rate_limited(&self, alice: &Person) -> Result<Pair, String> {
        let b = &self.sites.b;
        let before = b.stats().faults_injected;
        let fault = FaultSpec {
            method: None,
            path_prefix: Some("/rest/api/3/".to_owned()),
            kind: FaultKind::RateLimit {
                retry_after_secs: 1,
                reason: None,
            },
            times: Some(4),
            probability: None,
            seed: None,
        };
        b.add_fault(fault)
            .map_err(|e| format!("site b refused the fault: {e:?}"))?;
        let id = alice
            .create("Badge reader offline", "Door 4 stays locked.")
            .await
            .map_err(|e| e.to_string())?;
        let twin_id = twin(b, &id).await?;
        let served = b.stats().faults_injected - before;
        if served == 0 {
            return Err("site b served no 429".to_owned());
        }
        Ok(Pair { a: id, b: twin_id })
    }

    /// Site a drops the webhook of the next edit: only the poller can notice it.
    async fn dropped_webhook(&self, alice: &Person, pair: &Pair) -> Result<(), String> {
        let (a, b) = (&self.sites.a, &self.sites.b);
        let drop_one = WebhookFaultSpec {
            drop_next: 1,
            ..WebhookFaultSpec::default()
        };
        a.set_webhook_faults(drop_one)
            .map_err(|e| format!("{e:?}"))?;
        let summary = "Badge reader offline (door 4)";
        alice
            .edit(&pair.a, json!({ "summary": summary }))
            .await
            .map_err(|e| e.to_string())?;
        if a.stats().webhooks.dropped == 0 {
            return Err("site a did not drop the webhook".to_owned());
        }
        shows(b, &pair.b, "the edit whose webhook was dropped", |c| {
            c.summary == summary
        })
        .await
    }

    /// Both sides change the description while their webhooks are dropped; the poller finds
    /// both changed since the base, and the hold policy keeps both and records a conflict.
    async fn conflict(&self, alice: &Person, bob: &Person, pair: &Pair) -> Result<(), String> {
        let (a, b) = (&self.sites.a, &self.sites.b);
        for site in [a, b] {
            let drop_one = WebhookFaultSpec {
                drop_next: 1,
                ..WebhookFaultSpec::default()
            };
            site.set_webhook_faults(drop_one)
                .map_err(|e| format!("{e:?}"))?;
        }
        let on_a = json!({ "description": adf("Only on Wi-Fi.") });
        let on_b = json!({ "description": adf("On cable too.") });
        let (left, right) = tokio::join!(alice.edit(&pair.a, on_a), bob.edit(&pair.b, on_b));
        left.and(right).map_err(|e| e.to_string())?;
        eventually("an open conflict on the description", || async {
            let open = self
                .store
                .list_conflicts(None, Some(ConflictStatus::Open), 50)
                .await
                .ok()?;
            open.iter().any(|c| c.field == "description").then_some(())
        })
        .await
    }

    /// An undecodable message on the work queue: the worker parks it in the dead-letter queue.
    async fn poison(&self) -> Result<String, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_nanos();
        let id = format!("demo-poison-{nanos:x}");
        let envelope = Envelope::new(id.clone(), b"{ this is not a reconcile request".to_vec())
            .with_label("event", "demo:poison");
        self.publisher
            .publish(envelope)
            .await
            .map_err(|e| e.to_string())?;
        eventually("the poisoned message in the dead-letter queue", || async {
            let parked = self.dead_letters.peek(1000).await.ok()?;
            parked.iter().any(|m| m.message_id == id).then_some(())
        })
        .await?;
        Ok(id)
    }
}
