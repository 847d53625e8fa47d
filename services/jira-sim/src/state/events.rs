//! What a write did, in the terms webhooks need: the event family, the actor, the time, and the
//! changelog or comment involved. Operations return these; `webhooks` turns them into payloads.

use serde_json::Value;

use super::model::{ChangeGroup, ChangeItem, Comment, Issue};

/// One thing that happened to an issue.
#[derive(Debug, Clone)]
pub(crate) struct Happened {
    pub actor: String,
    pub at: i64,
    pub what: Event,
}

/// The change itself.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    IssueCreated {
        issue_id: u64,
        change_id: u64,
        items: Vec<ChangeItem>,
    },
    IssueUpdated {
        issue_id: u64,
        type_name: &'static str,
        group: ChangeGroup,
    },
    /// Carries the issue as it was, since it is gone from the store.
    IssueDeleted { issue: Box<Issue> },
    Comment {
        issue_id: u64,
        action: CommentAction,
        comment: Comment,
    },
    Property {
        issue_id: u64,
        key: String,
        value: Option<Value>,
    },
}

/// What happened to a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommentAction {
    Created,
    Updated,
    Deleted,
}

impl Event {
    /// The `webhookEvent` name.
    pub fn webhook_event(&self) -> &'static str {
        match self {
            Self::IssueCreated { .. } => "jira:issue_created",
            Self::IssueUpdated { .. } => "jira:issue_updated",
            Self::IssueDeleted { .. } => "jira:issue_deleted",
            Self::Comment {
                action: CommentAction::Created,
                ..
            } => "comment_created",
            Self::Comment {
                action: CommentAction::Updated,
                ..
            } => "comment_updated",
            Self::Comment {
                action: CommentAction::Deleted,
                ..
            } => "comment_deleted",
            Self::Property { value: Some(_), .. } => "issue_property_set",
            Self::Property { value: None, .. } => "issue_property_deleted",
        }
    }

    /// The id of the issue involved.
    pub fn issue_id(&self) -> u64 {
        match self {
            Self::IssueCreated { issue_id, .. }
            | Self::IssueUpdated { issue_id, .. }
            | Self::Comment { issue_id, .. }
            | Self::Property { issue_id, .. } => *issue_id,
            Self::IssueDeleted { issue } => issue.id,
        }
    }
}

/// The `issue_event_type_name` of an edit: `issue_assigned` when only the assignee changed.
pub(crate) fn edit_type_name(items: &[ChangeItem]) -> &'static str {
    if !items.is_empty() && items.iter().all(|i| i.field_id == "assignee") {
        "issue_assigned"
    } else {
        "issue_updated"
    }
}
