//! The records of a full Jira <-> Jira sync beyond the issue link: comment links (so edits and
//! deletes follow a comment to its copy), conflicts held for a person, and detached links
//! (pairs that stopped syncing: deleted, unlinked or out of scope, so that their issues are
//! not given new twins).

use chrono::{DateTime, Utc};
use jira_sync_domain::{ConnectionId, Side};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A link that stopped syncing, kept so its issues are recognised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetachedLink {
    /// The id the link had.
    pub id: Uuid,
    pub connection: ConnectionId,
    pub left_id: String,
    pub right_id: String,
    pub left_key: Option<String>,
    pub right_key: Option<String>,
    /// Why: `deleted`, `unlinked`, `left_scope`...
    pub reason: String,
    pub linked_at: DateTime<Utc>,
    pub detached_at: DateTime<Utc>,
}

impl DetachedLink {
    /// The entity id on `side`.
    pub fn id_on(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left_id,
            Side::Right => &self.right_id,
        }
    }
}

/// A comment on one issue of a link paired with its copy on the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentLink {
    pub id: Uuid,
    /// The issue link the comments belong to.
    pub link_id: Uuid,
    pub connection: ConnectionId,
    pub left_id: String,
    pub right_id: String,
    /// Where the comment was written first (the other one is the copy).
    pub origin: Side,
    /// A digest of each side's body, in canonical form, after the last sync: a side whose
    /// digest changed was edited there.
    pub left_hash: String,
    pub right_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CommentLink {
    /// The comment id on `side`.
    pub fn id_on(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left_id,
            Side::Right => &self.right_id,
        }
    }

    /// The body digest of `side` after the last sync.
    pub fn hash_on(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left_hash,
            Side::Right => &self.right_hash,
        }
    }
}

/// A comment link to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCommentLink {
    pub link_id: Uuid,
    pub connection: ConnectionId,
    pub left_id: String,
    pub right_id: String,
    pub origin: Side,
    pub left_hash: String,
    pub right_hash: String,
}

/// Whether a conflict still waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictStatus {
    Open,
    Resolved,
}

impl ConflictStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictStatus::Open => "open",
            ConflictStatus::Resolved => "resolved",
        }
    }

    /// The status of a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(ConflictStatus::Open),
            "resolved" => Some(ConflictStatus::Resolved),
            _ => None,
        }
    }
}

/// A field changed on both sides of a link to different values, held (policy `hold`): both
/// sides keep their value until a person decides; the rest of the issue keeps syncing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: Uuid,
    pub link_id: Uuid,
    pub connection: ConnectionId,
    /// The field's name in snapshots (`summary`, `customfield_10010`...).
    pub field: String,
    /// The values (canonical form) on each side and in the base when last seen.
    pub left: Value,
    pub right: Value,
    /// `None` when the pair had no base for the field.
    pub base: Option<Value>,
    pub status: ConflictStatus,
    /// How it was resolved (`left`, `right`, `converged`, or what the admin tool records).
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A conflict to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConflict {
    pub link_id: Uuid,
    pub connection: ConnectionId,
    pub field: String,
    pub left: Value,
    pub right: Value,
    pub base: Option<Value>,
}

/// The prefix of a resolution that carries its own value.
const RESOLUTION_VALUE_PREFIX: &str = "value:";

/// An operator's resolution of a held conflict, as stored in [`Conflict::resolution`]: the
/// admin API writes it, the worker applies it on the link's next reconcile.
///
/// The text is `left` or `right` (take the value that side held when the conflict was
/// recorded) or `value:` followed by compact JSON (write this value, in the field's canonical
/// form, to both sides). The worker's own texts (`converged`, `superseded`) are not an
/// operator's choice and decode to `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Keep the value `side` held when the conflict was recorded, on both sides.
    Take(Side),
    /// Write this value (canonical form of the field) to both sides.
    Value(Value),
}

impl Resolution {
    /// The text stored in `Conflict::resolution`.
    pub fn encode(&self) -> String {
        match self {
            Resolution::Take(side) => side.as_str().to_owned(),
            Resolution::Value(value) => format!("{RESOLUTION_VALUE_PREFIX}{value}"),
        }
    }

    /// Reads a stored resolution; `None` for a text that is not an operator's choice
    /// (`converged`) or cannot be read.
    pub fn decode(text: &str) -> Option<Self> {
        match text {
            "left" => Some(Resolution::Take(Side::Left)),
            "right" => Some(Resolution::Take(Side::Right)),
            other => other
                .strip_prefix(RESOLUTION_VALUE_PREFIX)
                .and_then(|json| serde_json::from_str(json).ok())
                .map(Resolution::Value),
        }
    }

    /// The value both sides are to hold once the resolution is applied to `conflict`.
    pub fn chosen_value(&self, conflict: &Conflict) -> Value {
        match self {
            Resolution::Take(Side::Left) => conflict.left.clone(),
            Resolution::Take(Side::Right) => conflict.right.clone(),
            Resolution::Value(value) => value.clone(),
        }
    }
}

impl Conflict {
    /// The operator's resolution of this conflict, if it was resolved by one.
    pub fn operator_resolution(&self) -> Option<Resolution> {
        (self.status == ConflictStatus::Resolved)
            .then_some(self.resolution.as_deref())
            .flatten()
            .and_then(Resolution::decode)
    }
}

#[cfg(test)]
mod resolution_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_resolution_round_trips_through_its_stored_text() {
        for resolution in [
            Resolution::Take(Side::Left),
            Resolution::Take(Side::Right),
            Resolution::Value(json!(null)),
            Resolution::Value(json!("New summary: with a colon")),
            Resolution::Value(json!(["a", "b"])),
            Resolution::Value(json!({"type": "doc", "content": []})),
        ] {
            let text = resolution.encode();
            assert_eq!(Resolution::decode(&text), Some(resolution), "{text}");
        }
        assert_eq!(Resolution::Take(Side::Left).encode(), "left");
        assert_eq!(Resolution::Value(json!(["x"])).encode(), "value:[\"x\"]");
    }

    #[test]
    fn texts_that_are_not_an_operators_choice_do_not_decode() {
        for text in [
            "converged",
            "superseded",
            "",
            "value:",
            "value:{not json",
            "LEFT",
        ] {
            assert_eq!(Resolution::decode(text), None, "{text}");
        }
    }
}
