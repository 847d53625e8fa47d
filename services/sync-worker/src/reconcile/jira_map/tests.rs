//! Unit tests of the Jira <-> canonical mapping and the origin marker.

use chrono::NaiveDate;
use jira_sync_domain::EndpointId;

use super::*;
use crate::test_support::{connection, connection_id};

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn adf(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}

#[test]
fn a_full_jira_issue_maps_to_the_canonical_document() -> Result<(), FieldValueError> {
    let jira = fields(json!({
        "summary": "Printer on fire",
        "description": adf("it is hot"),
        "labels": ["ops", "fire", "ops"],
        "priority": {"name": "High", "id": "2"},
        "duedate": "2026-12-24",
        "status": {"name": "To Do"},
        "project": {"key": "ACME"},
        "updated": "2026-11-24T10:00:00.000+0000"
    }));
    let issue = to_canonical(&jira, Side::Left, &connection())?;
    assert_eq!(
        issue,
        CanonicalIssue {
            summary: "Printer on fire".into(),
            description: Some(adf("it is hot")),
            labels: vec!["fire".into(), "ops".into()],
            priority: Some("High".into()),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 24),
        }
    );
    Ok(())
}

#[test]
fn empty_and_missing_jira_fields_map_to_empty_canonical_values() -> Result<(), FieldValueError> {
    let jira = fields(json!({
        "summary": "Bare",
        "description": null,
        "labels": [],
        "priority": null,
        "duedate": null
    }));
    let issue = to_canonical(&jira, Side::Right, &connection())?;
    assert_eq!(issue.summary, "Bare");
    assert_eq!(issue.description, None);
    assert!(issue.labels.is_empty());
    assert_eq!(issue.priority, None);
    assert_eq!(issue.due_date, None);
    let nothing = to_canonical(&Map::new(), Side::Left, &connection())?;
    assert_eq!(nothing, CanonicalIssue::default());
    Ok(())
}

#[test]
fn a_right_side_priority_is_mapped_into_left_naming() -> Result<(), FieldValueError> {
    let jira = fields(json!({"summary": "x", "priority": {"name": "P1"}}));
    let issue = to_canonical(&jira, Side::Right, &connection())?;
    assert_eq!(issue.priority.as_deref(), Some("High"));
    // The same name on the left is taken as it is.
    let left = to_canonical(&jira, Side::Left, &connection())?;
    assert_eq!(left.priority.as_deref(), Some("P1"));
    // Names missing from the map pass through.
    let unmapped = fields(json!({"summary": "x", "priority": {"name": "Medium"}}));
    let issue = to_canonical(&unmapped, Side::Right, &connection())?;
    assert_eq!(issue.priority.as_deref(), Some("Medium"));
    Ok(())
}

#[test]
fn a_canonical_priority_is_written_in_the_target_sides_naming() -> Result<(), FieldValueError> {
    let values: Snapshot = [("priority".to_owned(), json!("High"))].into();
    let right = to_jira_fields(&values, Side::Right, &connection())?;
    assert_eq!(right.get("priority"), Some(&json!({"name": "P1"})));
    let left = to_jira_fields(&values, Side::Left, &connection())?;
    assert_eq!(left.get("priority"), Some(&json!({"name": "High"})));
    let cleared: Snapshot = [("priority".to_owned(), Value::Null)].into();
    let right = to_jira_fields(&cleared, Side::Right, &connection())?;
    assert_eq!(right.get("priority"), Some(&Value::Null));
    Ok(())
}

#[test]
fn a_priority_survives_the_round_trip_through_the_right_side() -> Result<(), FieldValueError> {
    let connection = connection();
    for name in ["High", "Low", "Medium"] {
        let values: Snapshot = [("priority".to_owned(), json!(name))].into();
        let written = to_jira_fields(&values, Side::Right, &connection)?;
        let read = to_canonical(&written, Side::Right, &connection)?;
        assert_eq!(read.priority.as_deref(), Some(name));
    }
    Ok(())
}

#[test]
fn only_the_given_fields_are_written_with_jira_field_names() -> Result<(), FieldValueError> {
    let values: Snapshot = [
        ("due_date".to_owned(), json!("2027-01-31")),
        ("labels".to_owned(), json!(["a", "b"])),
        ("description".to_owned(), adf("text")),
    ]
    .into();
    let written = to_jira_fields(&values, Side::Left, &connection())?;
    assert_eq!(
        Value::Object(written),
        json!({"duedate": "2027-01-31", "labels": ["a", "b"], "description": adf("text")})
    );
    Ok(())
}

#[test]
fn a_canonical_issue_survives_the_round_trip_through_jira_fields() -> Result<(), FieldValueError> {
    let connection = connection();
    let issue = CanonicalIssue {
        summary: "Round trip".into(),
        description: Some(adf("body")),
        labels: vec!["a".into(), "z".into()],
        priority: Some("Low".into()),
        due_date: NaiveDate::from_ymd_opt(2027, 3, 1),
    };
    for side in [Side::Left, Side::Right] {
        let written = to_jira_fields(&issue.snapshot(&Field::ALL), side, &connection)?;
        assert_eq!(to_canonical(&written, side, &connection)?, issue);
    }
    Ok(())
}

#[test]
fn values_of_the_wrong_shape_are_refused_with_the_field_named() {
    let connection = connection();
    let bad_date = fields(json!({"summary": "x", "duedate": "24.12.2026"}));
    assert_eq!(
        to_canonical(&bad_date, Side::Left, &connection).map_err(|e| e.field),
        Err("due_date")
    );
    let bad_priority = fields(json!({"summary": "x", "priority": "High"}));
    assert_eq!(
        to_canonical(&bad_priority, Side::Left, &connection).map_err(|e| e.field),
        Err("priority")
    );
    let bad_write: Snapshot = [("labels".to_owned(), json!("not-a-list"))].into();
    assert_eq!(
        to_jira_fields(&bad_write, Side::Left, &connection).map_err(|e| e.field),
        Err("labels")
    );
}

#[test]
fn a_plain_text_description_becomes_an_adf_document() -> Result<(), FieldValueError> {
    let jira = fields(json!({"summary": "x", "description": "from Data Center"}));
    let issue = to_canonical(&jira, Side::Left, &connection())?;
    assert_eq!(issue.description, Some(adf("from Data Center")));
    let empty = fields(json!({"summary": "x", "description": "  "}));
    assert_eq!(
        to_canonical(&empty, Side::Left, &connection())?.description,
        None
    );
    Ok(())
}

#[test]
fn the_read_includes_scope_fields_once() {
    let fields = read_fields(&[Field::Summary, Field::Priority]);
    assert_eq!(
        fields,
        vec!["summary", "priority", "status", "project", "updated"]
    );
}

#[test]
fn the_origin_marker_round_trips_through_issue_properties() -> Result<(), Box<dyn std::error::Error>>
{
    let endpoint = EndpointId::parse("jira-a")?;
    let marker = OriginMarker::new(&connection_id(), &endpoint, "10001", "ACME-1");
    let properties = fields(json!({ ORIGIN_PROPERTY: marker.to_value() }));
    let read = OriginMarker::of(&properties).ok_or("marker not read back")?;
    assert_eq!(read, marker);
    assert!(read.is_from(&connection_id(), &endpoint));
    assert!(!read.is_from(&connection_id(), &EndpointId::parse("jira-b")?));
    assert_eq!(
        OriginMarker::of(&fields(json!({ORIGIN_PROPERTY: "junk"}))),
        None
    );
    Ok(())
}
