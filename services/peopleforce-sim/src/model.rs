//! The resources the simulator holds, as its API renders them, and the bodies of the control
//! API that create and edit them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A `{id, name}` reference, as PeopleForce nests positions and departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// Id.
    pub id: u64,
    /// Display name.
    pub name: String,
}

/// A task, as `GET /tasks` renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Numeric id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Plain-text description.
    pub description: Option<String>,
    /// `yyyy-mm-dd`.
    pub due_date: Option<String>,
    /// The employee who is to complete it.
    pub assignee_id: Option<u64>,
    /// Whether it is done.
    pub completed: bool,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who created it (clients ignore it).
    pub creator_id: Option<u64>,
    /// The employee it is about, as in onboarding (clients ignore it).
    pub related_employee_id: Option<u64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An employee, in the v1 mock's shape with v3's `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    /// Numeric id.
    pub id: u64,
    /// Whether employed.
    pub active: bool,
    /// `employed`, `probation`, `dismissed`.
    pub status: String,
    /// `EMP-0001`.
    pub employee_number: String,
    /// First and last name.
    pub full_name: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Work e-mail.
    pub email: String,
    /// Personal e-mail (often absent).
    pub personal_email: Option<String>,
    /// Position.
    pub position: Option<Named>,
    /// Department.
    pub department: Option<Named>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `POST /_sim/tasks/bulk`: creates `count` tasks quietly (no stats).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskSeed {
    /// How many.
    pub count: u32,
    /// Titles are `"<prefix> <n>"` (default `"Seeded task"`).
    pub title_prefix: Option<String>,
    /// Description of every task.
    pub description: Option<String>,
    /// Due date of every task.
    pub due_date: Option<String>,
    /// Assignee of every task; when absent, tasks are spread over the employees.
    pub assignee_id: Option<u64>,
    /// Whether they start completed.
    pub completed: bool,
}

/// What seeding created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSeeded {
    /// How many tasks were created.
    pub created: u32,
    /// Id of the first.
    pub first_id: Option<u64>,
    /// Id of the last.
    pub last_id: Option<u64>,
}

/// `POST /_sim/employees/bulk`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmployeeSeed {
    /// How many.
    pub count: u32,
}

/// `PATCH /_sim/employees/{id}`: a change made by HR in the web UI. Absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmployeeEdit {
    /// New work e-mail.
    pub email: Option<String>,
}

/// `PATCH /_sim/tasks/{id}`: a change made by a person in the web UI (the public API has no
/// edit endpoint). Absent fields are kept; `null` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskEdit {
    /// New title.
    pub title: Option<String>,
    /// New description (`Some(None)`: cleared).
    #[serde(
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// New due date (`Some(None)`: cleared).
    #[serde(
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub due_date: Option<Option<String>>,
    /// New assignee (`Some(None)`: unassigned).
    #[serde(
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee_id: Option<Option<u64>>,
    /// Completed or not.
    pub completed: Option<bool>,
}

/// Tells an absent field (outer `None`, by `default`) from `null` (`Some(None)`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
