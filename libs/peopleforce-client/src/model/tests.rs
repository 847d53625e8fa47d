//! Tolerant parsing: the shapes a task and an employee may take.

use serde_json::json;

use super::*;

fn task(value: Value) -> Result<Task, serde_json::Error> {
    serde_json::from_value(value)
}

#[test]
fn a_task_is_read_from_the_simulators_shape_ignoring_unknown_fields()
-> Result<(), serde_json::Error> {
    let parsed = task(json!({
        "id": 42, "title": "Sign the contract", "description": "Bring a pen",
        "due_date": "2026-12-01", "assignee_id": 7, "completed": false, "completed_at": null,
        "created_at": "2026-11-24T10:00:00.000Z", "updated_at": "2026-11-24T11:00:00Z",
        "creator_id": 1, "workflow": {"id": 3, "steps": []}
    }))?;
    assert_eq!(parsed.id, "42");
    assert_eq!(parsed.title, "Sign the contract");
    assert_eq!(parsed.due_date.as_deref(), Some("2026-12-01"));
    assert_eq!(parsed.assignee_id.as_deref(), Some("7"));
    assert!(!parsed.completed);
    assert!(parsed.updated_at.is_some());
    Ok(())
}

#[test]
fn a_task_with_only_an_id_and_alternative_names_is_accepted() -> Result<(), serde_json::Error> {
    let bare = task(json!({"id": "t-1"}))?;
    assert_eq!((bare.id.as_str(), bare.title.as_str()), ("t-1", ""));
    assert_eq!(
        (bare.description, bare.assignee_id, bare.completed),
        (None, None, false)
    );
    let other = task(json!({
        "id": 5, "name": "Laptop", "due_on": "2026-01-02", "assignee": {"id": 9},
        "completed_at": "2026-01-01T09:00:00Z", "updated_at": "not a time"
    }))?;
    assert_eq!(other.title, "Laptop");
    assert_eq!(other.due_date.as_deref(), Some("2026-01-02"));
    assert_eq!(other.assignee_id.as_deref(), Some("9"));
    assert!(other.completed, "a completion time means completed");
    assert_eq!(other.updated_at, None, "an unreadable time is left out");
    Ok(())
}

#[test]
fn a_task_without_an_id_is_refused() {
    assert!(task(json!({"title": "orphan"})).is_err());
    assert!(task(json!({"id": null})).is_err());
}

#[test]
fn a_page_skips_unreadable_items_and_reads_its_pagination() {
    let raw: RawPage = serde_json::from_value(json!({
        "data": [{"id": 1}, {"title": "no id"}, {"id": 3, "extra": true}],
        "metadata": {"pagination": {"page": 2, "pages": 4, "count": 10, "items": 3}}
    }))
    .unwrap_or_default();
    let page: Page<Task> = raw.into_page(2);
    let ids: Vec<&str> = page.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, vec!["1", "3"]);
    assert_eq!(
        (page.page, page.pages, page.count, page.skipped),
        (2, 4, Some(10), 1)
    );
    assert!(!page.is_last());
}

#[test]
fn a_page_without_metadata_is_the_last_one() {
    let raw: RawPage = serde_json::from_value(json!({"data": [{"id": 1}]})).unwrap_or_default();
    let page: Page<Task> = raw.into_page(1);
    assert_eq!((page.page, page.pages), (1, 1));
    assert!(page.is_last());
}

#[test]
fn an_employee_is_read_from_the_v1_mock_and_the_v3_shape() -> Result<(), serde_json::Error> {
    let v1: Employee = serde_json::from_value(json!({
        "id": 12, "active": true, "first_name": "Ann", "last_name": "Lee",
        "email": " Ann.Lee@Example.com ", "position": {"id": 1, "name": "Engineer"},
        "custom_fields": [{"uuid": "x", "name": "Shirt", "value": "M"}]
    }))?;
    assert_eq!(v1.full_name, "Ann Lee");
    assert_eq!(v1.email.as_deref(), Some("ann.lee@example.com"));
    let v3: Employee = serde_json::from_value(json!({
        "id": "13", "status": "dismissed", "full_name": "Bo Ek",
        "fields": {"employee_number": {"value": "E-13"}}
    }))?;
    assert_eq!((v3.id.as_str(), v3.active), ("13", false));
    Ok(())
}

#[test]
fn a_single_object_may_come_wrapped_in_data_or_bare() -> Result<(), serde_json::Error> {
    let wrapped: Single<Task> = serde_json::from_value(json!({"data": {"id": 1}}))?;
    let bare: Single<Task> = serde_json::from_value(json!({"id": 2}))?;
    assert_eq!(wrapped.into_inner().id, "1");
    assert_eq!(bare.into_inner().id, "2");
    Ok(())
}
