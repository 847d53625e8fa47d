//! Lossy mappings and the merge base.
//!
//! Some values cannot survive a trip to the other site unchanged: a status missing there falls
//! back to one of the same category, a person without a counterpart becomes the default user, a
//! mention of an unknown person becomes plain text. After such a write the two sides show
//! different canonical values although they are in sync, and a plain three-way merge would take
//! the difference for a new change and write it back (an echo that undoes the user's value).
//!
//! So the base keeps, next to the agreed value of a field, what each side *showed* for it when
//! that differs: `"<field>@left"` / `"<field>@right"`. Before merging, a side value equal to
//! what that side showed is replaced by the agreed value ([`effective`]); after merging, the
//! entries that still hold are carried into the new base ([`carry_observed`]) and the writer
//! records what its writes will show ([`record_observed`]).

use serde_json::Value;

use crate::document::Snapshot;
use crate::ids::Side;

/// The base key holding what `side` showed for `field` at the last sync.
pub fn observed_key(field: &str, side: Side) -> String {
    format!("{field}@{side}")
}

/// Whether a base key is an observed-value entry rather than a field.
pub fn is_observed_key(key: &str) -> bool {
    key.ends_with("@left") || key.ends_with("@right")
}

/// The values of `side` as the merge should see them: a value equal to what the side showed at
/// the last sync counts as the agreed value (the side did not change it).
pub fn effective(values: &Snapshot, base: Option<&Snapshot>, side: Side) -> Snapshot {
    let Some(base) = base else {
        return values.clone();
    };
    values
        .iter()
        .map(|(field, value)| {
            let shown = base.get(&observed_key(field, side));
            match (shown, base.get(field)) {
                (Some(shown), Some(agreed)) if shown == value => (field.clone(), agreed.clone()),
                _ => (field.clone(), value.clone()),
            }
        })
        .collect()
}

/// Carries the observed entries of `side` that still hold into `new_base`: the field was not
/// written to `side` (`written`), its agreed value did not change, and the side still shows
/// what it showed (`raw` are the side's values as read, before substitution).
pub fn carry_observed(
    new_base: &mut Snapshot,
    old_base: Option<&Snapshot>,
    side: Side,
    raw: &Snapshot,
    written: &Snapshot,
) {
    let Some(old) = old_base else {
        return;
    };
    let fields: Vec<String> = (new_base.keys())
        .filter(|k| !is_observed_key(k) && !written.contains_key(*k))
        .cloned()
        .collect();
    for field in fields {
        let key = observed_key(&field, side);
        let (Some(shown), Some(value)) = (old.get(&key), raw.get(&field)) else {
            continue;
        };
        if shown == value && old.get(&field) == new_base.get(&field) {
            new_base.insert(key, shown.clone());
        }
    }
}

/// Records that `side` shows `shown` for `field` after a write; nothing when that is the
/// agreed value itself.
pub fn record_observed(new_base: &mut Snapshot, field: &str, side: Side, shown: Value) {
    let key = observed_key(field, side);
    if new_base.get(field) == Some(&shown) {
        new_base.remove(&key);
    } else {
        new_base.insert(key, shown);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn snap(pairs: &[(&str, Value)]) -> Snapshot {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_side_still_showing_its_fallback_value_counts_as_unchanged() {
        let base = snap(&[
            ("status", json!("In Review")),
            ("status@right", json!("In Progress")),
        ]);
        let right = snap(&[("status", json!("In Progress"))]);
        assert_eq!(
            effective(&right, Some(&base), Side::Right),
            snap(&[("status", json!("In Review"))])
        );
        let moved = snap(&[("status", json!("Done"))]);
        assert_eq!(effective(&moved, Some(&base), Side::Right), moved);
        // The left side has no observed entry: its values are taken as they are.
        let left = snap(&[("status", json!("In Progress"))]);
        assert_eq!(effective(&left, Some(&base), Side::Left), left);
    }

    #[test]
    fn observed_entries_are_carried_only_while_they_still_hold() {
        let old = snap(&[
            ("status", json!("In Review")),
            ("status@right", json!("In Progress")),
        ]);
        let raw = snap(&[("status", json!("In Progress"))]);
        let mut new_base = snap(&[("status", json!("In Review"))]);
        carry_observed(
            &mut new_base,
            Some(&old),
            Side::Right,
            &raw,
            &Snapshot::new(),
        );
        assert_eq!(new_base, old);

        // The agreed value moved on (the left changed and was written): the old entry is stale.
        let mut new_base = snap(&[("status", json!("Done"))]);
        carry_observed(
            &mut new_base,
            Some(&old),
            Side::Right,
            &raw,
            &Snapshot::new(),
        );
        assert_eq!(new_base, snap(&[("status", json!("Done"))]));
    }

    #[test]
    fn recording_the_agreed_value_leaves_no_entry() {
        let mut base = snap(&[("assignee", json!("a-1")), ("assignee@left", json!("x"))]);
        record_observed(&mut base, "assignee", Side::Left, json!("a-1"));
        assert_eq!(base, snap(&[("assignee", json!("a-1"))]));
        record_observed(&mut base, "assignee", Side::Right, Value::Null);
        assert_eq!(base.get("assignee@right"), Some(&Value::Null));
        assert!(is_observed_key("assignee@right") && !is_observed_key("assignee"));
    }
}
