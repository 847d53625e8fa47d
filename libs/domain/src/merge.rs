//! The per-field three-way merge at the heart of reconcile.
//!
//! Given the current snapshots of both sides and the base (what both held after the last
//! successful sync), each field is classified: unchanged, changed on one side (flows to the
//! other if the field's direction allows), or changed on both sides to different values (a
//! conflict, settled by the field's policy). The merge is pure: applying its plan and storing
//! `new_base` makes a second merge of the same inputs a no-op, which is what makes duplicate and
//! reordered deliveries harmless and echo loops impossible.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::document::Snapshot;
use crate::ids::Side;

/// Which way a field may flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Both,
    LeftToRight,
    RightToLeft,
}

impl Direction {
    /// Whether a change made on `from` may be written to the other side.
    pub fn allows_from(self, from: Side) -> bool {
        match self {
            Direction::Both => true,
            Direction::LeftToRight => from == Side::Left,
            Direction::RightToLeft => from == Side::Right,
        }
    }
}

/// How a field changed on both sides to different values is settled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    LeftWins,
    RightWins,
    /// The side whose issue was updated last wins (ties go to the left).
    #[default]
    LatestWins,
    /// Neither side is written; the conflict is stored for a person to resolve.
    Hold,
}

/// The merge rule of one field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub conflict: ConflictPolicy,
}

/// One side's state as the merge sees it.
#[derive(Debug, Clone, Copy)]
pub struct SideState<'a> {
    pub values: &'a Snapshot,
    /// When the issue was last updated on that side, for `LatestWins`.
    pub updated: Option<DateTime<Utc>>,
}

/// What happened to one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldOutcome {
    InSync,
    /// Changed on `from`; written to the other side.
    Flows {
        from: Side,
    },
    /// Changed on `from` but the field's direction forbids writing it to the other side.
    Blocked {
        from: Side,
    },
    /// Changed on both sides; the policy picked `winner`.
    ConflictResolved {
        winner: Side,
    },
    /// Changed on both sides; held for a person. Both sides stay as they are.
    ConflictHeld {
        left: Value,
        right: Value,
        base: Option<Value>,
    },
}

/// The result of a merge: the writes to make on each side and the base to record after them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergePlan {
    pub to_left: Snapshot,
    pub to_right: Snapshot,
    pub new_base: Snapshot,
    pub outcomes: BTreeMap<String, FieldOutcome>,
}

impl MergePlan {
    pub fn writes_to(&self, side: Side) -> &Snapshot {
        match side {
            Side::Left => &self.to_left,
            Side::Right => &self.to_right,
        }
    }

    pub fn is_noop(&self) -> bool {
        self.to_left.is_empty() && self.to_right.is_empty()
    }

    pub fn held_conflicts(&self) -> impl Iterator<Item = (&String, &FieldOutcome)> {
        self.outcomes
            .iter()
            .filter(|(_, o)| matches!(o, FieldOutcome::ConflictHeld { .. }))
    }
}

/// Merges `left` and `right` against `base` for each field in `rules`.
///
/// Without a base (a pair seen for the first time) a difference counts as a change on
/// `initiator`, the side whose event started this reconcile.
pub fn merge(
    rules: &BTreeMap<String, FieldRule>,
    left: SideState<'_>,
    right: SideState<'_>,
    base: Option<&Snapshot>,
    initiator: Side,
) -> MergePlan {
    let mut plan = MergePlan::default();
    for (field, rule) in rules {
        let l = left.values.get(field).unwrap_or(&Value::Null);
        let r = right.values.get(field).unwrap_or(&Value::Null);
        let b = base.and_then(|b| b.get(field));
        let outcome = if l == r {
            plan.new_base.insert(field.clone(), l.clone());
            FieldOutcome::InSync
        } else {
            let changed_left = b.is_none_or(|b| b != l);
            let changed_right = b.is_none_or(|b| b != r);
            let from = match (changed_left, changed_right, b) {
                (true, false, _) => Some(Side::Left),
                (false, true, _) => Some(Side::Right),
                // No base: the initiator's value is the newer one.
                (true, true, None) => Some(initiator),
                _ => None,
            };
            match from {
                Some(from) => flow(&mut plan, field, rule, from, l, r, b),
                None => conflict(&mut plan, field, rule, &left, &right, b),
            }
        };
        plan.outcomes.insert(field.clone(), outcome);
    }
    plan
}

fn flow(
    plan: &mut MergePlan,
    field: &str,
    rule: &FieldRule,
    from: Side,
    l: &Value,
    r: &Value,
    base: Option<&Value>,
) -> FieldOutcome {
    let (value, target) = match from {
        Side::Left => (l, &mut plan.to_right),
        Side::Right => (r, &mut plan.to_left),
    };
    if rule.direction.allows_from(from) {
        target.insert(field.to_owned(), value.clone());
        plan.new_base.insert(field.to_owned(), value.clone());
        FieldOutcome::Flows { from }
    } else {
        // Keep the old base so the change is still seen as one-sided next time.
        if let Some(b) = base {
            plan.new_base.insert(field.to_owned(), b.clone());
        }
        FieldOutcome::Blocked { from }
    }
}

fn conflict(
    plan: &mut MergePlan,
    field: &str,
    rule: &FieldRule,
    left: &SideState<'_>,
    right: &SideState<'_>,
    base: Option<&Value>,
) -> FieldOutcome {
    let l = left.values.get(field).unwrap_or(&Value::Null);
    let r = right.values.get(field).unwrap_or(&Value::Null);
    let winner = match rule.conflict {
        ConflictPolicy::LeftWins => Side::Left,
        ConflictPolicy::RightWins => Side::Right,
        ConflictPolicy::LatestWins => match (left.updated, right.updated) {
            (Some(lu), Some(ru)) if ru > lu => Side::Right,
            (None, Some(_)) => Side::Right,
            _ => Side::Left,
        },
        ConflictPolicy::Hold => {
            if let Some(b) = base {
                plan.new_base.insert(field.to_owned(), b.clone());
            }
            return FieldOutcome::ConflictHeld {
                left: l.clone(),
                right: r.clone(),
                base: base.cloned(),
            };
        }
    };
    // A winner whose direction may not flow leaves both sides alone.
    if !rule.direction.allows_from(winner) {
        if let Some(b) = base {
            plan.new_base.insert(field.to_owned(), b.clone());
        }
        return FieldOutcome::Blocked { from: winner };
    }
    let _ = flow(plan, field, rule, winner, l, r, base);
    FieldOutcome::ConflictResolved { winner }
}

#[cfg(test)]
mod tests;
