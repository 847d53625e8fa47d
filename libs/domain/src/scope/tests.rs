//! The JQL subset: parsing, evaluation and refusals.

use super::*;

fn subject<'a>(labels: &'a [String]) -> ScopeSubject<'a> {
    ScopeSubject {
        project: "ACME",
        issue_type: "Bug",
        labels,
        status: "In Progress",
    }
}

fn matches(jql: &str, labels: &[&str]) -> bool {
    let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    match Jql::parse(jql) {
        Ok(q) => q.matches(&subject(&labels)),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn clauses_compare_names_case_insensitively() {
    assert!(matches("project = acme", &[]));
    assert!(matches(
        "issuetype = \"Bug\" AND status = 'in progress'",
        &[]
    ));
    assert!(!matches("type != Bug", &[]));
    assert!(matches("status in (Done, \"In Progress\")", &[]));
    assert!(!matches("status not in (Done, \"In Progress\")", &[]));
}

#[test]
fn labels_match_when_one_of_them_is_named() {
    assert!(matches("labels = sync", &["ops", "sync"]));
    assert!(!matches("labels = sync", &["ops"]));
    assert!(matches("labels != sync", &["ops"]));
    assert!(matches("labels in (a, b)", &["b"]));
    assert!(!matches("labels not in (a, b)", &["b"]));
}

#[test]
fn and_binds_tighter_than_or_and_parentheses_and_not_work() {
    assert!(matches(
        "project = X AND labels = a OR status = 'In Progress'",
        &[]
    ));
    assert!(!matches(
        "project = X AND (labels = a OR status = 'In Progress')",
        &[]
    ));
    assert!(matches("NOT (project = X)", &[]));
}

#[test]
fn anything_outside_the_subset_is_refused_with_a_position() {
    for bad in [
        "assignee = me",
        "summary ~ foo",
        "project = A ORDER BY key",
        "project in (A",
        "labels = ",
        "project = A AND",
        "status = \"open",
        "",
    ] {
        assert!(Jql::parse(bad).is_err(), "{bad:?} accepted");
    }
    let error = Jql::parse("project = A AND reporter = b").err();
    assert_eq!(error.map(|e| e.position), Some(16));
}

#[test]
fn a_filter_round_trips_through_its_text() -> Result<(), serde_json::Error> {
    let jql: Jql = serde_json::from_str("\"labels in (a, b)\"")?;
    assert_eq!(serde_json::to_string(&jql)?, "\"labels in (a, b)\"");
    assert!(serde_json::from_str::<Jql>("\"reporter = x\"").is_err());
    Ok(())
}
