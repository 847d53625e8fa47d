//! What the incremental search enqueued, per issue: the `updated` it was enqueued for. An issue
//! whose reconcile is still waiting in the queue (a backlog longer than the poll interval) is
//! then not enqueued again at every poll until its reconcile ran: once per change is enough,
//! and the message is durable once confirmed. Kept in memory: a restarted poller enqueues each
//! pending issue once more, which is harmless (reconciles are idempotent).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// (schedule-independent) key: connection, side and issue id.
type Key = (String, String);

#[derive(Debug, Default)]
pub(crate) struct Enqueued {
    by_issue: Mutex<HashMap<Key, DateTime<Utc>>>,
}

impl Enqueued {
    /// Whether `issue` (under `scope`: connection and side) was enqueued for this `updated`.
    pub fn already(&self, scope: &str, issue: &str, updated: Option<DateTime<Utc>>) -> bool {
        let Some(updated) = updated else {
            return false;
        };
        (self.by_issue.lock().ok())
            .and_then(|m| m.get(&(scope.to_owned(), issue.to_owned())).copied())
            .is_some_and(|at| at >= updated)
    }

    /// Remembers that `issue` was enqueued (and confirmed) for `updated`.
    pub fn record(&self, scope: &str, issue: &str, updated: Option<DateTime<Utc>>) {
        if let (Some(updated), Ok(mut m)) = (updated, self.by_issue.lock()) {
            m.insert((scope.to_owned(), issue.to_owned()), updated);
        }
    }

    /// Forgets issues of `scope` last enqueued before `before` (out of every future window).
    pub fn forget_before(&self, scope: &str, before: DateTime<Utc>) {
        if let Ok(mut m) = self.by_issue.lock() {
            m.retain(|(s, _), at| s != scope || *at >= before);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_is_enqueued_once_per_change() {
        let memory = Enqueued::default();
        let t = |s| DateTime::from_timestamp(s, 0);
        assert!(!memory.already("c/left", "1", t(100)));
        memory.record("c/left", "1", t(100));
        assert!(memory.already("c/left", "1", t(100)), "the same change");
        assert!(!memory.already("c/left", "1", t(160)), "a later change");
        assert!(!memory.already("c/right", "1", t(100)), "another side");
        assert!(
            !memory.already("c/left", "1", None),
            "no updated: when in doubt, enqueue"
        );
        memory.forget_before("c/left", t(200).unwrap_or_default());
        assert!(!memory.already("c/left", "1", t(100)), "forgotten");
    }
}
