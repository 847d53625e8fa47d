//! Changes already reconciled. Jira sends more than one webhook about some changes: a comment
//! raises `comment_created` and also `jira:issue_updated` (`issue_commented`), each carrying the
//! comment, and a delivery can be repeated. The ingress names the change in the request
//! ([`ReconcileRequest::change`]); once a reconcile of that change completed, it had read both
//! issues after the change happened (Jira sends a webhook after it commits the change), so the
//! other webhooks about it would read both sides again to find nothing new, and are skipped.
//!
//! This only spares work: the memory is per process and bounded (the oldest names are
//! forgotten first), and a change that is not remembered is reconciled, which is always
//! correct. A reconcile that failed records nothing.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use jira_sync_domain::ReconcileRequest;

/// How many change names are remembered.
const CAPACITY: usize = 8192;

/// The names of changes whose reconcile completed, oldest first out.
#[derive(Debug, Default)]
pub struct SeenChanges {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    names: HashSet<String>,
    order: VecDeque<String>,
}

/// The name of the change of `request` across connections and sites, when it has one.
fn name(request: &ReconcileRequest) -> Option<String> {
    let change = request.change.as_deref()?;
    Some(format!(
        "{}/{}/{}/{change}",
        request.connection, request.endpoint, request.entity_id
    ))
}

impl SeenChanges {
    /// Whether a reconcile of the change `request` reports has completed.
    pub fn contains(&self, request: &ReconcileRequest) -> bool {
        let Some(name) = name(request) else {
            return false;
        };
        self.inner
            .lock()
            .is_ok_and(|inner| inner.names.contains(&name))
    }

    /// Records that a reconcile of the change `request` reports has completed.
    pub fn record(&self, request: &ReconcileRequest) {
        let Some(name) = name(request) else {
            return;
        };
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if !inner.names.insert(name.clone()) {
            return;
        }
        inner.order.push_back(name);
        while inner.order.len() > CAPACITY {
            if let Some(oldest) = inner.order.pop_front() {
                inner.names.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jira_sync_domain::{ConnectionId, DeliveryId, EndpointId, Trigger};

    use super::*;

    fn request(entity: &str, change: Option<&str>) -> ReconcileRequest {
        ReconcileRequest {
            connection: ConnectionId::parse("a-to-b").unwrap_or_else(|e| panic!("{e}")),
            endpoint: EndpointId::parse("jira-a").unwrap_or_else(|e| panic!("{e}")),
            entity_id: entity.into(),
            issue_key: None,
            trigger: Trigger::Webhook {
                event: "comment_created".into(),
                actor: None,
            },
            delivery_id: DeliveryId::generate(),
            event_at: None,
            change: change.map(str::to_owned),
        }
    }

    #[test]
    fn a_recorded_change_is_known_for_its_entity_only() {
        let seen = SeenChanges::default();
        let first = request("10001", Some("comment:7:2026-11-24T10:00:00.000+0000"));
        assert!(!seen.contains(&first));
        seen.record(&first);
        assert!(seen.contains(&first));
        assert!(!seen.contains(&request("10002", first.change.as_deref())));
        assert!(!seen.contains(&request("10001", Some("comment:7:deleted"))));
    }

    #[test]
    fn requests_without_a_change_are_never_skipped() {
        let seen = SeenChanges::default();
        let poll = request("10001", None);
        seen.record(&poll);
        assert!(!seen.contains(&poll));
    }

    #[test]
    fn the_oldest_changes_are_forgotten_first() {
        let seen = SeenChanges::default();
        let all: Vec<_> = (0..=CAPACITY)
            .map(|i| request("10001", Some(&format!("changelog:{i}"))))
            .collect();
        for r in &all {
            seen.record(r);
        }
        assert!(!seen.contains(&all[0]));
        assert!(seen.contains(&all[1]));
        assert!(seen.contains(&all[CAPACITY]));
    }
}
