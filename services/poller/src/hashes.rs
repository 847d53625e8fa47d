//! The content hashes of PeopleForce tasks, so that a full scan enqueues only the tasks whose
//! content changed since the last scan: how a task's hash is computed. They are stored in the
//! store (`Store::content_hashes`, `set_content_hashes`, `forget_content_hashes`), by scope, on
//! PostgreSQL and SQLite alike.
//!
//! A hash is written only after the publish of its task's request was confirmed, so a crash in
//! between re-enqueues the task on the next scan instead of losing the change.

use jira_sync_peopleforce_client::Task;
use sha2::{Digest, Sha256};

/// The hash of what jira-sync syncs of a task: title, description, due date, assignee and
/// completion, as a JSON array (unambiguous, unlike joined text) under a version tag.
/// Timestamps are left out: a task touched without a change is not a change.
pub fn content_hash(task: &Task) -> String {
    let canonical = serde_json::json!([
        "v1",
        task.title,
        task.description,
        task.due_date,
        task.assignee_id,
        task.completed,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    hex::encode(&digest[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        serde_json::from_value(serde_json::json!({
            "id": 1, "title": "Laptop", "description": "14 inch", "due_date": "2026-12-01",
            "assignee_id": 3, "completed": false, "updated_at": "2026-11-24T10:00:00Z"
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_hash_changes_with_every_synced_field_and_nothing_else() {
        let base = task();
        let hash = content_hash(&base);
        assert_eq!(hash.len(), 64);
        let mut touched = base.clone();
        touched.updated_at = None;
        assert_eq!(content_hash(&touched), hash, "timestamps are not content");
        let edits: [fn(&mut Task); 5] = [
            |t| t.title.push('!'),
            |t| t.description = None,
            |t| t.due_date = Some("2026-12-02".into()),
            |t| t.assignee_id = Some("4".into()),
            |t| t.completed = true,
        ];
        for edit in edits {
            let mut changed = base.clone();
            edit(&mut changed);
            assert_ne!(content_hash(&changed), hash, "{changed:?}");
        }
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let mut a = task();
        a.title = "ab".into();
        a.description = Some("c".into());
        let mut b = task();
        b.title = "a".into();
        b.description = Some("bc".into());
        assert_ne!(content_hash(&a), content_hash(&b));
    }
}
