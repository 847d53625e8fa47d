use super::*;
use serde_json::json;

fn snap(pairs: &[(&str, Value)]) -> Snapshot {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn rules(policy: ConflictPolicy) -> BTreeMap<String, FieldRule> {
    ["summary", "labels"]
        .into_iter()
        .map(|f| {
            (
                f.to_owned(),
                FieldRule {
                    direction: Direction::Both,
                    conflict: policy,
                },
            )
        })
        .collect()
}

fn state(values: &Snapshot) -> SideState<'_> {
    SideState {
        values,
        updated: None,
    }
}

#[test]
fn a_change_on_one_side_flows_to_the_other() {
    let base = snap(&[("summary", json!("old")), ("labels", json!([]))]);
    let left = snap(&[("summary", json!("new")), ("labels", json!([]))]);
    let right = base.clone();
    let plan = merge(
        &rules(ConflictPolicy::Hold),
        state(&left),
        state(&right),
        Some(&base),
        Side::Right,
    );
    assert_eq!(plan.to_right, snap(&[("summary", json!("new"))]));
    assert!(plan.to_left.is_empty());
    assert_eq!(plan.new_base, left);
}

#[test]
fn merging_again_after_applying_the_plan_is_a_noop() {
    let base = snap(&[("summary", json!("old")), ("labels", json!(["x"]))]);
    let left = snap(&[("summary", json!("new")), ("labels", json!(["x"]))]);
    let right = snap(&[("summary", json!("old")), ("labels", json!(["y"]))]);
    let plan = merge(
        &rules(ConflictPolicy::Hold),
        state(&left),
        state(&right),
        Some(&base),
        Side::Left,
    );
    let mut left2 = left.clone();
    left2.extend(plan.to_left.clone());
    let mut right2 = right.clone();
    right2.extend(plan.to_right.clone());
    assert_eq!(left2, right2);
    let again = merge(
        &rules(ConflictPolicy::Hold),
        state(&left2),
        state(&right2),
        Some(&plan.new_base),
        Side::Left,
    );
    assert!(again.is_noop());
    assert_eq!(again.new_base, plan.new_base);
}

#[test]
fn a_conflict_under_hold_writes_nothing_and_keeps_the_base() {
    let base = snap(&[("summary", json!("old"))]);
    let left = snap(&[("summary", json!("L"))]);
    let right = snap(&[("summary", json!("R"))]);
    let plan = merge(
        &rules(ConflictPolicy::Hold),
        state(&left),
        state(&right),
        Some(&base),
        Side::Left,
    );
    assert!(plan.is_noop());
    assert_eq!(plan.new_base.get("summary"), Some(&json!("old")));
    assert_eq!(plan.held_conflicts().count(), 1);
}

#[test]
fn a_conflict_under_latest_wins_picks_the_newer_side() {
    let base = snap(&[("summary", json!("old"))]);
    let left = snap(&[("summary", json!("L"))]);
    let right = snap(&[("summary", json!("R"))]);
    let earlier = DateTime::<Utc>::from_timestamp(1_000, 0);
    let later = DateTime::<Utc>::from_timestamp(2_000, 0);
    let plan = merge(
        &rules(ConflictPolicy::LatestWins),
        SideState {
            values: &left,
            updated: earlier,
        },
        SideState {
            values: &right,
            updated: later,
        },
        Some(&base),
        Side::Left,
    );
    assert_eq!(plan.to_left.get("summary"), Some(&json!("R")));
    assert_eq!(
        plan.outcomes.get("summary"),
        Some(&FieldOutcome::ConflictResolved {
            winner: Side::Right
        })
    );
}

#[test]
fn direction_blocks_changes_from_the_wrong_side() {
    let mut rules = rules(ConflictPolicy::Hold);
    for rule in rules.values_mut() {
        rule.direction = Direction::LeftToRight;
    }
    let base = snap(&[("summary", json!("old"))]);
    let left = base.clone();
    let right = snap(&[("summary", json!("R"))]);
    let plan = merge(
        &rules,
        state(&left),
        state(&right),
        Some(&base),
        Side::Right,
    );
    assert!(plan.is_noop());
    assert_eq!(
        plan.outcomes.get("summary"),
        Some(&FieldOutcome::Blocked { from: Side::Right })
    );
    assert_eq!(plan.new_base.get("summary"), Some(&json!("old")));
}

#[test]
fn without_a_base_the_initiator_wins() {
    let left = snap(&[("summary", json!("L"))]);
    let right = snap(&[("summary", json!("R"))]);
    let plan = merge(
        &rules(ConflictPolicy::Hold),
        state(&left),
        state(&right),
        None,
        Side::Right,
    );
    assert_eq!(plan.to_left.get("summary"), Some(&json!("R")));
}
