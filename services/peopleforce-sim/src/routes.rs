//! The simulated public API, `/api/public/v3`: tasks (list, create, complete, incomplete) and
//! employees (list, get, their tasks), with PeopleForce's pagination envelope and its
//! `{"data": ...}` wrapping of single objects.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::SimError;
use crate::state::{Page, Sim};

type Query = web::Query<HashMap<String, String>>;
type Answer = Result<HttpResponse, SimError>;

/// Registers the API routes (inside the API prefix scope).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    use web::{get, post, put, resource};
    cfg.service(
        resource("/tasks")
            .route(get().to(list_tasks))
            .route(post().to(create_task)),
    )
    .route("/tasks/{id}", put().to(complete_task))
    .route("/tasks/{id}/incomplete", put().to(incomplete_task))
    .route("/employees", get().to(list_employees))
    .route("/employees/{id}", get().to(get_employee))
    .route("/employees/{id}/tasks", get().to(employee_tasks));
}

/// `{"data": [...], "metadata": {"pagination": {...}}}`.
fn envelope<T: Serialize>(page: Page<T>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "data": page.items,
        "metadata": {"pagination": {
            "page": page.page,
            "pages": page.pages,
            "count": page.count,
            "items": page.items.len(),
        }},
    }))
}

fn number(query: &Query, name: &str) -> Result<Option<u32>, SimError> {
    query
        .get(name)
        .map(|v| {
            v.parse()
                .map_err(|_| SimError::bad_request(format!("{name} must be a positive number")))
        })
        .transpose()
}

fn id(raw: &str, what: &str) -> Result<u64, SimError> {
    raw.parse().map_err(|_| SimError::not_found(what))
}

async fn list_tasks(sim: web::Data<Sim>, query: Query) -> Answer {
    let (page, per_page) = sim.paging(number(&query, "page")?, number(&query, "per_page")?);
    Ok(envelope(sim.lock().tasks_page(page, per_page, None)))
}

async fn employee_tasks(sim: web::Data<Sim>, path: web::Path<String>, query: Query) -> Answer {
    let employee = id(&path, "Employee")?;
    let (page, per_page) = sim.paging(number(&query, "page")?, number(&query, "per_page")?);
    let st = sim.lock();
    if !st.employees.contains_key(&employee) {
        return Err(SimError::not_found("Employee"));
    }
    Ok(envelope(st.tasks_page(page, per_page, Some(employee))))
}

#[derive(Deserialize)]
struct NewTask {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    assignee_id: Option<u64>,
}

async fn create_task(sim: web::Data<Sim>, body: web::Bytes) -> Answer {
    let new: NewTask = serde_json::from_slice(&body)
        .map_err(|e| SimError::bad_request(format!("Malformed request body: {e}")))?;
    let title = new.title.filter(|t| !t.trim().is_empty());
    let Some(title) = title else {
        return Err(SimError::invalid("title", "can't be blank"));
    };
    if let Some(due) = &new.due_date
        && chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").is_err()
    {
        return Err(SimError::invalid("due_date", "is not a date"));
    }
    let mut st = sim.lock();
    if let Some(assignee) = new.assignee_id
        && !st.employees.contains_key(&assignee)
    {
        return Err(SimError::invalid("assignee_id", "does not exist"));
    }
    let task = st.create_task(title, new.description, new.due_date, new.assignee_id);
    Ok(HttpResponse::Created().json(json!({ "data": task })))
}

async fn complete_task(sim: web::Data<Sim>, path: web::Path<String>) -> Answer {
    let task = sim.lock().set_completed(id(&path, "Task")?, true)?;
    Ok(HttpResponse::Ok().json(json!({ "data": task })))
}

async fn incomplete_task(sim: web::Data<Sim>, path: web::Path<String>) -> Answer {
    let task = sim.lock().set_completed(id(&path, "Task")?, false)?;
    Ok(HttpResponse::Ok().json(json!({ "data": task })))
}

async fn list_employees(sim: web::Data<Sim>, query: Query) -> Answer {
    let (page, per_page) = sim.paging(number(&query, "page")?, number(&query, "per_page")?);
    Ok(envelope(sim.lock().employees_page(page, per_page)))
}

async fn get_employee(sim: web::Data<Sim>, path: web::Path<String>) -> Answer {
    let employee = id(&path, "Employee")?;
    let st = sim.lock();
    let found = st
        .employees
        .get(&employee)
        .ok_or_else(|| SimError::not_found("Employee"))?;
    Ok(HttpResponse::Ok().json(json!({ "data": found })))
}
